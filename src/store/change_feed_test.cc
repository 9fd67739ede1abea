// store/change_feed_test.cc: unit tests for the in-process ChangeFeed.
#include "store/change_feed.h"

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>
#include <vector>

namespace tern::store {
namespace {

MailboxChange change(Id account, Id mailbox, uint64_t modseq) {
  return MailboxChange{MailboxChange::Kind::kAppend, account, mailbox, modseq, {1}};
}

TEST(ChangeFeed, DeliversToMailboxSubscribersOnly) {
  ChangeFeed feed;
  std::vector<uint64_t> got;
  auto sub = feed.subscribe(7, [&](const MailboxChange& c) { got.push_back(c.modseq); });
  feed.publish(change(1, 7, 10));
  feed.publish(change(1, 8, 11));
  feed.publish(change(1, 7, 12));
  EXPECT_EQ(got, (std::vector<uint64_t>{10, 12}));
}

TEST(ChangeFeed, AccountSubscriptionSeesEveryMailbox) {
  ChangeFeed feed;
  std::vector<Id> got;
  auto sub = feed.subscribe_account(1, [&](const MailboxChange& c) { got.push_back(c.mailbox_id); });
  feed.publish(change(1, 7, 1));
  feed.publish(change(2, 8, 1));
  feed.publish(change(1, 9, 1));
  EXPECT_EQ(got, (std::vector<Id>{7, 9}));
}

TEST(ChangeFeed, UnsubscribeStopsDelivery) {
  ChangeFeed feed;
  int calls = 0;
  auto sub = feed.subscribe(7, [&](const MailboxChange&) { ++calls; });
  feed.publish(change(1, 7, 1));
  sub.reset();
  feed.publish(change(1, 7, 2));
  EXPECT_EQ(calls, 1);
  {
    auto scoped = feed.subscribe(7, [&](const MailboxChange&) { ++calls; });
  }
  feed.publish(change(1, 7, 3));
  EXPECT_EQ(calls, 1);
}

TEST(ChangeFeed, MovedSubscriptionStaysActive) {
  ChangeFeed feed;
  int calls = 0;
  Subscription outer;
  {
    auto inner = feed.subscribe(7, [&](const MailboxChange&) { ++calls; });
    outer = std::move(inner);
  }
  feed.publish(change(1, 7, 1));
  EXPECT_EQ(calls, 1);
  Subscription other = std::move(outer);
  feed.publish(change(1, 7, 2));
  EXPECT_EQ(calls, 2);
  other.reset();
  feed.publish(change(1, 7, 3));
  EXPECT_EQ(calls, 2);
}

TEST(ChangeFeed, CallbackMayDestroyItsOwnSubscription) {
  ChangeFeed feed;
  int calls = 0;
  std::optional<Subscription> sub;
  sub = feed.subscribe(7, [&](const MailboxChange&) {
    ++calls;
    sub.reset();  // must not deadlock
  });
  feed.publish(change(1, 7, 1));
  feed.publish(change(1, 7, 2));
  EXPECT_EQ(calls, 1);
}

TEST(ChangeFeed, SubscriptionOutlivingFeedIsInert) {
  Subscription sub;
  {
    ChangeFeed feed;
    sub = feed.subscribe(7, [](const MailboxChange&) {});
  }
  sub.reset();  // must not touch the destroyed feed
  SUCCEED();
}

// After ~Subscription returns, its callback never runs again, even with publishers racing.
TEST(ChangeFeed, ConcurrentPublishAndUnsubscribe) {
  ChangeFeed feed;
  std::atomic<bool> stop{false};
  std::vector<std::thread> publishers;
  for (int t = 0; t < 3; ++t) {
    publishers.emplace_back([&] {
      uint64_t n = 0;
      while (!stop.load()) feed.publish(change(1, 7, ++n));
    });
  }
  std::atomic<int> violations{0};
  for (int round = 0; round < 300; ++round) {
    auto alive = std::make_shared<std::atomic<bool>>(true);
    auto sub = feed.subscribe(7, [alive, &violations](const MailboxChange&) {
      if (!alive->load()) ++violations;
    });
    auto acct = feed.subscribe_account(1, [alive, &violations](const MailboxChange&) {
      if (!alive->load()) ++violations;
    });
    std::this_thread::yield();
    sub.reset();
    acct.reset();
    alive->store(false);  // any call from now on breaks the contract
  }
  stop.store(true);
  for (auto& th : publishers) th.join();
  EXPECT_EQ(violations.load(), 0);
}

}  // namespace
}  // namespace tern::store
