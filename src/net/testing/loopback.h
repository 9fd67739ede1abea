// net/testing/loopback.h: the harness for protocol session tests. A real session (the
// protocol's run_session) runs on a loopback TCP connection with the real Stream,
// Authenticator, BlockingPool and (optionally) TLS, against an in-memory store holding one
// user; the test drives it from a blocking Client on its own thread. Test-only: built when
// TERN_TESTS is on, never linked into tern.
//
// Thread-safety: a fixture runs one session at a time; the Client belongs to the thread
// that `run` hands it to.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include "config/config.h"
#include "net/session_env.h"
#include "net/stream.h"
#include "store/testing/fake_mail_store.h"
#include "tls/server_context.h"
#include "tls/test_util.h"

namespace tern::net::testing {

// The client end: blocking reads with a 10 s receive timeout (a broken server fails the
// test instead of hanging it), plain or after a TLS handshake.
class Client {
 public:
  explicit Client(uint16_t port);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  // Writes all of `s`; a short plaintext write fails the test.
  void send(std::string_view s);
  // One line without CRLF; "<EOF>" when the server closed (or nothing came for 10 s).
  std::string line();
  // Lines up to and including the first that `last` accepts (or "<EOF>"; at most 100).
  template <typename Pred>
  std::vector<std::string> lines_until(Pred last) {
    std::vector<std::string> out;
    for (int i = 0; i < 100; ++i) {
      out.push_back(line());
      if (last(out.back()) || out.back() == "<EOF>") break;
    }
    return out;
  }
  // TLS handshake on the connection (no certificate verification); true on success.
  bool start_tls();

 private:
  int fd_ = -1;
  bool connected_ = false;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

// A protocol's session entry point (smtp::run_session, imap::run_session, ...).
using SessionFn = boost::asio::awaitable<void> (*)(std::unique_ptr<Stream>, SessionEnv);

// Fixture base: a config for host "mail.test" with plaintext auth allowed and a lenient
// throttle, a listener of `protocol`, and the suite-wide store with the user
// alice@example.com (password "secret", app password "app-pass-1").
class LoopbackSessionTest : public ::testing::Test {
 protected:
  LoopbackSessionTest(config::Protocol protocol, SessionFn session);

  static void SetUpTestSuite();
  static void TearDownTestSuite();

  // Gives the session a self-signed certificate (STARTTLS / STLS become available).
  void use_tls();
  // Runs one session on a fresh loopback connection while `client` talks to it on another
  // thread; returns when both have finished.
  void run(const std::function<void(Client&)>& client);

  static store::testing::FakeMailStore* store_;
  // When set, sessions (and their authenticator) use this store instead of the fake one;
  // the test owns it and adds the accounts it needs.
  store::MailStore* store_override_ = nullptr;
  config::Config config_;
  config::Listener listener_;
  std::atomic<bool> stopping_{false};
  tls::testing::TempDir dir_;
  std::shared_ptr<tls::ServerContext> tls_;

 private:
  SessionFn session_;
};

}  // namespace tern::net::testing
