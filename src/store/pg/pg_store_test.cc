// store/pg/pg_store_test.cc: runs the conformance suite on PostgreSQL, plus checks that only
// make sense for this backend (migration races, the schema version, several nodes on one
// database: UID allocation and the ChangeFeed across nodes, NOTIFY payloads).
//
// Needs a server: TERN_PG_URL names a database whose role may CREATE DATABASE (scripts/test
// starts a throwaway cluster with scripts/pg_test_cluster and sets it). Each test gets a
// fresh database, dropped at the end. Without TERN_PG_URL every test here is SKIPPED.
#include "store/pg/pg_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "store/conformance_test.h"
#include "store/copy.h"
#include "store/pg/notify.h"
#include "store/pg/schema.h"
#include "store/sqlite/sqlite_store.h"

namespace tern::store {
namespace {

using ::testing::ElementsAre;

const char* pg_url() {
  const char* url = std::getenv("TERN_PG_URL");
  return (url != nullptr && *url != '\0') ? url : nullptr;
}

constexpr const char* kNoServer =
    "TERN_PG_URL is not set: PostgreSQL test skipped "
    "(export TERN_PG_URL=$(scripts/pg_test_cluster start DIR) to run it)";

void skip_without_server() {
  if (pg_url() == nullptr) GTEST_SKIP() << kNoServer;
}

class PgStore : public ::testing::Test {
 protected:
  void SetUp() override { skip_without_server(); }
};

// `url` with its database replaced by `dbname`, as a key=value connection string.
std::string with_dbname(const char* url, const std::string& dbname) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(url, &err);
  if (opts == nullptr) {
    ADD_FAILURE() << "bad TERN_PG_URL: " << (err != nullptr ? err : "?");
    PQfreemem(err);
    return {};
  }
  auto quote = [](std::string_view v) {
    std::string q = "'";
    for (char ch : v) {
      if (ch == '\'' || ch == '\\') q += '\\';
      q += ch;
    }
    return q + "'";
  };
  std::string out;
  for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || std::string_view(o->keyword) == "dbname") continue;
    out += std::string(o->keyword) + "=" + quote(o->val) + " ";
  }
  PQconninfoFree(opts);
  return out + "dbname=" + quote(dbname);
}

// Runs one statement on the server (admin work: CREATE/DROP DATABASE, poking at a schema).
bool admin_exec(const std::string& conninfo, const std::string& sql) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  bool ok = PQstatus(c) == CONNECTION_OK;
  if (ok) {
    PGresult* r = PQexec(c, sql.c_str());
    ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok) ADD_FAILURE() << sql << ": " << PQresultErrorMessage(r);
    PQclear(r);
  } else {
    ADD_FAILURE() << "connect: " << PQerrorMessage(c);
  }
  PQfinish(c);
  return ok;
}

// The first column of the first row of a query (admin checks on a store's rows); -1 on error.
int64_t admin_value(const std::string& conninfo, const std::string& sql) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  int64_t v = -1;
  if (PQstatus(c) == CONNECTION_OK) {
    PGresult* r = PQexec(c, sql.c_str());
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) {
      v = std::strtoll(PQgetvalue(r, 0, 0), nullptr, 10);
    } else {
      ADD_FAILURE() << sql << ": " << PQresultErrorMessage(r);
    }
    PQclear(r);
  } else {
    ADD_FAILURE() << "connect: " << PQerrorMessage(c);
  }
  PQfinish(c);
  return v;
}

// A fresh database on the TERN_PG_URL server, dropped on destruction.
class PgInstance final : public testing::BackendInstance {
 public:
  PgInstance() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    name_ = "tern_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" + std::to_string(rd() % 100000);
    admin_ = pg_url();
    conninfo_ = with_dbname(pg_url(), name_);
    created_ = admin_exec(admin_, "CREATE DATABASE " + name_);
  }
  ~PgInstance() override {
    if (created_) admin_exec(admin_, "DROP DATABASE " + name_ + " WITH (FORCE)");
  }
  Result<std::unique_ptr<MailStore>> open(ChangeFeed* feed) override {
    return open_pg_store(PgOptions{conninfo_, 2, true}, feed);
  }
  const std::string& conninfo() const { return conninfo_; }

 private:
  std::string name_;
  std::string admin_;
  std::string conninfo_;
  bool created_ = false;
};

