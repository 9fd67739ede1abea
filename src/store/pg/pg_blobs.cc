// store/pg/pg_blobs.cc: reading message bytes, whole or in pieces.
#include <algorithm>

#include "store/pg/pg_store_impl.h"

namespace tern::store::pg {
namespace {

// Blobs up to this size are read into memory at open; larger ones are read in pieces.
constexpr int64_t kInMemoryBlob = 1 << 20;

// Holds its own connection with an open REPEATABLE READ transaction: its snapshot keeps the
// bytes readable even if the message is expunged meanwhile (and keeps VACUUM from removing
// them, so callers should not keep one idle). Each read() fetches only the TOAST chunks it
// needs (the column is STORAGE EXTERNAL).
class IncrementalBlobReader final : public BlobReader {
 public:
  IncrementalBlobReader(std::unique_ptr<Conn> conn, Id blob_id, uint64_t size)
      : conn_(std::move(conn)), blob_id_(blob_id), size_(size) {}
  ~IncrementalBlobReader() override {
    if (!conn_->broken()) (void)conn_->run("COMMIT");
  }
  uint64_t size() const override { return size_; }
  Result<std::string> read(uint64_t offset, std::size_t max) override {
    if (offset >= size_) return std::string();
    const uint64_t n = std::min<uint64_t>({size_ - offset, max, uint64_t{64} << 20});
    PG_ASSIGN(r, conn_->exec("SELECT substring(data FROM $2 FOR $3) FROM blobs WHERE id = $1",
                             Params().i64(blob_id_).i64(static_cast<int64_t>(offset) + 1).i64(static_cast<int64_t>(n)),
                             true));
    if (r.rows() == 0) return make_error(ErrorCode::kCorruption, "blob {} vanished from the reader's snapshot", blob_id_);
    std::string out(r.view(0, 0));
    if (out.size() != n) {
      return make_error(ErrorCode::kCorruption, "blob {} read {} bytes at {}, expected {}", blob_id_, out.size(), offset, n);
    }
    return out;
  }

 private:
  std::unique_ptr<Conn> conn_;
  Id blob_id_;
  uint64_t size_;
};

}  // namespace

Result<std::string> PgStore::read_blob(Id blob_id) {
  return read([&](Conn& c) -> Result<std::string> {
    PG_ASSIGN(r, c.exec("SELECT size, data FROM blobs WHERE id = $1", Params().i64(blob_id), true));
    if (r.rows() == 0) return make_error(ErrorCode::kNotFound, "no blob {}", blob_id);
    std::string bytes(r.view(0, 1));
    if (static_cast<int64_t>(bytes.size()) != r.i64(0, 0)) {
      return make_error(ErrorCode::kCorruption, "blob {} holds {} bytes, expected {}", blob_id, bytes.size(), r.i64(0, 0));
    }
    return bytes;
  });
}

Result<std::unique_ptr<BlobReader>> PgStore::open_blob(Id blob_id) {
  PG_ASSIGN(size, read([&](Conn& c) -> Result<int64_t> {
              PG_ASSIGN(r, c.exec("SELECT size FROM blobs WHERE id = $1", Params().i64(blob_id)));
              if (r.rows() == 0) return make_error(ErrorCode::kNotFound, "no blob {}", blob_id);
              return r.i64(0, 0);
            }));
  if (size <= kInMemoryBlob) {
    PG_ASSIGN(bytes, read_blob(blob_id));
    return memory_blob_reader(std::move(bytes));
  }
  PG_ASSIGN(conn, Conn::open(conninfo_));
  PG_TRY(conn->run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  // The first query fixes the snapshot; the blob may have gone since the size query.
  PG_ASSIGN(r, conn->exec("SELECT octet_length(data) FROM blobs WHERE id = $1", Params().i64(blob_id)));
  if (r.rows() == 0) return make_error(ErrorCode::kNotFound, "no blob {}", blob_id);
  const auto actual = static_cast<uint64_t>(r.i64(0, 0));
  return std::unique_ptr<BlobReader>(std::make_unique<IncrementalBlobReader>(std::move(conn), blob_id, actual));
}

}  // namespace tern::store::pg
