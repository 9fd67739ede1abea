// auth/sasl.h: SASL PLAIN (RFC 4616) and LOGIN decoding, as pure functions. No I/O, no
// state; the protocols drive the exchange (continuations) and call these on the client's
// base64 responses. Errors are the peer's mistakes: kInvalid with a short reason.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace tern::auth {

enum class Mechanism { kPlain, kLogin };

// Case-insensitive mechanism name -> Mechanism; kNotFound for unsupported names.
Result<Mechanism> parse_mechanism(std::string_view name);

struct Credentials {
  std::string authzid;  // empty, or equal to authcid (acting as another user is refused)
  std::string authcid;  // the user name
  std::string password;
};

// Decodes a PLAIN response: base64 of authzid NUL authcid NUL passwd. "=" (the empty
// initial response of SASL-IR) is kInvalid here; callers treat it as "send a challenge".
Result<Credentials> decode_plain(std::string_view base64);

// Decodes one LOGIN step (the user name or the password) from base64.
Result<std::string> decode_login_step(std::string_view base64);

// "*" from the client cancels an exchange (RFC 4954, 3501, 5034).
bool is_cancel(std::string_view response);

}  // namespace tern::auth
