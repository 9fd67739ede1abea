// pop3/transaction.cc: the TRANSACTION and UPDATE states of a POP3 session (RFC 1939 5, 6):
// the maildrop snapshot and its lock, STAT, LIST, UIDL, RETR, TOP, DELE, RSET, NOOP, and
// QUIT's deletions. Storage errors are mapped to replies here, in store_failure(): the
// client gets a generic text with [SYS/TEMP], the log the detail.
#include <algorithm>
#include <optional>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "net/blocking_pool.h"
#include "pop3/proto/dot_stuffer.h"
#include "pop3/session_impl.h"

namespace tern::pop3 {
namespace {

using proto::Verb;

// Messages up to this size are read with one store call and sent from memory; larger ones
// are streamed from a BlobReader in kChunk pieces, so a 50 MiB message costs the session
// about kChunk + kFlushBytes of memory (and twice that at worst, for a message of dots).
constexpr uint64_t kWholeRead = 1 << 20;
constexpr std::size_t kChunk = 128 * 1024;
// Encoded output is written whenever this much has gathered.
constexpr std::size_t kFlushBytes = 128 * 1024;

}  // namespace

asio::awaitable<bool> Session::open_maildrop(store::Id account_id) {
  store::MailStore* store = env_.store;
  std::unique_ptr<store::MaildropLock> lock;
  std::optional<Maildrop> drop;
  // Lock first, then list: the snapshot then sees every deletion a previous session made.
  Status st = co_await env_.pool->run([&]() -> Status {
    auto locked = store->lock_maildrop(account_id);
    if (!locked) return tl::unexpected(locked.error());
    auto box = store->find_mailbox(account_id, "INBOX");
    if (!box) return tl::unexpected(box.error());
    if (!*box) return make_error(ErrorCode::kNotFound, "account {} has no INBOX", account_id);
    auto messages = store->list_messages((*box)->id);
    if (!messages) return tl::unexpected(messages.error());
    drop.emplace((*box)->id, (*box)->uidvalidity, *messages);
    lock = std::move(*locked);
    return ok();
  });
  if (!st) {
    if (st.error().code == ErrorCode::kBusy) {
      spdlog::info("pop3[{}] {}: maildrop in use", id_, peer_);
      // RFC 2449 8.1.1; the session stays in AUTHORIZATION.
      reply("-ERR [IN-USE] Maildrop is locked by another POP3 session, try again later");
    } else {
      spdlog::warn("pop3[{}] {}: cannot open maildrop: {}", id_, peer_, st.error().to_string());
      reply("-ERR [SYS/TEMP] Cannot open the maildrop, try again later");
    }
    co_return false;
  }
  lock_ = std::move(lock);
  drop_ = std::move(*drop);
  co_return true;
}

asio::awaitable<void> Session::release_maildrop() {
  co_await env_.pool->run([&] { lock_.reset(); });
  transaction_ = false;
}

const Maildrop::Entry* Session::message(uint32_t n) {
  const Maildrop::Entry* e = drop_.find(n);
  if (e != nullptr) return e;
  // Not counted as the client's error: a number from an earlier LIST may be gone by DELE.
  if (n >= 1 && n <= drop_.count()) {
    reply(fmt::format("-ERR Message {} already deleted", n));
  } else {
    reply("-ERR No such message");
  }
  return nullptr;
}

asio::awaitable<Flow> Session::transaction(const proto::Command& cmd) {
  switch (cmd.verb) {
    case Verb::kNoop:
      reply("+OK");
      break;
    case Verb::kStat:
      do_stat();
      break;
    case Verb::kList:
      do_list(cmd);
      break;
    case Verb::kUidl:
      do_uidl(cmd);
      break;
    case Verb::kDele:
      do_dele(cmd);
      break;
    case Verb::kRset:
      do_rset();
      break;
    case Verb::kRetr:
      co_return co_await send_message(*cmd.msg, std::nullopt);
    case Verb::kTop:
      co_return co_await send_message(*cmd.msg, cmd.lines);
    default:
      break;
  }
  co_return Flow::kContinue;
}

void Session::do_stat() { reply(fmt::format("+OK {} {}", drop_.live_count(), drop_.live_size())); }

void Session::do_list(const proto::Command& cmd) {
  if (cmd.msg) {
    if (const auto* e = message(*cmd.msg)) reply(fmt::format("+OK {} {}", *cmd.msg, e->size));
    return;
  }
  auto out = std::back_inserter(out_);
  fmt::format_to(out, "+OK {} messages ({} octets)\r\n", drop_.live_count(), drop_.live_size());
  for (uint32_t n = 1; n <= drop_.count(); ++n) {
    const Maildrop::Entry& e = drop_.at(n);
    if (!e.deleted) fmt::format_to(out, "{} {}\r\n", n, e.size);
  }
  out_ += ".\r\n";
}

void Session::do_uidl(const proto::Command& cmd) {
  if (cmd.msg) {
    if (const auto* e = message(*cmd.msg)) reply(fmt::format("+OK {} {}", *cmd.msg, drop_.uidl(*e)));
    return;
  }
  out_ += "+OK\r\n";
  auto out = std::back_inserter(out_);
  for (uint32_t n = 1; n <= drop_.count(); ++n) {
    const Maildrop::Entry& e = drop_.at(n);
    if (!e.deleted) fmt::format_to(out, "{} {}\r\n", n, drop_.uidl(e));
  }
  out_ += ".\r\n";
}

void Session::do_dele(const proto::Command& cmd) {
  if (message(*cmd.msg) == nullptr) return;
  drop_.mark_deleted(*cmd.msg);
  reply(fmt::format("+OK Message {} deleted", *cmd.msg));
}

void Session::do_rset() {
  drop_.unmark_all();
  reply(fmt::format("+OK {} messages ({} octets)", drop_.live_count(), drop_.live_size()));
}

asio::awaitable<Flow> Session::send_message(uint32_t n, std::optional<uint32_t> top_lines) {
  const Maildrop::Entry* e = message(n);
  if (e == nullptr) co_return Flow::kContinue;
  store::MailStore* store = env_.store;
  const store::Id blob_id = e->blob_id;
  const uint64_t size = e->size;
  const bool whole = size <= kWholeRead;
  // One store call reads a small message whole, or opens a large one and reads its first
  // chunk; a reader that has given everything is closed in the call that emptied it.
  std::string bytes;
  std::unique_ptr<store::BlobReader> reader;
  uint64_t offset = 0;
  Status st = co_await env_.pool->run([&]() -> Status {
    if (whole) {
      auto r = store->read_blob(blob_id);
      if (!r) return tl::unexpected(r.error());
      bytes = std::move(*r);
      return ok();
    }
    auto opened = store->open_blob(blob_id);
    if (!opened) return tl::unexpected(opened.error());
    reader = std::move(*opened);
    auto r = reader->read(0, kChunk);
    if (!r) return tl::unexpected(r.error());
    bytes = std::move(*r);
    if (bytes.size() < kChunk) reader.reset();
    return ok();
  });
  if (!st) {
    if (st.error().code == ErrorCode::kNotFound) {
      // Expunged by IMAP since the snapshot, and its bytes gone with it.
      spdlog::info("pop3[{}] {}: message {} (uid {}) is gone", id_, peer_, n, e->uid);
      reply(fmt::format("-ERR Message {} was removed by another session", n));
    } else {
      spdlog::warn("pop3[{}] {}: cannot read message {} (uid {}): {}", id_, peer_, n, e->uid,
                   st.error().to_string());
      reply("-ERR [SYS/TEMP] Cannot read the message, try again later");
    }
    co_return Flow::kContinue;
  }
  if (top_lines) {
    reply("+OK Top of message follows");
  } else {
    reply(fmt::format("+OK {} octets", size));
    drop_.mark_retrieved(n);
  }
  proto::DotStuffer stuffer = top_lines ? proto::DotStuffer::top(*top_lines) : proto::DotStuffer();
  bool more = true;
  for (;;) {
    // Encode what was read in kChunk slices, writing whenever kFlushBytes gathered.
    for (std::size_t pos = 0; more && pos < bytes.size(); pos += kChunk) {
      more = stuffer.feed(std::string_view(bytes).substr(pos, kChunk), out_);
      if (out_.size() >= kFlushBytes) {
        if (!co_await flush()) co_return Flow::kClose;
      }
    }
    offset += bytes.size();
    if (!more || !reader) break;
    Status next = co_await env_.pool->run([&]() -> Status {
      auto r = reader->read(offset, kChunk);
      if (!r) return tl::unexpected(r.error());
      bytes = std::move(*r);
      if (bytes.size() < kChunk) reader.reset();
      return ok();
    });
    if (!next) {
      // The +OK and part of the message are out: the only honest end is to hang up.
      spdlog::error("pop3[{}] {}: reading message {} (uid {}) failed at octet {}: {}", id_, peer_, n,
                    e->uid, offset, next.error().to_string());
      co_await env_.pool->run([&] { reader.reset(); });
      closed_ = true;
      co_return Flow::kClose;
    }
  }
  if (reader) co_await env_.pool->run([&] { reader.reset(); });  // TOP stopped early
  stuffer.finish(out_);
  co_return Flow::kContinue;
}

asio::awaitable<Flow> Session::update() {
  // RFC 1939 6: remove the messages marked deleted, durably, before answering; then let the
  // maildrop go. Retrieved messages become \Seen for IMAP clients, as Dovecot does
  // (best effort: a failure there loses nothing).
  store::MailStore* store = env_.store;
  const store::Id mailbox = drop_.mailbox_id();
  const std::vector<uint32_t> deleted = drop_.deleted_uids();
  const std::vector<uint32_t> seen = drop_.seen_uids();
  const uint64_t session = id_;
  Result<std::size_t> expunged = co_await env_.pool->run([&]() -> Result<std::size_t> {
    std::size_t n = 0;
    if (!deleted.empty()) {
      auto r = store->expunge(mailbox, deleted);
      if (!r) {
        lock_.reset();
        return tl::unexpected(r.error());
      }
      n = r->uids.size();
    }
    if (!seen.empty()) {
      auto r = store->store_flags(mailbox, seen, store::FlagOp::kAdd, store::kFlagSeen, {}, std::nullopt, nullptr);
      if (!r) spdlog::info("pop3[{}]: could not flag retrieved messages \\Seen: {}", session, r.error().to_string());
    }
    lock_.reset();
    return n;
  });
  transaction_ = false;
  if (!expunged) {
    spdlog::warn("pop3[{}] {}: deleting {} messages failed: {}", id_, peer_, deleted.size(),
                 expunged.error().to_string());
    reply("-ERR [SYS/TEMP] Could not delete the messages marked deleted; they are kept");
    co_return Flow::kClose;
  }
  spdlog::info("pop3[{}] {}: QUIT: {} messages deleted, {} left", id_, peer_, *expunged, drop_.live_count());
  reply(fmt::format("+OK Tern POP3 server signing off ({} messages deleted)", deleted.size()));
  co_return Flow::kClose;
}

}  // namespace tern::pop3
