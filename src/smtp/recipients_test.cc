// RecipientResolver against a real (SQLite, temporary) store: accounts, plus-addressing,
// aliases to local and remote targets, loops, postmaster, relay rules, MAIL FROM ownership.
#include "smtp/recipients.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/sqlite/sqlite_store.h"
#include "tls/test_util.h"

namespace tern::smtp {
namespace {

class RecipientsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::open_sqlite_store({(dir_.path() / "tern.db").string(), 2}, nullptr);
    ASSERT_TRUE(opened) << opened.error().to_string();
    store_ = std::move(*opened);
    ASSERT_TRUE(store_->add_domain("example.com"));
    ASSERT_TRUE(store_->add_domain("other.test"));
    alice_ = store_->add_account("alice@example.com", "x")->id;
    bob_ = store_->add_account("bob@other.test", "x")->id;
  }

  void alias(const std::string& address, std::vector<std::string> targets) {
    ASSERT_TRUE(store_->add_alias(address, targets));
  }

  Resolution resolve(std::string_view local, std::string_view domain, bool may_relay = false) {
    RecipientResolver r(*store_, config_);
    std::string raw = domain.empty() ? std::string(local) : std::string(local) + "@" + std::string(domain);
    auto res = r.resolve(local, domain, raw, may_relay, "mail.example.com");
    EXPECT_TRUE(res) << res.error().to_string();
    return res ? *res : Resolution{};
  }

  static std::vector<std::string> accounts(const Resolution& r) {
    std::vector<std::string> out;
    for (const LocalTarget& t : r.local) out.push_back(t.account);
    std::sort(out.begin(), out.end());
    return out;
  }

  tls::testing::TempDir dir_;
  std::unique_ptr<store::MailStore> store_;
  config::Smtp config_;
  store::Id alice_ = 0;
  store::Id bob_ = 0;
};

using Kind = Resolution::Kind;
using Names = std::vector<std::string>;

TEST_F(RecipientsTest, AccountsMatchWithoutRegardToCase) {
  Resolution r = resolve("Alice", "EXAMPLE.com.");
  EXPECT_EQ(r.kind, Kind::kAccepted);
  EXPECT_EQ(accounts(r), Names{"alice@example.com"});
  ASSERT_EQ(r.local.size(), 1u);
  auto inbox = store_->find_mailbox(alice_, "INBOX");
  ASSERT_TRUE(inbox && inbox->has_value());
  EXPECT_EQ(r.local[0].inbox_id, (*inbox)->id);
  EXPECT_TRUE(r.remote.empty());
}

TEST_F(RecipientsTest, UnknownLocalUserAndRelayRules) {
  EXPECT_EQ(resolve("nobody", "example.com").kind, Kind::kUnknownUser);
  EXPECT_EQ(resolve("someone", "elsewhere.org").kind, Kind::kRelayDenied);
  EXPECT_EQ(resolve("someone", "[192.0.2.1]").kind, Kind::kRelayDenied);
  Resolution relayed = resolve("Someone", "elsewhere.org", true);
  EXPECT_EQ(relayed.kind, Kind::kAccepted);
  EXPECT_EQ(relayed.remote, Names{"Someone@elsewhere.org"});  // the local part keeps its case
  // May relay, but a local domain still needs a real user.
  EXPECT_EQ(resolve("nobody", "example.com", true).kind, Kind::kUnknownUser);
}

TEST_F(RecipientsTest, PlusAddressingReachesTheUser) {
  EXPECT_EQ(accounts(resolve("alice+lists", "example.com")), Names{"alice@example.com"});
  EXPECT_EQ(resolve("nobody+x", "example.com").kind, Kind::kUnknownUser);
  EXPECT_EQ(resolve("+alice", "example.com").kind, Kind::kUnknownUser);
  config_.recipient_delimiter = "";
  EXPECT_EQ(resolve("alice+lists", "example.com").kind, Kind::kUnknownUser);
  config_.recipient_delimiter = "-";
  EXPECT_EQ(accounts(resolve("alice-lists", "example.com")), Names{"alice@example.com"});
}

