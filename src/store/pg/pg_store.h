// store/pg/pg_store.h: the cluster MailStore on PostgreSQL 15 (libpq).
//
// Metadata and message bytes (bytea) live in PostgreSQL, so a Tern node keeps no state on
// local disk and several nodes can share one database. Migrations are applied at open under
// an advisory lock (safe when nodes start together). Writes from all threads of a node go
// through one writer connection that group-commits them (see writer.h); reads use a pool of
// `pool_size` connections; every method blocks (call it through the store executor).
// Commits are durable before a method returns (synchronous_commit is forced on for the
// store's connections). Changes are published on this node's ChangeFeed after commit, and
// (through LISTEN/NOTIFY) on every other node's feed too. Thread-safety: see
// store/mail_store.h.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "store/change_feed.h"
#include "store/mail_store.h"

namespace tern::store {

struct PgOptions {
  std::string url;           // libpq connection string or postgresql:// URL
  unsigned pool_size = 4;    // read connections (plus one writer and one listener)
  bool listen = true;        // receive other nodes' changes (needs a feed)
};

// Connects, migrates, starts the writer (and the listener when `feed` is set and `listen`).
// `feed` may be null; otherwise it must outlive the store. kUnavailable when the server
// cannot be reached, kInvalid when the database schema is newer than this binary.
Result<std::unique_ptr<MailStore>> open_pg_store(const PgOptions& options, ChangeFeed* feed);

}  // namespace tern::store
