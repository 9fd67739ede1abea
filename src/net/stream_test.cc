#include "net/stream.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "net/line_reader.h"
#include "tls/self_signed.h"
#include "tls/server_context.h"
#include "tls/test_util.h"

namespace tern::net {
namespace {

using namespace std::chrono_literals;
using tcp = asio::ip::tcp;

// A blocking client socket with a receive timeout, so a broken server fails the test
// instead of hanging it.
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

std::string read_line_fd(int fd) {
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

void write_fd(int fd, std::string_view s) { ASSERT_EQ(::write(fd, s.data(), s.size()), ssize_t(s.size())); }

std::string ssl_read_line(SSL* ssl) {
  std::string line;
  char c;
  while (SSL_read(ssl, &c, 1) == 1) {
    line += c;
    if (c == '\n') {
      break;
    }
  }
  return line;
}

// Runs `server` on an accepted connection while `client` talks to it from a thread.
template <typename ServerFn, typename ClientFn>
void run_pair(std::shared_ptr<tls::ServerContext> ctx, ServerFn server, ClientFn client) {
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  uint16_t port = acceptor.local_endpoint().port();
  std::thread client_thread([&] {
    int fd = connect_to(port);
    ASSERT_GE(fd, 0);
    client(fd);
    ::close(fd);
  });
  auto body = [&]() -> asio::awaitable<void> {
    auto token = asio::as_tuple(asio::use_awaitable);
    auto [ec, socket] = co_await acceptor.async_accept(token);
    EXPECT_FALSE(ec);
    auto stream = std::make_unique<Stream>(std::move(socket), ctx);
    co_await server(*stream);
  };
  asio::co_spawn(ioc, body(), asio::detached);
  ioc.run();
  client_thread.join();
}

class TlsFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto paths = tls::ensure_self_signed(dir_.str(), "mail.test");
    ASSERT_TRUE(paths);
    cert_file_ = paths->cert_file;
    auto ctx = tls::ServerContext::load(paths->cert_file, paths->key_file);
    ASSERT_TRUE(ctx);
    ctx_ = *ctx;
  }
  // A verifying client context trusting our certificate; max_version 0 means any.
  SSL_CTX* client_ctx(int max_version = 0) {
    SSL_CTX* c = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(c, cert_file_.c_str(), nullptr);
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
    if (max_version != 0) {
      SSL_CTX_set_security_level(c, 0);  // let the client offer old versions at all
      SSL_CTX_set_min_proto_version(c, TLS1_VERSION);
      SSL_CTX_set_max_proto_version(c, max_version);
    }
    return c;
  }

