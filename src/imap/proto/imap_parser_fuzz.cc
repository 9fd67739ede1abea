// libFuzzer target for the IMAP receiver. The input is split into lines at LF; after a
// NeedLiteral the announced number of bytes (as many as remain) is fed as the literal.
// Every input must end in requests or parse errors, never a crash or a broken invariant.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "base/assert.h"
#include "imap/proto/receiver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  tern::imap::proto::ReceiverLimits limits;
  limits.max_literal = 4096;
  limits.max_command = 16 * 1024;
  tern::imap::proto::Receiver receiver(limits);
  while (!in.empty()) {
    auto lf = in.find('\n');
    std::string_view line = in.substr(0, lf);
    in.remove_prefix(lf == std::string_view::npos ? in.size() : lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto step = receiver.feed_line(line);
    if (auto* need = std::get_if<tern::imap::proto::NeedLiteral>(&step)) {
      TERN_CHECK(need->size <= limits.max_literal);
      TERN_CHECK(receiver.in_command());
      std::size_t n = need->size < in.size() ? need->size : in.size();
      receiver.feed_literal(std::string(in.substr(0, n)));
      in.remove_prefix(n);
    } else if (auto* req = std::get_if<tern::imap::proto::Request>(&step)) {
      TERN_CHECK(!req->tag.empty() && !req->command.empty());
      TERN_CHECK(!receiver.in_command());
    } else {
      TERN_CHECK(!std::get<tern::imap::proto::ParseError>(step).message.empty());
      TERN_CHECK(!receiver.in_command());
    }
  }
  return 0;
}
