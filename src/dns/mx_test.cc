#include "dns/mx.h"

#include <gtest/gtest.h>

#include <set>

namespace tern::dns {
namespace {

TEST(MxPlanTest, OrdersByPreference) {
  std::mt19937_64 rng(1);
  MxPlan p = plan_mx("example.org", Answer::kOk,
                     {{20, "mx2.example.org."}, {10, "MX1.example.org"}, {30, "mx3.example.org"}}, rng);
  ASSERT_EQ(p.kind, MxPlan::Kind::kHosts);
  EXPECT_FALSE(p.implicit);
  EXPECT_EQ(p.hosts, (std::vector<std::string>{"mx1.example.org", "mx2.example.org", "mx3.example.org"}));
}

TEST(MxPlanTest, ShufflesEqualPreferencesOnly) {
  std::set<std::string> firsts;
  for (uint64_t seed = 0; seed < 64; ++seed) {
    std::mt19937_64 rng(seed);
    MxPlan p = plan_mx("example.org", Answer::kOk,
                       {{10, "a.example"}, {10, "b.example"}, {10, "c.example"}, {5, "first.example"}}, rng);
    ASSERT_EQ(p.hosts.size(), 4u);
    EXPECT_EQ(p.hosts[0], "first.example");
    firsts.insert(p.hosts[1]);
  }
  // Over 64 seeds each of the three equal hosts came second at least once.
  EXPECT_EQ(firsts, (std::set<std::string>{"a.example", "b.example", "c.example"}));
}

TEST(MxPlanTest, NoMxMeansTheDomainItself) {
  std::mt19937_64 rng(1);
  MxPlan p = plan_mx("example.org", Answer::kNoRecords, {}, rng);
  ASSERT_EQ(p.kind, MxPlan::Kind::kHosts);
  EXPECT_TRUE(p.implicit);
  EXPECT_EQ(p.hosts, (std::vector<std::string>{"example.org"}));
}

TEST(MxPlanTest, NullMxAcceptsNoMail) {
  std::mt19937_64 rng(1);
  EXPECT_EQ(plan_mx("example.org", Answer::kOk, {{0, "."}}, rng).kind, MxPlan::Kind::kNullMx);
  EXPECT_EQ(plan_mx("example.org", Answer::kOk, {{0, ""}}, rng).kind, MxPlan::Kind::kNullMx);
  // A root exchange beside real ones is skipped, not obeyed.
  MxPlan mixed = plan_mx("example.org", Answer::kOk, {{0, "."}, {10, "mx.example.org"}}, rng);
  ASSERT_EQ(mixed.kind, MxPlan::Kind::kHosts);
  EXPECT_EQ(mixed.hosts, (std::vector<std::string>{"mx.example.org"}));
}

TEST(MxPlanTest, FailuresPassThrough) {
  std::mt19937_64 rng(1);
  EXPECT_EQ(plan_mx("x.test", Answer::kNoDomain, {}, rng).kind, MxPlan::Kind::kNoDomain);
  EXPECT_EQ(plan_mx("x.test", Answer::kTemporary, {}, rng).kind, MxPlan::Kind::kTemporary);
}

TEST(MxPlanTest, DuplicateHostsAreTriedOnce) {
  std::mt19937_64 rng(1);
  MxPlan p = plan_mx("example.org", Answer::kOk, {{10, "mx.example.org"}, {20, "MX.example.org."}}, rng);
  EXPECT_EQ(p.hosts, (std::vector<std::string>{"mx.example.org"}));
}

}  // namespace
}  // namespace tern::dns
