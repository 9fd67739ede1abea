// store/sqlite/sqlite_store.h: the embedded MailStore on SQLite (WAL, synchronous=FULL).
//
// One database file holds metadata and message bytes, so one commit makes an append
// durable. Writes from all threads go through one writer thread that runs every pending
// write in one transaction (group commit); readers use a small pool of read connections.
// Schema migrations are applied at open. Thread-safety: see store/mail_store.h.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "store/change_feed.h"
#include "store/mail_store.h"

namespace tern::store {

struct SqliteOptions {
  std::string path;             // database file; its directory must exist
  unsigned read_connections = 4;
};

// Opens (creating and migrating as needed). `feed` may be null; otherwise it must outlive
// the store and receives every committed change.
Result<std::unique_ptr<MailStore>> open_sqlite_store(const SqliteOptions& options, ChangeFeed* feed);

}  // namespace tern::store
