// libFuzzer target for the POP3 command parser: any line must parse or fail cleanly.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/assert.h"
#include "pop3/proto/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  auto r = tern::pop3::proto::parse_command(line);
  if (r) {
    TERN_CHECK(r->arg.size() <= size);
    TERN_CHECK(r->arg2.size() <= size);
    TERN_CHECK(!r->msg || *r->msg >= 1);
  } else {
    TERN_CHECK(!r.error().message.empty());
  }
  return 0;
}
