// imap/session.cc: the IMAP server session (RFC 3501 / RFC 9051): greeting, CAPABILITY,
// NOOP, LOGOUT, STARTTLS, LOGIN, AUTHENTICATE PLAIN/LOGIN with SASL-IR (RFC 4959), and the
// authenticated and selected states: mailbox commands, FETCH / STORE / SEARCH / EXPUNGE /
// APPEND / COPY / MOVE over the store, and the selected mailbox kept in sync through the
// ChangeFeed (MailboxView), at once during IDLE. This file: the connection, the command loop
// and login; imap/session_mailbox.cc and imap/session_selected.cc hold the other commands.
#include "imap/session_impl.h"

namespace tern::imap {
namespace detail {

namespace {
std::atomic<uint64_t> g_next_session_id{1};
}  // namespace

uint64_t next_session_id() { return g_next_session_id.fetch_add(1); }

RecentTracker& recent_tracker() {
  static RecentTracker tracker;
  return tracker;
}

std::string Session::capabilities() const {
  std::string caps = "IMAP4rev1";
  if (authenticated_) {
    return caps + fmt::format(
                      " LITERAL+ IDLE NAMESPACE ID ENABLE UNSELECT MOVE UIDPLUS MULTIAPPEND BINARY CHILDREN"
                      " SPECIAL-USE LIST-EXTENDED CONDSTORE ESEARCH STATUS=SIZE APPENDLIMIT={}",
                      env_.config->limits.max_message_size);
  }
  // RFC 7888: non-synchronizing literals "{n+}", in every state.
  caps += " LITERAL+";
  if (!stream_.is_tls() && stream_.tls_available()) caps += " STARTTLS";
  // RFC 9051 6.2.3 / RFC 3501 7.2.1: LOGINDISABLED when plaintext login is refused.
  caps += login_allowed() ? " AUTH=PLAIN AUTH=LOGIN SASL-IR" : " LOGINDISABLED";
  return caps;
}

asio::awaitable<bool> Session::send(std::string_view text) {
  if (closed_) co_return false;
  auto ec = co_await stream_.write(text);
  if (ec) {
    spdlog::debug("imap[{}] {}: write failed: {}", id_, peer_, ec.message());
    closed_ = true;
    co_return false;
  }
  co_return true;
}

asio::awaitable<bool> Session::line(std::string_view text) {
  std::string out = fmt::format("{}\r\n", text);
  co_return co_await send(out);
}

asio::awaitable<bool> Session::tagged(const std::string& tag, std::string_view text) {
  std::string out = fmt::format("{} {}\r\n", tag, text);
  co_return co_await send(out);
}

asio::awaitable<Read> Session::read_line(std::string& out) {
  auto status = co_await reader_.read_line(out);
  co_return status;
}

asio::awaitable<Read> Session::read_literal(std::size_t size, std::string& out) {
  auto status = co_await reader_.read_exact(size, out);
  co_return status;
}

asio::awaitable<void> Session::wait(std::chrono::milliseconds delay) {
  if (delay.count() <= 0) co_return;
  asio::steady_timer timer(stream_.get_executor(), delay);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> Session::run() {
  stream_.set_timeout(timeout_);
  spdlog::info("imap[{}] {}: connected{}", id_, peer_, stream_.is_tls() ? " (tls)" : "");
  std::string greeting = fmt::format("* OK [CAPABILITY {}] Tern ready", capabilities());
  if (!co_await line(greeting)) co_return;

  std::string input;
  while (!closed_) {
    auto status = co_await read_line(input);
    if (status == Read::kClosed) {
      spdlog::debug("imap[{}] {}: connection closed by peer", id_, peer_);
      break;
    }
    if (status == Read::kStopped) {
      co_await line("* BYE Server shutting down");
      break;
    }
    if (status == Read::kTimeout) {
      spdlog::info("imap[{}] {}: timeout", id_, peer_);
      co_await line("* BYE Autologout; idle for too long");
      break;
    }
    if (status == Read::kTooLong) {
      ++errors_;
      receiver_.reset();
      co_await line("* BAD Command line too long");
    } else {
      proto::Step step = receiver_.feed_line(input);
      if (auto* need = std::get_if<proto::NeedLiteral>(&step)) {
        // RFC 9051 7.5: a synchronizing literal waits for our continuation request.
        if (need->synchronizing && !co_await line("+ Ready for literal data")) break;
        std::string literal;
        auto r = co_await read_literal(need->size, literal);
        if (r == Read::kTimeout) {
          co_await line("* BYE Autologout; idle for too long");
          break;
        }
        if (r != Read::kOk) break;
        receiver_.feed_literal(std::move(literal));
        continue;  // the next line continues the command
      }
      if (auto* err = std::get_if<proto::ParseError>(&step)) {
        std::string text;
        if (err->too_big && !err->fatal && authenticated_ && err->command == "APPEND") {
          // RFC 7889 4: a message over APPENDLIMIT is refused before its bytes are read
          // (no "+" was sent); not a protocol error.
          text = fmt::format("{} NO [TOOBIG] Message too large", err->tag);
        } else {
          // RFC 7888 4: a non-synchronizing literal over the limit gets BAD [TOOBIG] and the
          // connection is closed, as its bytes are already on their way.
          ++errors_;
          text = fmt::format("{} BAD {}{}", err->tag.empty() ? "*" : err->tag,
                             err->too_big ? "[TOOBIG] " : "", err->message);
        }
        co_await line(text);
        if (err->fatal) {
          co_await line("* BYE Cannot continue after this error");
          break;
        }
      } else {
        auto flow = co_await handle(std::move(std::get<proto::Request>(step)));
        if (flow == Flow::kClose) break;
      }
    }
    if (too_many_errors()) {
      spdlog::info("imap[{}] {}: too many errors", id_, peer_);
      co_await line("* BYE Too many errors");
      break;
    }
    if (stopping()) {
      co_await line("* BYE Server shutting down");
      break;
    }
  }
  spdlog::info("imap[{}] {}: disconnected", id_, peer_);
}

asio::awaitable<Flow> Session::handle(proto::Request req) {
  const std::string cmd = req.command;
  const std::string tag = req.tag;
  if (cmd == "CAPABILITY" || cmd == "NOOP" || cmd == "LOGOUT") {
    if (!req.args.empty()) {
      ++errors_;
      std::string text = fmt::format("BAD {} takes no arguments", cmd);
      co_await tagged(tag, text);
      co_return Flow::kContinue;
    }
    if (cmd == "CAPABILITY") {
      std::string caps = fmt::format("* CAPABILITY {}", capabilities());
      co_await line(caps);
      co_await tagged(tag, "OK CAPABILITY completed");
    } else if (cmd == "NOOP") {
      if (selected_ && !co_await updates(FlushMode::kAll, false)) co_return Flow::kClose;
      co_await tagged(tag, "OK NOOP completed");
    } else {
      co_await line("* BYE Tern logging out");
      co_await tagged(tag, "OK LOGOUT completed");
      co_return Flow::kClose;
    }
    co_return Flow::kContinue;
  }
  if (cmd == "STARTTLS" || cmd == "LOGIN" || cmd == "AUTHENTICATE") {
    if (authenticated_) {
      ++errors_;
      co_await tagged(tag, "BAD Already authenticated");
      co_return Flow::kContinue;
    }
    if (cmd == "STARTTLS") co_return co_await do_starttls(req);
    if (cmd == "LOGIN") co_return co_await do_login(req);
    co_return co_await do_authenticate(req);
  }
  if (!proto::is_known_command(cmd)) {
    ++errors_;
    co_await tagged(tag, "BAD Unknown command");
    co_return Flow::kContinue;
  }
  if (!authenticated_) {
    ++errors_;
    co_await tagged(tag, "BAD Please log in first");
    co_return Flow::kContinue;
  }
  proto::InterpretOptions options;
  auto parsed = proto::interpret(std::move(req), options);
  if (!parsed) {
    ++errors_;
    std::string text = "BAD " + parsed.error();
    co_await tagged(tag, text);
    co_return Flow::kContinue;
  }
  Reply reply = co_await dispatch(tag, *parsed);
  if (reply.close || closed_) co_return Flow::kClose;
  if (reply.text.rfind("BAD", 0) == 0) ++errors_;
  if (selected_ && !co_await updates(reply.mode, reply.uid)) co_return Flow::kClose;
  if (!co_await tagged(tag, reply.text)) co_return Flow::kClose;
  co_return Flow::kContinue;
}

asio::awaitable<Flow> Session::do_starttls(const proto::Request& req) {
  const std::string& tag = req.tag;
  if (!req.args.empty()) {
    ++errors_;
    co_await tagged(tag, "BAD STARTTLS takes no arguments");
    co_return Flow::kContinue;
  }
  if (stream_.is_tls()) {
    ++errors_;
    co_await tagged(tag, "BAD TLS already active");
    co_return Flow::kContinue;
  }
  if (!stream_.tls_available()) {
    co_await tagged(tag, "NO [UNAVAILABLE] TLS not available");
    co_return Flow::kContinue;
  }
  if (!co_await tagged(tag, "OK Begin TLS negotiation now")) co_return Flow::kClose;
  // RFC 9051 6.2.1: anything pipelined after STARTTLS in plaintext is discarded.
  reader_.discard_buffered();
  receiver_.reset();
  auto ec = co_await stream_.start_tls();
  if (ec) {
    spdlog::info("imap[{}] {}: TLS handshake failed: {}", id_, peer_, ec.message());
    closed_ = true;
    co_return Flow::kClose;
  }
  spdlog::info("imap[{}] {}: TLS started ({}, {})", id_, peer_, stream_.tls_version(),
               stream_.tls_cipher());
  co_return Flow::kContinue;
}

asio::awaitable<Flow> Session::do_login(const proto::Request& req) {
  const std::string& tag = req.tag;
  if (req.args.size() != 2 || !req.args[0].is_string() || !req.args[1].is_string()) {
    ++errors_;
    co_await tagged(tag, "BAD Syntax: LOGIN user password");
    co_return Flow::kContinue;
  }
  if (!login_allowed()) {
    ++errors_;
    co_await tagged(tag, "NO [PRIVACYREQUIRED] Plaintext login not allowed; use STARTTLS");
    co_return Flow::kContinue;
  }
  if (req.args[0].value.empty() || req.args[1].value.empty() ||
      req.args[0].value.size() > limits::kMaxAddressLength ||
      req.args[1].value.size() > limits::kMaxPasswordLength) {
    ++errors_;
    co_await tagged(tag, "NO [AUTHENTICATIONFAILED] Authentication failed");
    co_return Flow::kContinue;
  }
  co_return co_await finish_login(tag, req.args[0].value, req.args[1].value);
}

asio::awaitable<Read> Session::challenge(std::string_view base64, std::string& answer) {
  std::string out = fmt::format("+ {}\r\n", base64);
  if (!co_await send(out)) co_return Read::kClosed;
  co_return co_await read_line(answer);
}

asio::awaitable<SaslResult> Session::sasl_exchange(auth::Mechanism mech, std::string initial) {
  // RFC 4959: "=" is an empty initial response; the exchange then asks for the credentials.
  auto ask = [this](std::string_view base64, std::string& answer) { return challenge(base64, answer); };
  auto dialog = auth::run_sasl(mech, std::move(initial), ask);  // bound first: GCC 12 coroutines
  co_return co_await std::move(dialog);
}

asio::awaitable<Flow> Session::do_authenticate(const proto::Request& req) {
  const std::string& tag = req.tag;
  if (req.args.empty() || req.args.size() > 2 || req.args[0].kind != proto::Arg::Kind::kAtom ||
      (req.args.size() == 2 && req.args[1].kind != proto::Arg::Kind::kAtom)) {
    ++errors_;
    co_await tagged(tag, "BAD Syntax: AUTHENTICATE mechanism [initial-response]");
    co_return Flow::kContinue;
  }
  if (!login_allowed()) {
    ++errors_;
    co_await tagged(tag, "NO [PRIVACYREQUIRED] Plaintext authentication not allowed; use STARTTLS");
    co_return Flow::kContinue;
  }
  auto mech = auth::parse_mechanism(req.args[0].value);
  if (!mech) {
    ++errors_;
    co_await tagged(tag, "NO [CANNOT] Unsupported authentication mechanism");
    co_return Flow::kContinue;
  }
  std::string initial = req.args.size() == 2 ? req.args[1].value : std::string();
  SaslResult sasl = co_await sasl_exchange(*mech, initial);
  switch (sasl.kind) {
    case SaslResult::Kind::kOk:
      break;
    case SaslResult::Kind::kCancelled:
      // RFC 9051 6.2.2: a cancelled exchange is answered BAD.
      ++errors_;
      co_await tagged(tag, "BAD Authentication cancelled");
      co_return Flow::kContinue;
    case SaslResult::Kind::kMalformed:
      ++errors_;
      co_await tagged(tag, "BAD Invalid SASL response");
      co_return Flow::kContinue;
    case SaslResult::Kind::kTooLong:
      ++errors_;
      co_await tagged(tag, "BAD SASL response too long");
      co_return Flow::kContinue;
    case SaslResult::Kind::kTimeout:
      co_await line("* BYE Autologout; idle for too long");
      co_return Flow::kClose;
    case SaslResult::Kind::kClosed:
      co_return Flow::kClose;
    case SaslResult::Kind::kDenied:
      ++errors_;
      spdlog::info("imap[{}] {}: authentication refused (authorization identity)", id_, peer_);
      co_await tagged(tag, "NO [AUTHENTICATIONFAILED] Authentication failed");
      co_return Flow::kContinue;
  }
  co_return co_await finish_login(tag, sasl.creds.authcid, sasl.creds.password);
}

asio::awaitable<Flow> Session::finish_login(const std::string& tag, const std::string& user,
                                            const std::string& pass) {
  const std::string& ip = peer_;
  auth::Authenticator* authenticator = env_.auth;
  auth::AuthOutcome outcome =
      co_await env_.pool->run([&] { return authenticator->authenticate(user, pass, ip); });
  switch (outcome.kind) {
    case auth::AuthOutcome::Kind::kOk: {
      authenticated_ = true;
      user_ = outcome.identity ? outcome.identity->address : user;
      account_id_ = outcome.identity ? outcome.identity->account_id : 0;
      spdlog::info("imap[{}] {}: authenticated as {}{}", id_, peer_, user_,
                   outcome.identity && outcome.identity->app_password_id ? " (app password)" : "");
      // RFC 9051 5.4: the autologout timer after login is at least 30 minutes.
      timeout_ = env_.config->timeouts.post_auth;
      stream_.set_timeout(timeout_);
      receiver_.set_limits(limits_for(true));
      std::string text = fmt::format("OK [CAPABILITY {}] Logged in", capabilities());
      co_await tagged(tag, text);
      break;
    }
    case auth::AuthOutcome::Kind::kBadCredentials:
      ++errors_;
      spdlog::info("imap[{}] {}: authentication failed for {}", id_, peer_, user);
      co_await wait(outcome.delay);
      co_await tagged(tag, "NO [AUTHENTICATIONFAILED] Authentication failed");
      break;
    case auth::AuthOutcome::Kind::kThrottled:
      ++errors_;
      spdlog::info("imap[{}] {}: authentication throttled for {}", id_, peer_, user);
      co_await wait(outcome.delay);
      co_await tagged(tag, "NO [UNAVAILABLE] Too many failed logins, try again later");
      break;
    case auth::AuthOutcome::Kind::kTemporaryFailure:
      spdlog::warn("imap[{}] {}: authentication temporarily failed for {}", id_, peer_, user);
      co_await wait(outcome.delay);
      co_await tagged(tag, "NO [UNAVAILABLE] Temporary authentication failure, try again later");
      break;
  }
  co_return closed_ ? Flow::kClose : Flow::kContinue;
}

}  // namespace detail

using detail::Session;
namespace asio = boost::asio;

asio::awaitable<void> run_session(std::unique_ptr<net::Stream> stream, net::SessionEnv env) {
  bool clean = true;
  try {
    Session session(*stream, env);
    co_await session.run();
  } catch (const boost::system::system_error& e) {
    spdlog::debug("imap: session ended by I/O error: {}", e.what());
    clean = false;
  } catch (const std::exception& e) {
    spdlog::error("imap: bug: uncaught exception in session: {}", e.what());
    clean = false;
  }
  if (clean) {
    try {
      co_await stream->shutdown();
    } catch (const std::exception& e) {
      spdlog::debug("imap: shutdown failed: {}", e.what());
      stream->close();
    }
  } else {
    stream->close();
  }
}

}  // namespace tern::imap

