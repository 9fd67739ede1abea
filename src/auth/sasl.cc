// auth/sasl.cc: SASL PLAIN (RFC 4616) and LOGIN decoding (see sasl.h).
#include "auth/sasl.h"

#include "base/limits.h"
#include "base/strings.h"

namespace tern::auth {
namespace {

Result<std::string> decode_base64(std::string_view in) {
  if (in.size() > limits::kMaxSaslLength)
    return make_error(ErrorCode::kInvalid, "response too long");
  std::string out;
  if (!base64_decode(in, out)) return make_error(ErrorCode::kInvalid, "invalid base64");
  return out;
}

}  // namespace

Result<Mechanism> parse_mechanism(std::string_view name) {
  if (iequals(name, "PLAIN")) return Mechanism::kPlain;
  if (iequals(name, "LOGIN")) return Mechanism::kLogin;
  return make_error(ErrorCode::kNotFound, "unsupported mechanism");
}

Result<Credentials> decode_plain(std::string_view base64) {
  if (base64 == "=") return make_error(ErrorCode::kInvalid, "empty response");
  auto raw = decode_base64(base64);
  if (!raw) return tl::unexpected(raw.error());
  // RFC 4616 2: message = [authzid] UTF8NUL authcid UTF8NUL passwd; no NUL inside a field.
  std::string_view msg = *raw;
  auto first = msg.find('\0');
  if (first == std::string_view::npos) return make_error(ErrorCode::kInvalid, "missing NUL");
  auto second = msg.find('\0', first + 1);
  if (second == std::string_view::npos) return make_error(ErrorCode::kInvalid, "missing NUL");
  if (msg.find('\0', second + 1) != std::string_view::npos)
    return make_error(ErrorCode::kInvalid, "NUL inside the password");
  Credentials c;
  c.authzid = std::string(msg.substr(0, first));
  c.authcid = std::string(msg.substr(first + 1, second - first - 1));
  c.password = std::string(msg.substr(second + 1));
  if (c.authcid.empty()) return make_error(ErrorCode::kInvalid, "empty user name");
  if (c.password.empty()) return make_error(ErrorCode::kInvalid, "empty password");
  if (c.authcid.size() > limits::kMaxAddressLength || c.authzid.size() > limits::kMaxAddressLength)
    return make_error(ErrorCode::kInvalid, "user name too long");
  if (c.password.size() > limits::kMaxPasswordLength)
    return make_error(ErrorCode::kInvalid, "password too long");
  // Acting as another user is not supported: the authzid may only repeat the authcid.
  if (!c.authzid.empty() && !iequals(c.authzid, c.authcid))
    return make_error(ErrorCode::kDenied, "authorization identity differs from user name");
  return c;
}

Result<std::string> decode_login_step(std::string_view base64) {
  auto raw = decode_base64(base64);
  if (!raw) return raw;
  if (raw->empty()) return make_error(ErrorCode::kInvalid, "empty response");
  if (raw->find('\0') != std::string::npos)
    return make_error(ErrorCode::kInvalid, "NUL in response");
  if (raw->size() > limits::kMaxPasswordLength)
    return make_error(ErrorCode::kInvalid, "response too long");
  return raw;
}

bool is_cancel(std::string_view response) { return trim(response) == "*"; }

}  // namespace tern::auth
