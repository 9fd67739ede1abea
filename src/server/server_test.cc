// Server tests with a stand-in session (the protocol sessions have their own tests): it
// greets, echoes lines, and understands a few test commands.
#include "server/server.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <span>
#include <stdexcept>
#include <thread>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include "net/line_reader.h"
#include "tls/self_signed.h"
#include "tls/test_util.h"

namespace tern::server {
namespace {

using namespace std::chrono_literals;

// Commands: "quit" ends the session; "boom" throws; "deaf" makes it ignore `stopping`;
// "whoami" answers "remote <client endpoint as the session sees it>".
// Otherwise it answers "echo <line>". When its read is interrupted by the shutdown, or
// every 20 ms between lines, it checks env.stopping and says "bye" when it is set.
asio::awaitable<void> test_session(std::unique_ptr<net::Stream> s, net::SessionEnv env) {
  co_await s->write("hello\r\n");
  net::LineBuffer buf(200);
  bool deaf = false;
  std::string line;
  for (;;) {
    if (buf.next(line) == net::LineStatus::kNeedMore) {
      s->set_timeout(deaf ? std::chrono::steady_clock::duration::zero()
                          : std::chrono::steady_clock::duration(20ms));
      std::array<char, 256> chunk;
      std::span<char> span(chunk);
      auto [ec, n] = co_await s->read_some(span);
      if (deaf && s->interrupted()) {
        // Stuck in a long command: ignores the shutdown until the server closes the stream
        // (an empty write fails once the stream is closed).
        asio::steady_timer t(s->get_executor());
        do {
          t.expires_after(10ms);
          co_await t.async_wait(asio::use_awaitable);
        } while (!co_await s->write(""));
        break;
      }
      if (ec == asio::error::timed_out || s->interrupted()) {
        if (env.stopping->load()) {
          co_await s->write("bye\r\n");
          break;
        }
        continue;
      }
      if (ec) {
        break;
      }
      buf.feed(std::string_view(chunk.data(), n));
      continue;
    }
    if (line == "quit") {
      break;
    }
    if (line == "boom") {
      throw std::runtime_error("test session exploded");
    }
    if (line == "whoami") {
      std::string reply = "remote " + net::format_endpoint(s->remote()) + "\r\n";
      co_await s->write(reply);
      continue;
    }
    if (line == "deaf") {
      deaf = true;
      co_await s->write("ok\r\n");
      continue;
    }
    std::string reply = "echo " + line + "\r\n";
    co_await s->write(reply);
  }
  co_await s->shutdown();
}

int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads one line; "" at EOF (or after the 10 s safety timeout).
std::string read_line(int fd) {
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1) {
    line += c;
    if (c == '\n') {
      break;
    }
  }
  return line;
}

void send(int fd, std::string_view s) {
  ASSERT_EQ(::write(fd, s.data(), s.size()), ssize_t(s.size()));
}

bool wait_until(const std::function<bool()>& cond) {
  for (int i = 0; i < 1000; ++i) {
    if (cond()) {
      return true;
    }
    std::this_thread::sleep_for(10ms);
  }
  return cond();
}

config::Config test_config(config::Protocol protocol, config::TlsMode tls = config::TlsMode::kNone) {
  config::Config cfg;
  cfg.hostname = "mx.test";
  cfg.threads = 2;
  config::Listener l;
  l.protocol = protocol;
  l.address = "127.0.0.1";
  l.port = 0;
  l.tls = tls;
  cfg.listeners.push_back(l);
  return cfg;
}

class Client {
 public:
  explicit Client(uint16_t port) : fd_(connect_to(port)) {}
  ~Client() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

TEST(Server, BindsEphemeralPortAndServesSessions) {
  Server server(test_config(config::Protocol::kSmtp), {}, nullptr, test_session);
  ASSERT_TRUE(server.start());
  ASSERT_EQ(server.endpoints().size(), 1u);
  uint16_t port = server.endpoints()[0].endpoint.port();
  EXPECT_NE(port, 0);
  Client c(port);
  ASSERT_GE(c.fd(), 0);
  EXPECT_EQ(read_line(c.fd()), "hello\r\n");
  send(c.fd(), "ping\r\n");
  EXPECT_EQ(read_line(c.fd()), "echo ping\r\n");
  send(c.fd(), "quit\r\n");
  EXPECT_EQ(read_line(c.fd()), "");  // closed by the server
  EXPECT_TRUE(wait_until([&] { return server.open_connections() == 0; }));
}

TEST(Server, PerAddressLimitRefusesTheNextConnectionWithABusyReply) {
  auto cfg = test_config(config::Protocol::kSmtp);
  cfg.limits.max_connections_per_ip = 2;
  Server server(cfg, {}, nullptr, test_session);
  ASSERT_TRUE(server.start());
  uint16_t port = server.endpoints()[0].endpoint.port();

  auto first = std::make_unique<Client>(port);
  Client second(port);
  EXPECT_EQ(read_line(first->fd()), "hello\r\n");
  EXPECT_EQ(read_line(second.fd()), "hello\r\n");
  {
    Client third(port);
    EXPECT_EQ(read_line(third.fd()), "421 4.7.0 mx.test Too many connections, try again later\r\n");
    EXPECT_EQ(read_line(third.fd()), "");
  }
  // Once one of the two leaves, a new connection is served again.
  first.reset();
  EXPECT_TRUE(wait_until([&] { return server.open_connections() == 1; }));
  Client fourth(port);
  EXPECT_EQ(read_line(fourth.fd()), "hello\r\n");
}

TEST(Server, TotalLimitUsesTheProtocolsBusyReply) {
  auto cfg = test_config(config::Protocol::kImap);
  cfg.limits.max_connections = 1;
  Server server(cfg, {}, nullptr, test_session);
  ASSERT_TRUE(server.start());
  uint16_t port = server.endpoints()[0].endpoint.port();
  Client first(port);
  EXPECT_EQ(read_line(first.fd()), "hello\r\n");
  Client second(port);
  EXPECT_EQ(read_line(second.fd()), "* BYE [UNAVAILABLE] Too many connections, try again later\r\n");
}

TEST(Server, BusyReplies) {
  config::Listener l;
  l.protocol = config::Protocol::kPop3;
  EXPECT_EQ(busy_reply(l, "h"), "-ERR [SYS/TEMP] Too many connections, try again later\r\n");
  l.tls = config::TlsMode::kImplicit;
  EXPECT_EQ(busy_reply(l, "h"), "");
}

TEST(Server, ExceptionInASessionClosesOnlyThatConnection) {
  Server server(test_config(config::Protocol::kPop3), {}, nullptr, test_session);
  ASSERT_TRUE(server.start());
  uint16_t port = server.endpoints()[0].endpoint.port();
  Client a(port);
  Client b(port);
  EXPECT_EQ(read_line(a.fd()), "hello\r\n");
  EXPECT_EQ(read_line(b.fd()), "hello\r\n");
  send(a.fd(), "boom\r\n");
  EXPECT_EQ(read_line(a.fd()), "");
  send(b.fd(), "still there\r\n");
  EXPECT_EQ(read_line(b.fd()), "echo still there\r\n");
  EXPECT_TRUE(wait_until([&] { return server.open_connections() == 1; }));
}

TEST(Server, GracefulStopLetsSessionsSayGoodbye) {
  auto server = std::make_unique<Server>(test_config(config::Protocol::kSmtp), Services{}, nullptr,
                                         test_session);
  ASSERT_TRUE(server->start());
  uint16_t port = server->endpoints()[0].endpoint.port();
  Client c(port);
  EXPECT_EQ(read_line(c.fd()), "hello\r\n");
  server->stop();
  EXPECT_EQ(read_line(c.fd()), "bye\r\n");
  EXPECT_EQ(read_line(c.fd()), "");
  EXPECT_EQ(server->open_connections(), 0u);
  // No longer accepting.
  Client late(port);
  EXPECT_LT(late.fd(), 0);
}

TEST(Server, StopClosesSessionsThatOutstayTheGracePeriod) {
  auto cfg = test_config(config::Protocol::kImap);
  cfg.timeouts.shutdown = 0s;
  Server server(cfg, {}, nullptr, test_session);
  ASSERT_TRUE(server.start());
  uint16_t port = server.endpoints()[0].endpoint.port();
  Client c(port);
  EXPECT_EQ(read_line(c.fd()), "hello\r\n");
  send(c.fd(), "deaf\r\n");
  EXPECT_EQ(read_line(c.fd()), "ok\r\n");
  server.stop();
  EXPECT_EQ(read_line(c.fd()), "");
  EXPECT_EQ(server.open_connections(), 0u);
}

TEST(Server, ImplicitTlsHandshakeBeforeTheSession) {
  tls::testing::TempDir dir;
  auto paths = tls::ensure_self_signed(dir.str(), "mx.test");
  ASSERT_TRUE(paths);
  auto ctx = tls::ServerContext::load(paths->cert_file, paths->key_file);
  ASSERT_TRUE(ctx);
  Server server(test_config(config::Protocol::kImap, config::TlsMode::kImplicit), {}, *ctx,
                test_session);
  ASSERT_TRUE(server.start());
  Client c(server.endpoints()[0].endpoint.port());
  SSL_CTX* cctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(cctx, paths->cert_file.c_str(), nullptr);
  SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, nullptr);
  SSL* ssl = SSL_new(cctx);
  SSL_set_fd(ssl, c.fd());
  SSL_set1_host(ssl, "mx.test");
  ASSERT_EQ(SSL_connect(ssl), 1);
  char buf[64] = {};
  int n = SSL_read(ssl, buf, sizeof(buf) - 1);
  EXPECT_EQ(std::string(buf, std::max(n, 0)), "hello\r\n");
  SSL_free(ssl);
  SSL_CTX_free(cctx);
}

TEST(Server, TlsListenerWithoutCertificateIsAStartError) {
  Server server(test_config(config::Protocol::kImap, config::TlsMode::kStartTls), {}, nullptr,
                test_session);
  auto st = server.start();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kInvalid);
}