// Stands in when there is no server. The conformance fixture's SetUp insists on an open
// store, so this one opens an SQLite store in a temporary directory; the test is already
// marked skipped by then, so its body never runs against it.
class Placeholder final : public testing::BackendInstance {
 public:
  Placeholder() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tern-pg-skip-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) dir_ = tmpl;
  }
  ~Placeholder() override {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  Result<std::unique_ptr<MailStore>> open(ChangeFeed* feed) override {
    return open_sqlite_store(SqliteOptions{dir_ + "/skip.db", 1}, feed);
  }

 private:
  std::string dir_;
};

std::unique_ptr<testing::BackendInstance> make_pg_instance() {
  if (pg_url() == nullptr) {
    skip_without_server();
    return std::make_unique<Placeholder>();
  }
  return std::make_unique<PgInstance>();
}

using testing::LockConformance;
using testing::QueueConformance;
using testing::StoreConformance;
INSTANTIATE_TEST_SUITE_P(Pg, StoreConformance, ::testing::Values(testing::StoreBackend{"pg", make_pg_instance}),
                         testing::backend_name);
INSTANTIATE_TEST_SUITE_P(Pg, QueueConformance, ::testing::Values(testing::StoreBackend{"pg", make_pg_instance}),
                         testing::backend_name);
INSTANTIATE_TEST_SUITE_P(Pg, LockConformance, ::testing::Values(testing::StoreBackend{"pg", make_pg_instance}),
                         testing::backend_name);

// The migration `tern store copy` exists for: SQLite (the embedded default) into PostgreSQL.
TEST_F(PgStore, CopyFromSqliteKeepsUidsAndModseqs) {
  Placeholder sqlite_dir;  // an SQLite store in a temporary directory
  auto from = sqlite_dir.open(nullptr);
  ASSERT_TRUE(from) << from.error().to_string();
  testing::fill_copy_source(**from);
  if (HasFatalFailure()) return;
  PgInstance db;
  auto to = db.open(nullptr);
  ASSERT_TRUE(to) << to.error().to_string();
  auto summary = copy_store(**from, **to);
  ASSERT_TRUE(summary) << summary.error().to_string();
  EXPECT_EQ(summary->accounts, 2u);
  testing::expect_same_content(**from, **to);
}

TEST_F(PgStore, SeveralNodesMigrateAtOnce) {
  PgInstance db;
  constexpr int kNodes = 4;
  std::vector<Result<std::unique_ptr<MailStore>>> stores(kNodes);
  std::vector<std::thread> threads;
  for (int i = 0; i < kNodes; ++i) threads.emplace_back([&, i] { stores[static_cast<std::size_t>(i)] = db.open(nullptr); });
  for (auto& t : threads) t.join();
  for (auto& s : stores) ASSERT_TRUE(s) << s.error().to_string();
  ASSERT_TRUE((*stores[0])->add_domain("example.org"));
  auto acc = (*stores[1])->add_account("x@example.org", "h");
  ASSERT_TRUE(acc) << acc.error().to_string();
  auto seen = (*stores[2])->find_account("x@example.org");
  ASSERT_TRUE(seen && *seen);
  auto boxes = (*stores[3])->list_mailboxes(acc->id);
  ASSERT_TRUE(boxes);
  EXPECT_EQ(boxes->size(), 6u);
}

TEST_F(PgStore, RefusesNewerSchema) {
  PgInstance db;
  { ASSERT_TRUE(db.open(nullptr)); }
  ASSERT_TRUE(admin_exec(db.conninfo(), "UPDATE tern_schema SET version = 9999"));
  auto s = db.open(nullptr);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kInvalid);
  ASSERT_TRUE(admin_exec(db.conninfo(), "UPDATE tern_schema SET version = " + std::to_string(pg::schema_version())));
  EXPECT_TRUE(db.open(nullptr));
}

