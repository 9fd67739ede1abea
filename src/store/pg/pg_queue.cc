// store/pg/pg_queue.cc: the outbound queue's rows: inserting an entry (for deliver, in
// pg_messages.cc, and for import), listing and deleting entries. An entry's blob reference
// is released by the queue_release_blob trigger (schema.cc, migration 2).
#include <utility>

#include "store/pg/pg_store_impl.h"
#include "store/queue_checks.h"

namespace tern::store::pg {

Result<Id> insert_queue_entry(Conn& c, Id blob_id, const OutboundMessage& m, int64_t created, int64_t next_attempt,
                              uint32_t attempts) {
  std::vector<std::string> addresses, orcpts, errors;
  std::vector<int64_t> notify, states;
  for (const OutboundRecipient& r : m.recipients) {
    addresses.push_back(r.address);
    notify.push_back(r.notify);
    orcpts.push_back(r.orcpt);
    states.push_back(static_cast<int64_t>(r.state));
    errors.push_back(r.last_error);
  }
  // One round trip for the entry and all its recipients.
  PG_ASSIGN(r, c.exec("WITH q AS (INSERT INTO queue(blob_id, sender, envid, ret, smtputf8, eightbit, skip, created, "
                      "next_attempt, attempts) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING id), "
                      "r AS (INSERT INTO queue_recipients(queue_id, position, address, notify, orcpt, state, "
                      "last_error) SELECT q.id, u.ord - 1, u.a, u.n, u.o, u.s, u.e FROM q, "
                      "unnest($11::text[], $12::smallint[], $13::text[], $14::smallint[], $15::text[]) "
                      "WITH ORDINALITY AS u(a, n, o, s, e, ord)) "
                      "SELECT id FROM q",
                      Params().i64(blob_id).text(m.sender).text(m.envid).i64(static_cast<int>(m.ret))
                          .text(m.smtputf8 ? "true" : "false").text(m.eightbit ? "true" : "false")
                          .i64(static_cast<int64_t>(m.skip)).i64(created).i64(next_attempt).i64(attempts)
                          .text_array(addresses).i64_array(notify.begin(), notify.end()).text_array(orcpts)
                          .i64_array(states.begin(), states.end()).text_array(errors)));
  if (r.rows() != 1) return make_error(ErrorCode::kInternal, "queue insert returned {} rows", r.rows());
  return r.i64(0, 0);
}

Result<std::vector<QueueEntry>> PgStore::list_queue() {
  return read([&](Conn& c) -> Result<std::vector<QueueEntry>> {
    // One statement, so one snapshot: entries and recipients agree.
    PG_ASSIGN(r, c.exec("SELECT q.id, q.blob_id, b.size, q.created, q.next_attempt, q.attempts, q.sender, q.envid, "
                        "q.ret, q.smtputf8, q.eightbit, q.skip, "
                        "r.address, r.notify, r.orcpt, r.state, r.last_error "
                        "FROM queue q LEFT JOIN blobs b ON b.id = q.blob_id "
                        "LEFT JOIN queue_recipients r ON r.queue_id = q.id "
                        "ORDER BY q.created, q.id, r.position"));
    std::vector<QueueEntry> out;
    for (int i = 0; i < r.rows(); ++i) {
      const Id id = r.i64(i, 0);
      if (out.empty() || out.back().id != id) {
        if (r.null(i, 2)) return make_error(ErrorCode::kCorruption, "queue entry {} lost its blob {}", id, r.i64(i, 1));
        if (r.null(i, 12)) return make_error(ErrorCode::kCorruption, "queue entry {} has no recipients", id);
        QueueEntry e;
        e.id = id;
        e.blob_id = r.i64(i, 1);
        e.size = static_cast<uint64_t>(r.i64(i, 2));
        e.created = r.i64(i, 3);
        e.next_attempt = r.i64(i, 4);
        e.attempts = static_cast<uint32_t>(r.i64(i, 5));
        e.message.sender = r.text(i, 6);
        e.message.envid = r.text(i, 7);
        e.message.ret = static_cast<DsnRet>(r.i64(i, 8));
        e.message.smtputf8 = r.boolean(i, 9);
        e.message.eightbit = r.boolean(i, 10);
        e.message.skip = static_cast<uint64_t>(r.i64(i, 11));
        out.push_back(std::move(e));
      }
      OutboundRecipient rcpt;
      rcpt.address = r.text(i, 12);
      rcpt.notify = static_cast<uint8_t>(r.i64(i, 13));
      rcpt.orcpt = r.text(i, 14);
      rcpt.state = static_cast<QueueState>(r.i64(i, 15));
      rcpt.last_error = r.text(i, 16);
      out.back().message.recipients.push_back(std::move(rcpt));
    }
    return out;
  });
}

Status PgStore::delete_queue_entry(Id id) {
  return write([&](Conn& c, std::vector<MailboxChange>&) -> Status {
    // Cascades to the recipients; the trigger releases the blob.
    PG_ASSIGN(r, c.exec("DELETE FROM queue WHERE id = $1", Params().i64(id)));
    if (r.affected() == 0) return make_error(ErrorCode::kNotFound, "no queue entry {}", id);
    return ok();
  });
}

Result<Id> PgStore::import_queue_entry(const QueueEntry& entry, std::string_view bytes) {
  PG_TRY(check_queue_entry(entry, bytes));
  Id id = 0;
  PG_TRY(write([&](Conn& c, std::vector<MailboxChange>&) -> Status {
    PG_ASSIGN(b, c.exec("INSERT INTO blobs(size, refcount, data) VALUES ($1, 1, $2) RETURNING id",
                        Params().i64(static_cast<int64_t>(bytes.size())).bytes(bytes)));
    PG_ASSIGN(qid, insert_queue_entry(c, b.i64(0, 0), entry.message, entry.created, entry.next_attempt,
                                      entry.attempts));
    id = qid;
    return ok();
  }));
  return id;
}

}  // namespace tern::store::pg
