// net/testing/loopback.cc: the session test harness (see loopback.h).
#include "net/testing/loopback.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "auth/authenticator.h"
#include "auth/password.h"
#include "base/clock.h"
#include "net/blocking_pool.h"
#include "tls/self_signed.h"

namespace tern::net::testing {

using tcp = boost::asio::ip::tcp;

Client::Client(uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{10, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
}

Client::~Client() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  ::close(fd_);
}

void Client::send(std::string_view s) {
  if (ssl_ != nullptr) {
    SSL_write(ssl_, s.data(), static_cast<int>(s.size()));
  } else {
    ASSERT_EQ(::write(fd_, s.data(), s.size()), static_cast<ssize_t>(s.size()));
  }
}

std::string Client::line() {
  std::string out;
  char c;
  for (;;) {
    int n = ssl_ != nullptr ? SSL_read(ssl_, &c, 1) : static_cast<int>(::read(fd_, &c, 1));
    if (n != 1) return out.empty() ? "<EOF>" : out;
    if (c == '\n') break;
    out += c;
  }
  if (!out.empty() && out.back() == '\r') out.pop_back();
  return out;
}

bool Client::start_tls() {
  ctx_ = SSL_CTX_new(TLS_client_method());
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  return SSL_connect(ssl_) == 1;
}

store::testing::FakeMailStore* LoopbackSessionTest::store_ = nullptr;

LoopbackSessionTest::LoopbackSessionTest(config::Protocol protocol, SessionFn session)
    : session_(session) {
  config_.hostname = "mail.test";
  config_.auth.allow_plaintext = true;
  config_.auth.throttle_free_failures = 100;
  listener_.protocol = protocol;
}

void LoopbackSessionTest::SetUpTestSuite() {
  store_ = new store::testing::FakeMailStore();
  store::Id alice =
      store_->add_account_with_hash("alice@example.com", auth::hash_password("secret").value());
  store_->add_app_password_with_hash(alice, auth::hash_password("app-pass-1").value());
}

void LoopbackSessionTest::TearDownTestSuite() {
  delete store_;
  store_ = nullptr;
}

void LoopbackSessionTest::use_tls() {
  auto paths = tls::ensure_self_signed(dir_.str(), "mail.test");
  ASSERT_TRUE(paths);
  auto ctx = tls::ServerContext::load(paths->cert_file, paths->key_file);
  ASSERT_TRUE(ctx);
  tls_ = *ctx;
}

void LoopbackSessionTest::run(const std::function<void(Client&)>& client) {
  boost::asio::io_context ioc;
  BlockingPool pool(1);
  store::MailStore* mail_store = store_override_ != nullptr ? store_override_ : store_;
  auth::Authenticator authenticator(*mail_store, config_.auth, SystemClock::instance());
  SessionEnv env;
  env.config = &config_;
  env.listener = &listener_;
  env.store = mail_store;
  env.auth = &authenticator;
  env.pool = &pool;
  env.stopping = &stopping_;
  tcp::acceptor acceptor(ioc, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  uint16_t port = acceptor.local_endpoint().port();
  std::thread client_thread([&] {
    Client c(port);
    ASSERT_TRUE(c.connected());
    client(c);
  });
  SessionFn session = session_;
  auto body = [&]() -> boost::asio::awaitable<void> {
    auto token = boost::asio::as_tuple(boost::asio::use_awaitable);
    auto [ec, socket] = co_await acceptor.async_accept(token);
    EXPECT_FALSE(ec);
    if (ec) co_return;
    auto stream = std::make_unique<Stream>(std::move(socket), tls_);
    co_await session(std::move(stream), env);
  };
  boost::asio::co_spawn(ioc, body(), boost::asio::detached);
  ioc.run();
  client_thread.join();
}

}  // namespace tern::net::testing
