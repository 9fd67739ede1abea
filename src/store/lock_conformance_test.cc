// store/lock_conformance_test.cc: the POP3 maildrop lock (MailStore::lock_maildrop) in the
// conformance suite. LockConformance runs on every MailStore, the fake included; the
// StoreConformance cases (a second store on the same database, as another node or process
// would open it) only on the real backends.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "store/conformance_test.h"

namespace tern::store::testing {
namespace {

// Tries to take the lock until `deadline` passes (a dead holder's lock may take a moment to
// go: PostgreSQL notices the closed connection asynchronously).
Result<std::unique_ptr<MaildropLock>> lock_within(MailStore& store, Id account, std::chrono::seconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    auto r = store.lock_maildrop(account);
    if (r || r.error().code != ErrorCode::kBusy || std::chrono::steady_clock::now() > until) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

TEST_P(LockConformance, SecondLockIsBusyUntilTheFirstIsReleased) {
  const Id alice = make_account("alice");
  const Id bob = make_account("bob");
  auto first = store_->lock_maildrop(alice);
  ASSERT_TRUE(first) << first.error().to_string();
  ASSERT_TRUE(*first);
  auto second = store_->lock_maildrop(alice);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::kBusy);
  auto other = store_->lock_maildrop(bob);  // one lock per account
  ASSERT_TRUE(other) << other.error().to_string();
  first->reset();
  auto again = store_->lock_maildrop(alice);
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(store_->lock_maildrop(alice).error().code, ErrorCode::kBusy);
  EXPECT_EQ(store_->lock_maildrop(bob).error().code, ErrorCode::kBusy);
  other->reset();
  EXPECT_TRUE(store_->lock_maildrop(bob));  // released again at once by the temporary
  EXPECT_TRUE(store_->lock_maildrop(bob));
}

TEST_P(LockConformance, RefusesABadAccountId) {
  auto r = store_->lock_maildrop(0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalid);
}

TEST_P(LockConformance, OneHolderAtATimeUnderContention) {
  const Id alice = make_account("alice");
  std::atomic<int> holders{0};
  std::atomic<int> max_holders{0};
  std::atomic<int> acquired{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto r = store_->lock_maildrop(alice);
        if (!r) {
          EXPECT_EQ(r.error().code, ErrorCode::kBusy) << r.error().to_string();
          continue;
        }
        const int now = ++holders;
        int seen = max_holders.load();
        while (now > seen && !max_holders.compare_exchange_weak(seen, now)) {
        }
        ++acquired;
        std::this_thread::yield();
        --holders;
        r->reset();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(max_holders.load(), 1);
  EXPECT_GT(acquired.load(), 0);
  EXPECT_TRUE(store_->lock_maildrop(alice));
}

// Another Tern node (PostgreSQL) or process (SQLite) opens its own store on the database.
TEST_P(StoreConformance, MaildropLockHoldsAcrossStoreInstances) {
  const Id alice = make_account("alice");
  auto other_node = db_->open(nullptr);
  ASSERT_TRUE(other_node) << other_node.error().to_string();
  auto held = store_->lock_maildrop(alice);
  ASSERT_TRUE(held) << held.error().to_string();
  auto busy = (*other_node)->lock_maildrop(alice);
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code, ErrorCode::kBusy);
  held->reset();
  auto theirs = (*other_node)->lock_maildrop(alice);
  ASSERT_TRUE(theirs) << theirs.error().to_string();
  EXPECT_EQ(store_->lock_maildrop(alice).error().code, ErrorCode::kBusy);
  theirs->reset();
  EXPECT_TRUE(store_->lock_maildrop(alice));
}

// A lock held by a process that dies (SIGKILL: no destructor runs) is released.
TEST_P(StoreConformance, MaildropLockDiesWithItsProcess) {
  const Id alice = make_account("alice");
  store_.reset();  // no store open across fork
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(ready[0]);
    auto store = db_->open(nullptr);
    if (!store) _exit(2);
    auto lock = (*store)->lock_maildrop(alice);
    if (!lock) _exit(3);
    if (write(ready[1], "L", 1) != 1) _exit(4);
    for (;;) pause();
  }
  close(ready[1]);
  char c = 0;
  const bool locked = read(ready[0], &c, 1) == 1;
  close(ready[0]);
  reopen();
  if (locked) {
    auto busy = store_->lock_maildrop(alice);
    ASSERT_FALSE(busy);
    EXPECT_EQ(busy.error().code, ErrorCode::kBusy);
  }
  kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(locked) << "child failed, status " << status;
  auto after = lock_within(*store_, alice, std::chrono::seconds(10));
  ASSERT_TRUE(after) << after.error().to_string();
}

}  // namespace tern::store::testing
