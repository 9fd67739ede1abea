// auth/authenticator.cc: password checks against the store under throttling (see
// authenticator.h).
#include "auth/authenticator.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "auth/password.h"
#include "base/assert.h"
#include "base/log.h"

namespace tern::auth {
namespace {

// A hash verified for unknown users so they cost the same work as known ones. Its password
// does not matter: the outcome for an unknown user is a failure whatever it verifies to.
std::string make_dummy_hash() {
  auto hash = hash_password("tern-unknown-user");
  TERN_CHECK(hash.has_value());
  return *hash;
}

AuthOutcome temporary_failure() {
  AuthOutcome out;
  out.kind = AuthOutcome::Kind::kTemporaryFailure;
  return out;
}

}  // namespace

Authenticator::Authenticator(store::MailStore& store, const config::Auth& cfg, const Clock& clock)
    : store_(store),
      clock_(clock),
      throttle_(cfg, clock),
      dummy_hash_(make_dummy_hash()),
      cache_ttl_(cfg.cache_ttl),
      cache_size_(cfg.cache_size) {
  TERN_CHECK(RAND_bytes(mac_key_.data(), static_cast<int>(mac_key_.size())) == 1);
}

uint64_t Authenticator::hash_checks() const {
  std::lock_guard lock(mu_);
  return hash_checks_;
}

Authenticator::Mac Authenticator::mac_of(std::string_view password) const {
  Mac mac{};
  unsigned int len = 0;
  TERN_CHECK(HMAC(EVP_sha256(), mac_key_.data(), static_cast<int>(mac_key_.size()),
                  reinterpret_cast<const unsigned char*>(password.data()), password.size(),
                  mac.data(), &len) != nullptr &&
             len == mac.size());
  return mac;
}

bool Authenticator::cached(const std::string& hash, const Mac& mac) {
  std::lock_guard lock(mu_);
  auto it = cache_.find(hash);
  if (it == cache_.end()) return false;
  if (clock_.monotonic() >= it->second.expires) {
    cache_order_.erase(it->second.order);
    cache_.erase(it);
    return false;
  }
  return CRYPTO_memcmp(it->second.mac.data(), mac.data(), mac.size()) == 0;
}

void Authenticator::remember(const std::string& hash, const Mac& mac) {
  std::lock_guard lock(mu_);
  const MonoTime expires = clock_.monotonic() + cache_ttl_;
  if (auto it = cache_.find(hash); it != cache_.end()) {
    it->second.mac = mac;
    it->second.expires = expires;
    cache_order_.splice(cache_order_.end(), cache_order_, it->second.order);
    return;
  }
  while (cache_.size() >= cache_size_ && !cache_order_.empty()) {
    cache_.erase(cache_order_.front());
    cache_order_.pop_front();
  }
  cache_order_.push_back(hash);
  cache_.emplace(hash, CacheEntry{mac, expires, std::prev(cache_order_.end())});
}

bool Authenticator::verify(std::string_view password, const std::string& hash) {
  const bool use_cache = cache_ttl_.count() > 0;
  Mac mac{};
  if (use_cache) {
    mac = mac_of(password);
    if (cached(hash, mac)) return true;
  }
  {
    std::lock_guard lock(mu_);
    ++hash_checks_;
  }
  if (!verify_password(password, hash)) return false;
  if (use_cache) remember(hash, mac);
  return true;
}

AuthOutcome Authenticator::authenticate(std::string_view username, std::string_view password,
                                        std::string_view client_ip) {
  const std::string name = store::normalize_address(username);
  if (!throttle_.allowed(client_ip, name)) {
    AuthOutcome out;
    out.kind = AuthOutcome::Kind::kThrottled;
    return out;
  }

  auto account = store_.find_account(name);
  if (!account) {
    spdlog::warn("auth: account lookup failed: {}", account.error().to_string());
    return temporary_failure();
  }

  std::optional<Identity> identity;
  if (!account->has_value()) {
    // Same work as a wrong password for an existing account.
    {
      std::lock_guard lock(mu_);
      ++hash_checks_;
    }
    (void)verify_password(password, dummy_hash_);
  } else if (verify(password, (*account)->password_hash)) {
    identity = Identity{(*account)->id, (*account)->address, std::nullopt};
  } else {
    auto app_passwords = store_.list_app_passwords((*account)->id);
    if (!app_passwords) {
      spdlog::warn("auth: app password lookup failed: {}", app_passwords.error().to_string());
      return temporary_failure();
    }
    for (const store::AppPassword& app : *app_passwords) {
      if (!verify(password, app.hash)) continue;
      // Best effort: a failed "last used" update does not fail the login.
      if (auto touched = store_.touch_app_password(app.id, unix_seconds(clock_.now())); !touched)
        spdlog::warn("auth: recording app password use failed: {}", touched.error().to_string());
      identity = Identity{(*account)->id, (*account)->address, app.id};
      break;
    }
  }

  AuthOutcome out;
  if (identity) {
    throttle_.succeeded(client_ip, name);
    out.kind = AuthOutcome::Kind::kOk;
    out.identity = std::move(identity);
    return out;
  }
  out.kind = AuthOutcome::Kind::kBadCredentials;
  out.delay = throttle_.failed(client_ip, name);
  return out;
}

}  // namespace tern::auth
