// smtp/session.cc: the SMTP server session (RFC 5321) for MX and submission (RFC 6409),
// with PIPELINING (RFC 2920), SIZE (1870), 8BITMIME (6152), SMTPUTF8 (6531), enhanced
// status codes (2034, 3463), STARTTLS (3207), AUTH (4954), CHUNKING (3030) and DSN
// parameters (3461) kept with queued mail.
//
// A message is acknowledged with 250 only after MailStore::deliver returned, i.e. once it
// and every local delivery are durable (group-committed with concurrent sessions).
// Replies are held back while the client has pipelined further whole commands and sent
// together when the session would otherwise wait for input.
#include "smtp/session.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <exception>
#include <optional>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "auth/authenticator.h"
#include "auth/sasl.h"
#include "auth/sasl_dialog.h"
#include "base/strings.h"
#include "mime/header.h"
#include "net/blocking_pool.h"
#include "net/line_reader.h"
#include "smtp/proto/data_reader.h"
#include "smtp/proto/params.h"
#include "smtp/proto/parser.h"
#include "smtp/recipients.h"
#include "store/mail_store.h"

namespace tern::smtp {
namespace {

namespace asio = boost::asio;
using proto::Verb;

std::atomic<uint64_t> g_next_session_id{1};

enum class Flow { kContinue, kClose };
using Read = net::ReadStatus;

// Credentials gathered by an AUTH exchange, or why there are none.
using SaslResult = auth::SaslOutcome;

// Bytes taken from the socket at a time while reading message content.
constexpr std::size_t kDataChunk = 64 * 1024;
// Room MAIL and RCPT lines get beyond smtp.max_command_line for the parameters of the
// extensions we offer (RFC 1870 SIZE 26, RFC 3461 RET/ENVID 100 and NOTIFY/ORCPT 500,
// RFC 4954 AUTH= 500, BODY and SMTPUTF8 a few).
constexpr std::size_t kMailParamRoom = 650;
constexpr std::size_t kRcptParamRoom = 500;

// RFC 5322 date-time in UTC: "Mon, 23 Nov 2026 13:09:24 +0000".
std::string rfc5322_date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return fmt::format("{}, {:02} {} {} {:02}:{:02}:{:02} +0000", kDays[tm.tm_wday], tm.tm_mday,
                     kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

// What the client called itself, made safe for a trace header: printable ASCII without
// spaces or parentheses, at most 255 octets.
std::string trace_safe(std::string_view name) {
  std::string out;
  for (char ch : name.substr(0, 255)) {
    auto c = static_cast<unsigned char>(ch);
    out += (c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != ';') ? ch : '?';
  }
  return out.empty() ? std::string("unknown") : out;
}

std::string format_reply(const proto::Reply& r) { return r.line(); }

// MailStore::deliver_async as an awaitable: the store's writer thread completes it and the
// coroutine resumes on its own executor (no thread of the blocking pool waits meanwhile).
asio::awaitable<Result<store::Delivered>> deliver_async(store::MailStore& store, std::string_view bytes,
                                                        int64_t internal_date,
                                                        std::span<const store::AppendTarget> targets,
                                                        const store::OutboundMessage* outbound) {
  auto ex = co_await asio::this_coro::executor;
  auto init = [&](auto handler) {
    auto h = std::make_shared<decltype(handler)>(std::move(handler));
    store.deliver_async(bytes, internal_date, targets, outbound, [h, ex](Result<store::Delivered> r) {
      asio::post(ex, [h, r = std::move(r)]() mutable { std::move (*h)(std::move(r)); });
    });
  };
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(Result<store::Delivered>)>(
      init, asio::use_awaitable);
}

uint64_t random_u64() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

class Session {
 public:
  Session(net::Stream& stream, const net::SessionEnv& env)
      : stream_(stream),
        env_(env),
        reader_(stream, env.config->limits.max_line_length),
        resolver_(*env.store, env.config->smtp),
        id_(g_next_session_id.fetch_add(1)) {
    peer_ = stream.remote().address().to_string();
  }

  asio::awaitable<void> run();

 private:
  // One mail transaction, from MAIL to the end of DATA or the last BDAT chunk.
  struct Transaction {
    proto::MailFrom mail;
    std::vector<LocalTarget> local;                 // distinct accounts
    std::vector<store::OutboundRecipient> remote;   // distinct addresses
    std::vector<std::string> accepted;              // RCPT addresses as written
    std::optional<proto::ChunkFilter> chunks;       // BDAT content so far
  };

  const config::Smtp& smtp_config() const { return env_.config->smtp; }
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
    return smtp_config().max_errors > 0 && errors_ >= smtp_config().max_errors;
  }
  // Before AUTH on submission the client gets the shorter pre-login timeout.
  std::chrono::seconds command_timeout() const {
    return submission() && !authenticated_ ? env_.config->timeouts.pre_auth
                                           : env_.config->timeouts.smtp;
  }
  proto::DataLimits data_limits() const {
    proto::DataLimits limits;
    limits.max_size = env_.config->limits.max_message_size;
    limits.max_line = smtp_config().max_text_line;
    limits.bare_lf = smtp_config().bare_lf == config::BareLf::kReject ? proto::BareLf::kReject
                                                                      : proto::BareLf::kNormalize;
    return limits;
  }

  // Queues reply text (complete lines with CRLF); it is written at once unless the client
  // has pipelined another whole command. False when the peer is gone.
  asio::awaitable<bool> send(std::string_view text);
  // Queues a single-line reply "code text".
  asio::awaitable<bool> reply(std::string_view code_and_text);
  asio::awaitable<bool> flush();
  asio::awaitable<Read> read_line(std::string& line);
  // A protocol error: counted towards smtp.max_errors, then answered.
  asio::awaitable<Flow> refuse(std::string_view code_and_text);
  asio::awaitable<Flow> timed_out();
  asio::awaitable<Flow> shutting_down();

  asio::awaitable<Flow> handle(const proto::Command& cmd, std::size_t line_size);
  asio::awaitable<Flow> do_ehlo(const proto::Command& cmd);
  asio::awaitable<Flow> do_starttls();
  asio::awaitable<Flow> do_auth(const proto::Command& cmd);
  asio::awaitable<Flow> do_mail(const proto::Command& cmd);
  asio::awaitable<Flow> do_rcpt(const proto::Command& cmd);
  asio::awaitable<Flow> do_data(const proto::Command& cmd);
  asio::awaitable<Flow> do_bdat(const proto::Command& cmd);
  // Stores the transaction's message (content after dot-unstuffing / from the chunks) and
  // answers 250 once it is durable, or 451. Ends the transaction either way.
  asio::awaitable<Flow> deliver(std::string content);
  // The Received: field this server adds (RFC 5321 4.4).
  std::string trace_headers() const;
  asio::awaitable<SaslResult> sasl_exchange(auth::Mechanism mech, std::string initial);
  // Sends a "334 challenge" and reads the client's answer.
  asio::awaitable<Read> challenge(std::string_view base64, std::string& answer);
  asio::awaitable<void> wait(std::chrono::milliseconds delay);

  // A recipient this connection resolved lately: peers that reuse a connection (Postfix's
  // connection cache, list servers) often send many messages to the same addresses.
  struct CachedRecipient {
    std::string key;  // the address as written, lower-cased, and whether relaying was allowed
    Resolution resolution;
    std::chrono::steady_clock::time_point when;
  };
  const Resolution* cached_recipient(const std::string& key) const;
  void cache_recipient(std::string key, const Resolution& resolution);

  net::Stream& stream_;
  net::SessionEnv env_;
  net::LineReader reader_;
  RecipientResolver resolver_;
  std::vector<CachedRecipient> recipient_cache_;
  uint64_t id_;
  std::string peer_;
  std::string out_;             // replies not yet written
  std::string helo_;            // the name from EHLO/HELO; empty before either
  bool ehlo_ = false;           // EHLO (not HELO) seen since the greeting or the TLS upgrade
  bool authenticated_ = false;
  std::string user_;
  std::optional<Transaction> txn_;
  uint64_t delivered_ = 0;      // messages accepted in this session
  uint32_t errors_ = 0;
  bool closed_ = false;         // the peer is gone; stop writing
};

asio::awaitable<bool> Session::flush() {
  if (closed_) co_return false;
  if (out_.empty()) co_return true;
  std::string text = std::move(out_);
  out_.clear();
  auto ec = co_await stream_.write(text);
  if (ec) {
    spdlog::debug("smtp[{}] {}: write failed: {}", id_, peer_, ec.message());
    closed_ = true;
    co_return false;
  }
  co_return true;
}

asio::awaitable<bool> Session::send(std::string_view text) {
  if (closed_) co_return false;
  out_ += text;
  if (reader_.has_line()) co_return true;  // RFC 2920: answer the pipelined group together
  co_return co_await flush();
}

asio::awaitable<bool> Session::reply(std::string_view code_and_text) {
  std::string line = fmt::format("{}\r\n", code_and_text);
  co_return co_await send(line);
}

asio::awaitable<Flow> Session::refuse(std::string_view code_and_text) {
  ++errors_;
  co_await reply(code_and_text);
  co_return Flow::kContinue;
}

asio::awaitable<Flow> Session::timed_out() {
  spdlog::info("smtp[{}] {}: timeout", id_, peer_);
  std::string bye = fmt::format("421 4.4.2 {} Error: timeout exceeded", hostname());
  co_await reply(bye);
  co_return Flow::kClose;
}

asio::awaitable<Flow> Session::shutting_down() {
  std::string bye = fmt::format("421 4.3.2 {} Service shutting down", hostname());
  co_await reply(bye);
  co_return Flow::kClose;
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
  stream_.set_timeout(command_timeout());
  spdlog::info("smtp[{}] {}: connected ({}{})", id_, peer_,
               env_.listener ? config::to_string(env_.listener->protocol) : "smtp",
               stream_.is_tls() ? ", tls" : "");
  std::string greeting = fmt::format("220 {} ESMTP Tern", hostname());
  if (!co_await reply(greeting)) co_return;

  std::string line;
  while (!closed_) {
    auto status = co_await read_line(line);
    Flow flow = Flow::kContinue;
    if (status == Read::kClosed) {
      spdlog::debug("smtp[{}] {}: connection closed by peer", id_, peer_);
      break;
    }
    if (status == Read::kStopped) {
      co_await shutting_down();
      break;
    }
    if (status == Read::kTimeout) {
      co_await timed_out();
      break;
    }
    if (status == Read::kTooLong) {
      flow = co_await refuse("500 5.5.2 Line too long");
    } else if (auto cmd = proto::parse_command(line); !cmd) {
      std::string text = cmd.error().kind == proto::ParseError::Kind::kUnrecognized
                             ? fmt::format("500 5.5.2 {}", cmd.error().message)
                             : fmt::format("501 5.5.4 {}", cmd.error().message);
      flow = co_await refuse(text);
    } else {
      flow = co_await handle(*cmd, line.size() + 2);
    }
    if (flow == Flow::kClose) break;
    if (too_many_errors()) {
      spdlog::info("smtp[{}] {}: too many errors", id_, peer_);
      std::string bye = fmt::format("421 4.7.0 {} Too many errors, closing connection", hostname());
      co_await reply(bye);
      break;
    }
    if (stopping()) {
      co_await shutting_down();
      break;
    }
  }
  co_await flush();
  spdlog::info("smtp[{}] {}: disconnected", id_, peer_);
}

asio::awaitable<Flow> Session::handle(const proto::Command& cmd, std::size_t line_size) {
  // RFC 5321 4.5.3.1.4: 512 octets per command line; the extensions we offer widen MAIL
  // and RCPT. AUTH lines have their own limit (RFC 4954 4: the line reader's).
  std::size_t limit = smtp_config().max_command_line;
  if (cmd.verb == Verb::kMail) limit += kMailParamRoom;
  if (cmd.verb == Verb::kRcpt) limit += kRcptParamRoom;
  if (cmd.verb != Verb::kAuth && line_size > limit) {
    co_return co_await refuse("500 5.5.2 Command line too long");
  }
  switch (cmd.verb) {
    case Verb::kEhlo:
    case Verb::kHelo:
      co_return co_await do_ehlo(cmd);
    case Verb::kStartTls:
      co_return co_await do_starttls();
    case Verb::kAuth:
      co_return co_await do_auth(cmd);
    case Verb::kMail:
      co_return co_await do_mail(cmd);
    case Verb::kRcpt:
      co_return co_await do_rcpt(cmd);
    case Verb::kData:
      co_return co_await do_data(cmd);
    case Verb::kBdat:
      co_return co_await do_bdat(cmd);
    case Verb::kNoop:
      co_await reply("250 2.0.0 OK");
      co_return Flow::kContinue;
    case Verb::kRset:
      txn_.reset();
      co_await reply("250 2.0.0 OK");
      co_return Flow::kContinue;
    case Verb::kVrfy:
      // RFC 5321 3.5.3: 252 when we will not verify but would accept the address.
      co_await reply("252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery");
      co_return Flow::kContinue;
    case Verb::kExpn:
      co_await reply("502 5.5.1 EXPN not available");
      co_return Flow::kContinue;
    case Verb::kHelp:
      co_await reply(
          "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH");
      co_return Flow::kContinue;
    case Verb::kQuit: {
      std::string bye = fmt::format("221 2.0.0 {} Bye", hostname());
      co_await reply(bye);
      co_return Flow::kClose;
    }
  }
  co_return Flow::kContinue;
}

asio::awaitable<Flow> Session::do_ehlo(const proto::Command& cmd) {
  // RFC 5321 4.1.4: EHLO/HELO resets any transaction; authentication stays.
  txn_.reset();
  helo_ = cmd.arg;
  if (cmd.verb == Verb::kHelo) {
    ehlo_ = false;
    std::string text = fmt::format("250 {}", hostname());
    co_await reply(text);
    co_return Flow::kContinue;
  }
  ehlo_ = true;
  std::vector<std::string> lines;
  lines.push_back(hostname());
  lines.emplace_back("PIPELINING");
  lines.push_back(fmt::format("SIZE {}", env_.config->limits.max_message_size));
  lines.emplace_back("8BITMIME");
  lines.emplace_back("SMTPUTF8");
  lines.emplace_back("ENHANCEDSTATUSCODES");
  if (starttls_offered()) lines.emplace_back("STARTTLS");
  if (auth_offered()) lines.emplace_back("AUTH PLAIN LOGIN");
  lines.emplace_back("CHUNKING");
  lines.emplace_back("DSN");
  std::string text;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    text += fmt::format("250{}{}\r\n", i + 1 == lines.size() ? ' ' : '-', lines[i]);
  }
  co_await send(text);
  co_return Flow::kContinue;
}

asio::awaitable<Flow> Session::do_mail(const proto::Command& cmd) {
  if (helo_.empty()) co_return co_await refuse("503 5.5.1 Send EHLO or HELO first");
  if (submission() && !authenticated_) {
    co_return co_await refuse("530 5.7.0 Authentication required");
  }
  if (txn_) co_return co_await refuse("503 5.5.1 Nested MAIL command");
  auto mail = proto::parse_mail_from(cmd.arg);
  if (!mail) co_return co_await refuse(format_reply(mail.error()));
  if (mail->size && *mail->size > env_.config->limits.max_message_size) {
    co_await reply("552 5.3.4 Message size exceeds fixed maximum message size");
    co_return Flow::kContinue;
  }
  if (submission()) {
    // RFC 6409 6.1: the sender is the authenticated account or one of its aliases.
    bool allowed = false;
    if (!mail->path.null) {
      std::string sender = mail->path.local + "@" + mail->path.domain;
      // Reference captures only: GCC 12 miscompiles by-value captures of a lambda
      // temporary inside co_await.
      auto may = co_await env_.pool->run([&] { return resolver_.may_send_as(sender, user_); });
      if (!may) {
        spdlog::error("smtp[{}] {}: sender lookup failed: {}", id_, peer_, may.error().to_string());
        co_await reply("451 4.3.0 Temporary lookup failure, try again later");
        co_return Flow::kContinue;
      }
      allowed = *may;
    }
    if (!allowed) {
      co_return co_await refuse(
          fmt::format("553 5.7.1 <{}>: Sender address not owned by user {}", mail->path.address(), user_));
    }
  }
  txn_.emplace();
  txn_->mail = std::move(*mail);
  co_await reply("250 2.1.0 Sender OK");
  co_return Flow::kContinue;
}

// Accepted recipients are remembered for a short while only, and only by this connection:
// a change to accounts or aliases reaches every new connection at once.
constexpr auto kRecipientCacheTtl = std::chrono::seconds(30);
constexpr std::size_t kRecipientCacheSize = 32;

const Resolution* Session::cached_recipient(const std::string& key) const {
  auto now = std::chrono::steady_clock::now();
  for (const CachedRecipient& c : recipient_cache_) {
    if (c.key == key && now - c.when < kRecipientCacheTtl) return &c.resolution;
  }
  return nullptr;
}

void Session::cache_recipient(std::string key, const Resolution& resolution) {
  if (recipient_cache_.size() >= kRecipientCacheSize) recipient_cache_.erase(recipient_cache_.begin());
  recipient_cache_.push_back(CachedRecipient{std::move(key), resolution, std::chrono::steady_clock::now()});
}

asio::awaitable<Flow> Session::do_rcpt(const proto::Command& cmd) {
  if (!txn_) co_return co_await refuse("503 5.5.1 Need MAIL command first");
  if (txn_->accepted.size() >= smtp_config().max_recipients) {
    co_await reply("452 4.5.3 Too many recipients");
    co_return Flow::kContinue;
  }
  auto rcpt = proto::parse_rcpt_to(cmd.arg, txn_->mail.smtputf8);
  if (!rcpt) co_return co_await refuse(format_reply(rcpt.error()));

  std::string local = rcpt->path.local;
  std::string domain = rcpt->path.domain;
  std::string raw = rcpt->path.address();
  bool may_relay = authenticated_;
  std::string default_domain = hostname();
  std::string cache_key = ascii_lower(raw);
  cache_key += may_relay ? '\x01' : '\x02';  // addresses hold no control characters
  Result<Resolution> res;
  if (const Resolution* cached = cached_recipient(cache_key)) {
    res = *cached;
    // The remote part keeps the address as this RCPT wrote it.
    if (res->remote.size() == 1 && res->local.empty() && ascii_lower(res->remote[0]) == ascii_lower(raw)) {
      res->remote[0] = raw;
    }
  } else {
    res = co_await env_.pool->run(
        [&] { return resolver_.resolve(local, domain, raw, may_relay, default_domain); });
    if (res && res->kind == Resolution::Kind::kAccepted) cache_recipient(cache_key, *res);
  }
  if (!res) {
    spdlog::error("smtp[{}] {}: recipient lookup failed: {}", id_, peer_, res.error().to_string());
    co_await reply("451 4.3.0 Temporary lookup failure, try again later");
    co_return Flow::kContinue;
  }
  switch (res->kind) {
    case Resolution::Kind::kRelayDenied:
      spdlog::info("smtp[{}] {}: relay denied to <{}>", id_, peer_, raw);
      co_return co_await refuse(fmt::format("554 5.7.1 <{}>: Relay access denied", raw));
    case Resolution::Kind::kUnknownUser:
      spdlog::info("smtp[{}] {}: unknown recipient <{}>", id_, peer_, raw);
      co_return co_await refuse(
          fmt::format("550 5.1.1 <{}>: Recipient address rejected: User unknown", raw));
    case Resolution::Kind::kAccepted:
      break;
  }
  for (LocalTarget& t : res->local) {
    bool seen = false;
    for (const LocalTarget& have : txn_->local) seen = seen || have.account_id == t.account_id;
    if (!seen) txn_->local.push_back(std::move(t));
  }
  for (std::string& address : res->remote) {
    bool seen = false;
    for (const store::OutboundRecipient& have : txn_->remote) {
      seen = seen || ascii_lower(have.address) == ascii_lower(address);
    }
    if (seen) continue;
    store::OutboundRecipient out;
    out.address = std::move(address);
    out.notify = rcpt->notify;
    out.orcpt = rcpt->orcpt;
    txn_->remote.push_back(std::move(out));
  }
  txn_->accepted.push_back(raw);
  co_await reply("250 2.1.5 Recipient OK");
  co_return Flow::kContinue;
}

asio::awaitable<Flow> Session::do_data(const proto::Command& cmd) {
  if (!txn_) co_return co_await refuse("503 5.5.1 Need MAIL command first");
  if (txn_->chunks) co_return co_await refuse("503 5.5.1 DATA not allowed after BDAT");
  if (txn_->accepted.empty()) co_return co_await refuse("554 5.5.1 No valid recipients");
  if (!cmd.arg.empty()) co_return co_await refuse("501 5.5.4 Syntax: DATA");
  if (!co_await reply("354 End data with <CR><LF>.<CR><LF>")) co_return Flow::kClose;
  if (!co_await flush()) co_return Flow::kClose;

  proto::DataReader data(data_limits());
  stream_.set_timeout(env_.config->timeouts.smtp_data);
  std::string chunk;
  while (!data.done()) {
    Read status = co_await reader_.read_some(chunk, kDataChunk);
    if (status == Read::kTimeout) co_return co_await timed_out();
    if (status == Read::kStopped) co_return co_await shutting_down();
    if (status != Read::kOk) co_return Flow::kClose;
    std::size_t used = data.feed(chunk);
    if (used < chunk.size()) reader_.unread(std::string_view(chunk).substr(used));
  }
  stream_.set_timeout(command_timeout());
  if (data.error() != proto::DataError::kNone) {
    spdlog::info("smtp[{}] {}: message refused: {}", id_, peer_, format_reply(proto::error_reply(data.error())));
    txn_.reset();
    co_await reply(format_reply(proto::error_reply(data.error())));
    co_return Flow::kContinue;
  }
  co_return co_await deliver(data.take());
}

asio::awaitable<Flow> Session::do_bdat(const proto::Command& cmd) {
  auto bdat = proto::parse_bdat(cmd.arg);
  if (!bdat) co_return co_await refuse(format_reply(bdat.error()));
  // RFC 3030 3: the chunk's octets follow the command whatever we answer; read them all.
  bool accept = txn_.has_value() && !txn_->accepted.empty();
  proto::ChunkFilter* filter = nullptr;
  if (accept) {
    if (!txn_->chunks) txn_->chunks.emplace(data_limits());
    filter = &*txn_->chunks;
  }
  stream_.set_timeout(env_.config->timeouts.smtp_data);
  uint64_t remaining = bdat->size;
  std::string piece;
  while (remaining > 0) {
    std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(remaining, kDataChunk));
    piece.clear();
    Read status = co_await reader_.read_exact(n, piece);
    if (status == Read::kTimeout) co_return co_await timed_out();
    if (status == Read::kStopped) co_return co_await shutting_down();
    if (status != Read::kOk) co_return Flow::kClose;
    if (filter != nullptr) filter->feed(piece);
    remaining -= n;
  }
  stream_.set_timeout(command_timeout());
  if (!txn_) co_return co_await refuse("503 5.5.1 Need MAIL command first");
  if (!accept) co_return co_await refuse("554 5.5.1 No valid recipients");
  if (bdat->last) filter->finish();
  if (filter->error() != proto::DataError::kNone) {
    std::string text = format_reply(proto::error_reply(filter->error()));
    spdlog::info("smtp[{}] {}: message refused: {}", id_, peer_, text);
    txn_.reset();
    co_await reply(text);
    co_return Flow::kContinue;
  }
  if (!bdat->last) {
    co_await reply(fmt::format("250 2.0.0 {} octets received", bdat->size));
    co_return Flow::kContinue;
  }
  co_return co_await deliver(filter->take());
}