config::Config proxy_config(std::vector<std::string> trusted,
                            config::TlsMode tls = config::TlsMode::kNone) {
  auto cfg = test_config(config::Protocol::kImap, tls);
  cfg.listeners[0].proxy_protocol = true;
  cfg.proxy_trusted = std::move(trusted);
  return cfg;
}

// A PROXY v2 header for TCP over IPv4 from src:sport to 127.0.0.1:143, with one TLV.
std::string v2_header(std::array<uint8_t, 4> src, uint16_t sport) {
  std::string h("\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x11", 16);
  for (uint8_t b : src) h += static_cast<char>(b);
  h += std::string("\x7f\x00\x00\x01", 4);
  h += static_cast<char>(sport >> 8);
  h += static_cast<char>(sport & 0xff);
  h += std::string("\x00\x8f", 2);
  h += std::string("\x04\x00\x02" "ab", 5);  // a NOOP TLV, skipped
  return h;
}

TEST(Server, ProxyV1HeaderSetsTheClientAddress) {
  Server server(proxy_config({"127.0.0.0/8"}), {}, nullptr, test_session);
  ASSERT_TRUE(server.start());
  Client c(server.endpoints()[0].endpoint.port());
  // The client's first line rides in the same segment as the header and must not be lost.
  send(c.fd(), "PROXY TCP4 203.0.113.7 127.0.0.1 5555 143\r\nwhoami\r\n");
  EXPECT_EQ(read_line(c.fd()), "hello\r\n");
  EXPECT_EQ(read_line(c.fd()), "remote 203.0.113.7:5555\r\n");
}

