#include "auth/authenticator.h"

#include <gtest/gtest.h>

#include <map>

#include "auth/password.h"

namespace tern::auth {
namespace {

using Kind = AuthOutcome::Kind;

// An in-memory store with only what authentication touches; everything else is kInternal.
class FakeStore final : public store::MailStore {
 public:
  tl::unexpected<Error> internal() { return make_error(ErrorCode::kInternal, "not in fake"); }

  store::Id add(std::string address, std::string_view password) {
    store::Account a;
    a.id = next_id_++;
    a.address = address;
    a.password_hash = hash_password(password).value();
    accounts_[address] = a;
    return a.id;
  }
  store::Id add_app(store::Id account, std::string_view password) {
    store::AppPassword p;
    p.id = next_id_++;
    p.account_id = account;
    p.label = "phone";
    p.hash = hash_password(password).value();
    apps_[p.id] = p;
    return p.id;
  }

  bool fail_lookups = false;
  std::map<store::Id, int64_t> touched;
  std::map<store::Id, store::AppPassword> apps_;

  Result<std::optional<store::Account>> find_account(std::string_view address) override {
    if (fail_lookups) return make_error(ErrorCode::kUnavailable, "database down");
    auto it = accounts_.find(std::string(address));
    if (it == accounts_.end()) return std::optional<store::Account>();
    return std::optional<store::Account>(it->second);
  }
  Result<std::vector<store::AppPassword>> list_app_passwords(store::Id account_id) override {
    std::vector<store::AppPassword> out;
    for (const auto& [id, p] : apps_)
      if (p.account_id == account_id) out.push_back(p);
    return out;
  }
  Status delete_app_password(store::Id account_id, store::Id id) override {
    auto it = apps_.find(id);
    if (it == apps_.end() || it->second.account_id != account_id)
      return make_error(ErrorCode::kNotFound, "no such app password");
    apps_.erase(it);
    return ok();
  }
  Status touch_app_password(store::Id id, int64_t when) override {
    touched[id] = when;
    return ok();
  }

  Result<store::Domain> add_domain(std::string_view) override { return internal(); }
  Status delete_domain(std::string_view) override { return internal(); }
  Result<std::vector<store::Domain>> list_domains() override { return internal(); }
  Result<std::optional<store::Domain>> find_domain(std::string_view) override { return internal(); }
  Result<store::Account> add_account(std::string_view, std::string_view) override {
    return internal();
  }
  Status delete_account(std::string_view) override { return internal(); }
  Result<std::vector<store::Account>> list_accounts() override { return internal(); }
  Result<std::optional<store::Account>> find_account_by_id(store::Id) override {
    return internal();
  }
  Status set_password(store::Id, std::string_view) override { return internal(); }
  Status add_alias(std::string_view, std::span<const std::string>) override { return internal(); }
  Status delete_alias(std::string_view, std::span<const std::string>) override {
    return internal();
  }
  Result<std::vector<store::Alias>> list_aliases() override { return internal(); }
  Result<std::optional<store::Alias>> find_alias(std::string_view) override { return internal(); }
  Result<store::AppPassword> add_app_password(store::Id, std::string_view,
                                              std::string_view) override {
    return internal();
  }
  Result<std::vector<store::Mailbox>> list_mailboxes(store::Id) override { return internal(); }
  Result<std::optional<store::Mailbox>> find_mailbox(store::Id, std::string_view) override {
    return internal();
  }
  Result<std::optional<store::Mailbox>> get_mailbox(store::Id) override { return internal(); }
  Result<store::Mailbox> create_mailbox(store::Id, std::string_view, store::SpecialUse) override {
    return internal();
  }
  Status delete_mailbox(store::Id) override { return internal(); }
  Status rename_mailbox(store::Id, std::string_view) override { return internal(); }
  Status set_subscribed(store::Id, bool) override { return internal(); }
  Result<std::vector<store::Appended>> append(std::string_view, int64_t,
                                              std::span<const store::AppendTarget>) override {
    return internal();
  }
  Result<std::vector<store::Message>> list_messages(store::Id, uint32_t, uint32_t) override {
    return internal();
  }
  Result<std::vector<store::FlagChange>> store_flags(store::Id, std::span<const uint32_t>,
                                                     store::FlagOp, uint32_t,
                                                     std::span<const std::string>,
                                                     std::optional<uint64_t>,
                                                     std::vector<uint32_t>*) override {
    return internal();
  }
  Result<store::Copied> copy_messages(store::Id, std::span<const uint32_t>, store::Id) override {
    return internal();
  }
  Result<std::pair<store::Copied, store::Expunged>> move_messages(store::Id,
                                                                  std::span<const uint32_t>,
                                                                  store::Id) override {
    return internal();
  }
  Result<store::Expunged> expunge(store::Id, std::span<const uint32_t>) override {
    return internal();
  }
  Result<std::vector<uint32_t>> expunged_since(store::Id, uint64_t) override { return internal(); }
  Result<std::string> read_blob(store::Id) override { return internal(); }
  Result<std::unique_ptr<store::BlobReader>> open_blob(store::Id) override { return internal(); }
  store::StoreStats stats() const override { return {}; }

 private:
  store::Id next_id_ = 1;
  std::map<std::string, store::Account> accounts_;
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

}  // namespace
}  // namespace tern::auth
