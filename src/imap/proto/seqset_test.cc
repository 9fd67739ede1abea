#include "imap/proto/seqset.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tern::imap::proto {
namespace {

struct Canonical {
  std::string text;
  std::string canonical;
};

TEST(SequenceSet, ParsesAndPrintsCanonically) {
  const std::vector<Canonical> cases = {
      {"1", "1"},
      {"1:3", "1:3"},
      {"3:1", "1:3"},
      {"1,2,3", "1:3"},
      {"5,1:3,2", "1:3,5"},
      {"7,9,8", "7:9"},
      {"1:10,2:4", "1:10"},
      {"*", "*"},
      {"1:*", "1:*"},
      {"*:1", "1:*"},
      {"*:*", "*"},
      {"*,5:*", "5:*"},
      {"10:*,2:*,5", "5,2:*,10:*"},
      {"4294967295", "4294967295"},
      {"1:4294967295", "1:4294967295"},
      {"007", "7"},
      {"1,3,5:6,4", "1,3:6"},
  };
  for (const auto& c : cases) {
    auto set = SequenceSet::parse(c.text);
    ASSERT_TRUE(set) << c.text << ": " << set.error();
    EXPECT_EQ(set->to_string(), c.canonical) << c.text;
    auto again = SequenceSet::parse(set->to_string());
    ASSERT_TRUE(again) << c.text;
    EXPECT_EQ(*again, *set) << c.text;
  }
}

TEST(SequenceSet, RejectsMalformedSets) {
  const std::vector<std::string> cases = {
      "", "0", "1:0", "0:*", "4294967296", "99999999999999999999999", "a", "1,", ",1", "1,,2",
      "1::2", "1:2:3", " 1", "1 ", "-1", "+1", "1.2", "1:", ":1", "**", "*1",
  };
  for (const auto& text : cases) {
    auto set = SequenceSet::parse(text);
    ASSERT_FALSE(set) << text;
    EXPECT_EQ(set.error(), "Invalid sequence set") << text;
  }
}

TEST(SequenceSet, RefusesSearchres) {
  for (const char* text : {"$", "1,$", "$:3"}) {
    auto set = SequenceSet::parse(text);
    ASSERT_FALSE(set) << text;
    EXPECT_EQ(set.error(), "$ (SEARCHRES) is not supported") << text;
  }
}

struct Resolution {
  std::string text;
  std::uint32_t star;
  std::string resolved;
};

TEST(SequenceSet, ResolvesStar) {
  const std::vector<Resolution> cases = {
      {"1:*", 5, "1:5"},
      {"*", 5, "5"},
      {"*:3", 5, "3:5"},
      // RFC 9051 6.4.8: "559:*" includes the last UID even when it is below 559.
      {"559:*", 500, "500:559"},
      {"*", 0, ""},       // empty mailbox: * names nothing
      {"1:*", 0, ""},
      {"1:*,7", 0, "7"},
      {"*,3", 10, "3,10"},
      {"2:4,*", 3, "2:4"},
      {"2:4,*", 5, "2:5"},
      {"10:*,20:*", 15, "10:20"},
      {"10:*,20:*", 30, "10:30"},
      {"10:*,20:*", 5, "5:20"},
      {"1:3", 1, "1:3"},  // numbers above * stay: the session decides (BAD for message numbers)
      {"4294967295:*", 1, "1:4294967295"},
  };
  for (const auto& c : cases) {
    auto set = SequenceSet::parse(c.text);
    ASSERT_TRUE(set) << c.text;
    RangeSet r = set->resolve(c.star);
    EXPECT_EQ(r.to_string(), c.resolved) << c.text << " with * = " << c.star;
    // contains() agrees with resolve() around every boundary.
    for (std::uint32_t n : {1u, 2u, 3u, 4u, 5u, 6u, 7u, 10u, 15u, 20u, 30u, 499u, 500u, 559u, 560u, 4294967295u}) {
      EXPECT_EQ(set->contains(n, c.star), r.contains(n)) << c.text << " n=" << n << " *=" << c.star;
    }
  }
}

TEST(RangeSet, AddsAndMergesInAnyOrder) {
  RangeSet r;
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.to_string(), "");
  EXPECT_EQ(r.min(), 0u);
  EXPECT_EQ(r.max(), 0u);
  r.add(5);
  r.add(7);
  r.add(1, 3);
  EXPECT_EQ(r.to_string(), "1:3,5,7");
  r.add(4);
  EXPECT_EQ(r.to_string(), "1:5,7");
  r.add(9, 8);
  EXPECT_EQ(r.to_string(), "1:5,7:9");
  r.add(6);
  EXPECT_EQ(r.to_string(), "1:9");
  r.add(20, 30);
  r.add(12, 14);
  r.add(0, 0);  // nothing
  EXPECT_EQ(r.to_string(), "1:9,12:14,20:30");
  r.add(10, 25);
  EXPECT_EQ(r.to_string(), "1:30");
  r.add(0, 40);
  EXPECT_EQ(r.to_string(), "1:40");
  EXPECT_EQ(r.count(), 40u);
  EXPECT_EQ(r.min(), 1u);
  EXPECT_EQ(r.max(), 40u);

