// imap/session.cc: the IMAP server session (RFC 3501 / RFC 9051): greeting, CAPABILITY,
// NOOP, LOGOUT, STARTTLS, LOGIN, AUTHENTICATE PLAIN/LOGIN with SASL-IR (RFC 4959), and the
// authenticated and selected states: mailbox commands, FETCH / STORE / SEARCH / EXPUNGE /
// APPEND / COPY / MOVE over the store, and the selected mailbox kept in sync through the
// ChangeFeed (MailboxView), at once during IDLE.
#include "imap/session.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <vector>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "auth/authenticator.h"
#include "auth/sasl.h"
#include "auth/sasl_dialog.h"
#include "base/limits.h"
#include "imap/fetch.h"
#include "imap/mailbox_list.h"
#include "imap/mailbox_view.h"
#include "imap/proto/command.h"
#include "imap/proto/commands.h"
#include "imap/proto/receiver.h"
#include "imap/proto/writer.h"
#include "imap/recent_tracker.h"
#include "imap/search.h"
#include "imap/store_source.h"
#include "net/blocking_pool.h"
#include "net/line_reader.h"
#include "store/change_feed.h"
#include "store/mail_store.h"

namespace tern::imap {
namespace {

namespace asio = boost::asio;

std::atomic<uint64_t> g_next_session_id{1};

enum class Flow { kContinue, kClose };
using Read = net::ReadStatus;

// Literals before login only carry LOGIN arguments.
constexpr std::size_t kPreAuthMaxLiteral = limits::kMaxPasswordLength;
// Blob bytes are streamed in pieces of this size (FETCH of a large message).
constexpr std::size_t kStreamChunk = 256 * 1024;
// Text of FETCH responses is sent once this much has gathered.
constexpr std::size_t kSendBatch = 64 * 1024;

// \Recent is tracked per process (imap/recent_tracker.h).
RecentTracker& recent_tracker() {
  static RecentTracker tracker;
  return tracker;
}

// ChangeFeed events for the selected mailbox, handed from the store's thread to the
// session's (asio::post): touched only on the session's thread.
struct FeedInbox {
  explicit FeedInbox(const asio::any_io_executor& ex) : wake(ex, asio::steady_timer::time_point::max()) {}
  std::vector<store::MailboxChange> events;
  asio::steady_timer wake;  // cancelled when an event arrives (IDLE waits on it)
};

struct Selected {
  store::Mailbox mailbox;
  std::unique_ptr<MailboxView> view;
  proto::RangeSet recent;  // UIDs \Recent for this session
  std::shared_ptr<FeedInbox> inbox;
  store::Subscription subscription;
};

// What a command handler answers: the tagged text (without the tag), and the untagged
// updates allowed before it (RFC 3501 7.4.1).
struct Reply {
  std::string text;
  FlushMode mode = FlushMode::kAll;
  bool uid = false;
  bool close = false;  // the connection is to end (I/O failed, blob ended early)
};
Reply ok(std::string text) { return Reply{std::move(text)}; }

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
    receiver_.set_limits(limits_for(false));
  }

  asio::awaitable<void> run();

 private:
  proto::ReceiverLimits limits_for(bool authenticated) const {
    proto::ReceiverLimits l;
    std::size_t line = env_.config->limits.max_line_length;
    // After login, literals carry APPENDed messages (RFC 7889 APPENDLIMIT).
    l.max_literal = authenticated ? env_.config->limits.max_message_size : kPreAuthMaxLiteral;
    l.max_command = line + 2 * l.max_literal + 64;
    return l;
  }
  bool login_allowed() const { return stream_.is_tls() || env_.config->auth.allow_plaintext; }
  bool stopping() const { return env_.stopping != nullptr && env_.stopping->load(); }
  bool too_many_errors() const {
    return env_.config->limits.max_errors > 0 && errors_ >= env_.config->limits.max_errors;
  }
  std::string capabilities() const;

  asio::awaitable<bool> send(std::string_view text);
  asio::awaitable<bool> line(std::string_view text);  // text + CRLF
  asio::awaitable<bool> tagged(const std::string& tag, std::string_view text);
  asio::awaitable<Read> read_line(std::string& out);
  asio::awaitable<Read> read_literal(std::size_t size, std::string& out);
  asio::awaitable<void> wait(std::chrono::milliseconds delay);

  asio::awaitable<Flow> handle(proto::Request req);
  asio::awaitable<Reply> dispatch(const std::string& tag, proto::Command& cmd);
  std::string store_failure(const Error& e, std::string_view what);

  // Selected state.
  asio::awaitable<Reply> do_select(const proto::Select& cmd);
  void deselect() { selected_.reset(); }
  // Re-reads what the ChangeFeed reported and notes it in the view.
  asio::awaitable<void> absorb();
  // absorb(), then sends what the view has to say in `mode`.
  asio::awaitable<bool> updates(FlushMode mode, bool uid);
  asio::awaitable<Reply> do_idle();
  asio::awaitable<void> idle_notifier(asio::steady_timer* done);
  // The store's messages for the client's `set`, in the client's order, with the flags the
  // client knows; a message the store no longer has comes with blob_id 0.
  asio::awaitable<Result<std::vector<store::Message>>> messages_for(const std::vector<SeqUid>& set);
  asio::awaitable<Reply> do_fetch(const proto::Fetch& cmd);
  asio::awaitable<bool> send_range(const store::Message& m, const ByteRange& range);
  asio::awaitable<Reply> do_store(const proto::Store& cmd);
  asio::awaitable<Reply> do_search(const std::string& tag, const proto::Search& cmd);
  asio::awaitable<Reply> do_expunge(const proto::SequenceSet* uids, bool silent);
  asio::awaitable<Reply> do_copy(bool uid, const proto::SequenceSet& set, const std::string& mailbox, bool move);
  // Authenticated state.
  asio::awaitable<Result<std::optional<store::Mailbox>>> find_mailbox(const std::string& name);
  asio::awaitable<Reply> do_list(const proto::List& cmd);
  asio::awaitable<Reply> do_lsub(const proto::Lsub& cmd);
  asio::awaitable<Reply> do_status(const proto::Status& cmd);
  asio::awaitable<Reply> do_create(const proto::Create& cmd);
  asio::awaitable<Reply> do_delete(const proto::Delete& cmd);
  asio::awaitable<Reply> do_rename(const proto::Rename& cmd);
  asio::awaitable<Reply> do_subscribe(const std::string& mailbox, bool on);
  asio::awaitable<Reply> do_append(proto::Append& cmd);
  asio::awaitable<Reply> do_enable(const proto::Enable& cmd);
  asio::awaitable<Flow> do_starttls(const proto::Request& req);
  asio::awaitable<Flow> do_login(const proto::Request& req);
  asio::awaitable<Flow> do_authenticate(const proto::Request& req);
  asio::awaitable<SaslResult> sasl_exchange(auth::Mechanism mech, std::string initial);
  asio::awaitable<Read> challenge(std::string_view base64, std::string& answer);
  // Checks the credentials and answers the command. Returns kClose only if the peer is gone.
  asio::awaitable<Flow> finish_login(const std::string& tag, const std::string& user,
                                     const std::string& pass);

