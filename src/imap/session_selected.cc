// imap/session_selected.cc: the selected state (RFC 3501 6.4 / RFC 9051 6.4): SELECT and
// EXAMINE, keeping the MailboxView in sync with the ChangeFeed, IDLE (RFC 2177), FETCH,
// STORE, SEARCH, EXPUNGE / UID EXPUNGE, COPY / MOVE (RFC 6851) with COPYUID (RFC 4315).
#include "imap/session_impl.h"

namespace tern::imap::detail {

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
namespace {
store::FlagOp flag_op(proto::Store::Mode mode) {
  switch (mode) {
    case proto::Store::Mode::kAdd: return store::FlagOp::kAdd;
    case proto::Store::Mode::kRemove: return store::FlagOp::kRemove;
    case proto::Store::Mode::kReplace: break;
  }
  return store::FlagOp::kReplace;
}
}  // namespace

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
  std::optional<std::vector<SeqUid>> resolved = view.resolve_for(cmd.set, cmd.uid);
  if (!resolved) co_return ok("BAD Invalid message number");
  std::vector<SeqUid> set = std::move(*resolved);
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
    // kNotFound: another session expunged the message after we listed it, and its bytes
    // went with it. Like one expunged before the listing, it is left out (RFC 2180 4.1.3);
    // the EXPUNGE reaches this session at the next point that may report it.
    if (!built && built.error().code == ErrorCode::kNotFound) continue;
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
  std::optional<std::vector<SeqUid>> resolved = view.resolve_for(cmd.set, cmd.uid);
  if (!resolved) co_return ok("BAD Invalid message number");
  std::vector<SeqUid> set = std::move(*resolved);
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
  std::optional<std::vector<SeqUid>> resolved = selected_->view->resolve_for(seqset, uid);
  if (!resolved) co_return ok("BAD Invalid message number");
  std::vector<SeqUid> set = std::move(*resolved);
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

}  // namespace tern::imap::detail
