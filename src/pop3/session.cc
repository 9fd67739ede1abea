// pop3/session.cc: the POP3 server session (RFC 1939) with CAPA and PIPELINING (RFC 2449),
// STLS (RFC 2595), AUTH (RFC 5034) and response codes (RFC 2449 8, RFC 3206): the command
// loop, the replies and the AUTHORIZATION state. The maildrop commands are in
// transaction.cc.
#include "pop3/session.h"

#include <atomic>
#include <exception>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "auth/authenticator.h"
#include "auth/sasl.h"
#include "base/limits.h"
#include "net/blocking_pool.h"
#include "pop3/session_impl.h"

namespace tern::pop3 {
namespace {

using proto::Verb;

std::atomic<uint64_t> g_next_session_id{1};

// Replies held back for a pipelined batch are written once this much has gathered.
constexpr std::size_t kBatchBytes = 64 * 1024;

}  // namespace

Session::Session(net::Stream& stream, const net::SessionEnv& env)
    : stream_(stream),
      env_(env),
      reader_(stream, env.config->limits.max_line_length),
      id_(g_next_session_id.fetch_add(1)),
      timeout_(env.config->timeouts.pre_auth) {
  peer_ = stream.remote().address().to_string();
}

// Normally run() has released the lock through the pool; this is the fallback when a bug
// threw out of the session.
Session::~Session() = default;

void Session::reply(std::string_view text) {
  out_.append(text);
  out_ += "\r\n";
}

void Session::fail(std::string_view text) {
  ++errors_;
  out_ += "-ERR ";
  reply(text);
}

asio::awaitable<bool> Session::flush() {
  if (closed_) co_return false;
  if (out_.empty()) co_return true;
  auto ec = co_await stream_.write(out_);
  out_.clear();
  if (out_.capacity() > 1 << 20) out_.shrink_to_fit();  // after a large batch
  if (ec) {
    spdlog::debug("pop3[{}] {}: write failed: {}", id_, peer_, ec.message());
    closed_ = true;
    co_return false;
  }
  co_return true;
}

asio::awaitable<bool> Session::end_of_reply() {
  // RFC 2449 6.6: a client that pipelines gets its answers in as few writes as possible.
  if (reader_.has_line() && out_.size() < kBatchBytes && !closed_) co_return true;
  co_return co_await flush();
}

asio::awaitable<void> Session::wait(std::chrono::milliseconds delay) {
  if (delay.count() <= 0) co_return;
  asio::steady_timer timer(stream_.get_executor(), delay);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> Session::run() {
  stream_.set_timeout(timeout_);
  spdlog::info("pop3[{}] {}: connected{}", id_, peer_, stream_.is_tls() ? " (tls)" : "");
  reply("+OK Tern POP3 ready");
  if (co_await flush()) {
    std::string input;
    while (!closed_) {
      auto status = co_await reader_.read_line(input);
      // POP3 has no unsolicited replies: on timeout or shutdown the connection just closes
      // (RFC 1939 3: the autologout timer ends the session without entering UPDATE, so
      // nothing is deleted).
      if (status == Read::kClosed || status == Read::kStopped) {
        spdlog::debug("pop3[{}] {}: connection closed by peer", id_, peer_);
        break;
      }
      if (status == Read::kTimeout) {
        spdlog::info("pop3[{}] {}: timeout", id_, peer_);
        break;
      }
      Flow flow = Flow::kContinue;
      if (status == Read::kTooLong) {
        fail("Line too long");
      } else if (auto cmd = proto::parse_command(input); !cmd) {
        fail(cmd.error().message);
      } else {
        flow = co_await handle(*cmd);
      }
      if (flow == Flow::kClose) break;
      if (too_many_errors()) {
        spdlog::info("pop3[{}] {}: too many errors", id_, peer_);
        break;
      }
      if (stopping()) break;
      if (!co_await end_of_reply()) break;
    }
    co_await flush();
  }
  if (lock_) {
    spdlog::info("pop3[{}] {}: session ended without QUIT; nothing deleted", id_, peer_);
    co_await release_maildrop();
  }
  spdlog::info("pop3[{}] {}: disconnected", id_, peer_);
}

asio::awaitable<Flow> Session::handle(const proto::Command& cmd) {
  switch (cmd.verb) {
    case Verb::kCapa:
      do_capa();
      co_return Flow::kContinue;
    case Verb::kQuit:
      if (transaction_) co_return co_await update();
      reply("+OK Tern POP3 server signing off");
      co_return Flow::kClose;
    case Verb::kNoop:
    case Verb::kStat:
    case Verb::kList:
    case Verb::kRetr:
    case Verb::kDele:
    case Verb::kRset:
    case Verb::kTop:
    case Verb::kUidl:
      if (!transaction_) {
        fail("Not logged in");
        co_return Flow::kContinue;
      }
      co_return co_await transaction(cmd);
    case Verb::kUser:
    case Verb::kPass:
    case Verb::kApop:
    case Verb::kAuth:
    case Verb::kStls:
      break;
  }
  if (transaction_) {
    fail("Already logged in");
    co_return Flow::kContinue;
  }
  co_return co_await authorization(cmd);
}

asio::awaitable<Flow> Session::authorization(const proto::Command& cmd) {
  switch (cmd.verb) {
    case Verb::kStls:
      co_return co_await do_stls();
    case Verb::kAuth:
      co_return co_await do_auth(cmd);
    case Verb::kApop:
      fail("APOP not supported");
      co_return Flow::kContinue;
    case Verb::kUser:
      if (!login_allowed()) {
        fail("[AUTH] Plaintext authentication not allowed; use STLS");
        co_return Flow::kContinue;
      }
      if (cmd.arg.size() > limits::kMaxAddressLength) {
        fail("[AUTH] User name too long");
        co_return Flow::kContinue;
      }
      pending_user_ = cmd.arg;
      reply("+OK Send PASS");
      co_return Flow::kContinue;
    case Verb::kPass: {
      if (pending_user_.empty()) {
        fail("Send USER first");
        co_return Flow::kContinue;
      }
      // RFC 1939 7: after PASS (either outcome) a new USER is needed.
      std::string user = std::move(pending_user_);
      pending_user_.clear();
      if (!login_allowed()) {
        fail("[AUTH] Plaintext authentication not allowed; use STLS");
        co_return Flow::kContinue;
      }
      if (cmd.arg.size() > limits::kMaxPasswordLength) {
        fail("[AUTH] Authentication failed");
        co_return Flow::kContinue;
      }
      co_return co_await finish_login(user, cmd.arg);
    }
    default:
      break;
  }
  co_return Flow::kContinue;
}

void Session::do_capa() {
  // RFC 2449 5: the list may differ between states; USER/SASL/STLS only where usable.
  std::string text = "+OK Capability list follows\r\nTOP\r\nUIDL\r\n";
  if (!transaction_ && login_allowed()) text += "USER\r\nSASL PLAIN LOGIN\r\n";
  text += "RESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n";
  // RFC 2449 6.7: messages stay until the client deletes them.
  text += "EXPIRE NEVER\r\n";
  if (!transaction_ && !stream_.is_tls() && stream_.tls_available()) text += "STLS\r\n";
  text += "IMPLEMENTATION Tern\r\n.\r\n";
  out_ += text;
}

asio::awaitable<Flow> Session::do_stls() {
  if (stream_.is_tls()) {
    fail("TLS already active");
    co_return Flow::kContinue;
  }
  if (!stream_.tls_available()) {
    reply("-ERR TLS not available");
    co_return Flow::kContinue;
  }
  reply("+OK Begin TLS negotiation");
  if (!co_await flush()) co_return Flow::kClose;
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

asio::awaitable<net::ReadStatus> Session::challenge(std::string_view base64, std::string& answer) {
  std::string line = fmt::format("+ {}\r\n", base64);
  out_ += line;  // after any replies still queued for pipelined commands
  if (!co_await flush()) co_return Read::kClosed;
  auto status = co_await reader_.read_line(answer);
  co_return status;
}

asio::awaitable<auth::SaslOutcome> Session::sasl_exchange(auth::Mechanism mech, std::string initial) {
  // RFC 5034 4: "=" is an empty initial response; the exchange then asks for the credentials.
  auto ask = [this](std::string_view base64, std::string& answer) { return challenge(base64, answer); };
  auto dialog = auth::run_sasl(mech, std::move(initial), ask);  // bound first: GCC 12 coroutines
  co_return co_await std::move(dialog);
}

asio::awaitable<Flow> Session::do_auth(const proto::Command& cmd) {
  using SaslResult = auth::SaslOutcome;
  if (!login_allowed()) {
    fail("[AUTH] Plaintext authentication not allowed; use STLS");
    co_return Flow::kContinue;
  }
  if (cmd.arg.empty()) {
    // Pre-RFC 5034 clients send a bare AUTH to list the mechanisms.
    out_ += "+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n";
    co_return Flow::kContinue;
  }
  auto mech = auth::parse_mechanism(cmd.arg);
  if (!mech) {
    fail("Unsupported authentication mechanism");
    co_return Flow::kContinue;
  }
  pending_user_.clear();
  // Each challenge flushes what is queued before it, so pipelined replies keep their order.
  std::string initial = cmd.arg2;
  SaslResult sasl = co_await sasl_exchange(*mech, initial);
  switch (sasl.kind) {
    case SaslResult::Kind::kOk:
      break;
    case SaslResult::Kind::kCancelled:
      fail("Authentication cancelled");
      co_return Flow::kContinue;
    case SaslResult::Kind::kMalformed:
      fail("Invalid SASL response");
      co_return Flow::kContinue;
    case SaslResult::Kind::kTooLong:
      fail("Line too long");
      co_return Flow::kContinue;
    case SaslResult::Kind::kTimeout:
      spdlog::info("pop3[{}] {}: timeout", id_, peer_);
      co_return Flow::kClose;
    case SaslResult::Kind::kClosed:
      co_return Flow::kClose;
    case SaslResult::Kind::kDenied:
      spdlog::info("pop3[{}] {}: authentication refused (authorization identity)", id_, peer_);
      fail("[AUTH] Authentication failed");
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
    case auth::AuthOutcome::Kind::kOk: {
      const std::string who = outcome.identity ? outcome.identity->address : user;
      spdlog::info("pop3[{}] {}: authenticated as {}{}", id_, peer_, who,
                   outcome.identity && outcome.identity->app_password_id ? " (app password)" : "");
      if (!outcome.identity) {  // the authenticator always names the account; never here
        reply("-ERR [SYS/TEMP] Internal error");
        break;
      }
      if (!co_await open_maildrop(outcome.identity->account_id)) break;
      user_ = who;
      transaction_ = true;
      // RFC 1939 3: the autologout timer is at least 10 minutes once logged in.
      timeout_ = env_.config->timeouts.pop3;
      stream_.set_timeout(timeout_);
      reply(fmt::format("+OK Logged in, {} messages ({} octets)", drop_.live_count(), drop_.live_size()));
      break;
    }
    case auth::AuthOutcome::Kind::kBadCredentials:
      spdlog::info("pop3[{}] {}: authentication failed for {}", id_, peer_, user);
      co_await wait(outcome.delay);
      fail("[AUTH] Authentication failed");
      break;
    case auth::AuthOutcome::Kind::kThrottled:
      spdlog::info("pop3[{}] {}: authentication throttled for {}", id_, peer_, user);
      co_await wait(outcome.delay);
      fail("[SYS/TEMP] Too many failed logins, try again later");
      break;
    case auth::AuthOutcome::Kind::kTemporaryFailure:
      spdlog::warn("pop3[{}] {}: authentication temporarily failed for {}", id_, peer_, user);
      co_await wait(outcome.delay);
      reply("-ERR [SYS/TEMP] Temporary authentication failure, try again later");
      break;
  }
  co_return closed_ ? Flow::kClose : Flow::kContinue;
}

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
