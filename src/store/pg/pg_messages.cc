// store/pg/pg_messages.cc: delivering (append, and SMTP acceptance with its queue entry),
// listing, flagging, copying, moving and expunging messages. Every write job here bumps the
// mailbox's HIGHESTMODSEQ once and stamps the rows it touches with the new value, holding
// the mailbox row lock until the batch commits.
#include <algorithm>

#include "base/clock.h"
#include "base/strings.h"
#include "store/pg/pg_store_impl.h"
#include "store/queue_checks.h"

namespace tern::store::pg {
namespace {

std::vector<uint32_t> sorted_unique(std::span<const uint32_t> uids) {
  std::vector<uint32_t> v(uids.begin(), uids.end());
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// Locks the mailboxes in id order (so two jobs locking the same pair cannot deadlock) and
// returns them in the order asked. kNotFound names the first missing one.
Result<std::vector<Mailbox>> lock_mailboxes(Conn& c, std::vector<Id> ids) {
  std::vector<Id> order = ids;
  std::sort(order.begin(), order.end());
  order.erase(std::unique(order.begin(), order.end()), order.end());
  std::vector<Mailbox> locked;
  for (Id id : order) {
    PG_ASSIGN(mb, load_mailbox(c, id, true));
    if (!mb) return make_error(ErrorCode::kNotFound, "no mailbox {}", id);
    locked.push_back(*mb);
  }
  std::vector<Mailbox> out;
  for (Id id : ids) {
    out.push_back(*std::find_if(locked.begin(), locked.end(), [&](const Mailbox& m) { return m.id == id; }));
  }
  return out;
}

// Copies the existing ones of `uids` from `src` to `dest` (one modseq for all copies).
// Both mailboxes are locked by the caller.
Status copy_rows(Conn& c, const Mailbox& src, std::span<const uint32_t> uids, const Mailbox& dmb, Copied& out,
                 std::vector<MailboxChange>& events) {
  out = Copied{};
  out.uidvalidity = dmb.uidvalidity;
  const std::vector<uint32_t> wanted = sorted_unique(uids);
  PG_ASSIGN(rows, c.exec("SELECT uid, size, blob_id FROM messages WHERE mailbox_id = $1 AND uid = ANY($2::bigint[]) "
                         "ORDER BY uid",
                         Params().i64(src.id).i64_array(wanted.begin(), wanted.end())));
  if (rows.rows() == 0) return ok();
  const auto n = static_cast<std::size_t>(rows.rows());
  if (uint64_t{dmb.uidnext} + n > uint64_t{UINT32_MAX}) {
    return make_error(ErrorCode::kLimit, "mailbox {} has run out of UIDs", dmb.id);
  }
  const uint64_t modseq = dmb.highestmodseq + 1;
  int64_t total = 0;
  std::vector<Id> blobs;
  for (std::size_t i = 0; i < n; ++i) {
    const int row = static_cast<int>(i);
    out.source_uids.push_back(static_cast<uint32_t>(rows.i64(row, 0)));
    out.dest_uids.push_back(dmb.uidnext + static_cast<uint32_t>(i));
    total += rows.i64(row, 1);
    blobs.push_back(rows.i64(row, 2));
  }
  // The SELECT reads the statement's snapshot, so copies into the same mailbox never see
  // their own new rows.
  PG_TRY(c.exec("INSERT INTO messages(mailbox_id, uid, modseq, flags, keywords, internal_date, size, blob_id) "
                "SELECT $1, u.d, $2, m.flags, m.keywords, m.internal_date, m.size, m.blob_id "
                "FROM unnest($3::bigint[], $4::bigint[]) AS u(s, d) "
                "JOIN messages m ON m.mailbox_id = $5 AND m.uid = u.s",
                Params().i64(dmb.id).i64(static_cast<int64_t>(modseq))
                    .i64_array(out.source_uids.begin(), out.source_uids.end())
                    .i64_array(out.dest_uids.begin(), out.dest_uids.end()).i64(src.id)));
  PG_TRY(c.exec("UPDATE blobs b SET refcount = b.refcount + c.n "
                "FROM (SELECT id, count(*) AS n FROM unnest($1::bigint[]) AS id GROUP BY id) c WHERE b.id = c.id",
                Params().i64_array(blobs.begin(), blobs.end())));
  PG_TRY(c.exec("UPDATE mailboxes SET uidnext = $1, highestmodseq = $2, messages = messages + $3, "
                "total_size = total_size + $4 WHERE id = $5",
                Params().i64(int64_t{dmb.uidnext} + static_cast<int64_t>(n)).i64(static_cast<int64_t>(modseq))
                    .i64(static_cast<int64_t>(n)).i64(total).i64(dmb.id)));
  events.push_back(MailboxChange{MailboxChange::Kind::kAppend, dmb.account_id, dmb.id, modseq, out.dest_uids});
  return ok();
}

// Removes the existing ones of `uids` and logs them as expunged (one modseq for all). The
// mailbox is locked by the caller.
Status expunge_rows(Conn& c, const Mailbox& mb, std::span<const uint32_t> uids, Expunged& out,
                    std::vector<MailboxChange>& events) {
  out = Expunged{};
  const std::vector<uint32_t> wanted = sorted_unique(uids);
  if (wanted.empty()) return ok();
  const uint64_t modseq = mb.highestmodseq + 1;
  PG_ASSIGN(del, c.exec("DELETE FROM messages WHERE mailbox_id = $1 AND uid = ANY($2::bigint[]) RETURNING uid, size",
                        Params().i64(mb.id).i64_array(wanted.begin(), wanted.end())));
  if (del.rows() == 0) return ok();
  int64_t total = 0;
  for (int i = 0; i < del.rows(); ++i) {
    out.uids.push_back(static_cast<uint32_t>(del.i64(i, 0)));
    total += del.i64(i, 1);
  }
  std::sort(out.uids.begin(), out.uids.end());
  out.modseq = modseq;
  PG_TRY(c.exec("INSERT INTO expunged(mailbox_id, uid, modseq) SELECT $1, u, $2 FROM unnest($3::bigint[]) AS u",
                Params().i64(mb.id).i64(static_cast<int64_t>(modseq)).i64_array(out.uids.begin(), out.uids.end())));
  PG_TRY(c.exec("UPDATE mailboxes SET highestmodseq = $1, messages = messages - $2, total_size = total_size - $3 "
                "WHERE id = $4",
                Params().i64(static_cast<int64_t>(modseq)).i64(static_cast<int64_t>(out.uids.size())).i64(total)
                    .i64(mb.id)));
  events.push_back(MailboxChange{MailboxChange::Kind::kExpunge, mb.account_id, mb.id, modseq, out.uids});
  return ok();
}

}  // namespace

Result<std::vector<Appended>> PgStore::append(std::string_view bytes, int64_t internal_date,
                                              std::span<const AppendTarget> targets) {
  if (targets.empty()) return make_error(ErrorCode::kInvalid, "append without a target mailbox");
  PG_ASSIGN(d, deliver(bytes, internal_date, targets, nullptr));
  return std::move(d.appended);
}

Result<Delivered> PgStore::deliver(std::string_view bytes, int64_t internal_date,
                                   std::span<const AppendTarget> targets, const OutboundMessage* outbound) {
  PG_TRY(check_delivery(bytes, targets, outbound));
  Delivered out;
  std::vector<std::string> keywords;
  for (const auto& t : targets) keywords.push_back(join_keywords(normalize_keywords(t.keywords)));
  const int64_t now = unix_seconds(SystemClock::instance().now());
  // The bytes are stored once, referenced by every target and by the queue entry.
  const auto holders = static_cast<int64_t>(targets.size() + (outbound != nullptr ? 1 : 0));
  PG_TRY(write([&](Conn& c, std::vector<MailboxChange>& events) -> Status {
    out = Delivered{};
    Id blob_id = 0;
    if (targets.empty()) {
      PG_ASSIGN(b, c.exec("INSERT INTO blobs(size, refcount, data) VALUES ($1, $2, $3) RETURNING id",
                          Params().i64(static_cast<int64_t>(bytes.size())).i64(holders).bytes(bytes)));
      blob_id = b.i64(0, 0);
    }
    for (std::size_t i = 0; i < targets.size(); ++i) {
      const AppendTarget& t = targets[i];
      // The UPDATE row-locks the mailbox until commit: UIDs are allocated and become
      // visible in order, across all nodes. The first target also stores the bytes, once
      // for every holder (one round trip for the common single-target append).
      Params p;
      p.i64(static_cast<int64_t>(bytes.size())).i64(t.mailbox_id).i64(t.flags & kAllFlags).text(keywords[i])
          .i64(internal_date);
      Result<PgResult> res;
      if (i == 0) {
        p.i64(holders).bytes(bytes);
        res = c.exec("WITH b AS (INSERT INTO blobs(size, refcount, data) VALUES ($1, $6, $7) RETURNING id), "
                     "m AS (UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1, "
                     "messages = messages + 1, total_size = total_size + $1 WHERE id = $2 "
                     "RETURNING account_id, uidvalidity, uidnext - 1 AS uid, highestmodseq), "
                     "i AS (INSERT INTO messages(mailbox_id, uid, modseq, flags, keywords, internal_date, size, "
                     "blob_id) SELECT $2, m.uid, m.highestmodseq, $3, $4, $5, $1, b.id FROM m, b "
                     "WHERE m.uid < 4294967295) "
                     "SELECT m.account_id, m.uidvalidity, m.uid, m.highestmodseq, b.id FROM b LEFT JOIN m ON true",
                     p);
      } else {
        p.i64(blob_id);
        res = c.exec("WITH m AS (UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1, "
                     "messages = messages + 1, total_size = total_size + $1 WHERE id = $2 "
                     "RETURNING account_id, uidvalidity, uidnext - 1 AS uid, highestmodseq), "
                     "i AS (INSERT INTO messages(mailbox_id, uid, modseq, flags, keywords, internal_date, size, "
                     "blob_id) SELECT $2, uid, highestmodseq, $3, $4, $5, $1, $6 FROM m WHERE uid < 4294967295) "
                     "SELECT account_id, uidvalidity, uid, highestmodseq, $6::bigint FROM m",
                     p);
      }
      if (!res) return tl::unexpected(res.error());
      const PgResult& r = *res;
      if (r.rows() == 0 || r.null(0, 0)) return make_error(ErrorCode::kNotFound, "no mailbox {}", t.mailbox_id);
      blob_id = r.i64(0, 4);
      const int64_t uid = r.i64(0, 2);
      if (uid <= 0 || uid >= int64_t{UINT32_MAX}) {
        return make_error(ErrorCode::kLimit, "mailbox {} has run out of UIDs", t.mailbox_id);
      }
      const Id account_id = r.i64(0, 0);
      Appended a{t.mailbox_id, static_cast<uint32_t>(r.i64(0, 1)), static_cast<uint32_t>(uid),
                 static_cast<uint64_t>(r.i64(0, 3))};
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
      PG_ASSIGN(id, insert_queue_entry(c, blob_id, *outbound, now, now, 0));
      out.queue_id = id;
    }
    return ok();
  }));
  appends_.fetch_add(out.appended.size(), std::memory_order_relaxed);
  return out;
}

Result<std::vector<Message>> PgStore::list_messages(Id mailbox_id, uint32_t first_uid, uint32_t last_uid) {
  return read([&](Conn& c) -> Result<std::vector<Message>> {
    PG_ASSIGN(r, c.exec("SELECT uid, modseq, flags, keywords, internal_date, size, blob_id FROM messages "
                        "WHERE mailbox_id = $1 AND uid BETWEEN $2 AND $3 ORDER BY uid",
                        Params().i64(mailbox_id).i64(first_uid).i64(last_uid)));
    std::vector<Message> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      Message m;
      m.mailbox_id = mailbox_id;
      m.uid = static_cast<uint32_t>(r.i64(i, 0));
      m.modseq = static_cast<uint64_t>(r.i64(i, 1));
      m.flags = static_cast<uint32_t>(r.i64(i, 2));
      m.keywords = split_keywords(r.view(i, 3));
      m.internal_date = r.i64(i, 4);
      m.size = static_cast<uint64_t>(r.i64(i, 5));
      m.blob_id = r.i64(i, 6);
      out.push_back(std::move(m));
    }
    return out;
  });
}

Result<std::vector<FlagChange>> PgStore::store_flags(Id mailbox_id, std::span<const uint32_t> uids, FlagOp op,
                                                     uint32_t flags, std::span<const std::string> keywords,
                                                     std::optional<uint64_t> unchanged_since,
                                                     std::vector<uint32_t>* failed) {
  flags &= kAllFlags;
  const std::vector<std::string> given = normalize_keywords({keywords.begin(), keywords.end()});
  const std::vector<uint32_t> wanted = sorted_unique(uids);
  std::vector<FlagChange> out;
  PG_TRY(write([&](Conn& c, std::vector<MailboxChange>& events) -> Status {
    out.clear();
    if (failed != nullptr) failed->clear();
    PG_ASSIGN(mb, load_mailbox(c, mailbox_id, true));
    if (!mb) return make_error(ErrorCode::kNotFound, "no mailbox {}", mailbox_id);
    const uint64_t modseq = mb->highestmodseq + 1;
    PG_ASSIGN(sel, c.exec("SELECT uid, modseq, flags, keywords FROM messages "
                          "WHERE mailbox_id = $1 AND uid = ANY($2::bigint[]) ORDER BY uid",
                          Params().i64(mailbox_id).i64_array(wanted.begin(), wanted.end())));
    std::vector<uint32_t> changed_uids;
    std::vector<int64_t> changed_flags;
    std::vector<std::string> changed_keywords;
    for (int i = 0; i < sel.rows(); ++i) {
      const auto uid = static_cast<uint32_t>(sel.i64(i, 0));
      const auto old_modseq = static_cast<uint64_t>(sel.i64(i, 1));
      const auto old_flags = static_cast<uint32_t>(sel.i64(i, 2));
      const std::vector<std::string> old_kw = split_keywords(sel.view(i, 3));
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
      changed_uids.push_back(uid);
      changed_flags.push_back(new_flags);
      changed_keywords.push_back(join_keywords(new_kw));
      out.push_back(FlagChange{uid, modseq, new_flags, std::move(new_kw)});
    }
    if (out.empty()) return ok();
    PG_TRY(c.exec("UPDATE messages m SET flags = u.f, keywords = u.k, modseq = $2 "
                  "FROM unnest($3::bigint[], $4::integer[], $5::text[]) AS u(uid, f, k) "
                  "WHERE m.mailbox_id = $1 AND m.uid = u.uid",
                  Params().i64(mailbox_id).i64(static_cast<int64_t>(modseq))
                      .i64_array(changed_uids.begin(), changed_uids.end())
                      .i64_array(changed_flags.begin(), changed_flags.end()).text_array(changed_keywords)));
    PG_TRY(c.exec("UPDATE mailboxes SET highestmodseq = $1 WHERE id = $2",
                  Params().i64(static_cast<int64_t>(modseq)).i64(mailbox_id)));
    MailboxChange e{MailboxChange::Kind::kFlags, mb->account_id, mailbox_id, modseq, changed_uids};
    events.push_back(std::move(e));
    return ok();
  }));
  return out;
}

Result<Copied> PgStore::copy_messages(Id source_mailbox, std::span<const uint32_t> uids, Id dest) {
  Copied out;
  PG_TRY(write([&](Conn& c, std::vector<MailboxChange>& events) -> Status {
    out = Copied{};
    PG_ASSIGN(boxes, lock_mailboxes(c, {source_mailbox, dest}));
    return copy_rows(c, boxes[0], uids, boxes[1], out, events);
  }));
  return out;
}

Result<std::pair<Copied, Expunged>> PgStore::move_messages(Id source_mailbox, std::span<const uint32_t> uids,
                                                           Id dest) {
  std::pair<Copied, Expunged> out;
  PG_TRY(write([&](Conn& c, std::vector<MailboxChange>& events) -> Status {
    out = {};
    if (source_mailbox == dest) return make_error(ErrorCode::kInvalid, "move into the same mailbox");
    PG_ASSIGN(boxes, lock_mailboxes(c, {source_mailbox, dest}));
    PG_TRY(copy_rows(c, boxes[0], uids, boxes[1], out.first, events));
    return expunge_rows(c, boxes[0], out.first.source_uids, out.second, events);
  }));
  return out;
}

Result<Expunged> PgStore::expunge(Id mailbox_id, std::span<const uint32_t> uids) {
  Expunged out;
  PG_TRY(write([&](Conn& c, std::vector<MailboxChange>& events) -> Status {
    PG_ASSIGN(mb, load_mailbox(c, mailbox_id, true));
    if (!mb) return make_error(ErrorCode::kNotFound, "no mailbox {}", mailbox_id);
    return expunge_rows(c, *mb, uids, out, events);
  }));
  return out;
}

Result<std::vector<uint32_t>> PgStore::expunged_since(Id mailbox_id, uint64_t since) {
  return read([&](Conn& c) -> Result<std::vector<uint32_t>> {
    PG_ASSIGN(r, c.exec("SELECT uid FROM expunged WHERE mailbox_id = $1 AND modseq > $2 ORDER BY uid",
                        Params().i64(mailbox_id).i64(static_cast<int64_t>(since))));
    std::vector<uint32_t> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(static_cast<uint32_t>(r.i64(i, 0)));
    return out;
  });
}

}  // namespace tern::store::pg
