// pop3/session.cc: the POP3 server session (RFC 1939) with CAPA (RFC 2449), STLS
// (RFC 2595), AUTH (RFC 5034) and response codes (RFC 2449 8, RFC 3206). T1 scope: the
// AUTHORIZATION state in full; in TRANSACTION only NOOP and QUIT work so far.
#include "pop3/session.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "auth/authenticator.h"
#include "auth/sasl.h"
#include "auth/sasl_dialog.h"
#include "base/limits.h"
#include "net/blocking_pool.h"
#include "net/line_reader.h"
#include "pop3/proto/parser.h"

namespace tern::pop3 {
namespace {

namespace asio = boost::asio;
using proto::Verb;

std::atomic<uint64_t> g_next_session_id{1};

enum class Flow { kContinue, kClose };
using Read = net::ReadStatus;

using SaslResult = auth::SaslOutcome;

class Session {
 public:
  Session(net::Stream& stream, const net::SessionEnv& env)
      : stream_(stream),
        env_(env),
        reader_(stream, env.config->limits.max_line_length),
        id_(g_next_session_id.fetch_add(1)),
        timeout_(env.config->timeouts.pre_auth) {
    peer_ = stream.remote().address().to_string();
  }

  asio::awaitable<void> run();

 private:
  bool login_allowed() const { return stream_.is_tls() || env_.config->auth.allow_plaintext; }
  bool stopping() const { return env_.stopping != nullptr && env_.stopping->load(); }
  bool too_many_errors() const {
    return env_.config->limits.max_errors > 0 && errors_ >= env_.config->limits.max_errors;
  }

  asio::awaitable<bool> send(std::string_view text);
  asio::awaitable<bool> line(std::string_view text);  // text + CRLF
  // Sends "-ERR text" and counts it as the client's error.
  asio::awaitable<bool> error(std::string_view text);
  asio::awaitable<Read> read_line(std::string& out);
  asio::awaitable<void> wait(std::chrono::milliseconds delay);

  asio::awaitable<Flow> handle(const proto::Command& cmd);
  asio::awaitable<Flow> do_capa();
  asio::awaitable<Flow> do_stls();
  asio::awaitable<Flow> do_auth(const proto::Command& cmd);
  asio::awaitable<SaslResult> sasl_exchange(auth::Mechanism mech, std::string initial);
  asio::awaitable<Read> challenge(std::string_view base64, std::string& answer);
  asio::awaitable<Flow> finish_login(const std::string& user, const std::string& pass);

