// auth/password.h: password hashing with libcrypt (yescrypt, "$y$"). Blocking and
// CPU-heavy by design (tens of milliseconds); thread-safe (crypt_r, crypt_gensalt_rn).
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace tern::auth {

// A new yescrypt hash of `password` with a fresh random salt.
Result<std::string> hash_password(std::string_view password);

// True when `password` matches `hash` (any crypt(3) scheme libcrypt knows). The comparison
// of the computed and stored hash is constant-time. A malformed hash never matches.
bool verify_password(std::string_view password, std::string_view hash);

}  // namespace tern::auth
