#include "queue/policy.h"

#include <gtest/gtest.h>

namespace tern::queue {
namespace {

using store::QueueState;

TEST(RetryPolicy, DoublesFromBaseUpToMax) {
  const RetryPolicy p;  // 300 s doubling, at most 3600 s
  EXPECT_EQ(next_attempt(p, 1000, 1), 1300);
  EXPECT_EQ(next_attempt(p, 1000, 2), 1600);
  EXPECT_EQ(next_attempt(p, 1000, 3), 2200);
  EXPECT_EQ(next_attempt(p, 1000, 4), 3400);
  EXPECT_EQ(next_attempt(p, 1000, 5), 4600);
  EXPECT_EQ(next_attempt(p, 1000, 4000000000u), 4600);
  const RetryPolicy quick{1, 2, 60};
  EXPECT_EQ(next_attempt(quick, 0, 1), 1);
  EXPECT_EQ(next_attempt(quick, 0, 2), 2);
  EXPECT_EQ(next_attempt(quick, 0, 3), 2);
}

TEST(RetryPolicy, ExpiresDeferredRecipientsOnly) {
  const RetryPolicy p;
  EXPECT_FALSE(expired(p, 0, 5 * 86400 - 1));
  EXPECT_TRUE(expired(p, 0, 5 * 86400));
  std::vector<store::RecipientOutcome> o{{0, QueueState::kDelivered, "250 ok"}, {1, QueueState::kQueued, "451 later"}};
  expire_deferred(o);
  EXPECT_EQ(o[0].state, QueueState::kDelivered);
  EXPECT_EQ(o[1].state, QueueState::kFailed);
  EXPECT_EQ(o[1].reply, "delivery time expired; last: 451 later");
}

TEST(Grouping, PendingRecipientsByDomain) {
  store::OutboundMessage m;
  m.recipients = {{"a@B.test", 0, "", QueueState::kQueued, ""},
                  {"b@c.test", 0, "", QueueState::kQueued, ""},
                  {"c@b.test", 0, "", QueueState::kDelivered, ""},
                  {"d@b.test", 0, "", QueueState::kQueued, ""}};
  auto g = pending_by_domain(m);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g["b.test"], (std::vector<std::size_t>{0, 3}));
  EXPECT_EQ(g["c.test"], (std::vector<std::size_t>{1}));
}

TEST(Routes, ExactThenWildcard) {
  const std::vector<Route> routes{{"*", "smarthost.test", 587}, {"b.test", "127.0.0.1", 2525}};
  EXPECT_EQ(find_route(routes, "b.test")->port, 2525);
  EXPECT_EQ(find_route(routes, "c.test")->host, "smarthost.test");
  const std::vector<Route> only{{"b.test", "127.0.0.1", 2525}};
  EXPECT_FALSE(find_route(only, "c.test"));
}

}  // namespace
}  // namespace tern::queue
