// End-to-end behaviour of one POP3 session over loopback TCP, with the real Stream,
// Authenticator and TLS, and an in-memory store.
#include "pop3/session.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include "auth/authenticator.h"
#include "auth/password.h"
#include "base/clock.h"
#include "base/strings.h"
#include "net/blocking_pool.h"
#include "store/mail_store.h"
#include "tls/self_signed.h"
#include "tls/server_context.h"
#include "tls/test_util.h"

namespace tern::pop3 {
namespace {

constexpr config::Protocol kProtocol = config::Protocol::kPop3;

// ---- Test harness: a real session on a loopback connection, a blocking client. ----

using tcp = boost::asio::ip::tcp;

// An in-memory store holding only what authentication reads; everything else fails.
class FakeStore final : public store::MailStore {
 public:
  void add(const std::string& address, std::string_view password, std::string_view app_password) {
    store::Account a;
    a.id = static_cast<store::Id>(accounts_.size() + 1);
    a.address = address;
    a.password_hash = auth::hash_password(password).value();
    accounts_[address] = a;
    store::AppPassword p;
    p.id = a.id * 100;
    p.account_id = a.id;
    p.label = "phone";
    p.hash = auth::hash_password(app_password).value();
    apps_.push_back(p);
  }

  Result<std::optional<store::Account>> find_account(std::string_view address) override {
    auto it = accounts_.find(std::string(address));
    if (it == accounts_.end()) return std::optional<store::Account>();
    return std::optional<store::Account>(it->second);
  }
  Result<std::vector<store::AppPassword>> list_app_passwords(store::Id account_id) override {
    std::vector<store::AppPassword> out;
    for (const auto& p : apps_) {
      if (p.account_id == account_id) out.push_back(p);
    }
    return out;
  }
  Status touch_app_password(store::Id, int64_t) override { return ok(); }

  Result<store::Domain> add_domain(std::string_view) override { return no(); }
  Status delete_domain(std::string_view) override { return no(); }
  Result<std::vector<store::Domain>> list_domains() override { return no(); }
  Result<std::optional<store::Domain>> find_domain(std::string_view) override { return no(); }
  Result<store::Account> add_account(std::string_view, std::string_view) override { return no(); }
  Status delete_account(std::string_view) override { return no(); }
  Result<std::vector<store::Account>> list_accounts() override { return no(); }
  Result<std::optional<store::Account>> find_account_by_id(store::Id) override { return no(); }
  Status set_password(store::Id, std::string_view) override { return no(); }
  Status add_alias(std::string_view, std::span<const std::string>) override { return no(); }
  Status delete_alias(std::string_view, std::span<const std::string>) override { return no(); }
  Result<std::vector<store::Alias>> list_aliases() override { return no(); }
  Result<std::optional<store::Alias>> find_alias(std::string_view) override { return no(); }
  Result<store::AppPassword> add_app_password(store::Id, std::string_view,
                                              std::string_view) override {
    return no();
  }
  Status delete_app_password(store::Id, store::Id) override { return no(); }
  Result<std::vector<store::Mailbox>> list_mailboxes(store::Id) override { return no(); }
  Result<std::optional<store::Mailbox>> find_mailbox(store::Id, std::string_view) override {
    return no();
  }
  Result<std::optional<store::Mailbox>> get_mailbox(store::Id) override { return no(); }
  Result<store::Mailbox> create_mailbox(store::Id, std::string_view, store::SpecialUse) override {
    return no();
  }
  Status delete_mailbox(store::Id) override { return no(); }
  Status rename_mailbox(store::Id, std::string_view) override { return no(); }
  Status set_subscribed(store::Id, bool) override { return no(); }
  Result<std::vector<store::Appended>> append(std::string_view, int64_t,
                                              std::span<const store::AppendTarget>) override {
    return no();
  }
  Result<std::vector<store::Message>> list_messages(store::Id, uint32_t, uint32_t) override {
    return no();
  }
  Result<std::vector<store::FlagChange>> store_flags(store::Id, std::span<const uint32_t>,
                                                     store::FlagOp, uint32_t,
                                                     std::span<const std::string>,
                                                     std::optional<uint64_t>,
                                                     std::vector<uint32_t>*) override {
    return no();
  }
  Result<store::Copied> copy_messages(store::Id, std::span<const uint32_t>, store::Id) override {
    return no();
  }
  Result<std::pair<store::Copied, store::Expunged>> move_messages(store::Id,
                                                                  std::span<const uint32_t>,
                                                                  store::Id) override {
    return no();
  }
  Result<store::Expunged> expunge(store::Id, std::span<const uint32_t>) override { return no(); }
  Result<std::vector<uint32_t>> expunged_since(store::Id, uint64_t) override { return no(); }
  Result<std::string> read_blob(store::Id) override { return no(); }
  Result<std::unique_ptr<store::BlobReader>> open_blob(store::Id) override { return no(); }
  store::StoreStats stats() const override { return {}; }

