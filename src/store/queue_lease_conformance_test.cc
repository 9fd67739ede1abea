// store/queue_lease_conformance_test.cc: delivery attempts in the conformance suite:
// claim_due with leases, record_attempt, hold/release and retry. QueueConformance runs on
// every MailStore, the fake included; the StoreConformance case at the end (two stores on
// one database claiming at once, as two processes or two nodes do) only on the real backends.
#include <gmock/gmock.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "base/clock.h"
#include "store/conformance_test.h"

namespace tern::store::testing {
namespace {

using ::testing::IsEmpty;

int64_t now_seconds() { return unix_seconds(SystemClock::instance().now()); }

// Queues one message from alice to `addresses` (no mailbox copy); returns the entry's id.
Id queue_to(MailStore& store, const std::vector<std::string>& addresses) {
  OutboundMessage m;
  m.sender = "alice@example.org";
  for (const auto& a : addresses) m.recipients.push_back(OutboundRecipient{a, 0, "", QueueState::kQueued, ""});
  auto d = store.deliver("Subject: out\r\n\r\nbody\r\n", 1700000000, {}, &m);
  EXPECT_TRUE(d) << d.error().to_string();
  return d ? d->queue_id : 0;
}

QueueEntry entry_of(MailStore& store, Id id) {
  auto q = store.list_queue();
  EXPECT_TRUE(q) << q.error().to_string();
  if (q) {
    for (const QueueEntry& e : *q) {
      if (e.id == id) return e;
    }
  }
  ADD_FAILURE() << "no queue entry " << id;
  return {};
}

std::vector<Id> ids_of(const Result<std::vector<QueueEntry>>& entries) {
  EXPECT_TRUE(entries) << entries.error().to_string();
  std::vector<Id> out;
  if (entries) {
    for (const QueueEntry& e : *entries) out.push_back(e.id);
  }
  return out;
}

}  // namespace

TEST_P(QueueConformance, ClaimDueLeasesEntriesUntilTheLeaseRunsOut) {
  const Id a = queue_to(*store_, {"carol@remote.test"});
  const Id b = queue_to(*store_, {"dave@remote.test", "erin@remote.test"});
  // After queueing: an entry is due from its creation, which may fall in the next second.
  const int64_t now = now_seconds();
  auto first = store_->claim_due(now, 10, "node-a", 60);
  EXPECT_EQ(ids_of(first), (std::vector<Id>{a, b}));
  ASSERT_TRUE(first && first->size() == 2);
  EXPECT_EQ((*first)[0].lease_owner, "node-a");
  EXPECT_EQ((*first)[0].lease_until, now + 60);
  EXPECT_EQ((*first)[1].message.recipients.size(), 2u);
  EXPECT_EQ((*first)[1].message.recipients[1].address, "erin@remote.test");
  EXPECT_EQ(entry_of(*store_, a).lease_owner, "node-a");

  // Leased: nobody else takes them, not even the same owner, until the lease runs out.
  EXPECT_THAT(ids_of(store_->claim_due(now, 10, "node-b", 60)), IsEmpty());
  EXPECT_THAT(ids_of(store_->claim_due(now + 59, 10, "node-a", 60)), IsEmpty());
  auto taken = store_->claim_due(now + 60, 10, "node-b", 30);
  EXPECT_EQ(ids_of(taken), (std::vector<Id>{a, b}));
  ASSERT_TRUE(taken && taken->size() == 2);
  EXPECT_EQ((*taken)[0].lease_owner, "node-b");
  EXPECT_EQ((*taken)[0].lease_until, now + 90);

  // The first owner lost its lease: its late outcome is refused and changes nothing.
  const std::vector<RecipientOutcome> done{{0, QueueState::kDelivered, "250 ok"}};
  auto late = store_->record_attempt(a, "node-a", done, now + 300);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, ErrorCode::kBusy);
  const QueueEntry still = entry_of(*store_, a);
  EXPECT_EQ(still.attempts, 0u);
  EXPECT_EQ(still.message.recipients[0].state, QueueState::kQueued);
  EXPECT_EQ(still.lease_owner, "node-b");
  ASSERT_TRUE(store_->record_attempt(a, "node-b", done, now + 300));
}

