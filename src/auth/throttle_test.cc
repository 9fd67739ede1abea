#include "auth/throttle.h"

#include <gtest/gtest.h>

namespace tern::auth {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

config::Auth test_config() {
  config::Auth a;
  a.throttle_free_failures = 2;
  a.throttle_base_delay = milliseconds(100);
  a.throttle_lockout_failures = 6;
  a.throttle_window = seconds(600);
  return a;
}

TEST(ThrottleTest, DelaysGrowAfterFreeFailures) {
  FakeClock clock;
  Throttle t(test_config(), clock);
  EXPECT_EQ(t.failed("1.2.3.4", "alice"), milliseconds(0));
  EXPECT_EQ(t.failed("1.2.3.4", "alice"), milliseconds(0));
  EXPECT_EQ(t.failed("1.2.3.4", "alice"), milliseconds(100));
  EXPECT_EQ(t.failed("1.2.3.4", "alice"), milliseconds(200));
  EXPECT_EQ(t.failed("1.2.3.4", "alice"), milliseconds(400));
}

TEST(ThrottleTest, DelayIsCapped) {
  FakeClock clock;
  config::Auth cfg = test_config();
  cfg.throttle_lockout_failures = 1000;
  cfg.throttle_base_delay = milliseconds(20'000);
  Throttle t(cfg, clock);
  milliseconds last{0};
  for (int i = 0; i < 200; ++i) last = t.failed("ip", "name");
  EXPECT_EQ(last, milliseconds(30'000));
}

TEST(ThrottleTest, LockoutAfterLimit) {
  FakeClock clock;
  Throttle t(test_config(), clock);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(t.allowed("1.2.3.4", "alice"));
    t.failed("1.2.3.4", "alice");
  }
  EXPECT_TRUE(t.allowed("1.2.3.4", "alice"));
  t.failed("1.2.3.4", "alice");
  EXPECT_FALSE(t.allowed("1.2.3.4", "alice"));
  // Locked per IP (any name) and per name (any IP).
  EXPECT_FALSE(t.allowed("1.2.3.4", "bob"));
  EXPECT_FALSE(t.allowed("5.6.7.8", "alice"));
  EXPECT_TRUE(t.allowed("5.6.7.8", "bob"));
}

TEST(ThrottleTest, WindowExpiryForgets) {
  FakeClock clock;
  Throttle t(test_config(), clock);
  for (int i = 0; i < 6; ++i) t.failed("1.2.3.4", "alice");
  EXPECT_FALSE(t.allowed("1.2.3.4", "alice"));
  clock.advance(seconds(599));
  EXPECT_FALSE(t.allowed("1.2.3.4", "alice"));
  clock.advance(seconds(1));
  EXPECT_TRUE(t.allowed("1.2.3.4", "alice"));
  EXPECT_EQ(t.failed("1.2.3.4", "alice"), milliseconds(0));
}

TEST(ThrottleTest, SuccessClearsNameNotIp) {
  FakeClock clock;
  Throttle t(test_config(), clock);
  for (int i = 0; i < 4; ++i) t.failed("1.2.3.4", "alice");
  t.succeeded("1.2.3.4", "alice");
  // From another IP, alice starts from zero again.
  EXPECT_EQ(t.failed("5.6.7.8", "alice"), milliseconds(0));
  // The first IP keeps its count: its fifth failure is delayed.
  EXPECT_EQ(t.failed("1.2.3.4", "carol"), milliseconds(400));
}

TEST(ThrottleTest, UnknownAndKnownNamesTreatedAlike) {
  FakeClock clock;
  Throttle a(test_config(), clock);
  Throttle b(test_config(), clock);
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(a.allowed("ip", "alice@example.org"), b.allowed("ip", "nobody@example.org"));
    EXPECT_EQ(a.failed("ip", "alice@example.org"), b.failed("ip", "nobody@example.org"));
  }
}

TEST(ThrottleTest, ManyKeysStayUsable) {
  FakeClock clock;
  Throttle t(test_config(), clock);
  // More distinct addresses than the throttle keeps; old ones are dropped, new ones count.
  for (int i = 0; i < 120'000; ++i) {
    clock.advance(milliseconds(1));
    t.failed("10.0." + std::to_string(i), "n" + std::to_string(i));
  }
  for (int i = 0; i < 6; ++i) t.failed("192.0.2.1", "victim");
  EXPECT_FALSE(t.allowed("192.0.2.1", "x"));
  EXPECT_FALSE(t.allowed("198.51.100.1", "victim"));
}

}  // namespace
}  // namespace tern::auth
