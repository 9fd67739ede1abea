// store/sqlite/sqlite_blobs.cc: reading message bytes, whole or in pieces.
#include <algorithm>

#include "store/sqlite/sqlite_store_impl.h"

namespace tern::store::sqlite {
namespace {

// Blobs up to this size are read into memory at open; larger ones are read in pieces.
constexpr int64_t kInMemoryBlob = 1 << 20;

// Holds its own read-only connection with an open read transaction: the WAL snapshot keeps
// the bytes readable even if the message is expunged meanwhile. (A long-lived reader delays
// WAL checkpoints, so callers should not keep one idle.)
class IncrementalBlobReader final : public BlobReader {
 public:
  IncrementalBlobReader(std::unique_ptr<Connection> conn, sqlite3_blob* blob, uint64_t size)
      : conn_(std::move(conn)), blob_(blob), size_(size) {}
  ~IncrementalBlobReader() override {
    sqlite3_blob_close(blob_);
    (void)conn_->exec("COMMIT");
  }
  uint64_t size() const override { return size_; }
  Result<std::string> read(uint64_t offset, std::size_t max) override {
    if (offset >= size_) return std::string();
    const auto n = static_cast<int>(std::min<uint64_t>({size_ - offset, max, uint64_t{INT32_MAX}}));
    std::string out(static_cast<std::size_t>(n), '\0');
    int rc = sqlite3_blob_read(blob_, out.data(), n, static_cast<int>(offset));
    if (rc != SQLITE_OK) return tl::unexpected(sqlite_error(conn_->raw(), rc, "blob read"));
    return out;
  }

 private:
  std::unique_ptr<Connection> conn_;
  sqlite3_blob* blob_;
  uint64_t size_;
};

}  // namespace

Result<std::string> SqliteStore::read_blob(Id blob_id) {
  return read([&](Connection& c) -> Result<std::string> {
    STORE_ASSIGN(q, c.query("SELECT size, data FROM blobs WHERE id = ?"));
    q.bind(1, blob_id);
    STORE_ASSIGN(row, q.step());
    if (!row) return make_error(ErrorCode::kNotFound, "no blob {}", blob_id);
    std::string bytes(q.blob(1));
    if (static_cast<int64_t>(bytes.size()) != q.i64(0)) {
      return make_error(ErrorCode::kCorruption, "blob {} holds {} bytes, expected {}", blob_id, bytes.size(), q.i64(0));
    }
    return bytes;
  });
}

Result<std::unique_ptr<BlobReader>> SqliteStore::open_blob(Id blob_id) {
  int64_t size = 0;
  {
    auto lease = readers_.acquire();
    STORE_ASSIGN(q, lease->query("SELECT size FROM blobs WHERE id = ?"));
    q.bind(1, blob_id);
    STORE_ASSIGN(row, q.step());
    if (!row) return make_error(ErrorCode::kNotFound, "no blob {}", blob_id);
    size = q.i64(0);
  }
  if (size <= kInMemoryBlob) {
    STORE_ASSIGN(bytes, read_blob(blob_id));
    return memory_blob_reader(std::move(bytes));
  }
  STORE_ASSIGN(conn, Connection::open(path_, true));
  STORE_TRY(conn->exec("BEGIN"));
  sqlite3_blob* blob = nullptr;
  int rc = sqlite3_blob_open(conn->raw(), "main", "blobs", "data", blob_id, 0, &blob);
  if (rc != SQLITE_OK) {
    Error e = sqlite_error(conn->raw(), rc, "blob open");
    sqlite3_blob_close(blob);
    if ((rc & 0xff) == SQLITE_ERROR) e.code = ErrorCode::kNotFound;  // gone since the size query
    return tl::unexpected(std::move(e));
  }
  const auto actual = static_cast<uint64_t>(sqlite3_blob_bytes(blob));
  return std::unique_ptr<BlobReader>(std::make_unique<IncrementalBlobReader>(std::move(conn), blob, actual));
}

}  // namespace tern::store::sqlite