// What the conformance suite cannot see through the interface: a failed delivery leaves no
// row anywhere (no orphaned blob), and the last holder of a blob frees it.
TEST_F(PgStore, DeliveriesLeaveNoOrphanedRows) {
  PgInstance db;
  auto s = db.open(nullptr);
  ASSERT_TRUE(s) << s.error().to_string();
  MailStore& store = **s;
  ASSERT_TRUE(store.add_domain("example.org"));
  auto acc = store.add_account("a@example.org", "h");
  ASSERT_TRUE(acc);
  const Id inbox = (*store.find_mailbox(acc->id, "INBOX"))->id;
  auto rows = [&](const std::string& table) { return admin_value(db.conninfo(), "SELECT count(*) FROM " + table); };
  OutboundMessage out;
  out.recipients.push_back(OutboundRecipient{"far@remote.test", 0, "", QueueState::kQueued, ""});
  const std::vector<AppendTarget> targets{{inbox, 0, {}}, {inbox + 1000, 0, {}}};
  EXPECT_EQ(store.deliver("x", 1, targets, &out).error().code, ErrorCode::kNotFound);
  for (const char* table : {"blobs", "messages", "queue", "queue_recipients"}) EXPECT_EQ(rows(table), 0) << table;
  for (bool queue_first : {true, false}) {
    auto d = store.deliver("y", 1, std::span(targets.data(), 1), &out);
    ASSERT_TRUE(d) << d.error().to_string();
    EXPECT_EQ(rows("blobs"), 1);
    EXPECT_EQ(admin_value(db.conninfo(), "SELECT refcount FROM blobs"), 2);
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

TEST_F(PgStore, MigratesAVersion1Database) {
  PgInstance db;
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
  ASSERT_TRUE(admin_exec(db.conninfo(), "DROP TABLE queue_recipients; DROP TABLE queue; "
                                        "UPDATE tern_schema SET version = 1"));
  auto s = db.open(nullptr);
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(admin_value(db.conninfo(), "SELECT version FROM tern_schema"), pg::schema_version());
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

TEST(PgStoreOffline, UnreachableServerIsUnavailable) {
  // Port 1 on loopback: nothing listens there.
  auto s = open_pg_store(PgOptions{"postgresql://tern@127.0.0.1:1/tern?connect_timeout=5", 1, true}, nullptr);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
}

TEST_F(PgStore, BinaryBytesAndOddTextRoundTrip) {
  PgInstance db;
  auto store = db.open(nullptr);
  ASSERT_TRUE(store);
  auto& s = **store;
  ASSERT_TRUE(s.add_domain("example.org"));
  auto acc = s.add_account("o'brien@example.org", "$y$j9T$a'b\"c\\d");
  ASSERT_TRUE(acc);
  std::string bytes;
  for (int i = 0; i < 4096; ++i) bytes.push_back(static_cast<char>(i % 256));  // NULs, high bytes
  auto box = s.create_mailbox(acc->id, "Entw\xc3\xbcrfe/'; DROP TABLE messages; --", SpecialUse::kNone);
  ASSERT_TRUE(box) << box.error().to_string();
  AppendTarget t{box->id, 0, {"quote\"d", "back\\slash"}};
  auto r = s.append(bytes, 1, std::span(&t, 1));
  ASSERT_TRUE(r) << r.error().to_string();
  auto msgs = s.list_messages(box->id);
  ASSERT_TRUE(msgs);
  ASSERT_EQ(msgs->size(), 1u);
  EXPECT_THAT((*msgs)[0].keywords, ElementsAre("back\\slash", "quote\"d"));
  EXPECT_TRUE(*s.read_blob((*msgs)[0].blob_id) == bytes);
  std::vector<uint32_t> uids{(*msgs)[0].uid};
  std::vector<std::string> kw{"new\"one"};
  auto ch = s.store_flags(box->id, uids, FlagOp::kAdd, 0, kw, std::nullopt, nullptr);
  ASSERT_TRUE(ch) << ch.error().to_string();
  EXPECT_THAT((*s.list_messages(box->id))[0].keywords, ElementsAre("back\\slash", "new\"one", "quote\"d"));
  auto found = s.find_account("o'brien@example.org");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->password_hash, "$y$j9T$a'b\"c\\d");
  // Text that PostgreSQL cannot store is refused, not truncated.
  EXPECT_EQ(s.create_mailbox(acc->id, "bad\xff", SpecialUse::kNone).error().code, ErrorCode::kInvalid);
  EXPECT_EQ(s.set_password(acc->id, std::string("a\0b", 3)).error().code, ErrorCode::kInvalid);
}

TEST_F(PgStore, RecoversFromDroppedConnections) {
  // A PostgreSQL restart or failover drops every connection: the store reconnects.
  PgInstance db;
  ChangeFeed feed;
  auto store = db.open(&feed);
  ASSERT_TRUE(store);
  auto& s = **store;
  ASSERT_TRUE(s.add_domain("example.org"));
  auto acc = s.add_account("u@example.org", "h");
  ASSERT_TRUE(acc);
  const Id inbox = (*s.find_mailbox(acc->id, "INBOX"))->id;
  ASSERT_TRUE(admin_exec(db.conninfo(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"));
  AppendTarget t{inbox, 0, {}};
  auto r = s.append("after the drop", 1, std::span(&t, 1));
  ASSERT_TRUE(r) << r.error().to_string();
  auto msgs = s.list_messages(inbox);
  ASSERT_TRUE(msgs) << msgs.error().to_string();
  ASSERT_EQ(msgs->size(), 1u);
  auto bytes = s.read_blob((*msgs)[0].blob_id);
  ASSERT_TRUE(bytes) << bytes.error().to_string();
  EXPECT_EQ(*bytes, "after the drop");
}

TEST_F(PgStore, TwoNodesAllocateUidsWithoutClashes) {
  PgInstance db;
  auto a = db.open(nullptr);
  auto b = db.open(nullptr);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE((*a)->add_domain("example.org"));
  auto acc = (*a)->add_account("u@example.org", "h");
  ASSERT_TRUE(acc);
  const Id inbox = (*(*a)->find_mailbox(acc->id, "INBOX"))->id;
  constexpr int kThreads = 6;
  constexpr int kEach = 20;
  std::vector<std::vector<uint32_t>> uids(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      MailStore& s = t % 2 == 0 ? **a : **b;
      for (int i = 0; i < kEach; ++i) {
        AppendTarget target{inbox, 0, {}};
        auto r = s.append("m" + std::to_string(t) + "." + std::to_string(i), 1, std::span(&target, 1));
        if (!r) {
          ++failures;
          continue;
        }
        uids[static_cast<std::size_t>(t)].push_back((*r)[0].uid);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  std::set<uint32_t> all;
  for (const auto& v : uids) {
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kEach));
  auto box = (*b)->get_mailbox(inbox);
  ASSERT_TRUE(box && *box);
  EXPECT_EQ((*box)->messages, static_cast<uint32_t>(kThreads * kEach));
  EXPECT_EQ((*box)->uidnext, static_cast<uint32_t>(kThreads * kEach + 1));
  EXPECT_EQ((*box)->highestmodseq, static_cast<uint64_t>(kThreads * kEach + 1));
}

TEST_F(PgStore, ChangesReachOtherNodes) {
  PgInstance db;
  ChangeFeed feed_a, feed_b;
  auto a = db.open(&feed_a);
  auto b = db.open(&feed_b);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE((*a)->add_domain("example.org"));
  auto acc = (*a)->add_account("u@example.org", "h");
  ASSERT_TRUE(acc);
  const Id inbox = (*(*a)->find_mailbox(acc->id, "INBOX"))->id;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<MailboxChange> got_b;
  int got_a = 0;
  auto sub_b = feed_b.subscribe(inbox, [&](const MailboxChange& c) {
    if (c.kind == MailboxChange::Kind::kMailboxCreated) return;
    std::lock_guard lock(mu);
    got_b.push_back(c);
    cv.notify_all();
  });
  auto sub_a = feed_a.subscribe(inbox, [&](const MailboxChange& c) {
    if (c.kind == MailboxChange::Kind::kMailboxCreated) return;
    std::lock_guard lock(mu);
    ++got_a;
    cv.notify_all();
  });
  auto wait_for = [&](std::size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return got_b.size() >= n; });
  };
  // Delivered on node A: node B hears of it.
  AppendTarget t{inbox, 0, {}};
  auto r = (*a)->append("hello", 1, std::span(&t, 1));
  ASSERT_TRUE(r);
  ASSERT_TRUE(wait_for(1));
  // A flag change on node B reaches A (and B's own feed, in-process).
  std::vector<uint32_t> uids{(*r)[0].uid};
  auto f = (*b)->store_flags(inbox, uids, FlagOp::kAdd, kFlagSeen, {}, std::nullopt, nullptr);
  ASSERT_TRUE(f);
  ASSERT_TRUE(wait_for(2));
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return got_a >= 2; }));
  }
  // Many UIDs expunged at once travel in several notifications but arrive whole. (Copies
  // into the same mailbox double the message count cheaply: 2048 UIDs, > 8000 bytes.)
  std::vector<uint32_t> all_uids{(*r)[0].uid};
  for (int i = 0; i < 11; ++i) {
    auto c = (*a)->copy_messages(inbox, all_uids, inbox);
    ASSERT_TRUE(c) << c.error().to_string();
    all_uids.insert(all_uids.end(), c->dest_uids.begin(), c->dest_uids.end());
  }
  ASSERT_EQ(all_uids.size(), 2048u);
  auto e = (*a)->expunge(inbox, all_uids);
  ASSERT_TRUE(e);
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] {
    std::size_t expunged = 0;
    for (const auto& c : got_b) {
      if (c.kind == MailboxChange::Kind::kExpunge) expunged += c.uids.size();
    }
    return expunged == all_uids.size();
  }));
  EXPECT_EQ(got_b[0].kind, MailboxChange::Kind::kAppend);
  EXPECT_EQ(got_b[0].account_id, acc->id);
  EXPECT_EQ(got_b[0].modseq, (*r)[0].modseq);
  EXPECT_THAT(got_b[0].uids, ElementsAre((*r)[0].uid));
  EXPECT_EQ(got_b[1].kind, MailboxChange::Kind::kFlags);
  EXPECT_EQ(got_b[1].modseq, (*f)[0].modseq);
  EXPECT_EQ(got_b.back().modseq, e->modseq);
}

