// imap/session_impl.h: the IMAP session's class, shared by the files that implement it:
// imap/session.cc (connection, greeting, login, the command loop), imap/session_mailbox.cc
// (the authenticated state: mailbox commands, APPEND, ENABLE; command dispatch) and
// imap/session_selected.cc (the selected state: SELECT, sync with the ChangeFeed, IDLE, FETCH,
// STORE, SEARCH, EXPUNGE, COPY, MOVE). Private to the imap module; nothing else includes it.
//
// Thread-safety: a Session lives on its connection's I/O thread and is not shared; ChangeFeed
// callbacks only post to that thread.
#pragma once

// GCC 12 at -O2 reports a false -Wmismatched-new-delete on asio coroutine frames of
// externally visible member coroutines (the frame's operator new and delete do match).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

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
#include "imap/session.h"

namespace tern::imap::detail {

namespace asio = boost::asio;

enum class Flow { kContinue, kClose };
using Read = net::ReadStatus;

// Literals before login only carry LOGIN arguments.
inline constexpr std::size_t kPreAuthMaxLiteral = limits::kMaxPasswordLength;
// Blob bytes are streamed in pieces of this size (FETCH of a large message).
inline constexpr std::size_t kStreamChunk = 256 * 1024;
// Text of FETCH responses is sent once this much has gathered.
inline constexpr std::size_t kSendBatch = 64 * 1024;

// \Recent is tracked per process (imap/recent_tracker.h).
RecentTracker& recent_tracker();
// Numbers sessions for the log.
uint64_t next_session_id();

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
inline Reply ok(std::string text) { return Reply{std::move(text)}; }

using SaslResult = auth::SaslOutcome;

class Session {
 public:
  Session(net::Stream& stream, const net::SessionEnv& env)
      : stream_(stream),
        env_(env),
        reader_(stream, env.config->limits.max_line_length),
        id_(next_session_id()),
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

}  // namespace tern::imap::detail