  net::Stream& stream_;
  net::SessionEnv env_;
  net::LineReader reader_;
  proto::Receiver receiver_;
  uint64_t id_;
  std::chrono::seconds timeout_;
  std::string peer_;
  bool authenticated_ = false;
  std::string user_;
  store::Id account_id_ = 0;
  std::optional<Selected> selected_;
  bool condstore_ = false;  // ENABLE CONDSTORE, or SELECT (CONDSTORE)
  bool mailbox_gone_ = false;  // the selected mailbox was deleted (by another session)
  bool idling_ = false;
  bool notifier_running_ = false;
  uint32_t errors_ = 0;
  bool closed_ = false;
};

std::string Session::capabilities() const {
  std::string caps = "IMAP4rev1";
  if (authenticated_) {
    return caps + fmt::format(
                      " IDLE NAMESPACE ID ENABLE UNSELECT MOVE UIDPLUS MULTIAPPEND BINARY CHILDREN"
                      " SPECIAL-USE LIST-EXTENDED CONDSTORE ESEARCH STATUS=SIZE APPENDLIMIT={}",
                      env_.config->limits.max_message_size);
  }
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
        ++errors_;
        std::string text = fmt::format("{} BAD {}", err->tag.empty() ? "*" : err->tag, err->message);
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

// ---- The authenticated and selected states. Every store call runs on the store executor
// (env_.pool->run) with a lambda capturing named locals by reference (GCC 12 coroutine rule);
// every store method that changes state returns only once durable, so each OK follows a
// durable change.

// Every store call runs on the store executor (env_.pool->run) with a lambda capturing named
// locals by reference (GCC 12 coroutine rule, STYLE.md). Every store method that changes
// state returns only once the change is durable, so each OK below follows a durable change.

std::string Session::store_failure(const Error& e, std::string_view what) {
  spdlog::warn("imap[{}] {}: {} failed: {}", id_, peer_, what, e.to_string());
  if (e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kBusy || e.code == ErrorCode::kIo) {
    return "NO [UNAVAILABLE] Temporary server failure, try again later";
  }
  return "NO [SERVERBUG] Internal server error";
}

// Store flags from IMAP flags: the bits are the same (imap/fetch.cc checks it).
store::FlagOp flag_op(proto::Store::Mode mode) {
  switch (mode) {
    case proto::Store::Mode::kAdd: return store::FlagOp::kAdd;
    case proto::Store::Mode::kRemove: return store::FlagOp::kRemove;
    case proto::Store::Mode::kReplace: break;
  }
  return store::FlagOp::kReplace;
}

std::optional<store::SpecialUse> special_use_from(std::string_view attr) {
  std::string lower;
  for (char c : attr) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "\\all") return store::SpecialUse::kAll;
  if (lower == "\\archive") return store::SpecialUse::kArchive;
  if (lower == "\\drafts") return store::SpecialUse::kDrafts;
  if (lower == "\\flagged") return store::SpecialUse::kFlagged;
  if (lower == "\\junk") return store::SpecialUse::kJunk;
  if (lower == "\\sent") return store::SpecialUse::kSent;
  if (lower == "\\trash") return store::SpecialUse::kTrash;
  return std::nullopt;
}

