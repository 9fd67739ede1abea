#include "pop3/proto/dot_stuffer.h"

#include <cstring>

namespace tern::pop3::proto {

DotStuffer DotStuffer::top(uint32_t body_lines) {
  DotStuffer s;
  s.limited_ = true;
  s.body_left_ = body_lines;
  return s;
}

bool DotStuffer::feed(std::string_view chunk, std::string& out) {
  const char* p = chunk.data();
  const char* const end = p + chunk.size();
  while (p < end && !done_) {
    if (line_start_) {
      if (limited_ && !in_header_ && body_left_ == 0) {
        done_ = true;
        break;
      }
      if (*p == '.') out += '.';  // RFC 1939 3: byte-stuff a leading termination octet
      line_start_ = false;
      line_len_ = 0;
      last_cr_ = false;
    }
    const auto* lf = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    const char* run_end = lf != nullptr ? lf : end;
    if (run_end > p) {
      out.append(p, static_cast<std::size_t>(run_end - p));
      line_len_ += static_cast<std::size_t>(run_end - p);
      last_cr_ = run_end[-1] == '\r';
    }
    if (lf == nullptr) break;
    out += last_cr_ ? "\n" : "\r\n";
    if (limited_) {
      const bool blank = line_len_ == 0 || (line_len_ == 1 && last_cr_);
      if (in_header_) {
        if (blank) in_header_ = false;
      } else {
        --body_left_;
      }
    }
    line_start_ = true;
    p = lf + 1;
  }
  if (limited_ && line_start_ && !in_header_ && body_left_ == 0) done_ = true;
  return !done_;
}

void DotStuffer::finish(std::string& out) {
  if (!line_start_) out += last_cr_ ? "\n" : "\r\n";
  out += ".\r\n";
  line_start_ = true;
}

}  // namespace tern::pop3::proto
