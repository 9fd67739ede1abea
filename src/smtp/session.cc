// smtp/session.cc: the SMTP server session (RFC 5321), with STARTTLS (RFC 3207), AUTH
// (RFC 4954) and enhanced status codes (RFC 2034, 3463). T1 scope: greeting, EHLO/HELO,
// STARTTLS, AUTH PLAIN/LOGIN, NOOP, RSET, VRFY, HELP, QUIT; the mail transaction
// (MAIL/RCPT/DATA/BDAT) answers 502 until it is built.
#include "smtp/session.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "auth/authenticator.h"
#include "auth/sasl.h"
#include "auth/sasl_dialog.h"
#include "net/blocking_pool.h"
#include "net/line_reader.h"
#include "smtp/proto/parser.h"

namespace tern::smtp {
namespace {

namespace asio = boost::asio;
using proto::Verb;

std::atomic<uint64_t> g_next_session_id{1};

enum class Flow { kContinue, kClose };
using Read = net::ReadStatus;

// Credentials gathered by an AUTH exchange, or why there are none.
using SaslResult = auth::SaslOutcome;

class Session {
 public:
  Session(net::Stream& stream, const net::SessionEnv& env)
      : stream_(stream),
        env_(env),
        reader_(stream, env.config->limits.max_line_length),
        id_(g_next_session_id.fetch_add(1)),
        timeout_(env.config->timeouts.smtp) {
    peer_ = stream.remote().address().to_string();
  }

  asio::awaitable<void> run();

 private:
  bool submission() const {
    return env_.listener != nullptr && env_.listener->protocol == config::Protocol::kSubmission;
  }
  bool starttls_offered() const { return !stream_.is_tls() && stream_.tls_available(); }
  bool auth_offered() const {
    return submission() && (stream_.is_tls() || env_.config->auth.allow_plaintext);
  }
  const std::string& hostname() const { return env_.config->hostname; }
  bool stopping() const { return env_.stopping != nullptr && env_.stopping->load(); }
  bool too_many_errors() const {
    return env_.config->limits.max_errors > 0 && errors_ >= env_.config->limits.max_errors;
  }

  // Sends `text` (complete reply lines with CRLF). False when the peer is gone.
  asio::awaitable<bool> send(std::string_view text);
  // Sends a single-line reply "code text".
  asio::awaitable<bool> reply(std::string_view code_and_text);
  asio::awaitable<Read> read_line(std::string& line);

  asio::awaitable<Flow> handle(const proto::Command& cmd);
  asio::awaitable<Flow> do_ehlo(const proto::Command& cmd);
  asio::awaitable<Flow> do_starttls();
  asio::awaitable<Flow> do_auth(const proto::Command& cmd);
  asio::awaitable<SaslResult> sasl_exchange(auth::Mechanism mech, std::string initial);
  // Sends a "334 challenge" and reads the client's answer.
  asio::awaitable<Read> challenge(std::string_view base64, std::string& answer);
  asio::awaitable<void> wait(std::chrono::milliseconds delay);