asio::awaitable<Reply> Session::dispatch(const std::string& tag, proto::Command& command) {
  bool needs_selected = std::holds_alternative<proto::Check>(command) || std::holds_alternative<proto::Close>(command) ||
                        std::holds_alternative<proto::Unselect>(command) ||
                        std::holds_alternative<proto::Expunge>(command) ||
                        std::holds_alternative<proto::UidExpunge>(command) ||
                        std::holds_alternative<proto::Search>(command) || std::holds_alternative<proto::Fetch>(command) ||
                        std::holds_alternative<proto::Store>(command) || std::holds_alternative<proto::Copy>(command) ||
                        std::holds_alternative<proto::Move>(command);
  if (needs_selected && !selected_) co_return ok("BAD No mailbox selected");

  if (auto* c = std::get_if<proto::Select>(&command)) co_return co_await do_select(*c);
  if (auto* c = std::get_if<proto::List>(&command)) co_return co_await do_list(*c);
  if (auto* c = std::get_if<proto::Lsub>(&command)) co_return co_await do_lsub(*c);
  if (auto* c = std::get_if<proto::Status>(&command)) co_return co_await do_status(*c);
  if (auto* c = std::get_if<proto::Create>(&command)) co_return co_await do_create(*c);
  if (auto* c = std::get_if<proto::Delete>(&command)) co_return co_await do_delete(*c);
  if (auto* c = std::get_if<proto::Rename>(&command)) co_return co_await do_rename(*c);
  if (auto* c = std::get_if<proto::Subscribe>(&command)) co_return co_await do_subscribe(c->mailbox, true);
  if (auto* c = std::get_if<proto::Unsubscribe>(&command)) co_return co_await do_subscribe(c->mailbox, false);
  if (auto* c = std::get_if<proto::Append>(&command)) co_return co_await do_append(*c);
  if (auto* c = std::get_if<proto::Enable>(&command)) co_return co_await do_enable(*c);
  if (std::holds_alternative<proto::Namespace>(command)) {
    // RFC 2342: one personal namespace, no others.
    co_await line(R"(* NAMESPACE (("" "/")) NIL NIL)");
    co_return ok("OK NAMESPACE completed");
  }
  if (std::holds_alternative<proto::Id>(command)) {
    co_await line(R"(* ID ("name" "Tern"))");  // RFC 2971
    co_return ok("OK ID completed");
  }
  if (std::holds_alternative<proto::Idle>(command)) co_return co_await do_idle();
  if (std::holds_alternative<proto::GetQuota>(command) || std::holds_alternative<proto::GetQuotaRoot>(command)) {
    co_return ok("NO [CANNOT] Quotas are not supported");
  }
  if (std::holds_alternative<proto::Check>(command)) co_return ok("OK CHECK completed");
  if (std::holds_alternative<proto::Close>(command)) {
    // RFC 3501 6.4.2: expunge silently, then leave the selected state.
    if (!selected_->view->read_only()) {
      Reply r = co_await do_expunge(nullptr, true);
      if (r.text.rfind("OK", 0) != 0) co_return r;
    }
    deselect();
    co_return ok("OK CLOSE completed");
  }
  if (std::holds_alternative<proto::Unselect>(command)) {
    deselect();
    co_return ok("OK UNSELECT completed");
  }
  if (std::holds_alternative<proto::Expunge>(command)) co_return co_await do_expunge(nullptr, false);
  if (auto* c = std::get_if<proto::UidExpunge>(&command)) co_return co_await do_expunge(&c->uids, false);
  if (auto* c = std::get_if<proto::Search>(&command)) co_return co_await do_search(tag, *c);
  if (auto* c = std::get_if<proto::Fetch>(&command)) co_return co_await do_fetch(*c);
  if (auto* c = std::get_if<proto::Store>(&command)) co_return co_await do_store(*c);
  if (auto* c = std::get_if<proto::Copy>(&command)) co_return co_await do_copy(c->uid, c->set, c->mailbox, false);
  if (auto* c = std::get_if<proto::Move>(&command)) co_return co_await do_copy(c->uid, c->set, c->mailbox, true);
  // CAPABILITY, NOOP, LOGOUT, STARTTLS, LOGIN, AUTHENTICATE are handled before interpret().
  co_return ok("BAD Command not valid in this state");
}

asio::awaitable<Result<std::optional<store::Mailbox>>> Session::find_mailbox(const std::string& name) {
  store::MailStore* st = env_.store;
  store::Id account = account_id_;
  auto found = co_await env_.pool->run([&] { return st->find_mailbox(account, name); });
  co_return found;
}

// ---- SELECT / EXAMINE and keeping the view in sync.

asio::awaitable<Reply> Session::do_select(const proto::Select& cmd) {
  // RFC 3501 6.3.1: a SELECT, even a failing one, first leaves the selected state.
  deselect();
  auto found = co_await find_mailbox(cmd.mailbox);
  if (!found) co_return ok(store_failure(found.error(), "SELECT"));
  if (!*found) co_return ok("NO [NONEXISTENT] Mailbox does not exist");
  store::Id id = (*found)->id;
  store::MailStore* st = env_.store;

  // Subscribe first, then read: nothing committed after the snapshot is missed.
  auto ex = stream_.get_executor();
  auto inbox = std::make_shared<FeedInbox>(ex);
  store::Subscription subscription;
  if (env_.feed != nullptr) {
    subscription = env_.feed->subscribe(id, [inbox, ex](const store::MailboxChange& change) {
      asio::post(ex, [inbox, change] {
        inbox->events.push_back(change);
        inbox->wake.cancel();
      });
    });
  }
  auto mailbox = co_await env_.pool->run([&] { return st->get_mailbox(id); });
  if (!mailbox) co_return ok(store_failure(mailbox.error(), "SELECT"));
  if (!*mailbox) co_return ok("NO [NONEXISTENT] Mailbox does not exist");
  auto messages = co_await env_.pool->run([&] { return st->list_messages(id); });
  if (!messages) co_return ok(store_failure(messages.error(), "SELECT"));

  uint32_t highest = (*mailbox)->uidnext > 0 ? (*mailbox)->uidnext - 1 : 0;
  proto::RangeSet recent = cmd.readonly ? recent_tracker().peek(id, highest) : recent_tracker().claim(id, highest);
  Selected sel;
  sel.mailbox = **mailbox;
  sel.view = std::make_unique<MailboxView>(**mailbox, *messages, recent, cmd.readonly);
  if (cmd.condstore) condstore_ = true;
  if (condstore_) sel.view->enable_condstore();
  sel.recent = std::move(recent);
  sel.inbox = std::move(inbox);
  sel.subscription = std::move(subscription);
  std::string responses = sel.view->select_responses();
  selected_ = std::move(sel);
  if (!co_await send(responses)) co_return Reply{"", FlushMode::kAll, false, true};
  co_return ok(cmd.readonly ? "OK [READ-ONLY] EXAMINE completed" : "OK [READ-WRITE] SELECT completed");
}

