#include "smtp/proto/client_reply.h"

#include <charconv>

namespace tern::smtp::proto {
namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

ReplyParse error(std::string what) {
  ReplyParse p;
  p.status = ReplyParse::Status::kError;
  p.error = std::move(what);
  return p;
}

}  // namespace

std::string ServerReply::summary() const {
  std::string out = std::to_string(code);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += i == 0 ? " " : "; ";
    for (char c : lines[i]) {
      const auto u = static_cast<unsigned char>(c);
      out += u < 0x20 || u == 0x7f ? '?' : c;
    }
  }
  return out;
}

ReplyParse parse_reply(std::string_view in, const ReplyLimits& limits) {
  ReplyParse p;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t lf = in.find('\n', pos);
    if (lf == std::string_view::npos) {
      // Room for a CR still to come; more than that can never fit.
      if (in.size() - pos > limits.max_line + 1) return error("reply line too long");
      return ReplyParse{};  // kNeedMore
    }
    std::string_view line = in.substr(pos, lf - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > limits.max_line) return error("reply line too long");
    if (line.size() < 3 || !digit(line[0]) || !digit(line[1]) || !digit(line[2]) || line[0] < '2' ||
        line[0] > '5') {
      return error("reply line does not start with a code");
    }
    const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (!p.reply.lines.empty() && code != p.reply.code) return error("reply lines carry different codes");
    p.reply.code = code;
    bool last = true;
    if (line.size() > 3) {
      if (line[3] == '-') {
        last = false;
      } else if (line[3] != ' ') {
        return error("reply code not followed by a space or a hyphen");
      }
    }
    p.reply.lines.emplace_back(line.size() > 4 ? line.substr(4) : std::string_view{});
    pos = lf + 1;
    if (last) {
      p.status = ReplyParse::Status::kReply;
      p.consumed = pos;
      return p;
    }
    if (p.reply.lines.size() >= limits.max_lines) return error("reply has too many lines");
  }
}

Extensions parse_extensions(const ServerReply& ehlo) {
  Extensions x;
  for (std::size_t i = 1; i < ehlo.lines.size(); ++i) {
    std::string_view line = ehlo.lines[i];
    const std::size_t sp = line.find(' ');
    const std::string_view keyword = line.substr(0, sp);
    const std::string_view arg = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
    if (iequals(keyword, "PIPELINING")) {
      x.pipelining = true;
    } else if (iequals(keyword, "STARTTLS")) {
      x.starttls = true;
    } else if (iequals(keyword, "8BITMIME")) {
      x.eightbitmime = true;
    } else if (iequals(keyword, "SMTPUTF8")) {
      x.smtputf8 = true;
    } else if (iequals(keyword, "DSN")) {
      x.dsn = true;
    } else if (iequals(keyword, "CHUNKING")) {
      x.chunking = true;
    } else if (iequals(keyword, "SIZE")) {
      x.size = true;
      uint64_t n = 0;
      auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), n);
      if (ec == std::errc() && end == arg.data() + arg.size()) x.max_size = n;
    }
  }
  return x;
}

void DotStuffer::feed(std::string_view piece, std::string& out) {
  out.reserve(out.size() + piece.size() + 8);
  for (char c : piece) {
    if (at_line_start_ && c == '.') out += '.';
    out += c;
    at_line_start_ = c == '\n';
    after_cr_ = c == '\r';
  }
}

void DotStuffer::finish(std::string& out) {
  if (!at_line_start_) out += after_cr_ ? "\n" : "\r\n";
  out += ".\r\n";
  at_line_start_ = true;
  after_cr_ = false;
}

}  // namespace tern::smtp::proto