  net::Stream& stream_;
  net::SessionEnv env_;
  net::LineReader reader_;
  uint64_t id_;
  std::chrono::seconds timeout_;
  std::string peer_;
  bool ehlo_ = false;         // EHLO (not HELO) seen since the greeting or the TLS upgrade
  bool authenticated_ = false;
  std::string user_;
  uint32_t errors_ = 0;
  bool closed_ = false;       // the peer is gone; stop writing
};

asio::awaitable<bool> Session::send(std::string_view text) {
  if (closed_) co_return false;
  auto ec = co_await stream_.write(text);
  if (ec) {
    spdlog::debug("smtp[{}] {}: write failed: {}", id_, peer_, ec.message());
    closed_ = true;
    co_return false;
  }
  co_return true;
}

asio::awaitable<bool> Session::reply(std::string_view code_and_text) {
  std::string line = fmt::format("{}\r\n", code_and_text);
  co_return co_await send(line);
}

asio::awaitable<Read> Session::read_line(std::string& line) {
  auto status = co_await reader_.read_line(line);
  co_return status;
}

asio::awaitable<void> Session::wait(std::chrono::milliseconds delay) {
  if (delay.count() <= 0) co_return;
  asio::steady_timer timer(stream_.get_executor(), delay);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> Session::run() {
  stream_.set_timeout(timeout_);
  spdlog::info("smtp[{}] {}: connected ({}{})", id_, peer_,
               env_.listener ? config::to_string(env_.listener->protocol) : "smtp",
               stream_.is_tls() ? ", tls" : "");
  std::string greeting = fmt::format("220 {} ESMTP Tern", hostname());
  if (!co_await reply(greeting)) co_return;

  std::string line;
  while (!closed_) {
    auto status = co_await read_line(line);
    if (status == Read::kClosed) {
      spdlog::debug("smtp[{}] {}: connection closed by peer", id_, peer_);
      break;
    }
    if (status == Read::kStopped) {
      std::string bye = fmt::format("421 4.3.2 {} Service shutting down", hostname());
      co_await reply(bye);
      break;
    }
    if (status == Read::kTimeout) {
      spdlog::info("smtp[{}] {}: timeout", id_, peer_);
      std::string bye = fmt::format("421 4.4.2 {} Error: timeout exceeded", hostname());
      co_await reply(bye);
      break;
    }
    if (status == Read::kTooLong) {
      ++errors_;
      co_await reply("500 5.5.6 Line too long");
    } else if (auto cmd = proto::parse_command(line); !cmd) {
      ++errors_;
      std::string text = cmd.error().kind == proto::ParseError::Kind::kUnrecognized
                             ? fmt::format("500 5.5.2 {}", cmd.error().message)
                             : fmt::format("501 5.5.4 {}", cmd.error().message);
      co_await reply(text);
    } else {
      auto flow = co_await handle(*cmd);
      if (flow == Flow::kClose) break;
    }
    if (too_many_errors()) {
      spdlog::info("smtp[{}] {}: too many errors", id_, peer_);
      std::string bye = fmt::format("421 4.7.0 {} Too many errors, closing connection", hostname());
      co_await reply(bye);
      break;
    }
    if (stopping()) {
      std::string bye = fmt::format("421 4.3.2 {} Service shutting down", hostname());
      co_await reply(bye);
      break;
    }
  }
  spdlog::info("smtp[{}] {}: disconnected", id_, peer_);
}

asio::awaitable<Flow> Session::handle(const proto::Command& cmd) {
  switch (cmd.verb) {
    case Verb::kEhlo:
    case Verb::kHelo:
      co_return co_await do_ehlo(cmd);
    case Verb::kStartTls:
      co_return co_await do_starttls();
    case Verb::kAuth:
      co_return co_await do_auth(cmd);
    case Verb::kNoop:
      co_await reply("250 2.0.0 OK");
      co_return Flow::kContinue;
    case Verb::kRset:
      co_await reply("250 2.0.0 OK");
      co_return Flow::kContinue;
    case Verb::kVrfy:
      // RFC 5321 3.5.3: 252 when we will not verify but would accept the address.
      co_await reply("252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery");
      co_return Flow::kContinue;
    case Verb::kHelp:
      co_await reply("214 2.0.0 Commands: EHLO HELO STARTTLS AUTH NOOP RSET VRFY HELP QUIT");
      co_return Flow::kContinue;
    case Verb::kQuit: {
      std::string bye = fmt::format("221 2.0.0 {} Bye", hostname());
      co_await reply(bye);
      co_return Flow::kClose;
    }
    case Verb::kMail:
    case Verb::kRcpt:
    case Verb::kData:
    case Verb::kBdat:
    case Verb::kExpn:
      co_await reply("502 5.5.1 Command not implemented");
      co_return Flow::kContinue;
  }
  co_return Flow::kContinue;
}

asio::awaitable<Flow> Session::do_ehlo(const proto::Command& cmd) {
  // RFC 5321 4.1.4: EHLO/HELO resets any transaction; authentication stays.
  if (cmd.verb == Verb::kHelo) {
    std::string text = fmt::format("250 {}", hostname());
    co_await reply(text);
    co_return Flow::kContinue;
  }
  ehlo_ = true;
  std::vector<std::string> lines;
  lines.push_back(hostname());
  lines.emplace_back("ENHANCEDSTATUSCODES");
  if (starttls_offered()) lines.emplace_back("STARTTLS");
  if (auth_offered()) lines.emplace_back("AUTH PLAIN LOGIN");
  std::string text;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    text += fmt::format("250{}{}\r\n", i + 1 == lines.size() ? ' ' : '-', lines[i]);
  }
  co_await send(text);
  co_return Flow::kContinue;
}

asio::awaitable<Flow> Session::do_starttls() {
  if (stream_.is_tls()) {
    ++errors_;
    co_await reply("503 5.5.1 TLS already active");
    co_return Flow::kContinue;
  }
  if (!stream_.tls_available()) {
    co_await reply("454 4.7.0 TLS not available");
    co_return Flow::kContinue;
  }
  if (!co_await reply("220 2.0.0 Ready to start TLS")) co_return Flow::kClose;
  // RFC 3207 4.2 / 6: anything the client pipelined before the handshake is discarded.
  reader_.discard_buffered();
  auto ec = co_await stream_.start_tls();
  if (ec) {
    spdlog::info("smtp[{}] {}: TLS handshake failed: {}", id_, peer_, ec.message());
    closed_ = true;
    co_return Flow::kClose;
  }
  spdlog::info("smtp[{}] {}: TLS started ({}, {})", id_, peer_, stream_.tls_version(),
               stream_.tls_cipher());
  // RFC 3207 4.2: forget everything learned from the client; it must EHLO again.
  ehlo_ = false;
  authenticated_ = false;
  user_.clear();
  co_return Flow::kContinue;
}

asio::awaitable<Read> Session::challenge(std::string_view base64, std::string& answer) {
  std::string line = fmt::format("334 {}\r\n", base64);
  if (!co_await send(line)) co_return Read::kClosed;
  co_return co_await read_line(answer);
}

asio::awaitable<SaslResult> Session::sasl_exchange(auth::Mechanism mech, std::string initial) {
  // RFC 4954 4: "=" is an empty initial response; the exchange then asks for the credentials.
  auto ask = [this](std::string_view base64, std::string& answer) { return challenge(base64, answer); };
  auto dialog = auth::run_sasl(mech, std::move(initial), ask);  // bound first: GCC 12 coroutines
  co_return co_await std::move(dialog);
}

asio::awaitable<Flow> Session::do_auth(const proto::Command& cmd) {
  if (!submission()) {
    ++errors_;
    co_await reply("503 5.5.1 Authentication not enabled on this port");
    co_return Flow::kContinue;
  }
  if (!ehlo_) {
    ++errors_;
    co_await reply("503 5.5.1 Send EHLO first");
    co_return Flow::kContinue;
  }
  if (authenticated_) {
    ++errors_;
    co_await reply("503 5.5.1 Already authenticated");
    co_return Flow::kContinue;
  }
  if (!stream_.is_tls() && !env_.config->auth.allow_plaintext) {
    ++errors_;
    co_await reply("538 5.7.11 Encryption required for requested authentication mechanism");
    co_return Flow::kContinue;
  }
  auto mech = auth::parse_mechanism(cmd.arg);
  if (!mech) {
    ++errors_;
    co_await reply("504 5.5.4 Unrecognized authentication type");
    co_return Flow::kContinue;
  }

  std::string initial = cmd.arg2;
  SaslResult sasl = co_await sasl_exchange(*mech, initial);
  switch (sasl.kind) {
    case SaslResult::Kind::kOk:
      break;
    case SaslResult::Kind::kCancelled:
      ++errors_;
      co_await reply("501 5.0.0 Authentication cancelled");
      co_return Flow::kContinue;
    case SaslResult::Kind::kMalformed:
      ++errors_;
      co_await reply("501 5.5.2 Cannot decode response");
      co_return Flow::kContinue;
    case SaslResult::Kind::kTooLong:
      ++errors_;
      co_await reply("500 5.5.6 Line too long");
      co_return Flow::kContinue;
    case SaslResult::Kind::kTimeout: {
      std::string bye = fmt::format("421 4.4.2 {} Error: timeout exceeded", hostname());
      co_await reply(bye);
      co_return Flow::kClose;
    }
    case SaslResult::Kind::kClosed:
      co_return Flow::kClose;
    case SaslResult::Kind::kDenied: {
      // Asking to act as someone else: refused like bad credentials, after the same care.
      ++errors_;
      spdlog::info("smtp[{}] {}: authentication refused (authorization identity)", id_, peer_);
      co_await reply("535 5.7.8 Authentication credentials invalid");
      co_return Flow::kContinue;
    }
  }

  const std::string& user = sasl.creds.authcid;
  const std::string& pass = sasl.creds.password;
  const std::string& ip = peer_;
  auth::Authenticator* authenticator = env_.auth;
  auth::AuthOutcome outcome =
      co_await env_.pool->run([&] { return authenticator->authenticate(user, pass, ip); });
  switch (outcome.kind) {
    case auth::AuthOutcome::Kind::kOk:
      authenticated_ = true;
      user_ = outcome.identity ? outcome.identity->address : user;
      spdlog::info("smtp[{}] {}: authenticated as {}{}", id_, peer_, user_,
                   outcome.identity && outcome.identity->app_password_id ? " (app password)" : "");
      co_await reply("235 2.7.0 Authentication successful");
      break;
    case auth::AuthOutcome::Kind::kBadCredentials:
      ++errors_;
      spdlog::info("smtp[{}] {}: authentication failed for {}", id_, peer_, user);
      co_await wait(outcome.delay);
      co_await reply("535 5.7.8 Authentication credentials invalid");
      break;
    case auth::AuthOutcome::Kind::kThrottled:
      ++errors_;
      spdlog::info("smtp[{}] {}: authentication throttled for {}", id_, peer_, user);
      co_await wait(outcome.delay);
      co_await reply("454 4.7.0 Too many failed authentications, try again later");
      break;
    case auth::AuthOutcome::Kind::kTemporaryFailure:
      spdlog::warn("smtp[{}] {}: authentication temporarily failed for {}", id_, peer_, user);
      co_await wait(outcome.delay);
      co_await reply("454 4.7.0 Temporary authentication failure");
      break;
  }
  co_return Flow::kContinue;
}

}  // namespace

asio::awaitable<void> run_session(std::unique_ptr<net::Stream> stream, net::SessionEnv env) {
  bool clean = true;
  try {
    Session session(*stream, env);
    co_await session.run();
  } catch (const boost::system::system_error& e) {
    spdlog::debug("smtp: session ended by I/O error: {}", e.what());
    clean = false;
  } catch (const std::exception& e) {
    spdlog::error("smtp: bug: uncaught exception in session: {}", e.what());
    clean = false;
  }
  if (clean) {
    try {
      co_await stream->shutdown();
    } catch (const std::exception& e) {
      spdlog::debug("smtp: shutdown failed: {}", e.what());
      stream->close();
    }
  } else {
    stream->close();
  }
}

}  // namespace tern::smtp
