// auth/password.cc: yescrypt hashing through libcrypt's reentrant calls (see password.h).
#include "auth/password.h"

#include <crypt.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "base/limits.h"
#include "base/strings.h"

namespace tern::auth {
namespace {

// crypt_data is ~32 KiB: keep it off the (possibly small) thread stack. It holds the
// password and intermediate state, so it is wiped before it is freed.
struct CryptScratch {
  struct crypt_data data;
  CryptScratch() { std::memset(&data, 0, sizeof data); }
  ~CryptScratch() { explicit_bzero(&data, sizeof data); }
  CryptScratch(const CryptScratch&) = delete;
  CryptScratch& operator=(const CryptScratch&) = delete;
};

// A NUL-terminated copy of the password, wiped when it goes.
class SecretString {
 public:
  explicit SecretString(std::string_view s) : s_(s) {}
  ~SecretString() { explicit_bzero(s_.data(), s_.size()); }
  SecretString(const SecretString&) = delete;
  SecretString& operator=(const SecretString&) = delete;
  const char* c_str() const { return s_.c_str(); }

 private:
  std::string s_;
};

// crypt(3) cannot take a password with a NUL in it (it would be cut short).
bool usable_password(std::string_view password) {
  return password.size() <= limits::kMaxPasswordLength &&
         password.find('\0') == std::string_view::npos;
}

// libcrypt reports failure with a NULL or a string starting with '*' ("*0", "*1").
bool failed(const char* out) { return out == nullptr || out[0] == '*'; }

}  // namespace

Result<std::string> hash_password(std::string_view password) {
  if (!usable_password(password))
    return make_error(ErrorCode::kInvalid, "password too long or contains NUL");
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  errno = 0;
  if (crypt_gensalt_rn("$y$", 0, nullptr, 0, salt, sizeof salt) == nullptr)
    return make_error(ErrorCode::kInternal, "crypt_gensalt_rn failed: {}", std::strerror(errno));
  SecretString pw(password);
  auto scratch = std::make_unique<CryptScratch>();
  const char* out = crypt_rn(pw.c_str(), salt, &scratch->data, sizeof scratch->data);
  if (failed(out)) return make_error(ErrorCode::kInternal, "crypt_rn failed to hash");
  return std::string(out);
}

bool verify_password(std::string_view password, std::string_view hash) {
  if (!usable_password(password)) return false;
  if (hash.empty() || hash.front() == '*' || hash.find('\0') != std::string_view::npos)
    return false;
  SecretString pw(password);
  std::string setting(hash);
  auto scratch = std::make_unique<CryptScratch>();
  const char* out = crypt_rn(pw.c_str(), setting.c_str(), &scratch->data, sizeof scratch->data);
  if (failed(out)) return false;
  return constant_time_equals(out, hash);
}

}  // namespace tern::auth
