// store/sqlite/sqlite_messages.cc: delivering (append, and SMTP acceptance with its queue
// entry), listing, flagging, copying, moving and expunging messages. Every write job here
// bumps the mailbox's HIGHESTMODSEQ once and stamps the rows it touches with the new value.
#include <algorithm>
#include <map>

#include "base/clock.h"
#include "base/strings.h"
#include "store/queue_checks.h"
#include "store/sqlite/sqlite_store_impl.h"

namespace tern::store::sqlite {
namespace {

std::vector<uint32_t> sorted_unique(std::span<const uint32_t> uids) {
  std::vector<uint32_t> v(uids.begin(), uids.end());
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

struct SourceRow {
  uint32_t uid;
  uint32_t flags;
  std::string keywords;
  int64_t internal_date;
  int64_t size;
  Id blob_id;
};

// Copies the existing ones of `uids` from `src` to `dest` (one modseq for all copies).
Status copy_rows(Connection& c, Id src, std::span<const uint32_t> uids, Id dest, Copied& out,
                 std::vector<MailboxChange>& events) {
  out = Copied{};
  STORE_ASSIGN(smb, load_mailbox(c, src));
  if (!smb) return make_error(ErrorCode::kNotFound, "no mailbox {}", src);
  STORE_ASSIGN(dmb, load_mailbox(c, dest));
  if (!dmb) return make_error(ErrorCode::kNotFound, "no mailbox {}", dest);
  out.uidvalidity = dmb->uidvalidity;
  // Read every source row first: copying into the same mailbox creates UIDs that `uids`
  // might name.
  std::vector<SourceRow> rows;
  {
    STORE_ASSIGN(q, c.query("SELECT flags, keywords, internal_date, size, blob_id FROM messages "
                            "WHERE mailbox_id = ? AND uid = ?"));
    for (uint32_t uid : sorted_unique(uids)) {
      q.bind(1, src).bind(2, uid);
      STORE_ASSIGN(row, q.step());
      if (!row) continue;
      rows.push_back(SourceRow{uid, static_cast<uint32_t>(q.i64(0)), q.text(1), q.i64(2), q.i64(3), q.i64(4)});
      q.reset();
    }
  }
  if (rows.empty()) return ok();
  if (uint64_t{dmb->uidnext} + rows.size() > uint64_t{UINT32_MAX}) {
    return make_error(ErrorCode::kLimit, "mailbox {} has run out of UIDs", dest);
  }
  const uint64_t modseq = dmb->highestmodseq + 1;
  uint32_t uid = dmb->uidnext;
  int64_t total = 0;
  STORE_ASSIGN(ins, c.query("INSERT INTO messages(mailbox_id, uid, modseq, flags, keywords, internal_date, "
                            "size, blob_id) VALUES (?,?,?,?,?,?,?,?)"));
  STORE_ASSIGN(ref, c.query("UPDATE blobs SET refcount = refcount + 1 WHERE id = ?"));
  for (const SourceRow& r : rows) {
    STORE_TRY(ins.bind(1, dest).bind(2, uid).bind(3, modseq).bind(4, r.flags).bind(5, r.keywords)
                  .bind(6, r.internal_date).bind(7, r.size).bind(8, r.blob_id).run());
    STORE_TRY(ref.bind(1, r.blob_id).run());
    out.source_uids.push_back(r.uid);
    out.dest_uids.push_back(uid);
    total += r.size;
    ++uid;
  }
  STORE_ASSIGN(upd, c.query("UPDATE mailboxes SET uidnext = ?, highestmodseq = ?, messages = messages + ?, "
                            "total_size = total_size + ? WHERE id = ?"));
  STORE_TRY(upd.bind(1, uid).bind(2, modseq).bind(3, rows.size()).bind(4, total).bind(5, dest).run());
  events.push_back(MailboxChange{MailboxChange::Kind::kAppend, dmb->account_id, dest, modseq, out.dest_uids});
  return ok();
}

// Removes the existing ones of `uids` and logs them as expunged (one modseq for all).
Status expunge_rows(Connection& c, Id mailbox_id, std::span<const uint32_t> uids, Expunged& out,
                    std::vector<MailboxChange>& events) {
  out = Expunged{};
  STORE_ASSIGN(mb, load_mailbox(c, mailbox_id));
  if (!mb) return make_error(ErrorCode::kNotFound, "no mailbox {}", mailbox_id);
  const uint64_t modseq = mb->highestmodseq + 1;
  int64_t total = 0;
  STORE_ASSIGN(del, c.query("DELETE FROM messages WHERE mailbox_id = ? AND uid = ? RETURNING size"));
  STORE_ASSIGN(log, c.query("INSERT INTO expunged(mailbox_id, uid, modseq) VALUES (?,?,?)"));
  for (uint32_t uid : sorted_unique(uids)) {
    del.bind(1, mailbox_id).bind(2, uid);
    STORE_ASSIGN(row, del.step());
    if (!row) continue;
    total += del.i64(0);
    STORE_TRY(del.run());
    STORE_TRY(log.bind(1, mailbox_id).bind(2, uid).bind(3, modseq).run());
    out.uids.push_back(uid);
  }
  if (out.uids.empty()) return ok();
  out.modseq = modseq;
  STORE_ASSIGN(upd, c.query("UPDATE mailboxes SET highestmodseq = ?, messages = messages - ?, "
                            "total_size = total_size - ? WHERE id = ?"));
  STORE_TRY(upd.bind(1, modseq).bind(2, out.uids.size()).bind(3, total).bind(4, mailbox_id).run());
  events.push_back(MailboxChange{MailboxChange::Kind::kExpunge, mb->account_id, mailbox_id, modseq, out.uids});
  return ok();
}

}  // namespace

Result<std::vector<Appended>> SqliteStore::append(std::string_view bytes, int64_t internal_date,
                                                  std::span<const AppendTarget> targets) {
  if (targets.empty()) return make_error(ErrorCode::kInvalid, "append without a target mailbox");
  STORE_ASSIGN(d, deliver(bytes, internal_date, targets, nullptr));
  return std::move(d.appended);
}

Writer::Job SqliteStore::deliver_job(std::string_view bytes, int64_t internal_date,
                                     std::span<const AppendTarget> targets, const OutboundMessage* outbound,
                                     std::shared_ptr<Delivered> result) {
  std::vector<std::string> keywords;
  for (const auto& t : targets) keywords.push_back(join_keywords(normalize_keywords(t.keywords)));
  const int64_t now = unix_seconds(SystemClock::instance().now());
  return [this, bytes, internal_date, targets, outbound, result = std::move(result),
          keywords = std::move(keywords), now](Connection& c, std::vector<MailboxChange>& events) -> Status {
    Delivered& out = *result;
    out = Delivered{};
    // The bytes are stored once, referenced by every target and by the queue entry.
    const std::size_t holders = targets.size() + (outbound != nullptr ? 1 : 0);
    STORE_ASSIGN(blob, c.query("INSERT INTO blobs(size, refcount, data) VALUES (?,?,?)"));
    STORE_TRY(blob.bind(1, bytes.size()).bind(2, holders).bind_blob(3, bytes).run());
    const Id blob_id = c.last_insert_rowid();
    STORE_ASSIGN(upd, c.query("UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1, "
                              "messages = messages + 1, total_size = total_size + ? WHERE id = ? "
                              "RETURNING account_id, uidvalidity, uidnext - 1, highestmodseq"));
    STORE_ASSIGN(ins, c.query("INSERT INTO messages(mailbox_id, uid, modseq, flags, keywords, internal_date, "
                              "size, blob_id) VALUES (?,?,?,?,?,?,?,?)"));
    for (std::size_t i = 0; i < targets.size(); ++i) {
      const AppendTarget& t = targets[i];
      upd.bind(1, bytes.size()).bind(2, t.mailbox_id);
      STORE_ASSIGN(row, upd.step());
      if (!row) return make_error(ErrorCode::kNotFound, "no mailbox {}", t.mailbox_id);
      const Id account_id = upd.i64(0);
      const int64_t uid = upd.i64(2);
      Appended a{t.mailbox_id, static_cast<uint32_t>(upd.i64(1)), static_cast<uint32_t>(uid),
                 static_cast<uint64_t>(upd.i64(3))};
      STORE_TRY(upd.run());
      if (uid <= 0 || uid >= int64_t{UINT32_MAX}) {
        return make_error(ErrorCode::kLimit, "mailbox {} has run out of UIDs", t.mailbox_id);
      }
      STORE_TRY(ins.bind(1, t.mailbox_id).bind(2, a.uid).bind(3, a.modseq).bind(4, t.flags & kAllFlags)
                    .bind(5, keywords[i]).bind(6, internal_date).bind(7, bytes.size()).bind(8, blob_id).run());
      out.appended.push_back(a);
      auto same = std::find_if(events.begin(), events.end(),
                               [&](const MailboxChange& e) { return e.mailbox_id == a.mailbox_id; });
      if (same == events.end()) {
        events.push_back(MailboxChange{MailboxChange::Kind::kAppend, account_id, a.mailbox_id, a.modseq, {a.uid}});
      } else {
        same->modseq = a.modseq;
        same->uids.push_back(a.uid);
      }
    }
    if (outbound != nullptr) {
      STORE_ASSIGN(id, insert_queue_entry(c, blob_id, *outbound, now, now, 0));
      out.queue_id = id;
    }
    appends_.fetch_add(out.appended.size(), std::memory_order_relaxed);
    return ok();
  };
}

Result<Delivered> SqliteStore::deliver(std::string_view bytes, int64_t internal_date,
                                       std::span<const AppendTarget> targets, const OutboundMessage* outbound) {
  STORE_TRY(check_delivery(bytes, targets, outbound));
  auto out = std::make_shared<Delivered>();
  STORE_TRY(write(deliver_job(bytes, internal_date, targets, outbound, out)));
  return std::move(*out);
}

void SqliteStore::deliver_async(std::string_view bytes, int64_t internal_date,
                                std::span<const AppendTarget> targets, const OutboundMessage* outbound,
                                DeliverDone done) {
  if (auto st = check_delivery(bytes, targets, outbound); !st) {
    done(tl::unexpected(st.error()));
    return;
  }
  auto out = std::make_shared<Delivered>();
  writer_->submit(deliver_job(bytes, internal_date, targets, outbound, out),
                  [out, done = std::move(done)](Status st) {
                    if (!st) {
                      done(tl::unexpected(st.error()));
                    } else {
                      done(std::move(*out));
                    }
                  });
}

Result<std::vector<Message>> SqliteStore::list_messages(Id mailbox_id, uint32_t first_uid, uint32_t last_uid) {
  return read([&](Connection& c) -> Result<std::vector<Message>> {
    std::vector<Message> out;
    STORE_ASSIGN(q, c.query("SELECT uid, modseq, flags, keywords, internal_date, size, blob_id FROM messages "
                            "WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid"));
    q.bind(1, mailbox_id).bind(2, first_uid).bind(3, last_uid);
    for (;;) {
      STORE_ASSIGN(row, q.step());
      if (!row) break;
      Message m;
      m.mailbox_id = mailbox_id;
      m.uid = static_cast<uint32_t>(q.i64(0));
      m.modseq = static_cast<uint64_t>(q.i64(1));
      m.flags = static_cast<uint32_t>(q.i64(2));
      m.keywords = split_keywords(q.text(3));
      m.internal_date = q.i64(4);
      m.size = static_cast<uint64_t>(q.i64(5));
      m.blob_id = q.i64(6);
      out.push_back(std::move(m));
    }
    return out;
  });
}

Result<std::vector<FlagChange>> SqliteStore::store_flags(Id mailbox_id, std::span<const uint32_t> uids, FlagOp op,
                                                         uint32_t flags, std::span<const std::string> keywords,
                                                         std::optional<uint64_t> unchanged_since,
                                                         std::vector<uint32_t>* failed) {
  flags &= kAllFlags;
  const std::vector<std::string> given = normalize_keywords({keywords.begin(), keywords.end()});
  std::vector<FlagChange> out;
  STORE_TRY(write([&](Connection& c, std::vector<MailboxChange>& events) -> Status {
    out.clear();
    if (failed != nullptr) failed->clear();
    STORE_ASSIGN(mb, load_mailbox(c, mailbox_id));
    if (!mb) return make_error(ErrorCode::kNotFound, "no mailbox {}", mailbox_id);
    const uint64_t modseq = mb->highestmodseq + 1;
    STORE_ASSIGN(sel, c.query("SELECT modseq, flags, keywords FROM messages WHERE mailbox_id = ? AND uid = ?"));
    STORE_ASSIGN(upd, c.query("UPDATE messages SET flags = ?, keywords = ?, modseq = ? "
                              "WHERE mailbox_id = ? AND uid = ?"));
    for (uint32_t uid : sorted_unique(uids)) {
      sel.bind(1, mailbox_id).bind(2, uid);
      STORE_ASSIGN(row, sel.step());
      if (!row) continue;
      const auto old_modseq = static_cast<uint64_t>(sel.i64(0));
      const auto old_flags = static_cast<uint32_t>(sel.i64(1));
      const std::vector<std::string> old_kw = split_keywords(sel.text(2));
      sel.reset();
      if (unchanged_since && old_modseq > *unchanged_since) {
        if (failed != nullptr) failed->push_back(uid);
        continue;
      }
      uint32_t new_flags = old_flags;
      std::vector<std::string> new_kw;
      switch (op) {
        case FlagOp::kReplace:
          new_flags = flags;
          new_kw = given;
          break;
        case FlagOp::kAdd:
          new_flags = old_flags | flags;
          new_kw = old_kw;
          new_kw.insert(new_kw.end(), given.begin(), given.end());
          new_kw = normalize_keywords(std::move(new_kw));
          break;
        case FlagOp::kRemove:
          new_flags = old_flags & ~flags;
          for (const auto& k : old_kw) {
            if (!contains_keyword(given, k)) new_kw.push_back(k);
          }
          break;
      }
      if (new_flags == old_flags && new_kw == old_kw) continue;
      const std::string stored = join_keywords(new_kw);
      STORE_TRY(upd.bind(1, new_flags).bind(2, stored).bind(3, modseq).bind(4, mailbox_id).bind(5, uid).run());
      out.push_back(FlagChange{uid, modseq, new_flags, std::move(new_kw)});
    }
    if (out.empty()) return ok();
    STORE_ASSIGN(bump, c.query("UPDATE mailboxes SET highestmodseq = ? WHERE id = ?"));
    STORE_TRY(bump.bind(1, modseq).bind(2, mailbox_id).run());
    MailboxChange e{MailboxChange::Kind::kFlags, mb->account_id, mailbox_id, modseq, {}};
    for (const auto& fc : out) e.uids.push_back(fc.uid);
    events.push_back(std::move(e));
    return ok();
  }));
  return out;
}

Result<Copied> SqliteStore::copy_messages(Id source_mailbox, std::span<const uint32_t> uids, Id dest) {
  Copied out;
  STORE_TRY(write([&](Connection& c, std::vector<MailboxChange>& events) -> Status {
    return copy_rows(c, source_mailbox, uids, dest, out, events);
  }));
  return out;
}

Result<std::pair<Copied, Expunged>> SqliteStore::move_messages(Id source_mailbox, std::span<const uint32_t> uids,
                                                               Id dest) {
  std::pair<Copied, Expunged> out;
  STORE_TRY(write([&](Connection& c, std::vector<MailboxChange>& events) -> Status {
    if (source_mailbox == dest) return make_error(ErrorCode::kInvalid, "move into the same mailbox");
    STORE_TRY(copy_rows(c, source_mailbox, uids, dest, out.first, events));
    return expunge_rows(c, source_mailbox, out.first.source_uids, out.second, events);
  }));
  return out;
}

Result<Expunged> SqliteStore::expunge(Id mailbox_id, std::span<const uint32_t> uids) {
  Expunged out;
  STORE_TRY(write([&](Connection& c, std::vector<MailboxChange>& events) -> Status {
    return expunge_rows(c, mailbox_id, uids, out, events);
  }));
  return out;
}

Result<std::vector<uint32_t>> SqliteStore::expunged_since(Id mailbox_id, uint64_t since) {
  return read([&](Connection& c) -> Result<std::vector<uint32_t>> {
    std::vector<uint32_t> out;
    STORE_ASSIGN(q, c.query("SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid"));
    q.bind(1, mailbox_id).bind(2, since);
    for (;;) {
      STORE_ASSIGN(row, q.step());
      if (!row) break;
      out.push_back(static_cast<uint32_t>(q.i64(0)));
    }
    return out;
  });
}

}  // namespace tern::store::sqlite
