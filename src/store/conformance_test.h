// store/conformance_test.h: the MailStore conformance suite, written once for every backend.
//
// Two parameterised suites share one fixture:
//   StoreConformance  the whole contract, for the real backends (SQLite, PostgreSQL):
//                     conformance_test.cc, copy_conformance_test.cc, the queue's durability
//                     and group commit in queue_conformance_test.cc, conformance_crash_test.cc
//   QueueConformance  deliver and the outbound queue, for the backends and the in-memory
//                     fake (store/testing): queue_conformance_test.cc
//   LockConformance   the POP3 maildrop lock within one store, for the backends and the
//                     fake: lock_conformance_test.cc (which adds StoreConformance cases for
//                     the lock across store instances and processes)
// A backend joins by instantiating them with a factory:
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformance, ::testing::Values(StoreBackend{...}));
// Each test creates a fresh BackendInstance (an empty database in a private place), opens
// stores on it (possibly several times, to test persistence), and drops it at the end.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <memory>
#include <string>

#include "store/change_feed.h"
#include "store/mail_store.h"

namespace tern::store::testing {

// One empty database; destroying it removes the database.
class BackendInstance {
 public:
  virtual ~BackendInstance() = default;
  // Opens a store on this database; may be called again after the previous store is gone,
  // and from a forked child process.
  virtual Result<std::unique_ptr<MailStore>> open(ChangeFeed* feed) = 0;
};

struct StoreBackend {
  std::string name;
  std::function<std::unique_ptr<BackendInstance>()> create;
};

inline void PrintTo(const StoreBackend& b, std::ostream* os) { *os << b.name; }
inline std::string backend_name(const ::testing::TestParamInfo<StoreBackend>& info) { return info.param.name; }

// For `tern store copy` (store/copy.h): fills `store` with every kind of state the copy must
// keep (two domains, accounts with app passwords, aliases, renamed and deleted mailboxes,
// flags, keywords, expunges, copies, moves, a mailbox larger than one copy batch, queued
// mail with and without mailbox copies, an imported entry with attempts and errors), and
// checks that two stores hold the same state, ids aside. Shared with the cross-backend test.
void fill_copy_source(MailStore& store);
void expect_same_content(MailStore& source, MailStore& copy);
// The queues of two stores hold the same entries in the same order with the same fields and
// bytes, ids aside.
void expect_same_queue(MailStore& source, MailStore& copy);
// Every field of two outbound messages (recipients included) is equal.
void expect_same_outbound(const OutboundMessage& want, const OutboundMessage& got);

// A fresh database per test, opened with `feed_`, and small helpers.
class StoreFixture : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Closes the store and opens it again on the same database.
  void reopen();
  // A domain "example.org" with an account "alice@example.org"; returns the account id.
  Id make_account(const std::string& local = "alice");
  Id mailbox_id(Id account, const std::string& name);
  Appended append1(Id mailbox, const std::string& bytes, uint32_t flags = 0);

  std::unique_ptr<BackendInstance> db_;
  ChangeFeed feed_;
  std::unique_ptr<MailStore> store_;
};

class StoreConformance : public StoreFixture {};
// Only deliver, the queue, and what they need (domains, accounts with their default
// mailboxes, list_messages, expunge, mailbox and account deletion, blobs, the ChangeFeed);
// never reopens the database.
class QueueConformance : public StoreFixture {};
// Only lock_maildrop and make_account; never reopens the database.
class LockConformance : public StoreFixture {};

}  // namespace tern::store::testing
