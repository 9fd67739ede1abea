// auth/authenticator.h: checks a user name and password against the store, with the
// account's main password or any of its app passwords, under login throttling.
//
// authenticate() blocks (yescrypt costs tens of milliseconds): call it through the
// BlockingPool. It is thread-safe. A failure never tells whether the account exists: an
// unknown user costs the same hashing work as a wrong password.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

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

 private:
  store::MailStore& store_;
  const Clock& clock_;
  Throttle throttle_;
  std::string dummy_hash_;  // hashed at start; verified against for unknown users
};

}  // namespace tern::auth
