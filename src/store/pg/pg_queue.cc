// store/pg/pg_queue.cc: the outbound queue's rows: inserting an entry (for deliver, in
// pg_messages.cc, and for import), listing and deleting entries, and the delivery attempts'
// leases and outcomes. An entry's blob reference is released by the queue_release_blob
// trigger (schema.cc, migration 2).
#include <string>
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

namespace {

// The columns read_entries() expects, entries joined with their recipients.
constexpr const char* kSelectEntries =
    "SELECT q.id, q.blob_id, b.size, q.created, q.next_attempt, q.attempts, q.sender, q.envid, "
    "q.ret, q.smtputf8, q.eightbit, q.skip, "
    "r.address, r.notify, r.orcpt, r.state, r.last_error, q.held, q.lease_owner, q.lease_until "
    "FROM queue q LEFT JOIN blobs b ON b.id = q.blob_id "
    "LEFT JOIN queue_recipients r ON r.queue_id = q.id ";

// The rows of kSelectEntries (ordered by entry then position) as entries.
Result<std::vector<QueueEntry>> read_entries(const PgResult& r) {
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
      e.held = r.boolean(i, 17);
      if (!r.null(i, 18)) e.lease_owner = r.text(i, 18);
      if (!r.null(i, 19)) e.lease_until = r.i64(i, 19);
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
}

}  // namespace

Result<std::vector<QueueEntry>> PgStore::list_queue() {
  return read([&](Conn& c) -> Result<std::vector<QueueEntry>> {
    // One statement, so one snapshot: entries and recipients agree.
    PG_ASSIGN(r, c.exec(std::string(kSelectEntries) + "ORDER BY q.created, q.id, r.position"));
    return read_entries(r);
  });
}

Result<std::vector<QueueEntry>> PgStore::claim_due(int64_t now, std::size_t limit, std::string_view owner,
                                                   int64_t lease_seconds) {
  if (owner.empty()) return make_error(ErrorCode::kInvalid, "a queue lease needs an owner");
  std::vector<QueueEntry> out;
  if (limit == 0) return out;
  PG_TRY(write([&](Conn& c, std::vector<MailboxChange>&) -> Status {
    // SKIP LOCKED: an entry another node is claiming right now (its transaction holds the row)
    // is passed over instead of waited for; once that commits, its lease keeps it out.
    PG_ASSIGN(ids, c.exec("WITH due AS (SELECT id FROM queue WHERE next_attempt <= $1 AND NOT held "
                          "AND (lease_until IS NULL OR lease_until <= $1) "
                          "AND EXISTS (SELECT 1 FROM queue_recipients r WHERE r.queue_id = queue.id "
                          "AND r.state = 0) ORDER BY next_attempt, id LIMIT $2 FOR UPDATE SKIP LOCKED) "
                          "UPDATE queue q SET lease_owner = $3, lease_until = $4 FROM due WHERE q.id = due.id "
                          "RETURNING q.id",
                          Params().i64(now).i64(static_cast<int64_t>(limit)).text(owner).i64(now + lease_seconds)));
    std::vector<int64_t> claimed;
    for (int i = 0; i < ids.rows(); ++i) claimed.push_back(ids.i64(i, 0));
    PG_ASSIGN(r, c.exec(std::string(kSelectEntries) +
                            "WHERE q.id = ANY($1::bigint[]) ORDER BY q.next_attempt, q.id, r.position",
                        Params().i64_array(claimed.begin(), claimed.end())));
    PG_ASSIGN(entries, read_entries(r));
    out = std::move(entries);  // replaces what a rolled-back run of this job left
    return ok();
  }));
  return out;
}

Status PgStore::record_attempt(Id id, std::string_view owner, std::span<const RecipientOutcome> outcomes,
                               int64_t next_attempt) {
  return write([&](Conn& c, std::vector<MailboxChange>&) -> Status {
    PG_ASSIGN(e, c.exec("SELECT lease_owner, (SELECT count(*) FROM queue_recipients r WHERE r.queue_id = q.id) "
                        "FROM queue q WHERE id = $1 FOR UPDATE",
                        Params().i64(id)));
    if (e.rows() == 0) return make_error(ErrorCode::kNotFound, "no queue entry {}", id);
    if (e.null(0, 0) || e.view(0, 0) != owner) {
      return make_error(ErrorCode::kBusy, "queue entry {} is not leased to {}", id, owner);
    }
    const auto count = static_cast<std::size_t>(e.i64(0, 1));
    std::vector<int64_t> positions, states;
    std::vector<std::string> replies;
    for (const RecipientOutcome& o : outcomes) {
      if (o.index >= count) return make_error(ErrorCode::kInvalid, "queue entry {} has no recipient {}", id, o.index);
      positions.push_back(static_cast<int64_t>(o.index));
      states.push_back(static_cast<int64_t>(o.state));
      replies.push_back(o.reply);
    }
    PG_TRY(c.exec("UPDATE queue_recipients r SET state = u.s, last_error = u.e "
                  "FROM unnest($2::integer[], $3::smallint[], $4::text[]) AS u(p, s, e) "
                  "WHERE r.queue_id = $1 AND r.position = u.p",
                  Params().i64(id).i64_array(positions.begin(), positions.end())
                      .i64_array(states.begin(), states.end()).text_array(replies)));
    PG_TRY(c.exec("UPDATE queue SET attempts = attempts + 1, next_attempt = $2, lease_owner = NULL, "
                  "lease_until = NULL WHERE id = $1",
                  Params().i64(id).i64(next_attempt)));
    return ok();
  });
}

Status PgStore::set_queue_held(Id id, bool held) {
  return write([&](Conn& c, std::vector<MailboxChange>&) -> Status {
    PG_ASSIGN(r, c.exec("UPDATE queue SET held = $2 WHERE id = $1", Params().i64(id).text(held ? "true" : "false")));
    if (r.affected() == 0) return make_error(ErrorCode::kNotFound, "no queue entry {}", id);
    return ok();
  });
}

Status PgStore::retry_queue_entry(Id id, int64_t now) {
  return write([&](Conn& c, std::vector<MailboxChange>&) -> Status {
    PG_ASSIGN(r, c.exec("UPDATE queue SET next_attempt = $2 WHERE id = $1", Params().i64(id).i64(now)));
    if (r.affected() == 0) return make_error(ErrorCode::kNotFound, "no queue entry {}", id);
    return ok();
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
