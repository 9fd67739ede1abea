// store/sqlite/sqlite_queue.cc: the outbound queue's rows: inserting an entry (for deliver,
// in sqlite_messages.cc, and for import), listing and deleting entries, and the delivery
// attempts' leases and outcomes. An entry's blob
// reference is released by the queue_release_blob trigger (schema.cc, migration 2).
#include <string>
#include <utility>

#include "store/queue_checks.h"
#include "store/sqlite/sqlite_store_impl.h"

namespace tern::store::sqlite {

Result<Id> insert_queue_entry(Connection& c, Id blob_id, const OutboundMessage& m, int64_t created,
                              int64_t next_attempt, uint32_t attempts) {
  STORE_ASSIGN(q, c.query("INSERT INTO queue(blob_id, sender, envid, ret, smtputf8, eightbit, skip, created, "
                          "next_attempt, attempts) VALUES (?,?,?,?,?,?,?,?,?,?)"));
  STORE_TRY(q.bind(1, blob_id).bind(2, m.sender).bind(3, m.envid).bind(4, static_cast<int>(m.ret))
                .bind(5, m.smtputf8 ? 1 : 0).bind(6, m.eightbit ? 1 : 0).bind(7, m.skip).bind(8, created)
                .bind(9, next_attempt).bind(10, attempts).run());
  const Id id = c.last_insert_rowid();
  STORE_ASSIGN(r, c.query("INSERT INTO queue_recipients(queue_id, position, address, notify, orcpt, state, "
                          "last_error) VALUES (?,?,?,?,?,?,?)"));
  for (std::size_t i = 0; i < m.recipients.size(); ++i) {
    const OutboundRecipient& rcpt = m.recipients[i];
    STORE_TRY(r.bind(1, id).bind(2, i).bind(3, rcpt.address).bind(4, rcpt.notify).bind(5, rcpt.orcpt)
                  .bind(6, static_cast<int>(rcpt.state)).bind(7, rcpt.last_error).run());
  }
  return id;
}

namespace {

// The columns read_entries() expects, entries joined with their recipients.
constexpr const char* kSelectEntries =
    "SELECT q.id, q.blob_id, b.size, q.created, q.next_attempt, q.attempts, q.sender, "
    "q.envid, q.ret, q.smtputf8, q.eightbit, q.skip, "
    "r.address, r.notify, r.orcpt, r.state, r.last_error, q.held, q.lease_owner, q.lease_until "
    "FROM queue q LEFT JOIN blobs b ON b.id = q.blob_id "
    "LEFT JOIN queue_recipients r ON r.queue_id = q.id ";

// Steps `q` (kSelectEntries ordered by entry then position) to the end, appending to `out`.
Status read_entries(Query& q, std::vector<QueueEntry>& out) {
  for (;;) {
    STORE_ASSIGN(row, q.step());
    if (!row) break;
    const Id id = q.i64(0);
    if (out.empty() || out.back().id != id) {
      if (q.is_null(2)) return make_error(ErrorCode::kCorruption, "queue entry {} lost its blob {}", id, q.i64(1));
      if (q.is_null(12)) return make_error(ErrorCode::kCorruption, "queue entry {} has no recipients", id);
      QueueEntry e;
      e.id = id;
      e.blob_id = q.i64(1);
      e.size = static_cast<uint64_t>(q.i64(2));
      e.created = q.i64(3);
      e.next_attempt = q.i64(4);
      e.attempts = static_cast<uint32_t>(q.i64(5));
      e.message.sender = q.text(6);
      e.message.envid = q.text(7);
      e.message.ret = static_cast<DsnRet>(q.i64(8));
      e.message.smtputf8 = q.i64(9) != 0;
      e.message.eightbit = q.i64(10) != 0;
      e.message.skip = static_cast<uint64_t>(q.i64(11));
      e.held = q.i64(17) != 0;
      if (!q.is_null(18)) e.lease_owner = q.text(18);
      if (!q.is_null(19)) e.lease_until = q.i64(19);
      out.push_back(std::move(e));
    }
    OutboundRecipient r;
    r.address = q.text(12);
    r.notify = static_cast<uint8_t>(q.i64(13));
    r.orcpt = q.text(14);
    r.state = static_cast<QueueState>(q.i64(15));
    r.last_error = q.text(16);
    out.back().message.recipients.push_back(std::move(r));
  }
  return ok();
}

}  // namespace

Result<std::vector<QueueEntry>> SqliteStore::list_queue() {
  return read([&](Connection& c) -> Result<std::vector<QueueEntry>> {
    // One statement, so one snapshot: entries and recipients agree.
    static const std::string sql = std::string(kSelectEntries) + "ORDER BY q.created, q.id, r.position";
    STORE_ASSIGN(q, c.query(sql.c_str()));
    std::vector<QueueEntry> out;
    STORE_TRY(read_entries(q, out));
    return out;
  });
}

Result<std::vector<QueueEntry>> SqliteStore::claim_due(int64_t now, std::size_t limit, std::string_view owner,
                                                       int64_t lease_seconds) {
  if (owner.empty()) return make_error(ErrorCode::kInvalid, "a queue lease needs an owner");
  std::vector<QueueEntry> out;
  if (limit == 0) return out;
  STORE_TRY(write([&](Connection& c, std::vector<MailboxChange>&) -> Status {
    out.clear();  // the writer may run a job again after a failed batch
    // The writer holds SQLite's only write lock, so select-then-update is atomic against
    // every other process on the same file.
    STORE_ASSIGN(due, c.query("SELECT id FROM queue WHERE next_attempt <= ?1 AND held = 0 "
                              "AND (lease_until IS NULL OR lease_until <= ?1) "
                              "AND EXISTS (SELECT 1 FROM queue_recipients r WHERE r.queue_id = queue.id "
                              "AND r.state = 0) ORDER BY next_attempt, id LIMIT ?2"));
    due.bind(1, now).bind(2, static_cast<int64_t>(limit));
    std::vector<Id> ids;
    for (;;) {
      STORE_ASSIGN(row, due.step());
      if (!row) break;
      ids.push_back(due.i64(0));
    }
    STORE_ASSIGN(lease, c.query("UPDATE queue SET lease_owner = ?, lease_until = ? WHERE id = ?"));
    static const std::string one = std::string(kSelectEntries) + "WHERE q.id = ? ORDER BY r.position";
    STORE_ASSIGN(load, c.query(one.c_str()));
    for (Id id : ids) {
      STORE_TRY(lease.bind(1, owner).bind(2, now + lease_seconds).bind(3, id).run());
      load.bind(1, id);
      STORE_TRY(read_entries(load, out));
    }
    return ok();
  }));
  return out;
}

Status SqliteStore::record_attempt(Id id, std::string_view owner, std::span<const RecipientOutcome> outcomes,
                                   int64_t next_attempt) {
  return write([&](Connection& c, std::vector<MailboxChange>&) -> Status {
    STORE_ASSIGN(entry, c.query("SELECT lease_owner, (SELECT count(*) FROM queue_recipients r "
                                "WHERE r.queue_id = queue.id) FROM queue WHERE id = ?"));
    entry.bind(1, id);
    STORE_ASSIGN(found, entry.step());
    if (!found) return make_error(ErrorCode::kNotFound, "no queue entry {}", id);
    const bool leased = !entry.is_null(0) && entry.text(0) == owner;
    const auto count = static_cast<std::size_t>(entry.i64(1));
    entry.reset();
    if (!leased) return make_error(ErrorCode::kBusy, "queue entry {} is not leased to {}", id, owner);
    for (const RecipientOutcome& o : outcomes) {
      if (o.index >= count) return make_error(ErrorCode::kInvalid, "queue entry {} has no recipient {}", id, o.index);
    }
    STORE_ASSIGN(rcpt, c.query("UPDATE queue_recipients SET state = ?, last_error = ? "
                               "WHERE queue_id = ? AND position = ?"));
    for (const RecipientOutcome& o : outcomes) {
      STORE_TRY(rcpt.bind(1, static_cast<int>(o.state)).bind(2, o.reply).bind(3, id)
                    .bind(4, static_cast<int64_t>(o.index)).run());
    }
    STORE_ASSIGN(upd, c.query("UPDATE queue SET attempts = attempts + 1, next_attempt = ?, lease_owner = NULL, "
                              "lease_until = NULL WHERE id = ?"));
    return upd.bind(1, next_attempt).bind(2, id).run();
  });
}

Status SqliteStore::set_queue_held(Id id, bool held) {
  return write([&](Connection& c, std::vector<MailboxChange>&) -> Status {
    STORE_ASSIGN(upd, c.query("UPDATE queue SET held = ? WHERE id = ?"));
    STORE_TRY(upd.bind(1, held ? 1 : 0).bind(2, id).run());
    if (c.changes() == 0) return make_error(ErrorCode::kNotFound, "no queue entry {}", id);
    return ok();
  });
}

Status SqliteStore::retry_queue_entry(Id id, int64_t now) {
  return write([&](Connection& c, std::vector<MailboxChange>&) -> Status {
    STORE_ASSIGN(upd, c.query("UPDATE queue SET next_attempt = ? WHERE id = ?"));
    STORE_TRY(upd.bind(1, now).bind(2, id).run());
    if (c.changes() == 0) return make_error(ErrorCode::kNotFound, "no queue entry {}", id);
    return ok();
  });
}

Status SqliteStore::delete_queue_entry(Id id) {
  return write([&](Connection& c, std::vector<MailboxChange>&) -> Status {
    // Cascades to the recipients; the trigger releases the blob.
    STORE_ASSIGN(del, c.query("DELETE FROM queue WHERE id = ?"));
    STORE_TRY(del.bind(1, id).run());
    if (c.changes() == 0) return make_error(ErrorCode::kNotFound, "no queue entry {}", id);
    return ok();
  });
}

Result<Id> SqliteStore::import_queue_entry(const QueueEntry& entry, std::string_view bytes) {
  STORE_TRY(check_queue_entry(entry, bytes));
  Id id = 0;
  STORE_TRY(write([&](Connection& c, std::vector<MailboxChange>&) -> Status {
    STORE_ASSIGN(blob, c.query("INSERT INTO blobs(size, refcount, data) VALUES (?,1,?)"));
    STORE_TRY(blob.bind(1, bytes.size()).bind_blob(2, bytes).run());
    STORE_ASSIGN(qid, insert_queue_entry(c, c.last_insert_rowid(), entry.message, entry.created,
                                         entry.next_attempt, entry.attempts));
    id = qid;
    return ok();
  }));
  return id;
}

}  // namespace tern::store::sqlite