TEST_P(QueueConformance, ClaimDueTakesTheEarliestFirstUpToTheLimit) {
  const Id a = queue_to(*store_, {"carol@remote.test"});
  const Id b = queue_to(*store_, {"dave@remote.test"});
  const Id c = queue_to(*store_, {"erin@remote.test"});
  // After queueing: an entry is due from its creation, which may fall in the next second.
  const int64_t now = now_seconds();
  EXPECT_THAT(ids_of(store_->claim_due(now, 0, "n", 60)), IsEmpty());
  // Defer a to later than the others.
  EXPECT_EQ(ids_of(store_->claim_due(now, 1, "n", 60)), (std::vector<Id>{a}));
  const std::vector<RecipientOutcome> defer{{0, QueueState::kQueued, "451 try later"}};
  ASSERT_TRUE(store_->record_attempt(a, "n", defer, now + 100));
  EXPECT_EQ(ids_of(store_->claim_due(now, 5, "n", 1000)), (std::vector<Id>{b, c}));
  // Not due before its next attempt; due at it.
  EXPECT_THAT(ids_of(store_->claim_due(now + 99, 5, "m", 1)), IsEmpty());
  EXPECT_EQ(ids_of(store_->claim_due(now + 100, 5, "m", 1)), (std::vector<Id>{a}));
  // An empty owner could not be told apart from no lease.
  auto anon = store_->claim_due(now, 5, "", 60);
  ASSERT_FALSE(anon);
  EXPECT_EQ(anon.error().code, ErrorCode::kInvalid);
}

TEST_P(QueueConformance, RecordAttemptKeepsEachRecipientsOutcome) {
  const Id id = queue_to(*store_, {"carol@remote.test", "dave@remote.test", "erin@remote.test"});
  // After queueing: an entry is due from its creation, which may fall in the next second.
  const int64_t now = now_seconds();
  ASSERT_EQ(ids_of(store_->claim_due(now, 10, "n", 60)), (std::vector<Id>{id}));
  const std::vector<RecipientOutcome> outcomes{{0, QueueState::kDelivered, "250 2.0.0 queued as X"},
                                               {1, QueueState::kQueued, "451 4.7.1 greylisted"},
                                               {2, QueueState::kFailed, "550 5.1.1 no such user"}};
  ASSERT_TRUE(store_->record_attempt(id, "n", outcomes, now + 300));
  QueueEntry e = entry_of(*store_, id);
  EXPECT_EQ(e.attempts, 1u);
  EXPECT_EQ(e.next_attempt, now + 300);
  EXPECT_EQ(e.lease_owner, "");
  EXPECT_EQ(e.lease_until, 0);
  ASSERT_EQ(e.message.recipients.size(), 3u);
  EXPECT_EQ(e.message.recipients[0].state, QueueState::kDelivered);
  EXPECT_EQ(e.message.recipients[0].last_error, "250 2.0.0 queued as X");
  EXPECT_EQ(e.message.recipients[1].state, QueueState::kQueued);
  EXPECT_EQ(e.message.recipients[1].last_error, "451 4.7.1 greylisted");
  EXPECT_EQ(e.message.recipients[2].state, QueueState::kFailed);
  EXPECT_EQ(e.message.recipients[2].last_error, "550 5.1.1 no such user");

  // The next attempt carries only the deferred recipient's outcome; the others keep theirs.
  auto again = store_->claim_due(now + 300, 10, "n", 60);
  ASSERT_EQ(ids_of(again), (std::vector<Id>{id}));
  EXPECT_EQ((*again)[0].message.recipients[0].state, QueueState::kDelivered);
  const std::vector<RecipientOutcome> last{{1, QueueState::kDelivered, "250 ok"}};
  ASSERT_TRUE(store_->record_attempt(id, "n", last, now + 600));
  e = entry_of(*store_, id);
  EXPECT_EQ(e.attempts, 2u);
  EXPECT_EQ(e.message.recipients[0].last_error, "250 2.0.0 queued as X");
  EXPECT_EQ(e.message.recipients[1].state, QueueState::kDelivered);
  EXPECT_EQ(e.message.recipients[2].state, QueueState::kFailed);
  // Nobody left to try: never claimed again, but kept until deleted (bounces read it).
  EXPECT_THAT(ids_of(store_->claim_due(now + 10000, 10, "n", 60)), IsEmpty());
  ASSERT_TRUE(store_->delete_queue_entry(id));
}

TEST_P(QueueConformance, RecordAttemptRefusesWhatItCannotApply) {
  const Id id = queue_to(*store_, {"carol@remote.test"});
  // After queueing: an entry is due from its creation, which may fall in the next second.
  const int64_t now = now_seconds();
  const std::vector<RecipientOutcome> ok1{{0, QueueState::kDelivered, "250 ok"}};
  // Not claimed: no lease to hold.
  auto unleased = store_->record_attempt(id, "n", ok1, now);
  ASSERT_FALSE(unleased);
  EXPECT_EQ(unleased.error().code, ErrorCode::kBusy);
  ASSERT_EQ(ids_of(store_->claim_due(now, 10, "n", 60)), (std::vector<Id>{id}));
  const std::vector<RecipientOutcome> bad{{0, QueueState::kDelivered, "250 ok"}, {1, QueueState::kFailed, "550"}};
  auto out_of_range = store_->record_attempt(id, "n", bad, now + 5);
  ASSERT_FALSE(out_of_range);
  EXPECT_EQ(out_of_range.error().code, ErrorCode::kInvalid);
  const QueueEntry e = entry_of(*store_, id);
  EXPECT_EQ(e.attempts, 0u);
  EXPECT_EQ(e.message.recipients[0].state, QueueState::kQueued);
  EXPECT_EQ(e.lease_owner, "n");
  auto gone = store_->record_attempt(id + 1000, "n", ok1, now);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
  // Deleted while leased (`tern queue delete` during an attempt): the outcome finds nothing.
  ASSERT_TRUE(store_->delete_queue_entry(id));
  auto deleted = store_->record_attempt(id, "n", ok1, now);
  ASSERT_FALSE(deleted);
  EXPECT_EQ(deleted.error().code, ErrorCode::kNotFound);
}