TEST(Server, ProxyV2HeaderSetsTheClientAddress) {
  Server server(proxy_config({"::1/128", "127.0.0.1"}), {}, nullptr, test_session);
  ASSERT_TRUE(server.start());
  Client c(server.endpoints()[0].endpoint.port());
  send(c.fd(), v2_header({198, 51, 100, 9}, 40000) + "whoami\r\n");
  EXPECT_EQ(read_line(c.fd()), "hello\r\n");
  EXPECT_EQ(read_line(c.fd()), "remote 198.51.100.9:40000\r\n");
}

TEST(Server, ProxyLocalKeepsTheBalancersAddress) {
  Server server(proxy_config({"127.0.0.1/32"}), {}, nullptr, test_session);
  ASSERT_TRUE(server.start());
  Client c(server.endpoints()[0].endpoint.port());
  send(c.fd(), std::string("\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00", 16));  // LOCAL
  EXPECT_EQ(read_line(c.fd()), "hello\r\n");
  send(c.fd(), "whoami\r\n");
  EXPECT_EQ(read_line(c.fd()).rfind("remote 127.0.0.1:", 0), 0u);
}

TEST(Server, ProxyMalformedOrMissingHeaderClosesWithoutReply) {
  Server server(proxy_config({"127.0.0.1/32"}), {}, nullptr, test_session);
  ASSERT_TRUE(server.start());
  uint16_t port = server.endpoints()[0].endpoint.port();
  std::vector<std::string> bad_headers = {"PROXY TCP4 203.0.113.7 127.0.0.1 99999 143\r\n",
                                          "PROXY TCP4 203.0.113.7\r\n", "a001 CAPABILITY\r\n",
                                          "PROXY UNKNOWN " + std::string(120, 'x')};
  for (const std::string& bad : bad_headers) {
    SCOPED_TRACE(bad);
    Client c(port);
    send(c.fd(), bad);
    EXPECT_EQ(read_line(c.fd()), "");  // closed, no greeting
  }
  EXPECT_TRUE(wait_until([&] { return server.open_connections() == 0; }));
}