std::string Session::trace_headers() const {
  const Transaction& t = *txn_;
  std::string out;
  // RFC 5321 4.4 and RFC 3848 / 6531 protocol names.
  std::string with = t.mail.smtputf8 ? "UTF8SMTP" : (ehlo_ ? "ESMTP" : "SMTP");
  if (with != "SMTP") {
    if (stream_.is_tls()) with += "S";
    if (authenticated_) with += "A";
  }
  out += fmt::format("Received: from {} ([{}])\r\n", trace_safe(helo_), peer_);
  if (stream_.is_tls()) {
    out += fmt::format("\t(using {} with cipher {})\r\n", stream_.tls_version(), stream_.tls_cipher());
  }
  out += fmt::format("\tby {} (Tern) with {} id {:x}.{}", hostname(), with, id_, delivered_ + 1);
  if (t.accepted.size() == 1) out += fmt::format("\r\n\tfor <{}>", t.accepted.front());
  out += fmt::format("; {}\r\n", rfc5322_date(std::time(nullptr)));
  return out;
}

asio::awaitable<Flow> Session::deliver(std::string content) {
  Transaction& t = *txn_;
  {
    // RFC 5321 6.3: a message that has passed this many relays is looping.
    mime::HeaderBlock head = mime::parse_header_block(content);
    const auto hops = std::count_if(head.fields.begin(), head.fields.end(),
                                    [](const mime::HeaderField& f) { return iequals(f.name, "Received"); });
    if (static_cast<uint64_t>(hops) >= smtp_config().max_hops) {
      spdlog::info("smtp[{}] {}: message from <{}> refused: {} Received: fields (mail loop)", id_, peer_,
                   t.mail.path.address(), hops);
      txn_.reset();
      co_await reply("554 5.4.6 Too many hops: mail loop detected");
      co_return Flow::kContinue;
    }
  }
  bool local = !t.local.empty();
  std::string return_path =
      local ? fmt::format("Return-Path: <{}>\r\n", t.mail.path.address()) : std::string();
  std::string trace = trace_headers();
  std::string added;
  if (submission()) {
    // RFC 6409 8.2, 8.3: a submitted message gets a Message-ID and a Date if it lacks them.
    mime::HeaderBlock head = mime::parse_header_block(content);
    std::time_t now = std::time(nullptr);
    if (mime::find_field(head.fields, "Date") == nullptr) {
      added += fmt::format("Date: {}\r\n", rfc5322_date(now));
    }
    if (mime::find_field(head.fields, "Message-ID") == nullptr) {
      added += fmt::format("Message-ID: <{:016x}.{}@{}>\r\n", random_u64(), now, hostname());
    }
  }
  std::string bytes;
  bytes.reserve(return_path.size() + trace.size() + added.size() + content.size());
  bytes += return_path;
  bytes += trace;
  bytes += added;
  bytes += content;
  content.clear();
  content.shrink_to_fit();

  std::vector<store::AppendTarget> targets;
  for (const LocalTarget& l : t.local) {
    store::AppendTarget target;
    target.mailbox_id = l.inbox_id;
    targets.push_back(std::move(target));
  }
  std::optional<store::OutboundMessage> outbound;
  if (!t.remote.empty()) {
    outbound.emplace();
    outbound->sender = t.mail.path.address();
    outbound->envid = t.mail.envid;
    outbound->ret = t.mail.ret == proto::MailFrom::Ret::kFull   ? store::DsnRet::kFull
                    : t.mail.ret == proto::MailFrom::Ret::kHdrs ? store::DsnRet::kHdrs
                                                      : store::DsnRet::kDefault;
    outbound->smtputf8 = t.mail.smtputf8;
    outbound->eightbit = t.mail.body == proto::MailFrom::Body::k8BitMime;
    outbound->skip = return_path.size();
    outbound->recipients = t.remote;
  }
  store::MailStore* store = env_.store;
  const store::OutboundMessage* out = outbound ? &*outbound : nullptr;
  auto now = static_cast<int64_t>(std::time(nullptr));
  Result<store::Delivered> done;
  if (store->async_deliver()) {
    done = co_await deliver_async(*store, bytes, now, targets, out);
  } else {
    done = co_await env_.pool->run([&] { return store->deliver(bytes, now, targets, out); });
  }
  std::string id = fmt::format("{:x}.{}", id_, delivered_ + 1);
  if (!done) {
    spdlog::error("smtp[{}] {}: storing message {} failed: {}", id_, peer_, id, done.error().to_string());
    txn_.reset();
    co_await reply("451 4.3.0 Error: could not store the message, try again later");
    co_return Flow::kContinue;
  }
  ++delivered_;
  spdlog::info("smtp[{}] {}: message {} from <{}> ({} bytes) to {} local, {} queued", id_, peer_, id,
               t.mail.path.address(), bytes.size(), t.local.size(), t.remote.size());
  txn_.reset();
  co_await reply(fmt::format("250 2.0.0 OK: queued as {}", id));
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
  if (!co_await flush()) co_return Flow::kClose;
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
  helo_.clear();
  txn_.reset();
  authenticated_ = false;
  user_.clear();
  stream_.set_timeout(command_timeout());
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
  if (txn_) co_return co_await refuse("503 5.5.1 AUTH not permitted during a mail transaction");
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
      stream_.set_timeout(command_timeout());
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