TEST_P(QueueConformance, HeldEntriesAreNeverClaimed) {
  const Id a = queue_to(*store_, {"carol@remote.test"});
  const Id b = queue_to(*store_, {"dave@remote.test"});
  // After queueing: an entry is due from its creation, which may fall in the next second.
  const int64_t now = now_seconds();
  ASSERT_TRUE(store_->set_queue_held(a, true));
  EXPECT_TRUE(entry_of(*store_, a).held);
  EXPECT_FALSE(entry_of(*store_, b).held);
  EXPECT_EQ(ids_of(store_->claim_due(now, 10, "n", 60)), (std::vector<Id>{b}));
  EXPECT_THAT(ids_of(store_->claim_due(now + 1000, 10, "m", 60)), (std::vector<Id>{b}));
  ASSERT_TRUE(store_->set_queue_held(a, false));
  EXPECT_FALSE(entry_of(*store_, a).held);
  EXPECT_EQ(ids_of(store_->claim_due(now, 10, "n", 60)), (std::vector<Id>{a}));
  auto missing = store_->set_queue_held(a + 1000, true);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_P(QueueConformance, RetryMakesAnEntryDueNow) {
  const Id id = queue_to(*store_, {"carol@remote.test"});
  // After queueing: an entry is due from its creation, which may fall in the next second.
  const int64_t now = now_seconds();
  ASSERT_EQ(ids_of(store_->claim_due(now, 10, "n", 60)), (std::vector<Id>{id}));
  const std::vector<RecipientOutcome> defer{{0, QueueState::kQueued, "421 busy"}};
  ASSERT_TRUE(store_->record_attempt(id, "n", defer, now + 3600));
  EXPECT_THAT(ids_of(store_->claim_due(now + 1, 10, "n", 60)), IsEmpty());
  ASSERT_TRUE(store_->retry_queue_entry(id, now + 1));
  EXPECT_EQ(entry_of(*store_, id).next_attempt, now + 1);
  // Retry does not release a hold.
  ASSERT_TRUE(store_->set_queue_held(id, true));
  EXPECT_THAT(ids_of(store_->claim_due(now + 1, 10, "n", 60)), IsEmpty());
  ASSERT_TRUE(store_->set_queue_held(id, false));
  EXPECT_EQ(ids_of(store_->claim_due(now + 1, 10, "n", 60)), (std::vector<Id>{id}));
  auto missing = store_->retry_queue_entry(id + 1000, now);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

// Two stores on one database (two processes, or two nodes on one PostgreSQL), several
// threads each, claiming at once: every entry is claimed exactly once.
TEST_P(StoreConformance, ConcurrentClaimsNeverShareAnEntry) {
  auto other = db_->open(&feed_);
  ASSERT_TRUE(other) << other.error().to_string();
  constexpr int kEntries = 40;
  for (int i = 0; i < kEntries; ++i) queue_to(*store_, {"r" + std::to_string(i) + "@remote.test"});
  const int64_t now = now_seconds();
  std::mutex mu;
  std::map<Id, std::string> owner_of;
  std::atomic<int> duplicates{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    MailStore& store = t % 2 == 0 ? *store_ : **other;
    threads.emplace_back([&, t, &store = store] {
      const std::string owner = "worker-" + std::to_string(t);
      for (;;) {
        auto claimed = store.claim_due(now, 3, owner, 600);
        ASSERT_TRUE(claimed) << claimed.error().to_string();
        if (claimed->empty()) return;
        std::lock_guard lock(mu);
        for (const QueueEntry& e : *claimed) {
          if (!owner_of.emplace(e.id, owner).second) duplicates++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(duplicates.load(), 0);
  EXPECT_EQ(owner_of.size(), static_cast<std::size_t>(kEntries));
  auto q = store_->list_queue();
  ASSERT_TRUE(q);
  for (const QueueEntry& e : *q) EXPECT_EQ(e.lease_owner, owner_of[e.id]) << e.id;
}

}  // namespace tern::store::testing
