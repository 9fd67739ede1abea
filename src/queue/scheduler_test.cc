#include "queue/scheduler.h"

#include <gtest/gtest.h>

#include <ctime>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "store/testing/fake_mail_store.h"

namespace tern::queue {
namespace {

namespace asio = boost::asio;

store::Id queue_to(store::MailStore& s, const std::vector<std::string>& to) {
  store::OutboundMessage m;
  m.sender = "alice@a.test";
  for (const auto& a : to) m.recipients.push_back({a, 0, "", store::QueueState::kQueued, ""});
  auto d = s.deliver("Subject: x\r\n\r\nhi\r\n", 0, {}, &m);
  EXPECT_TRUE(d);
  return d ? d->queue_id : 0;
}

std::size_t pass(store::MailStore& s, const SchedulerOptions& options, int64_t now) {
  asio::io_context io;
  net::BlockingPool pool(1);
  std::size_t claimed = 0;
  auto once = [&]() -> asio::awaitable<void> { claimed = co_await run_once(s, pool, options, now); };
  asio::co_spawn(io, once, asio::detached);
  io.run();
  return claimed;
}

TEST(Scheduler, DefersUnreachableAndUnroutedDomainsWithBackOff) {
  store::testing::FakeMailStore s(nullptr);
  // A port with nobody listening.
  asio::io_context io;
  uint16_t closed = 0;
  {
    asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed = a.local_endpoint().port();
  }
  const store::Id id = queue_to(s, {"bob@b.test", "carol@c.test"});
  SchedulerOptions o;
  o.owner = "test";
  o.routes = {{"b.test", "127.0.0.1", closed}};
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  EXPECT_EQ(pass(s, o, now), 1u);
  auto q = s.list_queue();
  ASSERT_TRUE(q);
  ASSERT_EQ(q->size(), 1u);
  const store::QueueEntry& e = (*q)[0];
  EXPECT_EQ(e.id, id);
  EXPECT_EQ(e.attempts, 1u);
  EXPECT_GE(e.next_attempt, now + o.retry.base);
  EXPECT_EQ(e.lease_owner, "");
  EXPECT_EQ(e.message.recipients[0].state, store::QueueState::kQueued);
  EXPECT_NE(e.message.recipients[0].last_error.find("cannot connect"), std::string::npos)
      << e.message.recipients[0].last_error;
  EXPECT_NE(e.message.recipients[1].last_error.find("no route for c.test"), std::string::npos);
  // Not due again before its next attempt.
  EXPECT_EQ(pass(s, o, now + 1), 0u);
}

TEST(Scheduler, ExpiredEntriesAreBouncedAndRemoved) {
  store::testing::FakeMailStore s(nullptr);
  const store::Id id = queue_to(s, {"carol@c.test"});
  SchedulerOptions o;
  o.owner = "test";
  o.retry.max_age = 0;
  o.bounce.dsn.hostname = "mx.a.test";
  EXPECT_EQ(pass(s, o, static_cast<int64_t>(std::time(nullptr))), 1u);
  // The sender's domain is not local: the bounce is queued for it from <>, and the expired
  // entry is gone.
  auto q = s.list_queue();
  ASSERT_TRUE(q);
  ASSERT_EQ(q->size(), 1u);
  const store::QueueEntry& b = (*q)[0];
  EXPECT_NE(b.id, id);
  EXPECT_EQ(b.message.sender, "");
  ASSERT_EQ(b.message.recipients.size(), 1u);
  EXPECT_EQ(b.message.recipients[0].address, "alice@a.test");
  auto bytes = s.read_blob(b.blob_id);
  ASSERT_TRUE(bytes);
  EXPECT_NE(bytes->find("Final-Recipient: rfc822; carol@c.test"), std::string::npos) << *bytes;
  EXPECT_NE(bytes->find("Status: 4.4.7"), std::string::npos) << *bytes;
  EXPECT_NE(bytes->find("Diagnostic-Code: "), std::string::npos) << *bytes;
}

TEST(Scheduler, AnExpiredBounceIsRemovedWithoutAnotherBounce) {
  store::testing::FakeMailStore s(nullptr);
  store::OutboundMessage m;
  m.sender = "";
  m.recipients.push_back({"alice@a.test", 0, "", store::QueueState::kQueued, ""});
  ASSERT_TRUE(s.deliver("Subject: bounce\r\n\r\nx\r\n", 0, {}, &m));
  SchedulerOptions o;
  o.owner = "test";
  o.retry.max_age = 0;
  EXPECT_EQ(pass(s, o, static_cast<int64_t>(std::time(nullptr))), 1u);
  auto q = s.list_queue();
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->empty());
}

}  // namespace
}  // namespace tern::queue
