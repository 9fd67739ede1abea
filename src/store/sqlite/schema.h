// store/sqlite/schema.h: the versioned schema of the SQLite store and its migrations.
//
// The schema version lives in PRAGMA user_version. Migrations are an ordered list of SQL
// scripts; migrate() applies the missing ones inside one BEGIN IMMEDIATE transaction, so two
// processes opening the same database at once (server and CLI) serialise on the write lock
// and the second sees the first's result. A database newer than this binary is refused.
#pragma once

#include "base/result.h"
#include "store/sqlite/connection.h"

namespace tern::store::sqlite {

// The version a fully migrated database has.
int schema_version();

// Switches the database to WAL and brings the schema up to date. Blocks (busy_timeout)
// while another process holds the write lock.
Status migrate(Connection& conn);

}  // namespace tern::store::sqlite
