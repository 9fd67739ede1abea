// store/testing/fake_mail_store_test.cc: the in-memory fake keeps the store's delivery and
// queue semantics (the QueueConformance part of the conformance suite runs on it), plus
// what other modules' tests rely on.
#include "store/testing/fake_mail_store.h"

#include <gtest/gtest.h>

#include "store/conformance_test.h"

namespace tern::store::testing {
namespace {

// Each open is a new, empty store: the fake keeps nothing across opens (QueueConformance
// never reopens).
class FakeInstance final : public BackendInstance {
 public:
  Result<std::unique_ptr<MailStore>> open(ChangeFeed* feed) override {
    return std::unique_ptr<MailStore>(std::make_unique<FakeMailStore>(feed));
  }
};

INSTANTIATE_TEST_SUITE_P(Fake, QueueConformance,
                         ::testing::Values(StoreBackend{"fake", [] { return std::make_unique<FakeInstance>(); }}),
                         backend_name);
INSTANTIATE_TEST_SUITE_P(Fake, LockConformance,
                         ::testing::Values(StoreBackend{"fake", [] { return std::make_unique<FakeInstance>(); }}),
                         backend_name);

TEST(FakeMailStore, AccountsAddedWithAHashCanReceiveMail) {
  FakeMailStore store;
  const Id alice = store.add_account_with_hash("alice@example.com", "$y$hash");
  const Id app = store.add_app_password_with_hash(alice, "$y$app");
  EXPECT_EQ(alice, 1);  // ids as before: accounts and app passwords share one counter
  EXPECT_EQ(app, 2);
  auto inbox = store.find_mailbox(alice, "INBOX");
  ASSERT_TRUE(inbox && *inbox);
  AppendTarget t{(*inbox)->id, 0, {}};
  OutboundMessage out;
  out.sender = "alice@example.com";
  out.recipients.push_back(OutboundRecipient{"bob@remote.test", 0, "", QueueState::kQueued, ""});
  auto d = store.deliver("Subject: hi\r\n\r\n", 1, std::span(&t, 1), &out);
  ASSERT_TRUE(d) << d.error().to_string();
  auto msgs = store.list_messages((*inbox)->id, 1, UINT32_MAX);
  ASSERT_TRUE(msgs);
  ASSERT_EQ(msgs->size(), 1u);
  auto queue = store.list_queue();
  ASSERT_TRUE(queue);
  ASSERT_EQ(queue->size(), 1u);
  EXPECT_EQ((*queue)[0].blob_id, (*msgs)[0].blob_id);
  EXPECT_EQ((*queue)[0].message.recipients[0].address, "bob@remote.test");
}

TEST(FakeMailStore, LookupsCanBeMadeToFail) {
  FakeMailStore store;
  store.add_account_with_hash("alice@example.com", "$y$hash");
  store.fail_lookups = true;
  EXPECT_EQ(store.find_account("alice@example.com").error().code, ErrorCode::kUnavailable);
  store.fail_lookups = false;
  EXPECT_TRUE(*store.find_account("alice@example.com"));
}

}  // namespace
}  // namespace tern::store::testing
