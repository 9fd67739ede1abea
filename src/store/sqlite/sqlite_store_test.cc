// store/sqlite/sqlite_store_test.cc: runs the conformance suite on SQLite, plus checks that
// only make sense for this backend (the file, the schema version, two opens at once).
#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
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

using testing::LockConformance;
using testing::QueueConformance;
using testing::StoreConformance;
INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformance,
                         ::testing::Values(testing::StoreBackend{
                             "sqlite", [] { return std::make_unique<SqliteInstance>(); }}),
                         testing::backend_name);
INSTANTIATE_TEST_SUITE_P(Sqlite, QueueConformance,
                         ::testing::Values(testing::StoreBackend{
                             "sqlite", [] { return std::make_unique<SqliteInstance>(); }}),
                         testing::backend_name);
INSTANTIATE_TEST_SUITE_P(Sqlite, LockConformance,
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

// What the conformance suite cannot see through the interface: a failed delivery leaves no
// row anywhere (no orphaned blob), and the last holder of a blob frees it.
TEST(SqliteStore, DeliveriesLeaveNoOrphanedRows) {
  SqliteInstance db;
  auto s = db.open(nullptr);
  ASSERT_TRUE(s) << s.error().to_string();
  MailStore& store = **s;
  ASSERT_TRUE(store.add_domain("example.org"));
  auto acc = store.add_account("a@example.org", "h");
  ASSERT_TRUE(acc);
  const Id inbox = (*store.find_mailbox(acc->id, "INBOX"))->id;
  auto rows = [&](const char* table) { return pragma(db.db_path(), (std::string("SELECT count(*) FROM ") + table).c_str()); };
  OutboundMessage out;
  out.recipients.push_back(OutboundRecipient{"far@remote.test", 0, "", QueueState::kQueued, ""});
  // The second target is missing: the first target's row, the bytes and the queue entry
  // were already written inside the job, and are rolled back with it.
  const std::vector<AppendTarget> targets{{inbox, 0, {}}, {inbox + 1000, 0, {}}};
  EXPECT_EQ(store.deliver("x", 1, targets, &out).error().code, ErrorCode::kNotFound);
  for (const char* table : {"blobs", "messages", "queue", "queue_recipients"}) EXPECT_EQ(rows(table), 0) << table;
  // Both holders go, in either order: nothing is left.
  for (bool queue_first : {true, false}) {
    auto d = store.deliver("y", 1, std::span(targets.data(), 1), &out);
    ASSERT_TRUE(d) << d.error().to_string();
    EXPECT_EQ(rows("blobs"), 1);
    EXPECT_EQ(pragma(db.db_path(), "SELECT refcount FROM blobs"), 2);
    if (queue_first) {
      ASSERT_TRUE(store.delete_queue_entry(d->queue_id));
    }
    ASSERT_TRUE(store.expunge(inbox, std::vector<uint32_t>{d->appended[0].uid}));
    if (!queue_first) {
      ASSERT_TRUE(store.delete_queue_entry(d->queue_id));
    }
    for (const char* table : {"blobs", "messages", "queue", "queue_recipients"}) EXPECT_EQ(rows(table), 0) << table;
  }
}

// deliver_async: the writer thread reports back without a caller blocked on it; concurrent
// deliveries still share commits, failures come back as errors, and what it reports is
// what a reader then finds.
TEST(SqliteStore, DeliverAsyncReportsDurableDeliveries) {
  SqliteInstance db;
  auto s = db.open(nullptr);
  ASSERT_TRUE(s) << s.error().to_string();
  MailStore& store = **s;
  ASSERT_TRUE(store.async_deliver());
  ASSERT_TRUE(store.add_domain("example.org"));
  auto acc = store.add_account("a@example.org", "h");
  ASSERT_TRUE(acc);
  const Id inbox = (*store.find_mailbox(acc->id, "INBOX"))->id;
  const std::vector<AppendTarget> targets{{inbox, kFlagSeen, {}}};
  const std::vector<AppendTarget> missing{{inbox + 1000, 0, {}}};
  constexpr int kCount = 200;
  const uint64_t commits_before = store.stats().commits;
  std::mutex mu;
  std::condition_variable cv;
  int pending = kCount + 1;
  std::vector<Result<Delivered>> results(kCount);
  Result<Delivered> failed;
  std::vector<std::string> bodies;
  for (int i = 0; i < kCount; ++i) bodies.push_back("message " + std::to_string(i) + "\r\n");
  auto finish = [&] {
    std::lock_guard lock(mu);
    if (--pending == 0) cv.notify_all();
  };
  for (int i = 0; i < kCount; ++i) {
    store.deliver_async(bodies[i], 1000 + i, targets, nullptr, [&, i](Result<Delivered> r) {
      results[i] = std::move(r);
      finish();
    });
  }
  store.deliver_async("lost", 1, missing, nullptr, [&](Result<Delivered> r) {
    failed = std::move(r);
    finish();
  });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return pending == 0; }));
  }
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kNotFound);
  EXPECT_LT(store.stats().commits - commits_before, static_cast<uint64_t>(kCount));
  auto messages = store.list_messages(inbox);
  ASSERT_TRUE(messages);
  ASSERT_EQ(messages->size(), static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(results[i]) << results[i].error().to_string();
    ASSERT_EQ(results[i]->appended.size(), 1u);
    const uint32_t uid = results[i]->appended[0].uid;
    auto it = std::find_if(messages->begin(), messages->end(), [&](const Message& m) { return m.uid == uid; });
    ASSERT_NE(it, messages->end());
    EXPECT_EQ(store.read_blob(it->blob_id).value(), bodies[i]);
    EXPECT_EQ(it->internal_date, 1000 + i);
    EXPECT_EQ(it->flags, kFlagSeen);
  }
}

TEST(SqliteStore, MigratesAVersion1Database) {
  SqliteInstance db;
  Id inbox = 0;
  {
    auto s = db.open(nullptr);
    ASSERT_TRUE(s);
    ASSERT_TRUE((*s)->add_domain("example.org"));
    auto acc = (*s)->add_account("a@example.org", "h");
    ASSERT_TRUE(acc);
    inbox = (*(*s)->find_mailbox(acc->id, "INBOX"))->id;
    AppendTarget t{inbox, 0, {}};
    ASSERT_TRUE((*s)->append("from version 1", 1, std::span(&t, 1)));
  }
  // Back to what migration 1 made.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.db_path().c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "DROP TRIGGER queue_release_blob; DROP TABLE queue_recipients; DROP TABLE queue; "
                              "PRAGMA user_version=1;", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  auto s = db.open(nullptr);
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(pragma(db.db_path(), "PRAGMA user_version"), sqlite::schema_version());
  auto msgs = (*s)->list_messages(inbox);
  ASSERT_TRUE(msgs);
  ASSERT_EQ(msgs->size(), 1u);
  EXPECT_EQ(*(*s)->read_blob((*msgs)[0].blob_id), "from version 1");
  OutboundMessage out;
  out.recipients.push_back(OutboundRecipient{"far@remote.test", 0, "", QueueState::kQueued, ""});
  AppendTarget t{inbox, 0, {}};
  ASSERT_TRUE((*s)->deliver("after", 1, std::span(&t, 1), &out));
  EXPECT_EQ((*s)->list_queue()->size(), 1u);
}

TEST(SqliteStore, OpenFailsInMissingDirectory) {
  auto s = open_sqlite_store(SqliteOptions{"/nonexistent-dir-for-tern/x.db", 1}, nullptr);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kIo);
}

}  // namespace
}  // namespace tern::store
