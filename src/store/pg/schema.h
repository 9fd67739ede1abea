// store/pg/schema.h: the PostgreSQL schema and its versioned migrations.
//
// migrate() brings a database to the current version inside one transaction that holds a
// transaction-scoped advisory lock, so several Tern nodes starting at once apply each
// migration exactly once (the others wait, then see the new version). A database newer
// than this binary is refused with kInvalid. Thread-safety: none (one connection).
#pragma once

#include "base/result.h"
#include "store/pg/connection.h"

namespace tern::store::pg {

int schema_version();
Status migrate(Conn& conn);

}  // namespace tern::store::pg