 private:
  static tl::unexpected<Error> no() { return make_error(ErrorCode::kInternal, "not in fake"); }
  std::map<std::string, store::Account> accounts_;
  std::vector<store::AppPassword> apps_;
};

// The client end: blocking reads with a receive timeout (a broken server fails the test
// instead of hanging it), plain or after a TLS handshake.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
  }
  ~Client() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    ::close(fd_);
  }
  bool connected() const { return connected_; }

  void send(std::string_view s) {
    if (ssl_ != nullptr) {
      SSL_write(ssl_, s.data(), static_cast<int>(s.size()));
    } else {
      ASSERT_EQ(::write(fd_, s.data(), s.size()), static_cast<ssize_t>(s.size()));
    }
  }
  // One line without CRLF; "<EOF>" when the server closed (or nothing came for 10 s).
  std::string line() {
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
  // Lines up to and including the first that `last` accepts.
  template <typename Pred>
  std::vector<std::string> lines_until(Pred last) {
    std::vector<std::string> out;
    for (int i = 0; i < 100; ++i) {
      out.push_back(line());
      if (last(out.back()) || out.back() == "<EOF>") break;
    }
    return out;
  }
  bool start_tls() {
    ctx_ = SSL_CTX_new(TLS_client_method());
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    return SSL_connect(ssl_) == 1;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

std::string b64(std::string_view s) { return base64_encode(s); }

class SessionTest : public ::testing::Test {
 protected:
  SessionTest() {
    config_.hostname = "mail.test";
    config_.auth.allow_plaintext = true;
    config_.auth.throttle_free_failures = 100;
    listener_.protocol = kProtocol;
  }
  static void SetUpTestSuite() {
    store_ = new FakeStore();
    store_->add("alice@example.com", "secret", "app-pass-1");
  }
  static void TearDownTestSuite() {
    delete store_;
    store_ = nullptr;
  }

  void use_tls() {
    auto paths = tls::ensure_self_signed(dir_.str(), "mail.test");
    ASSERT_TRUE(paths);
    auto ctx = tls::ServerContext::load(paths->cert_file, paths->key_file);
    ASSERT_TRUE(ctx);
    tls_ = *ctx;
  }

  // Runs one session on a fresh connection while `client` talks to it.
  template <typename ClientFn>
  void run(ClientFn client) {
    boost::asio::io_context ioc;
    net::BlockingPool pool(1);
    auth::Authenticator authenticator(*store_, config_.auth, SystemClock::instance());
    net::SessionEnv env;
    env.config = &config_;
    env.listener = &listener_;
    env.store = store_;
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
    auto body = [&]() -> boost::asio::awaitable<void> {
      auto token = boost::asio::as_tuple(boost::asio::use_awaitable);
      auto [ec, socket] = co_await acceptor.async_accept(token);
      EXPECT_FALSE(ec);
      if (ec) co_return;
      auto stream = std::make_unique<net::Stream>(std::move(socket), tls_);
      co_await run_session(std::move(stream), env);
    };
    boost::asio::co_spawn(ioc, body(), boost::asio::detached);
    ioc.run();
    client_thread.join();
  }

  static FakeStore* store_;
  config::Config config_;
  config::Listener listener_;
  std::atomic<bool> stopping_{false};
  tls::testing::TempDir dir_;
  std::shared_ptr<tls::ServerContext> tls_;
};

FakeStore* SessionTest::store_ = nullptr;

bool dot(const std::string& l) { return l == "."; }

TEST_F(SessionTest, GreetsListsCapabilitiesAndQuits) {
  run([](Client& c) {
    EXPECT_EQ(c.line(), "+OK Tern POP3 ready");
    c.send("CAPA\r\n");
    auto lines = c.lines_until(dot);
    std::vector<std::string> want = {"+OK Capability list follows", "USER", "SASL PLAIN LOGIN",
                                     "RESP-CODES", "AUTH-RESP-CODE", "IMPLEMENTATION Tern", "."};
    EXPECT_EQ(lines, want);
    c.send("STLS\r\n");
    EXPECT_EQ(c.line(), "-ERR TLS not available");
    c.send("QUIT\r\n");
    EXPECT_EQ(c.line(), "+OK Tern POP3 server signing off");
    EXPECT_EQ(c.line(), "<EOF>");
  });
}

TEST_F(SessionTest, UserPass) {
  run([](Client& c) {
    c.line();
    c.send("PASS secret\r\n");
    EXPECT_EQ(c.line(), "-ERR Send USER first");
    c.send("USER alice@example.com\r\n");
    EXPECT_EQ(c.line(), "+OK Send PASS");
    c.send("PASS wrong\r\n");
    EXPECT_EQ(c.line(), "-ERR [AUTH] Authentication failed");
    c.send("PASS secret\r\n");
    EXPECT_EQ(c.line(), "-ERR Send USER first");
    c.send("STAT\r\n");
    EXPECT_EQ(c.line(), "-ERR Not logged in");
    c.send("USER alice@example.com\r\n");
    EXPECT_EQ(c.line(), "+OK Send PASS");
    c.send("PASS secret\r\n");
    EXPECT_EQ(c.line(), "+OK Logged in");
    c.send("STAT\r\n");
    EXPECT_EQ(c.line(), "-ERR Not implemented yet");
    c.send("RETR 1\r\n");
    EXPECT_EQ(c.line(), "-ERR Not implemented yet");
    c.send("NOOP\r\n");
    EXPECT_EQ(c.line(), "+OK");
    c.send("USER alice@example.com\r\n");
    EXPECT_EQ(c.line(), "-ERR Already logged in");
    c.send("CAPA\r\n");
    auto lines = c.lines_until(dot);
    std::vector<std::string> want = {"+OK Capability list follows", "RESP-CODES",
                                     "AUTH-RESP-CODE", "IMPLEMENTATION Tern", "."};
    EXPECT_EQ(lines, want);
    c.send("QUIT\r\n");
    EXPECT_EQ(c.line(), "+OK Tern POP3 server signing off");
  });
}

TEST_F(SessionTest, AuthPlainAndLogin) {
  run([](Client& c) {
    c.line();
    c.send("AUTH PLAIN\r\n");
    EXPECT_EQ(c.line(), "+ ");
    c.send("*\r\n");
    EXPECT_EQ(c.line(), "-ERR Authentication cancelled");
    c.send("AUTH LOGIN\r\n");
    EXPECT_EQ(c.line(), "+ VXNlcm5hbWU6");
    c.send(b64("alice@example.com") + "\r\n");
    EXPECT_EQ(c.line(), "+ UGFzc3dvcmQ6");
    c.send(b64("wrong") + "\r\n");
    EXPECT_EQ(c.line(), "-ERR [AUTH] Authentication failed");
    c.send("AUTH KERBEROS_V4\r\n");
    EXPECT_EQ(c.line(), "-ERR Unsupported authentication mechanism");
    c.send("AUTH PLAIN " + b64(std::string("\0alice@example.com\0app-pass-1", 29)) + "\r\n");
    EXPECT_EQ(c.line(), "+OK Logged in");
  });
}

TEST_F(SessionTest, ErrorsAreCountedAndEndTheSession) {
  config_.limits.max_errors = 3;
  config_.limits.max_line_length = 100;
  run([](Client& c) {
    c.line();
    c.send("HELO\r\n");
    EXPECT_EQ(c.line(), "-ERR Unknown command");
    c.send("RETR x\r\n");
    EXPECT_EQ(c.line(), "-ERR Invalid message number");
    c.send("NOOP " + std::string(200, 'x') + "\r\n");
    EXPECT_EQ(c.line(), "-ERR Line too long");
    EXPECT_EQ(c.line(), "<EOF>");
  });
}

TEST_F(SessionTest, RefusesPlaintextLoginUnlessAllowed) {
  config_.auth.allow_plaintext = false;
  run([](Client& c) {
    c.line();
    c.send("CAPA\r\n");
    auto lines = c.lines_until(dot);
    std::vector<std::string> want = {"+OK Capability list follows", "RESP-CODES",
                                     "AUTH-RESP-CODE", "IMPLEMENTATION Tern", "."};
    EXPECT_EQ(lines, want);
    c.send("USER alice@example.com\r\n");
    EXPECT_EQ(c.line(), "-ERR [AUTH] Plaintext authentication not allowed; use STLS");
    c.send("AUTH PLAIN " + b64(std::string("\0alice@example.com\0secret", 25)) + "\r\n");
    EXPECT_EQ(c.line(), "-ERR [AUTH] Plaintext authentication not allowed; use STLS");
  });
}

TEST_F(SessionTest, StlsThenLogin) {
  config_.auth.allow_plaintext = false;
  use_tls();
  run([](Client& c) {
    c.line();
    c.send("CAPA\r\n");
    auto lines = c.lines_until(dot);
    EXPECT_NE(std::find(lines.begin(), lines.end(), "STLS"), lines.end());
    c.send("STLS\r\nUSER mallory\r\n");
    EXPECT_EQ(c.line(), "+OK Begin TLS negotiation");
    ASSERT_TRUE(c.start_tls());
    // The pipelined plaintext USER was discarded.
    c.send("PASS secret\r\n");
    EXPECT_EQ(c.line(), "-ERR Send USER first");
    c.send("CAPA\r\n");
    lines = c.lines_until(dot);
    std::vector<std::string> want = {"+OK Capability list follows", "USER", "SASL PLAIN LOGIN",
                                     "RESP-CODES", "AUTH-RESP-CODE", "IMPLEMENTATION Tern", "."};
    EXPECT_EQ(lines, want);
    c.send("STLS\r\n");
    EXPECT_EQ(c.line(), "-ERR TLS already active");
    c.send("USER alice@example.com\r\nPASS secret\r\n");
    EXPECT_EQ(c.line(), "+OK Send PASS");
    EXPECT_EQ(c.line(), "+OK Logged in");
  });
}

TEST_F(SessionTest, ClosesOnTimeout) {
  config_.timeouts.pre_auth = std::chrono::seconds(1);
  run([](Client& c) {
    c.line();
    EXPECT_EQ(c.line(), "<EOF>");
  });
}

}  // namespace
}  // namespace tern::pop3
