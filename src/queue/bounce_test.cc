#include "queue/bounce.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "queue/policy.h"
#include "store/testing/fake_mail_store.h"

namespace tern::queue {
namespace {

const std::string kStored = "Return-Path: <alice@a.test>\r\nSubject: hi\r\n\r\nbody\r\n";

// A queued message from `sender` to bob@b.test, as the store returns it.
store::QueueEntry queued(store::MailStore& s, const std::string& sender) {
  store::OutboundMessage m;
  m.sender = sender;
  m.skip = std::string("Return-Path: <alice@a.test>\r\n").size();
  m.recipients.push_back({"bob@b.test", 0, "", store::QueueState::kQueued, ""});
  auto d = s.deliver(kStored, 1000, {}, &m);
  EXPECT_TRUE(d);
  auto q = s.list_queue();
  EXPECT_TRUE(q && !q->empty());
  return q->back();
}

BounceOptions options() {
  BounceOptions o;
  o.dsn.hostname = "mx.a.test";
  return o;
}

const std::vector<FailedRecipient> kBobFailed{{0, "550 5.1.1 no such user", false, ""}};

TEST(Bounce, LocalSenderGetsItInTheInbox) {
  store::testing::FakeMailStore s;
  ASSERT_TRUE(s.add_domain("a.test"));
  auto alice = s.add_account("alice@a.test", "x");
  ASSERT_TRUE(alice);
  const store::QueueEntry e = queued(s, "Alice@A.test");
  auto sent = send_bounce(s, options(), e, kStored, kBobFailed, 2000);
  ASSERT_TRUE(sent) << sent.error().to_string();
  EXPECT_TRUE(sent->due);
  EXPECT_TRUE(sent->dropped.empty());
  EXPECT_EQ(sent->mailboxes, std::vector<std::string>{"alice@a.test"});
  EXPECT_EQ(sent->queue_id, 0);
  EXPECT_EQ(sent->reported, std::vector<std::size_t>{0});

  auto inbox = s.find_mailbox(alice->id, "INBOX");
  ASSERT_TRUE(inbox && inbox->has_value());
  auto msgs = s.list_messages((*inbox)->id, 1, UINT32_MAX);
  ASSERT_TRUE(msgs);
  ASSERT_EQ(msgs->size(), 1u);
  auto bytes = s.read_blob((*msgs)[0].blob_id);
  ASSERT_TRUE(bytes);
  EXPECT_TRUE(bytes->starts_with("Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@mx.a.test>\r\n"))
      << *bytes;
  EXPECT_NE(bytes->find("multipart/report; report-type=delivery-status"), std::string::npos);
  EXPECT_NE(bytes->find("Final-Recipient: rfc822; bob@b.test"), std::string::npos);
  EXPECT_NE(bytes->find("550 5.1.1 no such user"), std::string::npos);
  // Only the original entry is queued: nothing went out.
  auto q = s.list_queue();
  ASSERT_TRUE(q);
  EXPECT_EQ(q->size(), 1u);
}

TEST(Bounce, TaggedAndAliasedSendersResolveAsSmtpDoes) {
  store::testing::FakeMailStore s;
  ASSERT_TRUE(s.add_domain("a.test"));
  auto alice = s.add_account("alice@a.test", "x");
  ASSERT_TRUE(alice);
  const std::vector<std::string> targets{"alice@a.test", "alice@elsewhere.test"};
  ASSERT_TRUE(s.add_alias("team@a.test", targets));

  auto tagged = send_bounce(s, options(), queued(s, "alice+lists@a.test"), kStored, kBobFailed, 2000);
  ASSERT_TRUE(tagged);
  EXPECT_EQ(tagged->mailboxes, std::vector<std::string>{"alice@a.test"});

  auto team = send_bounce(s, options(), queued(s, "team@a.test"), kStored, kBobFailed, 2000);
  ASSERT_TRUE(team);
  EXPECT_EQ(team->mailboxes, std::vector<std::string>{"alice@a.test"});
  EXPECT_EQ(team->remote, std::vector<std::string>{"alice@elsewhere.test"});
  EXPECT_NE(team->queue_id, 0);
}

TEST(Bounce, RemoteSenderGetsAQueuedBounceFromTheNullSender) {
  store::testing::FakeMailStore s;
  const store::QueueEntry e = queued(s, "alice@far.test");
  auto sent = send_bounce(s, options(), e, kStored, kBobFailed, 2000);
  ASSERT_TRUE(sent) << sent.error().to_string();
  EXPECT_TRUE(sent->mailboxes.empty());
  ASSERT_NE(sent->queue_id, 0);
  auto q = s.list_queue();
  ASSERT_TRUE(q);
  ASSERT_EQ(q->size(), 2u);
  const store::QueueEntry& b = q->back();
  EXPECT_EQ(b.id, sent->queue_id);
  EXPECT_EQ(b.message.sender, "");
  EXPECT_EQ(b.message.skip, 0u);
  ASSERT_EQ(b.message.recipients.size(), 1u);
  EXPECT_EQ(b.message.recipients[0].address, "alice@far.test");
  auto bytes = s.read_blob(b.blob_id);
  ASSERT_TRUE(bytes);
  EXPECT_TRUE(bytes->starts_with("From: Mail Delivery System <MAILER-DAEMON@mx.a.test>\r\n")) << *bytes;
  EXPECT_NE(bytes->find("To: <alice@far.test>"), std::string::npos);
}

TEST(Bounce, NothingIsStoredWhenNoneIsDueOrTheSenderIsUnknown) {
  store::testing::FakeMailStore s;
  ASSERT_TRUE(s.add_domain("a.test"));
  auto null_sender = send_bounce(s, options(), queued(s, ""), kStored, kBobFailed, 2000);
  ASSERT_TRUE(null_sender);
  EXPECT_FALSE(null_sender->due);

  auto unknown = send_bounce(s, options(), queued(s, "nobody@a.test"), kStored, kBobFailed, 2000);
  ASSERT_TRUE(unknown);
  EXPECT_TRUE(unknown->due);
  EXPECT_FALSE(unknown->dropped.empty());
  EXPECT_EQ(unknown->queue_id, 0);
  auto q = s.list_queue();
  ASSERT_TRUE(q);
  EXPECT_EQ(q->size(), 2u);  // the two originals, no bounce
}

TEST(Bounce, FailedRecipientsRecogniseExpiry) {
  std::vector<store::RecipientOutcome> outcomes{
      {0, store::QueueState::kDelivered, "250 ok"},
      {1, store::QueueState::kFailed, "550 5.1.1 no"},
      {2, store::QueueState::kQueued, "451 4.7.1 later"},
      {3, store::QueueState::kQueued, "451 4.7.1 greylisted"},
  };
  std::vector<store::RecipientOutcome> expiring{outcomes[3]};
  expire_deferred(expiring);
  outcomes[3] = expiring[0];
  std::vector<FailedRecipient> f = failed_recipients(outcomes);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].index, 1u);
  EXPECT_FALSE(f[0].expired);
  EXPECT_EQ(f[0].reply, "550 5.1.1 no");
  EXPECT_EQ(f[1].index, 3u);
  EXPECT_TRUE(f[1].expired);
  EXPECT_EQ(f[1].reply, "451 4.7.1 greylisted");
}

TEST(Bounce, DeferUnbouncedRequeuesOnlyTheFailed) {
  std::vector<store::RecipientOutcome> outcomes{
      {0, store::QueueState::kDelivered, "250 ok"},
      {1, store::QueueState::kFailed, "550 5.1.1 no"},
  };
  defer_unbounced(outcomes, "disk full");
  EXPECT_EQ(outcomes[0].state, store::QueueState::kDelivered);
  EXPECT_EQ(outcomes[1].state, store::QueueState::kQueued);
  EXPECT_NE(outcomes[1].reply.find("550 5.1.1 no"), std::string::npos);
  EXPECT_NE(outcomes[1].reply.find("disk full"), std::string::npos);
}

}  // namespace
}  // namespace tern::queue