  tls::testing::TempDir dir_;
  std::string cert_file_;
  std::shared_ptr<tls::ServerContext> ctx_;
};

TEST(Stream, PlainLinesBothWays) {
  std::vector<std::string> got;
  std::string greeting;
  run_pair(
      nullptr,
      [&](Stream& s) -> asio::awaitable<void> {
        EXPECT_FALSE(s.is_tls());
        EXPECT_FALSE(s.tls_available());
        EXPECT_EQ(s.remote().address(), asio::ip::make_address("127.0.0.1"));
        auto ec = co_await s.write("220 hello\r\n");
        EXPECT_FALSE(ec);
        LineReader reader(s, 100);
        std::string line;
        while ((co_await reader.read_line(line)) == ReadStatus::kOk) {
          got.push_back(line);
        }
      },
      [&](int fd) {
        greeting = read_line_fd(fd);
        write_fd(fd, "EHLO a\r\nNOOP\n");
        ::shutdown(fd, SHUT_WR);
      });
  EXPECT_EQ(greeting, "220 hello\r\n");
  EXPECT_EQ(got, (std::vector<std::string>{"EHLO a", "NOOP"}));
}

TEST(Stream, ReadExactTakesPipelinedBytesFirst) {
  std::string literal;
  std::string after;
  run_pair(
      nullptr,
      [&](Stream& s) -> asio::awaitable<void> {
        LineReader reader(s, 100);
        std::string line;
        EXPECT_EQ(co_await reader.read_line(line), ReadStatus::kOk);
        EXPECT_EQ(co_await reader.read_exact(10, literal), ReadStatus::kOk);
        EXPECT_EQ(co_await reader.read_line(after), ReadStatus::kOk);
      },
      [&](int fd) {
        write_fd(fd, "A1 APPEND {10}\r\n0123");
        write_fd(fd, "456789 tail\r\n");
      });
  EXPECT_EQ(literal, "0123456789");
  EXPECT_EQ(after, " tail");
}

TEST(Stream, ReadTimesOut) {
  error_code got;
  run_pair(
      nullptr,
      [&](Stream& s) -> asio::awaitable<void> {
        s.set_timeout(50ms);
        char buf[16];
        auto [ec, n] = co_await s.read_some(buf);
        got = ec;
        s.close();
      },
      [&](int fd) {
        char c;
        (void)::read(fd, &c, 1);  // returns at EOF, once the server gave up
      });
  EXPECT_EQ(got, asio::error::timed_out);
}

TEST(Stream, StartTlsWithoutContextFails) {
  error_code got;
  run_pair(
      nullptr,
      [&](Stream& s) -> asio::awaitable<void> {
        got = co_await s.start_tls();
        s.close();
      },
      [&](int) {});
  EXPECT_TRUE(got);
}

TEST_F(TlsFixture, StartTlsUpgradeThenLinesBothWays) {
  std::string server_got;
  std::string client_got;
  std::string version;
  bool client_ok = false;
  run_pair(
      ctx_,
      [&](Stream& s) -> asio::awaitable<void> {
        EXPECT_TRUE(s.tls_available());
        LineReader reader(s, 100);
        std::string line;
        EXPECT_EQ(co_await reader.read_line(line), ReadStatus::kOk);
        EXPECT_EQ(line, "STARTTLS");
        EXPECT_FALSE(co_await s.write("220 go ahead\r\n"));
        reader.discard_buffered();
        auto ec = co_await s.start_tls();
        EXPECT_FALSE(ec) << ec.message();
        EXPECT_TRUE(s.is_tls());
        version = s.tls_version();
        EXPECT_FALSE(s.tls_cipher().empty());
        EXPECT_EQ(co_await reader.read_line(server_got), ReadStatus::kOk);
        EXPECT_FALSE(co_await s.write("250 secret ok\r\n"));
        co_await s.shutdown();
      },
      [&](int fd) {
        write_fd(fd, "STARTTLS\r\n");
        EXPECT_EQ(read_line_fd(fd), "220 go ahead\r\n");
        SSL_CTX* c = client_ctx();
        SSL* ssl = SSL_new(c);
        SSL_set_fd(ssl, fd);
        SSL_set1_host(ssl, "mail.test");
        if (SSL_connect(ssl) == 1) {
          client_ok = true;
          std::string msg = "EHLO secret\r\n";
          SSL_write(ssl, msg.data(), int(msg.size()));
          client_got = ssl_read_line(ssl);
          char c1;
          EXPECT_EQ(SSL_read(ssl, &c1, 1), 0);  // close_notify
          EXPECT_EQ(SSL_get_error(ssl, 0), SSL_ERROR_ZERO_RETURN);
        }
        SSL_free(ssl);
        SSL_CTX_free(c);
      });
  EXPECT_TRUE(client_ok);
  EXPECT_EQ(server_got, "EHLO secret");
  EXPECT_EQ(client_got, "250 secret ok\r\n");
  EXPECT_TRUE(version == "TLSv1.3" || version == "TLSv1.2") << version;
}

TEST_F(TlsFixture, ImplicitTlsLargeTransfer) {
  // More than one TLS record and more than a socket buffer, in both directions.
  std::string big(300000, 'x');
  std::string received;
  std::string echoed;
  run_pair(
      ctx_,
      [&](Stream& s) -> asio::awaitable<void> {
        EXPECT_FALSE(co_await s.start_tls());
        LineReader reader(s, 16);
        EXPECT_EQ(co_await reader.read_exact(big.size(), received), ReadStatus::kOk);
        EXPECT_FALSE(co_await s.write(big));
        co_await s.shutdown();
      },
      [&](int fd) {
        SSL_CTX* c = client_ctx();
        SSL* ssl = SSL_new(c);
        SSL_set_fd(ssl, fd);
        ASSERT_EQ(SSL_connect(ssl), 1);
        ASSERT_EQ(SSL_write(ssl, big.data(), int(big.size())), int(big.size()));
        char buf[8192];
        int n;
        while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0) {
          echoed.append(buf, n);
        }
        SSL_free(ssl);
        SSL_CTX_free(c);
      });
  EXPECT_EQ(received, big);
  EXPECT_EQ(echoed, big);
}

TEST_F(TlsFixture, WriteToAVanishedPeerFailsWithoutKillingTheProcess) {
  error_code write_ec;
  run_pair(
      ctx_,
      [&](Stream& s) -> asio::awaitable<void> {
        EXPECT_FALSE(co_await s.start_tls());
        LineReader reader(s, 100);
        std::string line;
        // The client's line and its RST race: either may arrive first, so the read may
        // end either way. What matters is the writes below.
        auto status = co_await reader.read_line(line);
        EXPECT_TRUE(status == ReadStatus::kOk || status == ReadStatus::kClosed);
        std::string chunk(64 * 1024, 'y');
        for (int i = 0; i < 100 && !write_ec; ++i) {
          write_ec = co_await s.write(chunk);
        }
        s.close();
      },
      [&](int fd) {
        SSL_CTX* c = client_ctx();
        SSL* ssl = SSL_new(c);
        SSL_set_fd(ssl, fd);
        ASSERT_EQ(SSL_connect(ssl), 1);
        SSL_write(ssl, "bye\r\n", 5);
        linger lg{1, 0};  // close with RST
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        SSL_free(ssl);
        SSL_CTX_free(c);
      });
  EXPECT_TRUE(write_ec);
}

TEST_F(TlsFixture, Tls11ClientIsRefused) {
  error_code server_ec;
  int client_rc = 1;
  run_pair(
      ctx_,
      [&](Stream& s) -> asio::awaitable<void> {
        server_ec = co_await s.start_tls();
        EXPECT_FALSE(s.is_tls());
        s.close();
      },
      [&](int fd) {
        SSL_CTX* c = client_ctx(TLS1_1_VERSION);
        SSL* ssl = SSL_new(c);
        SSL_set_fd(ssl, fd);
        client_rc = SSL_connect(ssl);
        ERR_clear_error();
        SSL_free(ssl);
        SSL_CTX_free(c);
      });
  EXPECT_TRUE(server_ec);
  EXPECT_NE(client_rc, 1);
}

TEST_F(TlsFixture, HandshakeTimesOutOnSilentClient) {
  error_code server_ec;
  run_pair(
      ctx_,
      [&](Stream& s) -> asio::awaitable<void> {
        s.set_timeout(50ms);
        server_ec = co_await s.start_tls();
        s.close();
      },
      [&](int fd) {
        char c;
        (void)::read(fd, &c, 1);
      });
  EXPECT_EQ(server_ec, asio::error::timed_out);
}

}  // namespace
}  // namespace tern::net
