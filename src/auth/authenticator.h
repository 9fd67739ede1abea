// auth/authenticator.h: checks a user name and password against the store, with the
// account's main password or any of its app passwords, under login throttling.
//
// authenticate() blocks (yescrypt costs tens of milliseconds): call it through the
// BlockingPool. It is thread-safe. A failure never tells whether the account exists: an
// unknown user costs the same hashing work as a wrong password.
//
// Verified passwords are remembered for [auth] cache_ttl (like Dovecot's auth cache), so a
// client that logs in every minute, or a phone and a laptop on one account, pay yescrypt
// once. The cache maps a stored hash (which carries its own random salt, so it names one
// password of one account) to an HMAC of the password under a key drawn at start-up; the
// password itself is never kept. A password change or a revoked app password changes or
// removes the stored hash, so the old password misses at once. Failures are not cached.
#pragma once

#include <array>
#include <chrono>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/throttle.h"
#include "base/clock.h"
#include "config/config.h"
#include "store/mail_store.h"

namespace tern::auth {

struct Identity {
  store::Id account_id = 0;
  std::string address;
  std::optional<store::Id> app_password_id;  // set when an app password matched
};

struct AuthOutcome {
  enum class Kind { kOk, kBadCredentials, kThrottled, kTemporaryFailure };
  Kind kind = Kind::kBadCredentials;
  std::optional<Identity> identity;           // set for kOk
  std::chrono::milliseconds delay{0};         // wait this long before answering (failures)
};

class Authenticator {
 public:
  // `store` and `clock` must outlive the authenticator.
  Authenticator(store::MailStore& store, const config::Auth& cfg, const Clock& clock);

  // `username` is the address (case-insensitive); `client_ip` keys the per-IP throttle.
  AuthOutcome authenticate(std::string_view username, std::string_view password,
                           std::string_view client_ip);

  // Password hashes computed so far (yescrypt runs, cache misses): for tests and metrics.
  uint64_t hash_checks() const;

 private:
  using Mac = std::array<unsigned char, 32>;
  struct CacheEntry {
    Mac mac;
    MonoTime expires;
    std::list<std::string>::iterator order;  // position in cache_order_
  };

  // verify_password through the cache: true when `password` matches `hash`.
  bool verify(std::string_view password, const std::string& hash);
  bool cached(const std::string& hash, const Mac& mac);
  void remember(const std::string& hash, const Mac& mac);
  Mac mac_of(std::string_view password) const;

  store::MailStore& store_;
  const Clock& clock_;
  Throttle throttle_;
  std::string dummy_hash_;  // hashed at start; verified against for unknown users
  const std::chrono::seconds cache_ttl_;
  const std::size_t cache_size_;
  std::array<unsigned char, 32> mac_key_{};  // random, per process

  mutable std::mutex mu_;  // guards the cache and the counter
  std::unordered_map<std::string, CacheEntry> cache_;  // stored hash -> verified password
  std::list<std::string> cache_order_;  // oldest first, for eviction
  uint64_t hash_checks_ = 0;
};

}  // namespace tern::auth
