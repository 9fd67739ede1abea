// store/pg/connection.cc: see connection.h.
#include "store/pg/connection.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "base/log.h"

namespace tern::store::pg {
namespace {

constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kInt8Oid = 20;

ErrorCode code_for_sqlstate(std::string_view state) {
  if (state == "23505") return ErrorCode::kExists;                         // unique_violation
  if (state == "23503") return ErrorCode::kNotFound;                       // foreign_key_violation
  if (state == "40001" || state == "40P01" || state == "55P03") return ErrorCode::kBusy;
  if (state == "53300" || state == "57P01" || state == "57P02" || state == "57P03") {
    return ErrorCode::kUnavailable;  // too many connections, shutdown, starting up
  }
  if (state.starts_with("08")) return ErrorCode::kUnavailable;  // connection exception
  if (state.starts_with("22") || state.starts_with("23")) return ErrorCode::kInvalid;
  if (state == "XX001" || state == "XX002") return ErrorCode::kCorruption;
  if (state.starts_with("53") || state.starts_with("58")) return ErrorCode::kIo;
  if (state.starts_with("42")) return ErrorCode::kInternal;  // our SQL is wrong: a bug
  return ErrorCode::kIo;
}

std::string_view trimmed(const char* s) {
  std::string_view v = s == nullptr ? std::string_view() : std::string_view(s);
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
  return v;
}

}  // namespace

Error pg_error(PGconn* conn, const PGresult* r, std::string_view what) {
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  if (state == nullptr) {
    // No SQLSTATE: libpq itself failed, almost always because the connection is gone.
    const bool gone = conn == nullptr || PQstatus(conn) != CONNECTION_OK;
    return Error(gone ? ErrorCode::kUnavailable : ErrorCode::kIo,
                 fmt::format("postgres {}: {}", what, trimmed(conn != nullptr ? PQerrorMessage(conn) : "no connection")));
  }
  return Error(code_for_sqlstate(state),
               fmt::format("postgres {}: sqlstate {}: {}", what, state, trimmed(PQresultErrorMessage(r))));
}

bool retryable(const Error& e) {
  return e.code == ErrorCode::kBusy &&
         (e.message.find("sqlstate 40001") != std::string::npos || e.message.find("sqlstate 40P01") != std::string::npos);
}

// ---- Params

Params& Params::i64(int64_t v) {
  items_.push_back(Item{std::to_string(v), {}, false});
  return *this;
}

Params& Params::text(std::string_view v) {
  if (v.find('\0') != std::string_view::npos) bad_ = true;
  items_.push_back(Item{std::string(v), {}, false});
  return *this;
}

Params& Params::bytes(std::string_view v) {
  items_.push_back(Item{{}, v, true});
  return *this;
}

Params& Params::text_array(const std::vector<std::string>& v) {
  std::string s = "{";
  for (const auto& e : v) {
    if (s.size() > 1) s += ',';
    s += '"';
    for (char ch : e) {
      if (ch == '"' || ch == '\\') s += '\\';
      s += ch;
    }
    s += '"';
  }
  s += '}';
  return text(s);
}

// ---- PgResult

int64_t PgResult::i64(int row, int col) const {
  const std::string_view v = view(row, col);
  if (PQfformat(r_.get(), col) == 1) {
    const Oid type = PQftype(r_.get(), col);
    auto be = [&](std::size_t n) {
      uint64_t x = 0;
      for (std::size_t i = 0; i < n && i < v.size(); ++i) x = (x << 8) | static_cast<unsigned char>(v[i]);
      return x;
    };
    if (type == kInt8Oid) return static_cast<int64_t>(be(8));
    if (type == kInt4Oid) return static_cast<int32_t>(static_cast<uint32_t>(be(4)));
    if (type == kInt2Oid) return static_cast<int16_t>(static_cast<uint16_t>(be(2)));
    return 0;
  }
  int64_t out = 0;
  std::from_chars(v.data(), v.data() + v.size(), out);
  return out;
}

int64_t PgResult::affected() const {
  const char* n = PQcmdTuples(r_.get());
  int64_t out = 0;
  if (n != nullptr) std::from_chars(n, n + std::strlen(n), out);
  return out;
}

// ---- Conn

Result<std::unique_ptr<Conn>> Conn::open(const std::string& conninfo) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (c == nullptr) return make_error(ErrorCode::kUnavailable, "postgres: out of memory connecting");
  if (PQstatus(c) != CONNECTION_OK) {
    Error e(ErrorCode::kUnavailable, fmt::format("postgres connect: {}", trimmed(PQerrorMessage(c))));
    PQfinish(c);
    return tl::unexpected(std::move(e));
  }
  // Server NOTICEs ("relation already exists, skipping") go to the debug log, not stderr.
  PQsetNoticeProcessor(
      c, [](void*, const char* message) { spdlog::debug("postgres: {}", trimmed(message)); }, nullptr);
  std::unique_ptr<Conn> conn(new Conn(c));
  if (auto s = conn->session_setup(); !s) return tl::unexpected(s.error());
  return conn;
}

Status Conn::session_setup() {
  // A commit must be durable before the store acknowledges it: never run with
  // synchronous_commit=off, whatever the server or role default says.
  return run("SELECT set_config('synchronous_commit', 'on', false) "
             "WHERE current_setting('synchronous_commit') = 'off'");
}

Conn::~Conn() { PQfinish(conn_); }

Status Conn::reset() {
  prepared_.clear();
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) {
    return make_error(ErrorCode::kUnavailable, "postgres reconnect: {}", trimmed(PQerrorMessage(conn_)));
  }
  return session_setup();
}

Result<PgResult> Conn::exec(const std::string& sql, const Params& params, bool binary_result) {
  if (params.bad_) return make_error(ErrorCode::kInvalid, "text parameter holds a NUL byte");
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "s" + std::to_string(prepared_.size() + 1);
    PgResult r(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr));
    if (PQresultStatus(r.raw()) != PGRES_COMMAND_OK) return tl::unexpected(pg_error(conn_, r.raw(), "prepare"));
    it = prepared_.emplace(sql, std::move(name)).first;
  }
  const std::size_t n = params.items_.size();
  std::vector<const char*> values(n);
  std::vector<int> lengths(n);
  std::vector<int> formats(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& item = params.items_[i];
    if (item.binary) {
      values[i] = item.view.data();
      lengths[i] = static_cast<int>(item.view.size());
      formats[i] = 1;
    } else {
      values[i] = item.owned.c_str();
      lengths[i] = static_cast<int>(item.owned.size());
      formats[i] = 0;
    }
  }
  PgResult r(PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(n), values.data(), lengths.data(),
                            formats.data(), binary_result ? 1 : 0));
  const ExecStatusType st = PQresultStatus(r.raw());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return tl::unexpected(pg_error(conn_, r.raw(), "query"));
  return r;
}

Status Conn::run(const std::string& sql) {
  PgResult r(PQexec(conn_, sql.c_str()));
  const ExecStatusType st = PQresultStatus(r.raw());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return tl::unexpected(pg_error(conn_, r.raw(), "exec"));
  return ok();
}

}  // namespace tern::store::pg