asio::awaitable<void> Session::absorb() {
  if (!selected_ || selected_->inbox->events.empty()) co_return;
  std::vector<store::MailboxChange> events = std::move(selected_->inbox->events);
  selected_->inbox->events.clear();
  store::MailStore* st = env_.store;
  store::Id id = selected_->mailbox.id;
  for (const store::MailboxChange& ev : events) {
    if (!selected_) co_return;
    using Kind = store::MailboxChange::Kind;
    if (ev.kind == Kind::kMailboxDeleted) {
      mailbox_gone_ = true;
      co_return;
    }
    if (ev.kind == Kind::kExpunge) {
      selected_->view->note_expunged(ev.uids, ev.modseq);
      continue;
    }
    if ((ev.kind != Kind::kAppend && ev.kind != Kind::kFlags) || ev.uids.empty()) continue;
    uint32_t first = *std::min_element(ev.uids.begin(), ev.uids.end());
    uint32_t last = *std::max_element(ev.uids.begin(), ev.uids.end());
    auto listed = co_await env_.pool->run([&] { return st->list_messages(id, first, last); });
    if (!listed) {
      spdlog::warn("imap[{}] {}: reading changed messages failed: {}", id_, peer_, listed.error().to_string());
      continue;
    }
    if (!selected_ || selected_->mailbox.id != id) co_return;
    std::vector<store::Message> current;
    for (store::Message& m : *listed) {
      if (std::find(ev.uids.begin(), ev.uids.end(), m.uid) != ev.uids.end()) current.push_back(std::move(m));
    }
    proto::RangeSet recent;
    if (ev.kind == Kind::kAppend) {
      recent = selected_->view->read_only() ? recent_tracker().peek(id, last) : recent_tracker().claim(id, last);
      selected_->recent.add(recent);
      selected_->view->note_appended(current, recent);
    } else {
      selected_->view->note_flags(current, recent);
    }
  }
}

asio::awaitable<bool> Session::updates(FlushMode mode, bool uid) {
  co_await absorb();
  if (mailbox_gone_) {
    // Someone deleted the selected mailbox: its messages cannot be served any more.
    co_await line("* BYE Selected mailbox was deleted");
    closed_ = true;
    co_return false;
  }
  if (!selected_ || !selected_->view->has_pending(mode)) co_return !closed_;
  std::string out = selected_->view->flush(mode, uid);
  if (out.empty()) co_return !closed_;
  co_return co_await send(out);
}

