// store/sqlite/sqlite_queue.cc: the outbound queue's rows: inserting an entry (for deliver,
// in sqlite_messages.cc, and for import), listing and deleting entries. An entry's blob
// reference is released by the queue_release_blob trigger (schema.cc, migration 2).
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

Result<std::vector<QueueEntry>> SqliteStore::list_queue() {
  return read([&](Connection& c) -> Result<std::vector<QueueEntry>> {
    // One statement, so one snapshot: entries and recipients agree.
    STORE_ASSIGN(q, c.query("SELECT q.id, q.blob_id, b.size, q.created, q.next_attempt, q.attempts, q.sender, "
                            "q.envid, q.ret, q.smtputf8, q.eightbit, q.skip, "
                            "r.address, r.notify, r.orcpt, r.state, r.last_error "
                            "FROM queue q LEFT JOIN blobs b ON b.id = q.blob_id "
                            "LEFT JOIN queue_recipients r ON r.queue_id = q.id "
                            "ORDER BY q.created, q.id, r.position"));
    std::vector<QueueEntry> out;
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
    return out;
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
