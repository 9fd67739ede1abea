// store/sqlite/sqlite_store_test.cc: runs the conformance suite on SQLite, plus checks that
// only make sense for this backend (the file, the schema version, two opens at once).
#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <thread>

#include "base/assert.h"
#include "store/conformance_test.h"
#include "store/sqlite/schema.h"

namespace tern::store {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tern-store-XXXXXX").string();
    TERN_CHECK(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class SqliteInstance final : public testing::BackendInstance {
 public:
  Result<std::unique_ptr<MailStore>> open(ChangeFeed* feed) override {
    return open_sqlite_store(SqliteOptions{dir_.path() + "/tern.db", 2}, feed);
  }
  std::string db_path() const { return dir_.path() + "/tern.db"; }

 private:
  TempDir dir_;
};

using testing::StoreConformance;
INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformance,
                         ::testing::Values(testing::StoreBackend{
                             "sqlite", [] { return std::make_unique<SqliteInstance>(); }}),
                         testing::backend_name);

int64_t pragma(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, nullptr), SQLITE_OK);
  int64_t v = -1;
  if (sqlite3_step(st) == SQLITE_ROW) {
    v = sqlite3_column_type(st, 0) == SQLITE_TEXT ? (std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "wal" ? 1 : 0)
                                                  : sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

TEST(SqliteStore, CreatesWalDatabaseAtCurrentSchemaVersion) {
  SqliteInstance db;
  {
    auto s = db.open(nullptr);
    ASSERT_TRUE(s) << s.error().to_string();
  }
  EXPECT_EQ(pragma(db.db_path(), "PRAGMA user_version"), sqlite::schema_version());
  EXPECT_EQ(pragma(db.db_path(), "PRAGMA journal_mode"), 1);
}

TEST(SqliteStore, RefusesNewerSchema) {
  SqliteInstance db;
  { ASSERT_TRUE(db.open(nullptr)); }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.db_path().c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "PRAGMA user_version=9999", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  auto s = db.open(nullptr);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kInvalid);
}

TEST(SqliteStore, TwoStoresOnOneFileAtOnce) {
  // The CLI opens the database while the server runs; both must migrate safely and see
  // each other's commits.
  SqliteInstance db;
  Result<std::unique_ptr<MailStore>> a, b;
  std::thread ta([&] { a = db.open(nullptr); });
  std::thread tb([&] { b = db.open(nullptr); });
  ta.join();
  tb.join();
  ASSERT_TRUE(a) << a.error().to_string();
  ASSERT_TRUE(b) << b.error().to_string();
  ASSERT_TRUE((*a)->add_domain("example.org"));
  auto acc = (*b)->add_account("x@example.org", "h");
  ASSERT_TRUE(acc) << acc.error().to_string();
  auto seen = (*a)->find_account("x@example.org");
  ASSERT_TRUE(seen && *seen);
  auto boxes = (*a)->list_mailboxes(acc->id);
  ASSERT_TRUE(boxes);
  EXPECT_EQ(boxes->size(), 6u);
}

TEST(SqliteStore, OpenFailsInMissingDirectory) {
  auto s = open_sqlite_store(SqliteOptions{"/nonexistent-dir-for-tern/x.db", 1}, nullptr);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kIo);
}

}  // namespace
}  // namespace tern::store