  RangeSet other;
  other.add(100);
  other.add(41);
  r.add(other);
  EXPECT_EQ(r.to_string(), "1:41,100");
  RangeSet after;
  after.add(200, 210);
  r.add(after);
  EXPECT_EQ(r.to_string(), "1:41,100,200:210");
}

TEST(RangeSet, ContainsAndClamps) {
  auto set = SequenceSet::parse("2:4,8,10:20");
  ASSERT_TRUE(set);
  const RangeSet& r = set->fixed();
  const std::vector<std::pair<std::uint32_t, bool>> probes = {
      {0, false}, {1, false}, {2, true}, {4, true}, {5, false}, {7, false}, {8, true},
      {9, false}, {10, true}, {15, true}, {20, true}, {21, false}, {4294967295u, false}};
  for (const auto& [n, in] : probes) EXPECT_EQ(r.contains(n), in) << n;
  EXPECT_EQ(r.clamped(12).to_string(), "2:4,8,10:12");
  EXPECT_EQ(r.clamped(8).to_string(), "2:4,8");
  EXPECT_EQ(r.clamped(1).to_string(), "");
  EXPECT_EQ(r.clamped(100).to_string(), "2:4,8,10:20");
}

TEST(RangeSet, HugeRangesCostNothing) {
  auto set = SequenceSet::parse("1:4294967295");
  ASSERT_TRUE(set);
  RangeSet r = set->resolve(7);
  EXPECT_EQ(r.ranges().size(), 1u);
  EXPECT_EQ(r.count(), 4294967295u);
  EXPECT_TRUE(r.contains(4294967295u));
  std::vector<std::uint32_t> first;
  for (std::uint32_t n : r) {
    first.push_back(n);
    if (first.size() == 3) break;
  }
  EXPECT_EQ(first, (std::vector<std::uint32_t>{1, 2, 3}));
  // Iteration past the top value ends instead of wrapping to 0.
  RangeSet top;
  top.add(4294967294u, 4294967295u);
  top.add(3);
  std::vector<std::uint32_t> all(top.begin(), top.end());
  EXPECT_EQ(all, (std::vector<std::uint32_t>{3, 4294967294u, 4294967295u}));
}

TEST(RangeSet, IteratesEveryMember) {
  auto set = SequenceSet::parse("1:3,5,7:9");
  ASSERT_TRUE(set);
  std::vector<std::uint32_t> seen(set->fixed().begin(), set->fixed().end());
  EXPECT_EQ(seen, (std::vector<std::uint32_t>{1, 2, 3, 5, 7, 8, 9}));
  RangeSet empty;
  EXPECT_EQ(empty.begin(), empty.end());
}

// Random sets: adding numbers one by one in random order matches a bitmap, and the text
// form parses back to the same set.
TEST(RangeSet, RandomSetsRoundTrip) {
  std::mt19937 rng(42);
  for (int round = 0; round < 200; ++round) {
    std::vector<bool> bitmap(200, false);
    RangeSet r;
    int adds = static_cast<int>(rng() % 60);
    for (int i = 0; i < adds; ++i) {
      std::uint32_t a = 1 + rng() % 199, b = 1 + rng() % 199;
      if (rng() % 3 != 0) b = a;  // mostly single numbers
      r.add(a, b);
      for (std::uint32_t n = std::min(a, b); n <= std::max(a, b); ++n) bitmap[n] = true;
    }
    std::uint64_t count = 0;
    for (std::uint32_t n = 0; n < 200; ++n) {
      ASSERT_EQ(r.contains(n), bitmap[n]) << r.to_string() << " n=" << n;
      count += bitmap[n] ? 1 : 0;
    }
    EXPECT_EQ(r.count(), count);
    for (std::size_t i = 1; i < r.ranges().size(); ++i) {
      EXPECT_GT(r.ranges()[i].first, r.ranges()[i - 1].last + 1);  // merged
    }
    if (r.empty()) continue;
    auto back = SequenceSet::parse(r.to_string());
    ASSERT_TRUE(back) << r.to_string();
    EXPECT_EQ(back->fixed(), r);
    EXPECT_FALSE(back->has_star());
  }
}

}  // namespace
}  // namespace tern::imap::proto
