#include "imap/recent_tracker.h"

#include <cstdint>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace tern::imap {
namespace {

TEST(RecentTracker, TheFirstSessionToSeeAUidClaimsIt) {
  RecentTracker t;
  EXPECT_EQ(t.claim(1, 5).to_string(), "1:5");
  EXPECT_TRUE(t.claim(1, 5).empty());  // a second session selecting the same mailbox
  EXPECT_EQ(t.claim(1, 7).to_string(), "6:7");
  EXPECT_TRUE(t.claim(1, 6).empty());  // a session behind the others gets nothing
  EXPECT_EQ(t.claim(2, 3).to_string(), "1:3");  // mailboxes are independent
  EXPECT_TRUE(t.claim(3, 0).empty());  // an empty mailbox
}

TEST(RecentTracker, PeekDoesNotClaim) {
  RecentTracker t;
  EXPECT_EQ(t.peek(1, 4).to_string(), "1:4");  // EXAMINE (RFC 3501 6.3.2)
  EXPECT_EQ(t.claim(1, 4).to_string(), "1:4");
  EXPECT_TRUE(t.peek(1, 4).empty());
  EXPECT_EQ(t.peek(1, 9).to_string(), "5:9");
}

TEST(RecentTracker, ForgetStartsOver) {
  RecentTracker t;
  t.claim(1, 4);
  t.forget(1);
  EXPECT_EQ(t.claim(1, 2).to_string(), "1:2");
}

TEST(RecentTracker, ConcurrentClaimsHandEachUidToExactlyOneSession) {
  RecentTracker t;
  constexpr int kThreads = 4;
  constexpr std::uint32_t kUids = 5000;
  std::vector<proto::RangeSet> got(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&t, &got, i] {
      for (std::uint32_t uid = 1; uid <= kUids; ++uid) got[i].add(t.claim(9, uid));
    });
  }
  for (auto& th : threads) th.join();
  std::uint64_t total = 0;
  proto::RangeSet all;
  for (const auto& g : got) {
    total += g.count();
    all.add(g);
  }
  EXPECT_EQ(total, kUids);  // no UID claimed twice
  EXPECT_EQ(all.to_string(), "1:5000");
}

}  // namespace
}  // namespace tern::imap
