#include "net/listener.h"

#include <gtest/gtest.h>

namespace tern::net {
namespace {

using asio::ip::make_address;

TEST(ConnectionLimiter, PerAddressLimit) {
  ConnectionLimiter limiter(10, 2);
  auto a = make_address("192.0.2.1");
  auto b = make_address("192.0.2.2");
  auto s1 = limiter.try_acquire(a);
  auto s2 = limiter.try_acquire(a);
  EXPECT_TRUE(s1 && s2);
  EXPECT_FALSE(limiter.try_acquire(a));
  EXPECT_FALSE(limiter.try_acquire(make_address("::ffff:192.0.2.1")));  // same client
  EXPECT_TRUE(limiter.try_acquire(b));
  EXPECT_EQ(limiter.count(a), 2u);
  s1 = ConnectionLimiter::Slot();  // release one
  EXPECT_EQ(limiter.count(a), 1u);
  EXPECT_TRUE(limiter.try_acquire(a));
}

TEST(ConnectionLimiter, TotalLimitAndRelease) {
  ConnectionLimiter limiter(2, 0);
  std::vector<ConnectionLimiter::Slot> slots;
  slots.push_back(limiter.try_acquire(make_address("192.0.2.1")));
  slots.push_back(limiter.try_acquire(make_address("192.0.2.2")));
  EXPECT_FALSE(limiter.try_acquire(make_address("192.0.2.3")));
  EXPECT_EQ(limiter.total(), 2u);
  slots.clear();
  EXPECT_EQ(limiter.total(), 0u);
  EXPECT_EQ(limiter.count(make_address("192.0.2.1")), 0u);
  EXPECT_TRUE(limiter.try_acquire(make_address("192.0.2.3")));
}

TEST(Listener, PortZeroReportsTheBoundPort) {
  asio::io_context ioc;
  config::Listener cfg;
  cfg.address = "127.0.0.1";
  cfg.port = 0;
  auto l = Listener::open(ioc, cfg);
  ASSERT_TRUE(l) << l.error().to_string();
  EXPECT_NE((*l)->local_endpoint().port(), 0);
  EXPECT_EQ((*l)->local_endpoint().address(), make_address("127.0.0.1"));

  // The port is taken now: a second listener on it fails with an I/O error.
  cfg.port = (*l)->local_endpoint().port();
  auto again = Listener::open(ioc, cfg);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kIo);
}

TEST(Listener, RejectsBadAddressAndProxyProtocol) {
  asio::io_context ioc;
  config::Listener cfg;
  cfg.address = "not-an-ip";
  EXPECT_FALSE(Listener::open(ioc, cfg));
  cfg.address = "127.0.0.1";
  cfg.proxy_protocol = true;
  auto l = Listener::open(ioc, cfg);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().code, ErrorCode::kInvalid);
}

}  // namespace
}  // namespace tern::net