  net::Stream& stream_;
  net::SessionEnv env_;
  net::LineReader reader_;
  uint64_t id_;
  std::chrono::seconds timeout_;
  std::string peer_;
  bool transaction_ = false;  // logged in: the TRANSACTION state (RFC 1939 3)
  std::string pending_user_;  // USER given, waiting for PASS
  std::string user_;
  uint32_t errors_ = 0;
  bool closed_ = false;
};

asio::awaitable<bool> Session::send(std::string_view text) {
  if (closed_) co_return false;
  auto ec = co_await stream_.write(text);
  if (ec) {
    spdlog::debug("pop3[{}] {}: write failed: {}", id_, peer_, ec.message());
    closed_ = true;
    co_return false;
  }
  co_return true;
}

asio::awaitable<bool> Session::line(std::string_view text) {
  std::string out = fmt::format("{}\r\n", text);
  co_return co_await send(out);
}

asio::awaitable<bool> Session::error(std::string_view text) {
  ++errors_;
  std::string out = fmt::format("-ERR {}\r\n", text);
  co_return co_await send(out);
}

asio::awaitable<Read> Session::read_line(std::string& out) {
  auto status = co_await reader_.read_line(out);
  co_return status;
}

asio::awaitable<void> Session::wait(std::chrono::milliseconds delay) {
  if (delay.count() <= 0) co_return;
  asio::steady_timer timer(stream_.get_executor(), delay);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> Session::run() {
  stream_.set_timeout(timeout_);
  spdlog::info("pop3[{}] {}: connected{}", id_, peer_, stream_.is_tls() ? " (tls)" : "");
  if (!co_await line("+OK Tern POP3 ready")) co_return;

  std::string input;
  while (!closed_) {
    auto status = co_await read_line(input);
    // POP3 has no unsolicited replies: on timeout or shutdown the connection just closes
    // (RFC 1939 3: the autologout timer ends the session without entering UPDATE).
    if (status == Read::kClosed || status == Read::kStopped) {
      spdlog::debug("pop3[{}] {}: connection closed by peer", id_, peer_);
      break;
    }
    if (status == Read::kTimeout) {
      spdlog::info("pop3[{}] {}: timeout", id_, peer_);
      break;
    }
    if (status == Read::kTooLong) {
      co_await error("Line too long");
    } else if (auto cmd = proto::parse_command(input); !cmd) {
      co_await error(cmd.error().message);
    } else {
      auto flow = co_await handle(*cmd);
      if (flow == Flow::kClose) break;
    }
    if (too_many_errors()) {
      spdlog::info("pop3[{}] {}: too many errors", id_, peer_);
      break;
    }
    if (stopping()) break;
  }
  spdlog::info("pop3[{}] {}: disconnected", id_, peer_);
}

asio::awaitable<Flow> Session::handle(const proto::Command& cmd) {
  switch (cmd.verb) {
    case Verb::kCapa:
      co_return co_await do_capa();
    case Verb::kQuit:
      // RFC 1939 6: QUIT in TRANSACTION enters UPDATE; nothing is marked deleted yet.
      co_await line("+OK Tern POP3 server signing off");
      co_return Flow::kClose;
    case Verb::kNoop:
      if (!transaction_) {
        co_await error("Not logged in");
      } else {
        co_await line("+OK");
      }
      co_return Flow::kContinue;
    case Verb::kStat:
    case Verb::kList:
    case Verb::kRetr:
    case Verb::kDele:
    case Verb::kRset:
    case Verb::kTop:
    case Verb::kUidl:
      if (!transaction_) {
        co_await error("Not logged in");
      } else {
        co_await line("-ERR Not implemented yet");
      }
      co_return Flow::kContinue;
    case Verb::kUser:
    case Verb::kPass:
    case Verb::kApop:
    case Verb::kAuth:
    case Verb::kStls:
      break;
  }
  // AUTHORIZATION-state commands.
  if (transaction_) {
    co_await error("Already logged in");
    co_return Flow::kContinue;
  }
  switch (cmd.verb) {
    case Verb::kStls:
      co_return co_await do_stls();
    case Verb::kAuth:
      co_return co_await do_auth(cmd);
    case Verb::kApop:
      co_await error("APOP not supported");
      co_return Flow::kContinue;
    case Verb::kUser:
      if (!login_allowed()) {
        co_await error("[AUTH] Plaintext authentication not allowed; use STLS");
        co_return Flow::kContinue;
      }
      if (cmd.arg.size() > limits::kMaxAddressLength) {
        co_await error("[AUTH] User name too long");
        co_return Flow::kContinue;
      }
      pending_user_ = cmd.arg;
      co_await line("+OK Send PASS");
      co_return Flow::kContinue;
    case Verb::kPass: {
      if (pending_user_.empty()) {
        co_await error("Send USER first");
        co_return Flow::kContinue;
      }
      // RFC 1939 7: after PASS (either outcome) a new USER is needed.
      std::string user = std::move(pending_user_);
      pending_user_.clear();
      if (!login_allowed()) {
        co_await error("[AUTH] Plaintext authentication not allowed; use STLS");
        co_return Flow::kContinue;
      }
      if (cmd.arg.size() > limits::kMaxPasswordLength) {
        co_await error("[AUTH] Authentication failed");
        co_return Flow::kContinue;
      }
      co_return co_await finish_login(user, cmd.arg);
    }
    default:
      break;
  }
  co_return Flow::kContinue;
}

asio::awaitable<Flow> Session::do_capa() {
  // RFC 2449 5: the list may differ between states; USER/SASL/STLS only where usable.
  std::string text = "+OK Capability list follows\r\n";
  if (!transaction_) {
    if (login_allowed()) text += "USER\r\nSASL PLAIN LOGIN\r\n";
    if (!stream_.is_tls() && stream_.tls_available()) text += "STLS\r\n";
  }
  text += "RESP-CODES\r\nAUTH-RESP-CODE\r\nIMPLEMENTATION Tern\r\n.\r\n";
  co_await send(text);
  co_return Flow::kContinue;
}

asio::awaitable<Flow> Session::do_stls() {
  if (stream_.is_tls()) {
    co_await error("TLS already active");
    co_return Flow::kContinue;
  }
  if (!stream_.tls_available()) {
    co_await line("-ERR TLS not available");
    co_return Flow::kContinue;
  }
  if (!co_await line("+OK Begin TLS negotiation")) co_return Flow::kClose;
  // RFC 2595 4: pipelined plaintext after STLS is discarded; the session starts afresh.
  reader_.discard_buffered();
  pending_user_.clear();
  auto ec = co_await stream_.start_tls();
  if (ec) {
    spdlog::info("pop3[{}] {}: TLS handshake failed: {}", id_, peer_, ec.message());
    closed_ = true;
    co_return Flow::kClose;
  }
  spdlog::info("pop3[{}] {}: TLS started ({}, {})", id_, peer_, stream_.tls_version(),
               stream_.tls_cipher());
  co_return Flow::kContinue;
}

asio::awaitable<Read> Session::challenge(std::string_view base64, std::string& answer) {
  std::string out = fmt::format("+ {}\r\n", base64);
  if (!co_await send(out)) co_return Read::kClosed;
  co_return co_await read_line(answer);
}

asio::awaitable<SaslResult> Session::sasl_exchange(auth::Mechanism mech, std::string initial) {
  // RFC 5034 4: "=" is an empty initial response; the exchange then asks for the credentials.
  auto ask = [this](std::string_view base64, std::string& answer) { return challenge(base64, answer); };
  auto dialog = auth::run_sasl(mech, std::move(initial), ask);  // bound first: GCC 12 coroutines
  co_return co_await std::move(dialog);
}

asio::awaitable<Flow> Session::do_auth(const proto::Command& cmd) {
  if (!login_allowed()) {
    co_await error("[AUTH] Plaintext authentication not allowed; use STLS");
    co_return Flow::kContinue;
  }
  if (cmd.arg.empty()) {
    // Pre-RFC 5034 clients send a bare AUTH to list the mechanisms.
    co_await send("+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n");
    co_return Flow::kContinue;
  }
  auto mech = auth::parse_mechanism(cmd.arg);
  if (!mech) {
    co_await error("Unsupported authentication mechanism");
    co_return Flow::kContinue;
  }
  pending_user_.clear();
  std::string initial = cmd.arg2;
  SaslResult sasl = co_await sasl_exchange(*mech, initial);
  switch (sasl.kind) {
    case SaslResult::Kind::kOk:
      break;
    case SaslResult::Kind::kCancelled:
      co_await error("Authentication cancelled");
      co_return Flow::kContinue;
    case SaslResult::Kind::kMalformed:
      co_await error("Invalid SASL response");
      co_return Flow::kContinue;
    case SaslResult::Kind::kTooLong:
      co_await error("Line too long");
      co_return Flow::kContinue;
    case SaslResult::Kind::kTimeout:
      spdlog::info("pop3[{}] {}: timeout", id_, peer_);
      co_return Flow::kClose;
    case SaslResult::Kind::kClosed:
      co_return Flow::kClose;
    case SaslResult::Kind::kDenied:
      spdlog::info("pop3[{}] {}: authentication refused (authorization identity)", id_, peer_);
      co_await error("[AUTH] Authentication failed");
      co_return Flow::kContinue;
  }
  co_return co_await finish_login(sasl.creds.authcid, sasl.creds.password);
}

asio::awaitable<Flow> Session::finish_login(const std::string& user, const std::string& pass) {
  const std::string& ip = peer_;
  auth::Authenticator* authenticator = env_.auth;
  auth::AuthOutcome outcome =
      co_await env_.pool->run([&] { return authenticator->authenticate(user, pass, ip); });
  switch (outcome.kind) {
    case auth::AuthOutcome::Kind::kOk:
      transaction_ = true;
      user_ = outcome.identity ? outcome.identity->address : user;
      spdlog::info("pop3[{}] {}: authenticated as {}{}", id_, peer_, user_,
                   outcome.identity && outcome.identity->app_password_id ? " (app password)" : "");
      timeout_ = env_.config->timeouts.post_auth;
      stream_.set_timeout(timeout_);
      co_await line("+OK Logged in");
      break;
    case auth::AuthOutcome::Kind::kBadCredentials:
      spdlog::info("pop3[{}] {}: authentication failed for {}", id_, peer_, user);
      co_await wait(outcome.delay);
      co_await error("[AUTH] Authentication failed");
      break;
    case auth::AuthOutcome::Kind::kThrottled:
      spdlog::info("pop3[{}] {}: authentication throttled for {}", id_, peer_, user);
      co_await wait(outcome.delay);
      co_await error("[SYS/TEMP] Too many failed logins, try again later");
      break;
    case auth::AuthOutcome::Kind::kTemporaryFailure:
      spdlog::warn("pop3[{}] {}: authentication temporarily failed for {}", id_, peer_, user);
      co_await wait(outcome.delay);
      co_await line("-ERR [SYS/TEMP] Temporary authentication failure, try again later");
      break;
  }
  co_return closed_ ? Flow::kClose : Flow::kContinue;
}

}  // namespace

asio::awaitable<void> run_session(std::unique_ptr<net::Stream> stream, net::SessionEnv env) {
  bool clean = true;
  try {
    Session session(*stream, env);
    co_await session.run();
  } catch (const boost::system::system_error& e) {
    spdlog::debug("pop3: session ended by I/O error: {}", e.what());
    clean = false;
  } catch (const std::exception& e) {
    spdlog::error("pop3: bug: uncaught exception in session: {}", e.what());
    clean = false;
  }
  if (clean) {
    try {
      co_await stream->shutdown();
    } catch (const std::exception& e) {
      spdlog::debug("pop3: shutdown failed: {}", e.what());
      stream->close();
    }
  } else {
    stream->close();
  }
}

}  // namespace tern::pop3
