// store/pg/connection.h: a thin RAII layer over one libpq connection.
//
// Conn owns a PGconn and prepares each distinct SQL text once (PQprepare), so the hot path
// sends only PQexecPrepared. Parameters travel separately from the SQL (never spliced into
// it): integers and text in text format, bytes in binary format. Results come back in text
// format unless asked for binary (blob reads).
// Thread-safety: none; a Conn is used by one thread at a time (the writer thread, a pool
// lease holder, the listener thread, or one BlobReader).
// Errors map SQLSTATE classes onto tern::ErrorCode (see pg_error in connection.cc):
// unique_violation -> kExists, deadlock/serialization -> kBusy (retryable()), connection
// failures -> kUnavailable, data exceptions -> kInvalid, data corruption -> kCorruption.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"

namespace tern::store::pg {

// Query parameters, $1..$n in the order added. Text is copied; bytes are not (the view
// must outlive the exec call).
class Params {
 public:
  Params& i64(int64_t v);
  Params& text(std::string_view v);
  Params& bytes(std::string_view v);
  // A bigint[] in array literal form ("{1,2,3}").
  template <typename It>
  Params& i64_array(It begin, It end) {
    std::string s = "{";
    for (It it = begin; it != end; ++it) {
      if (s.size() > 1) s += ',';
      s += std::to_string(static_cast<int64_t>(*it));
    }
    s += '}';
    return text(s);
  }
  // A text[] in array literal form, every element quoted.
  Params& text_array(const std::vector<std::string>& v);

 private:
  friend class Conn;
  struct Item {
    std::string owned;
    std::string_view view;  // binary items only
    bool binary = false;
  };
  std::vector<Item> items_;
  bool bad_ = false;  // a text parameter held a NUL byte
};

class PgResult {
 public:
  PgResult() : r_(nullptr, &PQclear) {}
  explicit PgResult(PGresult* r) : r_(r, &PQclear) {}
  int rows() const { return PQntuples(r_.get()); }
  bool null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string_view view(int row, int col) const {
    return {PQgetvalue(r_.get(), row, col), static_cast<std::size_t>(PQgetlength(r_.get(), row, col))};
  }
  std::string text(int row, int col) const { return std::string(view(row, col)); }
  // Text-format integers, or binary int2/int4/int8.
  int64_t i64(int row, int col) const;
  bool boolean(int row, int col) const { return view(row, col) == "t"; }
  // Rows affected by INSERT/UPDATE/DELETE.
  int64_t affected() const;
  const PGresult* raw() const { return r_.get(); }

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> r_;
};

class Conn {
 public:
  // Connects with `conninfo` (a postgresql:// URL or key=value string). kUnavailable when the
  // server cannot be reached.
  static Result<std::unique_ptr<Conn>> open(const std::string& conninfo);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Runs one statement through its cached prepared form.
  Result<PgResult> exec(const std::string& sql, const Params& params = {}, bool binary_result = false);
  // Runs SQL without parameters and without preparing it (BEGIN, COMMIT, SAVEPOINT, DDL).
  Status run(const std::string& sql);

  // The connection is gone (server restart, network); reset() before further use.
  bool broken() const { return PQstatus(conn_) != CONNECTION_OK; }
  // Reconnects; forgets prepared statements.
  Status reset();
  bool in_transaction() const { return PQtransactionStatus(conn_) != PQTRANS_IDLE; }
  PGconn* raw() { return conn_; }

 private:
  explicit Conn(PGconn* c) : conn_(c) {}
  Status session_setup();
  PGconn* conn_;
  std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
};

// The Error for a failed result (`r` may be null: then from the connection's message).
Error pg_error(PGconn* conn, const PGresult* r, std::string_view what);
// True for errors worth retrying the whole transaction for (deadlock, serialization failure).
bool retryable(const Error& e);

}  // namespace tern::store::pg