TEST(Server, ProxyHeaderTimesOutWithPreAuthTimeout) {
  auto cfg = proxy_config({"127.0.0.1/32"});
  cfg.timeouts.pre_auth = std::chrono::seconds(1);
  Server server(cfg, {}, nullptr, test_session);
  ASSERT_TRUE(server.start());
  Client c(server.endpoints()[0].endpoint.port());
  send(c.fd(), "PROXY TCP4 ");  // and nothing more
  EXPECT_EQ(read_line(c.fd()), "");
}

TEST(Server, ProxyFromAnUntrustedAddressIsClosed) {
  Server server(proxy_config({"192.0.2.0/24", "::1"}), {}, nullptr, test_session);
  ASSERT_TRUE(server.start());
  Client c(server.endpoints()[0].endpoint.port());
  send(c.fd(), "PROXY TCP4 203.0.113.7 127.0.0.1 5555 143\r\nwhoami\r\n");
  EXPECT_EQ(read_line(c.fd()), "");
}

TEST(Server, ProxyClientAddressCountsForThePerAddressLimit) {
  auto cfg = proxy_config({"127.0.0.1/32"});
  cfg.limits.max_connections_per_ip = 1;
  Server server(cfg, {}, nullptr, test_session);
  ASSERT_TRUE(server.start());
  uint16_t port = server.endpoints()[0].endpoint.port();
  // Two clients behind the same balancer address are two addresses to the limiter.
  Client a(port);
  send(a.fd(), "PROXY TCP4 203.0.113.7 127.0.0.1 5555 143\r\n");
  EXPECT_EQ(read_line(a.fd()), "hello\r\n");
  Client b(port);
  send(b.fd(), "PROXY TCP4 203.0.113.8 127.0.0.1 5555 143\r\n");
  EXPECT_EQ(read_line(b.fd()), "hello\r\n");
  Client again(port);
  send(again.fd(), "PROXY TCP4 203.0.113.7 127.0.0.1 6666 143\r\n");
  EXPECT_EQ(read_line(again.fd()), "* BYE [UNAVAILABLE] Too many connections, try again later\r\n");
}

TEST(Server, ProxyHeaderComesBeforeImplicitTls) {
  tls::testing::TempDir dir;
  auto paths = tls::ensure_self_signed(dir.str(), "mx.test");
  ASSERT_TRUE(paths);
  auto ctx = tls::ServerContext::load(paths->cert_file, paths->key_file);
  ASSERT_TRUE(ctx);
  Server server(proxy_config({"127.0.0.1/32"}, config::TlsMode::kImplicit), {}, *ctx,
                test_session);
  ASSERT_TRUE(server.start());
  Client c(server.endpoints()[0].endpoint.port());
  send(c.fd(), v2_header({192, 0, 2, 44}, 1234));
  SSL_CTX* cctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(cctx, paths->cert_file.c_str(), nullptr);
  SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, nullptr);
  SSL* ssl = SSL_new(cctx);
  SSL_set_fd(ssl, c.fd());
  SSL_set1_host(ssl, "mx.test");
  ASSERT_EQ(SSL_connect(ssl), 1);
  ASSERT_EQ(SSL_write(ssl, "whoami\r\n", 8), 8);
  std::string got;
  char buf[128];
  while (got.find("remote") == std::string::npos || got.back() != '\n') {
    int n = SSL_read(ssl, buf, sizeof(buf));
    if (n <= 0) break;
    got.append(buf, n);
  }
  EXPECT_EQ(got, "hello\r\nremote 192.0.2.44:1234\r\n");
  SSL_free(ssl);
  SSL_CTX_free(cctx);
}

TEST(Server, ProxyListenerWithoutTrustedRangesIsAStartError) {
  Server server(proxy_config({}), {}, nullptr, test_session);
  auto st = server.start();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kInvalid);
  Server bad(proxy_config({"10.0.0.0/40"}), {}, nullptr, test_session);
  auto st2 = bad.start();
  ASSERT_FALSE(st2);
  EXPECT_EQ(st2.error().code, ErrorCode::kInvalid);
}

}  // namespace
}  // namespace tern::server
