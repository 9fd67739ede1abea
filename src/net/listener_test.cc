#include "net/listener.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
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

TEST(Listener, RejectsBadAddress) {
  asio::io_context ioc;
  config::Listener cfg;
  cfg.address = "not-an-ip";
  auto bad = Listener::open(ioc, cfg);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalid);
  cfg.address = "127.0.0.1";
  cfg.proxy_protocol = true;  // supported: the server reads the header after accept()
  EXPECT_TRUE(Listener::open(ioc, cfg));
}

// Accepts one connection on a loopback acceptor, has the client write `sent` (then keep the
// connection open), runs read_proxy_header on the server side, and returns its result plus
// the bytes the server side can still read afterwards.
struct HeaderRun {
  Result<asio::ip::tcp::endpoint> result = make_error(ErrorCode::kInternal, "not run");
  std::string rest;
  asio::ip::tcp::endpoint client;
};

HeaderRun run_header(const std::string& sent, std::chrono::milliseconds timeout) {
  asio::io_context ioc;
  asio::ip::tcp::acceptor acceptor(ioc, {make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket client(ioc);
  client.connect(acceptor.local_endpoint());
  asio::ip::tcp::socket server = acceptor.accept();
  HeaderRun out;
  out.client = client.local_endpoint();
  if (!sent.empty()) asio::write(client, asio::buffer(sent));
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        out.result = co_await read_proxy_header(&server, timeout);
      },
      asio::detached);
  ioc.run();
  if (out.result) {
    client.shutdown(asio::socket_base::shutdown_send);
    error_code ec;
    std::array<char, 256> buf;
    for (;;) {
      std::size_t n = server.read_some(asio::buffer(buf), ec);
      if (ec) break;
      out.rest.append(buf.data(), n);
    }
  }
  return out;
}

TEST(ReadProxyHeader, V1KeepsTheBytesAfterIt) {
  auto r = run_header("PROXY TCP4 203.0.113.7 127.0.0.1 5555 143\r\na001 CAPABILITY\r\n",
                      std::chrono::seconds(10));
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(*r.result, asio::ip::tcp::endpoint(make_address("203.0.113.7"), 5555));
  EXPECT_EQ(r.rest, "a001 CAPABILITY\r\n");
}

TEST(ReadProxyHeader, V2KeepsTheBytesAfterIt) {
  std::string h("\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c"
                "\xc6\x33\x64\x09\x7f\x00\x00\x01\x01\xbb\x00\x8f",
                28);
  auto r = run_header(h + "\x16\x03\x01", std::chrono::seconds(10));
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(*r.result, asio::ip::tcp::endpoint(make_address("198.51.100.9"), 443));
  EXPECT_EQ(r.rest, "\x16\x03\x01");
}

TEST(ReadProxyHeader, UnknownKeepsTheConnectionsAddress) {
  auto r = run_header("PROXY UNKNOWN\r\nEHLO x\r\n", std::chrono::seconds(10));
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(*r.result, r.client);
  EXPECT_EQ(r.rest, "EHLO x\r\n");
}

TEST(ReadProxyHeader, MalformedEarlyEofAndSilence) {
  auto bad = run_header("a001 LOGIN x y\r\n", std::chrono::seconds(10));
  ASSERT_FALSE(bad.result);
  EXPECT_EQ(bad.result.error().code, ErrorCode::kInvalid);

  auto silent = run_header("PROXY TCP4 ", std::chrono::milliseconds(50));
  ASSERT_FALSE(silent.result);
  EXPECT_EQ(silent.result.error().code, ErrorCode::kIo);
}

}  // namespace
}  // namespace tern::net
