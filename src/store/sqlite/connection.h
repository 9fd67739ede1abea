// store/sqlite/connection.h: a thin RAII layer over one sqlite3 connection.
//
// Connection owns the handle and caches prepared statements by SQL text, so the hot path
// never re-parses SQL. Query borrows one cached statement and resets it when destroyed.
// Thread-safety: none; a Connection is used by one thread at a time (the writer thread, or
// the holder of a read-pool lease). Errors map SQLite codes onto tern::ErrorCode: constraint
// -> kExists, busy/locked -> kBusy, corrupt/notadb -> kCorruption, I/O/full -> kIo.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>

#include "base/result.h"

namespace tern::store::sqlite {

Error sqlite_error(sqlite3* db, int rc, std::string_view what);

class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Query(Query&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Query& operator=(Query&&) = delete;
  Query(const Query&) = delete;
  ~Query();

  // Binds parameter `i` (1-based). Text and blob views must outlive the query's steps.
  template <typename T>
    requires std::is_integral_v<T>
  Query& bind(int i, T v) {
    sqlite3_bind_int64(stmt_, i, static_cast<sqlite3_int64>(v));
    return *this;
  }
  Query& bind(int i, std::string_view text);
  Query& bind(int i, const char* text) { return bind(i, std::string_view(text)); }
  Query& bind(int i, const std::string& text) { return bind(i, std::string_view(text)); }
  Query& bind_blob(int i, std::string_view bytes);

  // true: a row is available; false: done. When done or failed the statement is reset
  // (bindings kept), ready to be bound and stepped again.
  Result<bool> step();
  // Abandons the remaining rows so the statement can be bound again.
  void reset() { sqlite3_reset(stmt_); }
  // Steps to completion, ignoring rows.
  Status run();

  int64_t i64(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string text(int col) const;
  std::string_view blob(int col) const;
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class Connection {
 public:
  // Opens `path` (read-write and creating it, or read-only) and applies the pragmas every
  // connection needs: busy_timeout, foreign_keys, synchronous=FULL.
  static Result<std::unique_ptr<Connection>> open(const std::string& path, bool read_only);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // A cached prepared statement. `sql` is one statement.
  Result<Query> query(const char* sql);
  // Runs one statement with no parameters (cached).
  Status exec(const char* sql);
  // Runs a script of several statements (not cached; for migrations).
  Status exec_script(const char* sql);

  int64_t changes() const { return sqlite3_changes64(db_); }
  int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  bool in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }
  sqlite3* raw() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace tern::store::sqlite
