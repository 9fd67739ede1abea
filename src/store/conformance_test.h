// store/conformance_test.h: the MailStore conformance suite, written once for every backend.
//
// A backend joins the suite by instantiating it with a factory:
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
// flags, keywords, expunges, copies, moves, a mailbox larger than one copy batch), and
// checks that two stores hold the same state, ids aside. Shared with the cross-backend test.
void fill_copy_source(MailStore& store);
void expect_same_content(MailStore& source, MailStore& copy);

class StoreConformance : public ::testing::TestWithParam<StoreBackend> {
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

}  // namespace tern::store::testing
