// libFuzzer target for the SMTP command parser: any line must parse or fail cleanly, and
// a parsed command's text must come from the input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/assert.h"
#include "smtp/proto/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  auto r = tern::smtp::proto::parse_command(line);
  if (r) {
    TERN_CHECK(r->arg.size() <= size);
    TERN_CHECK(r->arg2.size() <= size);
  } else {
    TERN_CHECK(!r.error().message.empty());
  }
  return 0;
}
