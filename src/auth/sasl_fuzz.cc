// auth/sasl_fuzz.cc: libFuzzer target for the SASL decoders. Any bytes must decode to a
// value or an error, never crash, and a decoded PLAIN response must satisfy its rules.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "auth/sasl.h"
#include "base/assert.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto plain = tern::auth::decode_plain(in)) {
    TERN_CHECK(!plain->authcid.empty());
    TERN_CHECK(!plain->password.empty());
    TERN_CHECK(plain->authcid.find('\0') == std::string::npos);
    TERN_CHECK(plain->password.find('\0') == std::string::npos);
  }
  if (auto step = tern::auth::decode_login_step(in)) {
    TERN_CHECK(!step->empty());
    TERN_CHECK(step->find('\0') == std::string::npos);
  }
  (void)tern::auth::parse_mechanism(in);
  (void)tern::auth::is_cancel(in);
  return 0;
}