TEST(PgNotify, PayloadsRoundTripAndSplit) {
  std::vector<MailboxChange> changes;
  changes.push_back(MailboxChange{MailboxChange::Kind::kMailboxCreated, 7, 8, 1, {}});
  MailboxChange big{MailboxChange::Kind::kExpunge, 7, 9, 123456789012, {}};
  for (uint32_t u = 4000000000u; u < 4000003000u; ++u) big.uids.push_back(u);
  changes.push_back(big);
  auto payloads = pg::encode_changes("node1", changes);
  ASSERT_GT(payloads.size(), 1u);
  std::vector<MailboxChange> back;
  for (const auto& p : payloads) {
    EXPECT_LE(p.size(), pg::kMaxPayload);
    auto d = pg::decode_changes(p);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->node_id, "node1");
    back.insert(back.end(), d->changes.begin(), d->changes.end());
  }
  ASSERT_GE(back.size(), 2u);
  EXPECT_EQ(back[0].kind, MailboxChange::Kind::kMailboxCreated);
  EXPECT_TRUE(back[0].uids.empty());
  std::vector<uint32_t> uids;
  for (std::size_t i = 1; i < back.size(); ++i) {
    EXPECT_EQ(back[i].kind, MailboxChange::Kind::kExpunge);
    EXPECT_EQ(back[i].mailbox_id, 9);
    EXPECT_EQ(back[i].modseq, 123456789012u);
    uids.insert(uids.end(), back[i].uids.begin(), back[i].uids.end());
  }
  EXPECT_EQ(uids, big.uids);
  EXPECT_FALSE(pg::decode_changes("other 1\n0 1 2 3 "));
  EXPECT_FALSE(pg::decode_changes("tern1 n\n9 1 2 3 "));
  EXPECT_FALSE(pg::decode_changes("tern1 n\n0 1 2 x 4"));
}

}  // namespace
}  // namespace tern::store
