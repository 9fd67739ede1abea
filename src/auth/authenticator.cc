// auth/authenticator.cc: password checks against the store under throttling (see
// authenticator.h).
#include "auth/authenticator.h"

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
    : store_(store), clock_(clock), throttle_(cfg, clock), dummy_hash_(make_dummy_hash()) {}

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
    (void)verify_password(password, dummy_hash_);
  } else if (verify_password(password, (*account)->password_hash)) {
    identity = Identity{(*account)->id, (*account)->address, std::nullopt};
  } else {
    auto app_passwords = store_.list_app_passwords((*account)->id);
    if (!app_passwords) {
      spdlog::warn("auth: app password lookup failed: {}", app_passwords.error().to_string());
      return temporary_failure();
    }
    for (const store::AppPassword& app : *app_passwords) {
      if (!verify_password(password, app.hash)) continue;
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