TEST_F(RecipientsTest, AliasesExpandToLocalAndRemoteTargets) {
  alias("team@example.com", {"alice@example.com", "bob@other.test", "Carol@Remote.org"});
  Resolution r = resolve("team", "example.com");
  EXPECT_EQ(r.kind, Kind::kAccepted);
  EXPECT_EQ(accounts(r), (Names{"alice@example.com", "bob@other.test"}));
  EXPECT_EQ(r.remote, Names{"Carol@Remote.org"});  // accepted on MX: the alias is local
  // Nested aliases, duplicates collapse to one delivery per account.
  alias("all@example.com", {"team@example.com", "alice@example.com", "ALICE@example.com"});
  Resolution all = resolve("all", "example.com");
  EXPECT_EQ(accounts(all), (Names{"alice@example.com", "bob@other.test"}));
  EXPECT_EQ(all.remote, Names{"Carol@Remote.org"});
  // An alias wins over plus-addressing of its own name.
  EXPECT_EQ(accounts(resolve("team+x", "example.com")), (Names{"alice@example.com", "bob@other.test"}));
}

TEST_F(RecipientsTest, AliasLoopsEndAndDeadAliasesAreUnknown) {
  alias("a@example.com", {"b@example.com"});
  alias("b@example.com", {"a@example.com", "alice@example.com"});
  Resolution r = resolve("a", "example.com");
  EXPECT_EQ(r.kind, Kind::kAccepted);
  EXPECT_EQ(accounts(r), Names{"alice@example.com"});
  alias("x@example.com", {"y@example.com"});
  alias("y@example.com", {"x@example.com"});
  EXPECT_EQ(resolve("x", "example.com").kind, Kind::kUnknownUser);
  alias("dead@example.com", {"gone@example.com"});
  EXPECT_EQ(resolve("dead", "example.com").kind, Kind::kUnknownUser);
}

TEST_F(RecipientsTest, LongAliasChainsAreCut) {
  for (std::size_t i = 0; i < kMaxAliasDepth + 2; ++i) {
    alias("c" + std::to_string(i) + "@example.com", {"c" + std::to_string(i + 1) + "@example.com"});
  }
  alias("c" + std::to_string(kMaxAliasDepth + 2) + "@example.com", {"alice@example.com"});
  EXPECT_EQ(resolve("c0", "example.com").kind, Kind::kUnknownUser);
  EXPECT_EQ(accounts(resolve("c3", "example.com")), Names{"alice@example.com"});
}

TEST_F(RecipientsTest, PostmasterGoesWhereConfigured) {
  EXPECT_EQ(resolve("postmaster", "example.com").kind, Kind::kUnknownUser);
  EXPECT_EQ(resolve("Postmaster", "").kind, Kind::kUnknownUser);
  config_.postmaster = "alice@example.com";
  EXPECT_EQ(accounts(resolve("PostMaster", "other.test")), Names{"alice@example.com"});
  EXPECT_EQ(accounts(resolve("Postmaster", "")), Names{"alice@example.com"});
  // An explicit postmaster alias takes precedence.
  alias("postmaster@other.test", {"bob@other.test"});
  EXPECT_EQ(accounts(resolve("postmaster", "other.test")), Names{"bob@other.test"});
}

TEST_F(RecipientsTest, SenderMustBeTheAccountOrItsAlias) {
  RecipientResolver r(*store_, config_);
  alias("sales@example.com", {"bob@other.test", "alice@example.com"});
  EXPECT_TRUE(*r.may_send_as("alice@example.com", "alice@example.com"));
  EXPECT_TRUE(*r.may_send_as("ALICE@Example.COM", "alice@example.com"));
  EXPECT_TRUE(*r.may_send_as("alice+news@example.com", "alice@example.com"));
  EXPECT_TRUE(*r.may_send_as("sales@example.com", "alice@example.com"));
  EXPECT_FALSE(*r.may_send_as("bob@other.test", "alice@example.com"));
  EXPECT_FALSE(*r.may_send_as("alice@other.test", "alice@example.com"));
  EXPECT_FALSE(*r.may_send_as("not-an-address", "alice@example.com"));
}

}  // namespace
}  // namespace tern::smtp
