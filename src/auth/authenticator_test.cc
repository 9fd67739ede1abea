#include "auth/authenticator.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "auth/password.h"
#include "store/testing/fake_mail_store.h"

namespace tern::auth {
namespace {

using Kind = AuthOutcome::Kind;

// The shared in-memory store (store/testing), taking plain passwords.
class FakeStore final : public store::testing::FakeMailStore {
 public:
  store::Id add(const std::string& address, std::string_view password) {
    return add_account_with_hash(address, hash_password(password).value());
  }
  store::Id add_app(store::Id account, std::string_view password) {
    return add_app_password_with_hash(account, hash_password(password).value());
  }
};

config::Auth test_config() {
  config::Auth a;
  a.throttle_free_failures = 1;
  a.throttle_base_delay = std::chrono::milliseconds(100);
  a.throttle_lockout_failures = 3;
  a.throttle_window = std::chrono::seconds(60);
  return a;
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  FakeStore store_;
  FakeClock clock_;
  store::Id alice_ = store_.add("alice@example.org", "main-password");
  Authenticator auth_{store_, test_config(), clock_};
};

TEST_F(AuthenticatorTest, MainPasswordWorks) {
  auto out = auth_.authenticate("Alice@Example.ORG", "main-password", "192.0.2.1");
  ASSERT_EQ(out.kind, Kind::kOk);
  ASSERT_TRUE(out.identity);
  EXPECT_EQ(out.identity->account_id, alice_);
  EXPECT_EQ(out.identity->address, "alice@example.org");
  EXPECT_FALSE(out.identity->app_password_id);
  EXPECT_EQ(out.delay, std::chrono::milliseconds(0));
}

TEST_F(AuthenticatorTest, WrongPasswordFails) {
  auto out = auth_.authenticate("alice@example.org", "main-passwore", "192.0.2.1");
  EXPECT_EQ(out.kind, Kind::kBadCredentials);
  EXPECT_FALSE(out.identity);
}

TEST_F(AuthenticatorTest, AppPasswordWorksAndIsRecorded) {
  store_.add_app(alice_, "other-app");
  store::Id app = store_.add_app(alice_, "app-password");
  auto out = auth_.authenticate("alice@example.org", "app-password", "192.0.2.1");
  ASSERT_EQ(out.kind, Kind::kOk);
  EXPECT_EQ(out.identity->account_id, alice_);
  EXPECT_EQ(out.identity->app_password_id, app);
  ASSERT_EQ(store_.touched.count(app), 1u);
  EXPECT_EQ(store_.touched[app], unix_seconds(clock_.now()));
}

TEST_F(AuthenticatorTest, RevokedAppPasswordFails) {
  store::Id app = store_.add_app(alice_, "app-password");
  ASSERT_EQ(auth_.authenticate("alice@example.org", "app-password", "ip").kind, Kind::kOk);
  ASSERT_TRUE(store_.delete_app_password(alice_, app));
  EXPECT_EQ(auth_.authenticate("alice@example.org", "app-password", "ip").kind,
            Kind::kBadCredentials);
  // The main password is unaffected.
  EXPECT_EQ(auth_.authenticate("alice@example.org", "main-password", "ip").kind, Kind::kOk);
}

TEST_F(AuthenticatorTest, AppPasswordOfAnotherAccountFails) {
  store::Id bob = store_.add("bob@example.org", "bobs-password");
  store_.add_app(bob, "bobs-app");
  EXPECT_EQ(auth_.authenticate("alice@example.org", "bobs-app", "ip").kind,
            Kind::kBadCredentials);
}

TEST_F(AuthenticatorTest, UnknownUserLooksLikeWrongPassword) {
  auto unknown = auth_.authenticate("nobody@example.org", "main-password", "198.51.100.1");
  auto wrong = auth_.authenticate("alice@example.org", "nope", "203.0.113.1");
  EXPECT_EQ(unknown.kind, Kind::kBadCredentials);
  EXPECT_EQ(unknown.kind, wrong.kind);
  EXPECT_EQ(unknown.delay, wrong.delay);
  EXPECT_FALSE(unknown.identity);
}

TEST_F(AuthenticatorTest, ThrottlingKicksInAfterFailures) {
  auto first = auth_.authenticate("alice@example.org", "x", "192.0.2.1");
  EXPECT_EQ(first.kind, Kind::kBadCredentials);
  EXPECT_EQ(first.delay, std::chrono::milliseconds(0));
  auto second = auth_.authenticate("alice@example.org", "x", "192.0.2.1");
  EXPECT_EQ(second.kind, Kind::kBadCredentials);
  EXPECT_EQ(second.delay, std::chrono::milliseconds(100));
  auto third = auth_.authenticate("alice@example.org", "x", "192.0.2.1");
  EXPECT_EQ(third.delay, std::chrono::milliseconds(200));
  // Locked out now, even with the right password, from anywhere.
  auto locked = auth_.authenticate("alice@example.org", "main-password", "198.51.100.7");
  EXPECT_EQ(locked.kind, Kind::kThrottled);
  EXPECT_EQ(locked.delay, std::chrono::milliseconds(0));
  EXPECT_FALSE(locked.identity);
  // The same for unknown names from the same IP.
  EXPECT_EQ(auth_.authenticate("nobody@example.org", "x", "192.0.2.1").kind, Kind::kThrottled);
  // After the window, the right password works again.
  clock_.advance(std::chrono::seconds(60));
  EXPECT_EQ(auth_.authenticate("alice@example.org", "main-password", "192.0.2.1").kind,
            Kind::kOk);
}

TEST_F(AuthenticatorTest, UnknownUsersAreThrottledToo) {
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(auth_.authenticate("ghost@example.org", "x", "192.0.2.9").kind,
              Kind::kBadCredentials);
  EXPECT_EQ(auth_.authenticate("ghost@example.org", "x", "192.0.2.10").kind, Kind::kThrottled);
}

TEST_F(AuthenticatorTest, StoreFailureIsTemporary) {
  store_.fail_lookups = true;
  auto out = auth_.authenticate("alice@example.org", "main-password", "192.0.2.1");
  EXPECT_EQ(out.kind, Kind::kTemporaryFailure);
  EXPECT_FALSE(out.identity);
  // A store outage does not count as a failed login: past the lockout count of attempts,
  // the right password still works once the store is back.
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(auth_.authenticate("alice@example.org", "x", "192.0.2.1").kind,
              Kind::kTemporaryFailure);
  store_.fail_lookups = false;
  EXPECT_EQ(auth_.authenticate("alice@example.org", "main-password", "192.0.2.1").kind, Kind::kOk);
}

TEST_F(AuthenticatorTest, VerifiedPasswordIsRememberedUntilTheTtl) {
  ASSERT_EQ(auth_.authenticate("alice@example.org", "main-password", "ip").kind, Kind::kOk);
  const uint64_t after_first = auth_.hash_checks();
  EXPECT_EQ(after_first, 1u);
  // Again: no yescrypt run; a wrong password still costs one and fails.
  ASSERT_EQ(auth_.authenticate("alice@example.org", "main-password", "ip").kind, Kind::kOk);
  EXPECT_EQ(auth_.hash_checks(), after_first);
  EXPECT_EQ(auth_.authenticate("alice@example.org", "main-passwore", "ip").kind,
            Kind::kBadCredentials);
  EXPECT_EQ(auth_.hash_checks(), after_first + 1);
  // Past the TTL (default 300 s) the password is verified again.
  clock_.advance(std::chrono::seconds(301));
  ASSERT_EQ(auth_.authenticate("alice@example.org", "main-password", "ip").kind, Kind::kOk);
  EXPECT_EQ(auth_.hash_checks(), after_first + 2);
}

TEST_F(AuthenticatorTest, PasswordChangeMissesTheCacheAtOnce) {
  ASSERT_EQ(auth_.authenticate("alice@example.org", "main-password", "ip").kind, Kind::kOk);
  ASSERT_TRUE(store_.set_password(alice_, hash_password("new-password").value()));
  EXPECT_EQ(auth_.authenticate("alice@example.org", "main-password", "ip").kind,
            Kind::kBadCredentials);
  EXPECT_EQ(auth_.authenticate("alice@example.org", "new-password", "ip").kind, Kind::kOk);
}

TEST_F(AuthenticatorTest, CachedAppPasswordStopsWorkingWhenRevoked) {
  store::Id app = store_.add_app(alice_, "app-password");
  ASSERT_EQ(auth_.authenticate("alice@example.org", "app-password", "ip").kind, Kind::kOk);
  const uint64_t checks = auth_.hash_checks();
  auto again = auth_.authenticate("alice@example.org", "app-password", "ip");
  ASSERT_EQ(again.kind, Kind::kOk);
  EXPECT_EQ(again.identity->app_password_id, app);
  // The main password's hash was tried and failed again (failures are not cached), the
  // app password's came from the cache.
  EXPECT_EQ(auth_.hash_checks(), checks + 1);
  ASSERT_TRUE(store_.delete_app_password(alice_, app));
  EXPECT_EQ(auth_.authenticate("alice@example.org", "app-password", "ip").kind,
            Kind::kBadCredentials);
}

TEST_F(AuthenticatorTest, CacheOffVerifiesEveryTime) {
  config::Auth cfg = test_config();
  cfg.cache_ttl = std::chrono::seconds(0);
  Authenticator uncached(store_, cfg, clock_);
  ASSERT_EQ(uncached.authenticate("alice@example.org", "main-password", "ip").kind, Kind::kOk);
  ASSERT_EQ(uncached.authenticate("alice@example.org", "main-password", "ip").kind, Kind::kOk);
  EXPECT_EQ(uncached.hash_checks(), 2u);
}

TEST_F(AuthenticatorTest, CacheKeepsAtMostItsSize) {
  config::Auth cfg = test_config();
  cfg.cache_size = 1;
  Authenticator small(store_, cfg, clock_);
  store_.add("bob@example.org", "bobs-password");
  ASSERT_EQ(small.authenticate("alice@example.org", "main-password", "ip").kind, Kind::kOk);
  ASSERT_EQ(small.authenticate("bob@example.org", "bobs-password", "ip").kind, Kind::kOk);
  ASSERT_EQ(small.hash_checks(), 2u);
  // Bob pushed Alice out: she is verified again; Bob is still remembered.
  ASSERT_EQ(small.authenticate("alice@example.org", "main-password", "ip").kind, Kind::kOk);
  EXPECT_EQ(small.hash_checks(), 3u);
  ASSERT_EQ(small.authenticate("alice@example.org", "main-password", "ip").kind, Kind::kOk);
  EXPECT_EQ(small.hash_checks(), 3u);
}

}  // namespace
}  // namespace tern::auth