// RFC 2177 / RFC 9051 6.3.13: changes are sent as they happen until DONE.
asio::awaitable<Reply> Session::do_idle() {
  if (selected_ && !co_await updates(FlushMode::kAll, false)) co_return Reply{"", FlushMode::kAll, false, true};
  if (!co_await line("+ idling")) co_return Reply{"", FlushMode::kAll, false, true};
  auto ex = stream_.get_executor();
  asio::steady_timer done(ex, asio::steady_timer::time_point::max());
  idling_ = true;
  if (selected_) {
    notifier_running_ = true;
    asio::co_spawn(ex, idle_notifier(&done), asio::detached);
  }
  std::string input;
  auto status = co_await read_line(input);
  idling_ = false;
  if (notifier_running_) {
    if (selected_) selected_->inbox->wake.cancel();
    while (notifier_running_) co_await done.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  if (status == Read::kTimeout) {
    co_await line("* BYE Autologout; idle for too long");
    co_return Reply{"", FlushMode::kAll, false, true};
  }
  if (status == Read::kStopped) {
    co_await line("* BYE Server shutting down");
    co_return Reply{"", FlushMode::kAll, false, true};
  }
  if (status != Read::kOk) co_return Reply{"", FlushMode::kAll, false, true};
  if (!proto::is_idle_done(input)) co_return ok("BAD Expected DONE");
  co_return ok("OK IDLE terminated");
}

asio::awaitable<void> Session::idle_notifier(asio::steady_timer* done) {
  try {
    while (idling_ && !closed_ && selected_) {
      if (selected_->inbox->events.empty()) {
        co_await selected_->inbox->wake.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      if (!co_await updates(FlushMode::kAll, false)) break;
    }
  } catch (const std::exception& e) {
    spdlog::error("imap[{}] {}: bug: IDLE notifier: {}", id_, peer_, e.what());
  }
  notifier_running_ = false;
  done->cancel();
}

// ---- FETCH / STORE / SEARCH / EXPUNGE.

asio::awaitable<Result<std::vector<store::Message>>> Session::messages_for(const std::vector<SeqUid>& set) {
  std::vector<store::Message> out;
  if (set.empty()) co_return out;
  store::MailStore* st = env_.store;
  store::Id id = selected_->mailbox.id;
  uint32_t first = set.front().uid;
  uint32_t last = set.back().uid;
  auto listed = co_await env_.pool->run([&] { return st->list_messages(id, first, last); });
  if (!listed) co_return tl::unexpected(listed.error());
  const MailboxView& view = *selected_->view;
  out.reserve(set.size());
  std::size_t j = 0;
  for (const SeqUid& su : set) {
    while (j < listed->size() && (*listed)[j].uid < su.uid) ++j;
    store::Message m;
    if (j < listed->size() && (*listed)[j].uid == su.uid) {
      m = std::move((*listed)[j]);
    } else {
      m.mailbox_id = id;
      m.uid = su.uid;
      m.blob_id = 0;  // gone from the store; the client has not been told yet
    }
    // The flags as the client knows them.
    m.flags = view.system_flags(su.seq);
    m.keywords = view.keywords(su.seq);
    m.modseq = view.modseq(su.seq);
    out.push_back(std::move(m));
  }
  co_return out;
}

asio::awaitable<Reply> Session::do_fetch(const proto::Fetch& cmd) {
  MailboxView& view = *selected_->view;
  std::vector<SeqUid> set;
  if (cmd.uid) {
    set = view.resolve_uids(cmd.set);
  } else {
    ResolvedSet resolved = view.resolve(cmd.set);
    if (resolved.out_of_range) co_return ok("BAD Invalid message number");
    set = std::move(resolved.messages);
  }
  if (cmd.changed_since) {
    std::erase_if(set, [&](const SeqUid& su) { return view.modseq(su.seq) <= *cmd.changed_since; });
  }
  Reply done{"OK FETCH completed", FlushMode::kNoExpunge, cmd.uid};
  if (set.empty()) co_return done;

  auto messages = co_await messages_for(set);
  if (!messages) co_return ok(store_failure(messages.error(), "FETCH"));
  FetchOptions options;
  options.uid = cmd.uid;
  options.modseq = cmd.changed_since.has_value();
  options.read_only = view.read_only();
  options.condstore = view.condstore();

  // RFC 3501 6.4.5: \Seen is set, durably, before the responses that show it.
  std::vector<uint32_t> seen_uids;
  for (const store::Message& m : *messages) {
    if (m.blob_id != 0 && needs_seen(cmd.items, m, options)) seen_uids.push_back(m.uid);
  }
  std::vector<uint32_t> seen_changed;
  if (!seen_uids.empty()) {
    store::MailStore* st = env_.store;
    store::Id id = selected_->mailbox.id;
    FlagUpdate update{store::FlagOp::kAdd, store::kFlagSeen, {}};
    auto changes = co_await env_.pool->run([&] {
      return st->store_flags(id, seen_uids, store::FlagOp::kAdd, store::kFlagSeen, {}, std::nullopt, nullptr);
    });
    if (!changes) co_return ok(store_failure(changes.error(), "FETCH \\Seen"));
    if (!selected_) co_return done;
    selected_->view->note_own_flags(update, *changes, Echo::kSilent);
    for (const store::FlagChange& c : *changes) seen_changed.push_back(c.uid);
    for (std::size_t i = 0; i < set.size(); ++i) {
      store::Message& m = (*messages)[i];
      if (std::find(seen_uids.begin(), seen_uids.end(), m.uid) == seen_uids.end()) continue;
      m.flags = selected_->view->system_flags(set[i].seq);
      m.keywords = selected_->view->keywords(set[i].seq);
      m.modseq = selected_->view->modseq(set[i].seq);
    }
  }

  bool content = needs_content(cmd.items);
  store::MailStore* st = env_.store;
  std::string out;
  for (std::size_t i = 0; i < set.size(); ++i) {
    const store::Message& m = (*messages)[i];
    if (m.blob_id == 0) continue;  // expunged meanwhile: nothing left to show
    FetchMessage fm;
    fm.message = &m;
    fm.seq = set[i].seq;
    fm.recent = selected_->view->is_recent(set[i].seq);
    fm.seen_changed = std::find(seen_changed.begin(), seen_changed.end(), m.uid) != seen_changed.end();
    const std::vector<proto::FetchAttr>& items = cmd.items;
    Result<FetchOutput> built;
    if (content) {
      built = co_await env_.pool->run([&] {
        StoreSource source(*st, m.blob_id);
        return fetch_message(items, fm, source, options);
      });
    } else {
      EmptySource source;
      built = fetch_message(items, fm, source, options);
    }
    if (!built) {
      if (!out.empty() && !co_await send(out)) co_return Reply{"", FlushMode::kAll, false, true};
      co_return ok(store_failure(built.error(), "FETCH"));
    }
    if (built->refusal != FetchRefusal::kNone) {
      if (!out.empty() && !co_await send(out)) co_return Reply{"", FlushMode::kAll, false, true};
      co_return ok(fmt::format("NO {}", refusal_text(built->refusal)));
    }
    for (FetchPiece& piece : built->pieces) {
      if (piece.kind == FetchPiece::Kind::kText) {
        out += piece.text;
        if (out.size() >= kSendBatch) {
          if (!co_await send(out)) co_return Reply{"", FlushMode::kAll, false, true};
          out.clear();
        }
        continue;
      }
      if (!out.empty()) {
        if (!co_await send(out)) co_return Reply{"", FlushMode::kAll, false, true};
        out.clear();
      }
      if (!co_await send_range(m, piece.range)) co_return Reply{"", FlushMode::kAll, false, true};
    }
  }
  if (!out.empty() && !co_await send(out)) co_return Reply{"", FlushMode::kAll, false, true};
  co_return done;
}

// Streams octets of a message from its blob, kStreamChunk at a time. False when the
// connection must end (write failed, or the blob could not keep the literal's promise).
asio::awaitable<bool> Session::send_range(const store::Message& m, const ByteRange& range) {
  if (range.length == 0) co_return true;
  store::MailStore* st = env_.store;
  store::Id blob = m.blob_id;
  auto opened = co_await env_.pool->run([&] { return st->open_blob(blob); });
  if (!opened) {
    spdlog::warn("imap[{}] {}: opening a message failed: {}", id_, peer_, opened.error().to_string());
    closed_ = true;
    co_return false;
  }
  std::unique_ptr<store::BlobReader> reader = std::move(*opened);
  uint64_t offset = range.offset;
  uint64_t end = range.offset + range.length;
  while (offset < end) {
    std::size_t want = static_cast<std::size_t>(std::min<uint64_t>(kStreamChunk, end - offset));
    store::BlobReader* r = reader.get();
    auto chunk = co_await env_.pool->run([&] { return r->read(offset, want); });
    if (!chunk || chunk->empty()) {
      spdlog::warn("imap[{}] {}: message blob {} ended early or failed", id_, peer_, blob);
      closed_ = true;
      co_return false;
    }
    std::size_t n = std::min<std::size_t>(chunk->size(), want);
    if (!co_await send(std::string_view(*chunk).substr(0, n))) co_return false;
    offset += n;
  }
  co_return true;
}

asio::awaitable<Reply> Session::do_store(const proto::Store& cmd) {
  MailboxView& view = *selected_->view;
  if (view.read_only()) co_return ok("NO [READ-ONLY] Mailbox is read-only");
  std::vector<SeqUid> set;
  if (cmd.uid) {
    set = view.resolve_uids(cmd.set);
  } else {
    ResolvedSet resolved = view.resolve(cmd.set);
    if (resolved.out_of_range) co_return ok("BAD Invalid message number");
    set = std::move(resolved.messages);
  }
  Reply done{"OK STORE completed", FlushMode::kNoExpunge, cmd.uid};
  if (set.empty()) co_return done;
  std::vector<uint32_t> uids;
  uids.reserve(set.size());
  for (const SeqUid& su : set) uids.push_back(su.uid);
  FlagUpdate update{flag_op(cmd.mode), cmd.flags.system, cmd.flags.keywords};
  store::MailStore* st = env_.store;
  store::Id id = selected_->mailbox.id;
  std::optional<uint64_t> unchanged_since = cmd.unchanged_since;
  std::vector<uint32_t> failed;
  auto changes = co_await env_.pool->run([&] {
    return st->store_flags(id, uids, update.op, update.flags, update.keywords, unchanged_since, &failed);
  });
  if (!changes) co_return ok(store_failure(changes.error(), "STORE"));
  if (!selected_) co_return done;
  selected_->view->note_own_flags(update, *changes, cmd.silent ? Echo::kSilent : Echo::kReport);
  if (!cmd.silent) {
    std::vector<uint32_t> report;
    for (uint32_t uid : uids) {
      if (std::find(failed.begin(), failed.end(), uid) == failed.end()) report.push_back(uid);
    }
    selected_->view->report_flags(report);
  }
  if (!failed.empty()) {
    // RFC 7162 3.1.3: the messages UNCHANGEDSINCE kept from changing.
    proto::RangeSet modified;
    for (uint32_t uid : failed) modified.add(cmd.uid ? uid : selected_->view->seq(uid));
    done.text = fmt::format("OK [MODIFIED {}] Conditional STORE failed for some messages", modified.to_string());
  }
  co_return done;
}

asio::awaitable<Reply> Session::do_search(const std::string& tag, const proto::Search& cmd) {
  if (!search_charset_supported(cmd.charset)) co_return ok(fmt::format("NO {}", kBadCharsetText));
  MailboxView& view = *selected_->view;
  std::vector<SeqUid> all;
  all.reserve(view.exists());
  for (uint32_t seq = 1; seq <= view.exists(); ++seq) all.push_back({seq, view.uid(seq)});
  auto messages = co_await messages_for(all);
  if (!messages) co_return ok(store_failure(messages.error(), "SEARCH"));
  if (!selected_) co_return ok("OK SEARCH completed");
  SearchQuery query(cmd.keys, scope_of(*messages));
  store::MailStore* st = env_.store;
  const proto::RangeSet& recent = selected_->recent;
  SourceOpener open = [st](const store::Message& m) -> Result<std::unique_ptr<MessageSource>> {
    if (m.blob_id == 0) return std::unique_ptr<MessageSource>(std::make_unique<EmptySource>());
    return std::unique_ptr<MessageSource>(std::make_unique<StoreSource>(*st, m.blob_id));
  };
  const std::vector<store::Message>& msgs = *messages;
  Result<SearchResult> result;
  if (query.needs_content()) {
    result = co_await env_.pool->run([&] { return run_search(query, msgs, recent, open); });
  } else {
    result = run_search(query, msgs, recent, open);
  }
  if (!result) co_return ok(store_failure(result.error(), "SEARCH"));
  std::string out = cmd.returns ? format_esearch(*result, *cmd.returns, tag, cmd.uid) : format_search(*result, cmd.uid);
  if (!co_await send(out)) co_return Reply{"", FlushMode::kAll, false, true};
  co_return Reply{"OK SEARCH completed", FlushMode::kNoExpunge, cmd.uid};
}

// EXPUNGE, UID EXPUNGE (RFC 4315 2.1: only the given UIDs), and CLOSE's silent expunge.
asio::awaitable<Reply> Session::do_expunge(const proto::SequenceSet* uid_set, bool silent) {
  if (selected_->view->read_only()) co_return ok("NO [READ-ONLY] Mailbox is read-only");
  store::MailStore* st = env_.store;
  store::Id id = selected_->mailbox.id;
  auto listed = co_await env_.pool->run([&] { return st->list_messages(id); });
  if (!listed) co_return ok(store_failure(listed.error(), "EXPUNGE"));
  if (!selected_) co_return ok("OK EXPUNGE completed");
  std::vector<uint32_t> uids;
  proto::RangeSet allowed;
  if (uid_set != nullptr) {
    for (const SeqUid& su : selected_->view->resolve_uids(*uid_set)) allowed.add(su.uid);
  }
  for (const store::Message& m : *listed) {
    if (!(m.flags & store::kFlagDeleted)) continue;
    if (uid_set != nullptr && !allowed.contains(m.uid)) continue;
    uids.push_back(m.uid);
  }
  if (!uids.empty()) {
    auto expunged = co_await env_.pool->run([&] { return st->expunge(id, uids); });
    if (!expunged) co_return ok(store_failure(expunged.error(), "EXPUNGE"));
    if (selected_ && !silent && expunged->modseq != 0) {
      selected_->view->note_expunged(expunged->uids, expunged->modseq);
    }
  }
  co_return ok(silent ? "OK" : "OK EXPUNGE completed");
}

// COPY / MOVE (RFC 6851) with COPYUID (RFC 4315).
asio::awaitable<Reply> Session::do_copy(bool uid, const proto::SequenceSet& seqset, const std::string& mailbox,
                                        bool move) {
  std::string_view verb = move ? "MOVE" : "COPY";
  if (move && selected_->view->read_only()) co_return ok("NO [READ-ONLY] Mailbox is read-only");
  std::vector<SeqUid> set;
  if (uid) {
    set = selected_->view->resolve_uids(seqset);
  } else {
    ResolvedSet resolved = selected_->view->resolve(seqset);
    if (resolved.out_of_range) co_return ok("BAD Invalid message number");
    set = std::move(resolved.messages);
  }
  auto dest = co_await find_mailbox(mailbox);
  if (!dest) co_return ok(store_failure(dest.error(), verb));
  if (!*dest) co_return ok("NO [TRYCREATE] Mailbox does not exist");
  std::string done = fmt::format("OK {} completed", verb);
  if (set.empty() || !selected_) co_return ok(done);
  std::vector<uint32_t> uids;
  for (const SeqUid& su : set) uids.push_back(su.uid);
  store::MailStore* st = env_.store;
  store::Id from = selected_->mailbox.id;
  store::Id to = (*dest)->id;
  store::Copied copied;
  if (move) {
    auto moved = co_await env_.pool->run([&] { return st->move_messages(from, uids, to); });
    if (!moved) co_return ok(store_failure(moved.error(), verb));
    copied = std::move(moved->first);
    if (selected_ && moved->second.modseq != 0) selected_->view->note_expunged(moved->second.uids, moved->second.modseq);
  } else {
    auto result = co_await env_.pool->run([&] { return st->copy_messages(from, uids, to); });
    if (!result) co_return ok(store_failure(result.error(), verb));
    copied = std::move(*result);
  }
  if (copied.source_uids.empty()) co_return ok(done);
  proto::RangeSet source, target;
  for (uint32_t u : copied.source_uids) source.add(u);
  for (uint32_t u : copied.dest_uids) target.add(u);
  std::string code = fmt::format("[COPYUID {} {} {}]", copied.uidvalidity, source.to_string(), target.to_string());
  if (move) {
    // RFC 6851 4.3: COPYUID goes in an untagged OK before the expunges.
    std::string text = fmt::format("* OK {} Moved", code);
    if (!co_await line(text)) co_return Reply{"", FlushMode::kAll, false, true};
    co_return ok(done);
  }
  co_return ok(fmt::format("OK {} {} completed", code, verb));
}

// ---- Mailboxes.

asio::awaitable<Reply> Session::do_list(const proto::List& cmd) {
  store::MailStore* st = env_.store;
  store::Id account = account_id_;
  auto mailboxes = co_await env_.pool->run([&] { return st->list_mailboxes(account); });
  if (!mailboxes) co_return ok(store_failure(mailboxes.error(), "LIST"));
  std::string out;
  for (const ListEntry& entry : list_mailboxes(cmd, *mailboxes)) out += format_list_line(entry, false);
  if (!out.empty() && !co_await send(out)) co_return Reply{"", FlushMode::kAll, false, true};
  co_return ok("OK LIST completed");
}

asio::awaitable<Reply> Session::do_lsub(const proto::Lsub& cmd) {
  store::MailStore* st = env_.store;
  store::Id account = account_id_;
  auto mailboxes = co_await env_.pool->run([&] { return st->list_mailboxes(account); });
  if (!mailboxes) co_return ok(store_failure(mailboxes.error(), "LSUB"));
  std::string out;
  for (const ListEntry& entry : lsub_mailboxes(cmd, *mailboxes)) out += format_lsub_line(entry, false);
  if (!out.empty() && !co_await send(out)) co_return Reply{"", FlushMode::kAll, false, true};
  co_return ok("OK LSUB completed");
}

asio::awaitable<Reply> Session::do_status(const proto::Status& cmd) {
  auto found = co_await find_mailbox(cmd.mailbox);
  if (!found) co_return ok(store_failure(found.error(), "STATUS"));
  if (!*found) co_return ok("NO [NONEXISTENT] Mailbox does not exist");
  const store::Mailbox& mb = **found;
  bool need_messages = false;
  for (proto::StatusItem item : cmd.items) {
    if (item == proto::StatusItem::kUnseen || item == proto::StatusItem::kDeleted) need_messages = true;
  }
  uint32_t unseen = 0, deleted = 0;
  if (need_messages) {
    store::MailStore* st = env_.store;
    store::Id id = mb.id;
    auto listed = co_await env_.pool->run([&] { return st->list_messages(id); });
    if (!listed) co_return ok(store_failure(listed.error(), "STATUS"));
    for (const store::Message& m : *listed) {
      if (!(m.flags & store::kFlagSeen)) ++unseen;
      if (m.flags & store::kFlagDeleted) ++deleted;
    }
  }
  std::string out = "* STATUS ";
  proto::append_mailbox(out, mb.name, false);
  out += " (";
  bool first = true;
  for (proto::StatusItem item : cmd.items) {
    if (!first) out += ' ';
    first = false;
    out += proto::status_item_name(item);
    out += ' ';
    uint64_t value = 0;
    switch (item) {
      case proto::StatusItem::kMessages: value = mb.messages; break;
      case proto::StatusItem::kRecent:
        value = recent_tracker().peek(mb.id, mb.uidnext > 0 ? mb.uidnext - 1 : 0).count();
        break;
      case proto::StatusItem::kUidNext: value = mb.uidnext; break;
      case proto::StatusItem::kUidValidity: value = mb.uidvalidity; break;
      case proto::StatusItem::kUnseen: value = unseen; break;
      case proto::StatusItem::kDeleted: value = deleted; break;
      case proto::StatusItem::kSize: value = mb.total_size; break;
      case proto::StatusItem::kHighestModSeq: value = mb.highestmodseq; break;
      case proto::StatusItem::kAppendLimit: value = env_.config->limits.max_message_size; break;
    }
    out += std::to_string(value);
  }
  out += ")";
  if (!co_await line(out)) co_return Reply{"", FlushMode::kAll, false, true};
  co_return ok("OK STATUS completed");
}

asio::awaitable<Reply> Session::do_create(const proto::Create& cmd) {
  auto name = normalize_mailbox_name(cmd.mailbox, true);
  if (!name) co_return ok(fmt::format("NO {}", name.error()));
  if (*name == "INBOX") co_return ok("NO [ALREADYEXISTS] INBOX exists");
  store::SpecialUse use = store::SpecialUse::kNone;
  if (cmd.special_use.size() > 1) co_return ok("NO [USEATTR] Only one special-use attribute per mailbox");
  if (!cmd.special_use.empty()) {
    auto parsed = special_use_from(cmd.special_use.front());
    if (!parsed) co_return ok("NO [USEATTR] Unsupported special-use attribute");
    use = *parsed;
  }
  store::MailStore* st = env_.store;
  store::Id account = account_id_;
  const std::string& mailbox = *name;
  auto created = co_await env_.pool->run([&] { return st->create_mailbox(account, mailbox, use); });
  if (!created) {
    if (created.error().code == ErrorCode::kExists) co_return ok("NO [ALREADYEXISTS] Mailbox exists");
    co_return ok(store_failure(created.error(), "CREATE"));
  }
  co_return ok("OK CREATE completed");
}

asio::awaitable<Reply> Session::do_delete(const proto::Delete& cmd) {
  if (cmd.mailbox == "INBOX") co_return ok("NO [CANNOT] INBOX cannot be deleted");
  auto found = co_await find_mailbox(cmd.mailbox);
  if (!found) co_return ok(store_failure(found.error(), "DELETE"));
  if (!*found) co_return ok("NO [NONEXISTENT] Mailbox does not exist");
  store::Id id = (*found)->id;
  if (selected_ && selected_->mailbox.id == id) deselect();
  store::MailStore* st = env_.store;
  auto deleted = co_await env_.pool->run([&] { return st->delete_mailbox(id); });
  if (!deleted) co_return ok(store_failure(deleted.error(), "DELETE"));
  recent_tracker().forget(id);
  co_return ok("OK DELETE completed");
}

asio::awaitable<Reply> Session::do_rename(const proto::Rename& cmd) {
  auto to = normalize_mailbox_name(cmd.to);
  if (!to) co_return ok(fmt::format("NO {}", to.error()));
  if (*to == "INBOX") co_return ok("NO [ALREADYEXISTS] INBOX exists");
  if (*to == cmd.from || is_below(*to, cmd.from)) co_return ok("NO [CANNOT] Cannot rename a mailbox into itself");
  auto found = co_await find_mailbox(cmd.from);
  if (!found) co_return ok(store_failure(found.error(), "RENAME"));
  if (!*found) co_return ok("NO [NONEXISTENT] Mailbox does not exist");
  auto existing = co_await find_mailbox(*to);
  if (!existing) co_return ok(store_failure(existing.error(), "RENAME"));
  if (*existing) co_return ok("NO [ALREADYEXISTS] Mailbox exists");
  store::Id id = (*found)->id;
  store::MailStore* st = env_.store;
  const std::string& name = *to;
  auto renamed = co_await env_.pool->run([&] { return st->rename_mailbox(id, name); });
  if (!renamed) {
    if (renamed.error().code == ErrorCode::kExists) co_return ok("NO [ALREADYEXISTS] Mailbox exists");
    co_return ok(store_failure(renamed.error(), "RENAME"));
  }
  if (selected_ && selected_->mailbox.id == id) selected_->mailbox.name = name;
  co_return ok("OK RENAME completed");
}

asio::awaitable<Reply> Session::do_subscribe(const std::string& mailbox, bool on) {
  auto found = co_await find_mailbox(mailbox);
  std::string_view verb = on ? "SUBSCRIBE" : "UNSUBSCRIBE";
  if (!found) co_return ok(store_failure(found.error(), verb));
  if (!*found) co_return ok("NO [NONEXISTENT] Mailbox does not exist");
  store::Id id = (*found)->id;
  store::MailStore* st = env_.store;
  auto done = co_await env_.pool->run([&] { return st->set_subscribed(id, on); });
  if (!done) co_return ok(store_failure(done.error(), verb));
  co_return ok(fmt::format("OK {} completed", verb));
}

// APPEND, with MULTIAPPEND (RFC 3502) and APPENDUID (RFC 4315). Each message is appended
// durably in turn; a failure part way leaves the earlier ones in place.
asio::awaitable<Reply> Session::do_append(proto::Append& cmd) {
  auto found = co_await find_mailbox(cmd.mailbox);
  if (!found) co_return ok(store_failure(found.error(), "APPEND"));
  if (!*found) co_return ok("NO [TRYCREATE] Mailbox does not exist");
  store::Id id = (*found)->id;
  for (const proto::AppendMessage& m : cmd.messages) {
    if (m.bytes.size() > env_.config->limits.max_message_size) co_return ok("NO [TOOBIG] Message too large");
  }
  store::MailStore* st = env_.store;
  proto::RangeSet uids;
  uint32_t uidvalidity = 0;
  for (proto::AppendMessage& m : cmd.messages) {
    int64_t date = m.internal_date ? m.internal_date->unix_time
                                   : std::chrono::duration_cast<std::chrono::seconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count();
    std::vector<store::AppendTarget> targets(1);
    targets[0].mailbox_id = id;
    targets[0].flags = m.flags.system;
    targets[0].keywords = m.flags.keywords;
    const std::string& bytes = m.bytes;
    auto appended = co_await env_.pool->run([&] { return st->append(bytes, date, targets); });
    if (!appended) co_return ok(store_failure(appended.error(), "APPEND"));
    if (!appended->empty()) {
      uidvalidity = appended->front().uidvalidity;
      uids.add(appended->front().uid);
    }
    std::string().swap(m.bytes);  // free the literal as soon as it is stored
  }
  co_return ok(fmt::format("OK [APPENDUID {} {}] APPEND completed", uidvalidity, uids.to_string()));
}

asio::awaitable<Reply> Session::do_enable(const proto::Enable& cmd) {
  std::string enabled;
  for (const std::string& cap : cmd.capabilities) {
    if (cap == "CONDSTORE" && !condstore_) {
      condstore_ = true;
      if (selected_) selected_->view->enable_condstore();
      enabled += " CONDSTORE";
    }
  }
  // RFC 5161 3.2: ENABLED lists what this command newly enabled.
  std::string text = "* ENABLED" + enabled;
  if (!co_await line(text)) co_return Reply{"", FlushMode::kAll, false, true};
  co_return ok("OK ENABLE completed");
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

}  // namespace

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
