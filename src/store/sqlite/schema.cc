// store/sqlite/schema.cc: see schema.h. Never edit a shipped migration; append a new one.
#include "store/sqlite/schema.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <thread>

namespace tern::store::sqlite {
namespace {

// Invariant (blobs): refcount = number of message rows whose blob_id is the blob (migration
// 2 adds queue rows). Inserts set it explicitly (append, copy); the trigger releases it on
// every message delete (expunge, move, and the cascades from mailbox and account deletion)
// and removes the blob with its last reference.
constexpr const char* kMigration1 = R"sql(
CREATE TABLE meta(
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta(name, value) VALUES ('uidvalidity', 0);

CREATE TABLE domains(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);

CREATE TABLE accounts(
  id INTEGER PRIMARY KEY,
  address TEXT NOT NULL UNIQUE,
  domain_id INTEGER NOT NULL REFERENCES domains(id),
  password_hash TEXT NOT NULL,
  created INTEGER NOT NULL
);
CREATE INDEX accounts_domain ON accounts(domain_id);

CREATE TABLE aliases(
  id INTEGER PRIMARY KEY,
  address TEXT NOT NULL,
  domain_id INTEGER NOT NULL REFERENCES domains(id),
  target TEXT NOT NULL,
  UNIQUE(address, target)
);
CREATE INDEX aliases_domain ON aliases(domain_id);

CREATE TABLE app_passwords(
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  label TEXT NOT NULL,
  hash TEXT NOT NULL,
  created INTEGER NOT NULL,
  last_used INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX app_passwords_account ON app_passwords(account_id);

CREATE TABLE mailboxes(
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  uidvalidity INTEGER NOT NULL,
  uidnext INTEGER NOT NULL,
  highestmodseq INTEGER NOT NULL,
  special_use INTEGER NOT NULL DEFAULT 0,
  subscribed INTEGER NOT NULL DEFAULT 0,
  messages INTEGER NOT NULL DEFAULT 0,
  total_size INTEGER NOT NULL DEFAULT 0,
  UNIQUE(account_id, name)
);

CREATE TABLE blobs(
  id INTEGER PRIMARY KEY,
  size INTEGER NOT NULL,
  refcount INTEGER NOT NULL,
  data BLOB NOT NULL
);

CREATE TABLE messages(
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  uid INTEGER NOT NULL,
  modseq INTEGER NOT NULL,
  flags INTEGER NOT NULL,
  keywords TEXT NOT NULL DEFAULT '',
  internal_date INTEGER NOT NULL,
  size INTEGER NOT NULL,
  blob_id INTEGER NOT NULL,
  PRIMARY KEY(mailbox_id, uid)
) WITHOUT ROWID;

CREATE TABLE expunged(
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  uid INTEGER NOT NULL,
  modseq INTEGER NOT NULL,
  PRIMARY KEY(mailbox_id, uid)
) WITHOUT ROWID;

CREATE TRIGGER messages_release_blob AFTER DELETE ON messages BEGIN
  UPDATE blobs SET refcount = refcount - 1 WHERE id = OLD.blob_id;
  DELETE FROM blobs WHERE id = OLD.blob_id AND refcount <= 0;
END;
)sql";

// The outbound queue (T2 SMTP acceptance, T3 delivery). One row per queued message, one
// per recipient (in `position` order). lease_owner / lease_until are for T3: the node
// that claimed the entry for an attempt and until when; NULL when unclaimed. AUTOINCREMENT:
// an entry's id is never reused (logs and bounces name entries by id), as with PostgreSQL's
// identity column.
// Invariant (blobs), extended: refcount = number of message rows + number of queue rows
// whose blob_id is the blob. deliver counts the queue's reference in the refcount it
// inserts; the second trigger releases it when the entry goes, so a queued message's bytes
// outlive every mailbox copy and go with the last holder, whichever it is.
constexpr const char* kMigration2 = R"sql(
CREATE TABLE queue(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  blob_id INTEGER NOT NULL,
  sender TEXT NOT NULL,
  envid TEXT NOT NULL DEFAULT '',
  ret INTEGER NOT NULL DEFAULT 0,
  smtputf8 INTEGER NOT NULL DEFAULT 0,
  eightbit INTEGER NOT NULL DEFAULT 0,
  skip INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL,
  next_attempt INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT,
  lease_until INTEGER
);
CREATE INDEX queue_due ON queue(next_attempt);

CREATE TABLE queue_recipients(
  queue_id INTEGER NOT NULL REFERENCES queue(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  address TEXT NOT NULL,
  notify INTEGER NOT NULL DEFAULT 0,
  orcpt TEXT NOT NULL DEFAULT '',
  state INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(queue_id, position)
) WITHOUT ROWID;

CREATE TRIGGER queue_release_blob AFTER DELETE ON queue BEGIN
  UPDATE blobs SET refcount = refcount - 1 WHERE id = OLD.blob_id;
  DELETE FROM blobs WHERE id = OLD.blob_id AND refcount <= 0;
END;
)sql";

// T3 delivery: a held entry is never claimed for an attempt (`tern queue hold`).
constexpr const char* kMigration3 = R"sql(
ALTER TABLE queue ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
)sql";

constexpr std::array<const char*, 3> kMigrations = {kMigration1, kMigration2, kMigration3};

// Switches the file to WAL (persistent in the file; setting it again is a no-op). SQLite
// answers SQLITE_BUSY at once, without the busy handler, while another connection is
// switching or migrating the same new file (the server and the CLI starting together), so
// this retries for as long as the busy timeout would wait.
Status enable_wal(Connection& conn) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (int attempt = 0;; ++attempt) {
    auto s = conn.exec_script("PRAGMA journal_mode=WAL;");
    if (s || s.error().code != ErrorCode::kBusy || std::chrono::steady_clock::now() >= deadline) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(1 << std::min(attempt, 6), 50)));
  }
}

}  // namespace

int schema_version() { return static_cast<int>(kMigrations.size()); }

Status migrate(Connection& conn) {
  if (auto s = enable_wal(conn); !s) return s;
  if (auto s = conn.exec_script("BEGIN IMMEDIATE;"); !s) return s;
  auto fail = [&](Error e) -> Status {
    (void)conn.exec_script("ROLLBACK;");
    return tl::unexpected(std::move(e));
  };
  int version = 0;
  {
    auto q = conn.query("PRAGMA user_version");
    if (!q) return fail(q.error());
    auto row = q->step();
    if (!row) return fail(row.error());
    version = static_cast<int>(q->i64(0));
  }
  if (version > schema_version()) {
    return fail(Error(ErrorCode::kInvalid,
                      fmt::format("database schema version {} is newer than this binary ({})", version,
                                  schema_version())));
  }
  for (int v = version; v < schema_version(); ++v) {
    if (auto s = conn.exec_script(kMigrations[static_cast<std::size_t>(v)]); !s) return fail(s.error());
  }
  if (version != schema_version()) {
    std::string set = fmt::format("PRAGMA user_version={};", schema_version());
    if (auto s = conn.exec_script(set.c_str()); !s) return fail(s.error());
  }
  if (auto s = conn.exec_script("COMMIT;"); !s) return fail(s.error());
  return ok();
}

}  // namespace tern::store::sqlite
