// store/queue_conformance_test.cc: deliver() and the outbound queue in the conformance
// suite. QueueConformance runs on every MailStore, the in-memory fake included; the
// StoreConformance cases at the end (group commit, persistence) only on the real backends.
#include <gmock/gmock.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "base/clock.h"
#include "store/conformance_test.h"

namespace tern::store::testing {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

void expect_same_outbound(const OutboundMessage& want, const OutboundMessage& got) {
  EXPECT_EQ(want.sender, got.sender);
  EXPECT_EQ(want.envid, got.envid);
  EXPECT_EQ(want.ret, got.ret);
  EXPECT_EQ(want.smtputf8, got.smtputf8);
  EXPECT_EQ(want.eightbit, got.eightbit);
  EXPECT_EQ(want.skip, got.skip);
  ASSERT_EQ(want.recipients.size(), got.recipients.size());
  for (std::size_t i = 0; i < want.recipients.size(); ++i) {
    SCOPED_TRACE(want.recipients[i].address);
    EXPECT_EQ(want.recipients[i].address, got.recipients[i].address);
    EXPECT_EQ(want.recipients[i].notify, got.recipients[i].notify);
    EXPECT_EQ(want.recipients[i].orcpt, got.recipients[i].orcpt);
    EXPECT_EQ(want.recipients[i].state, got.recipients[i].state);
    EXPECT_EQ(want.recipients[i].last_error, got.recipients[i].last_error);
  }
}

namespace {

int64_t now_seconds() { return unix_seconds(SystemClock::instance().now()); }

// An outbound part from alice to `addresses`, with no DSN parameters.
OutboundMessage outbound_to(const std::vector<std::string>& addresses) {
  OutboundMessage m;
  m.sender = "alice@example.org";
  for (const auto& a : addresses) m.recipients.push_back(OutboundRecipient{a, 0, "", QueueState::kQueued, ""});
  return m;
}

std::vector<QueueEntry> queue_of(MailStore& store) {
  auto q = store.list_queue();
  EXPECT_TRUE(q) << q.error().to_string();
  return q ? *q : std::vector<QueueEntry>{};
}

}  // namespace

TEST_P(QueueConformance, DeliverStoresOnceForMailboxesAndQueue) {
  const Id acc = make_account();
  const Id inbox = mailbox_id(acc, "INBOX");
  const Id sent = mailbox_id(acc, "Sent");
  const Id bob_inbox = mailbox_id(make_account("bob"), "INBOX");
  append1(inbox, "earlier");
  const Mailbox before = **store_->get_mailbox(inbox);
  const uint64_t appends = store_->stats().appends;
  const std::vector<AppendTarget> targets{{inbox, 0, {}}, {sent, kFlagSeen, {}}, {bob_inbox, 0, {"x"}}};
  const OutboundMessage out = outbound_to({"carol@remote.test", "dave@remote.test"});
  const std::string bytes = "Return-Path: <alice@example.org>\r\nSubject: hi\r\n\r\nhello\r\n";
  auto d = store_->deliver(bytes, 1700000000, targets, &out);
  ASSERT_TRUE(d) << d.error().to_string();
  ASSERT_EQ(d->appended.size(), 3u);
  EXPECT_NE(d->queue_id, 0);
  EXPECT_EQ(d->appended[0].mailbox_id, inbox);
  EXPECT_EQ(d->appended[1].mailbox_id, sent);
  EXPECT_EQ(d->appended[2].mailbox_id, bob_inbox);
  EXPECT_EQ(d->appended[0].uidvalidity, before.uidvalidity);
  EXPECT_EQ(d->appended[0].uid, before.uidnext);
  EXPECT_EQ(d->appended[0].modseq, before.highestmodseq + 1);
  EXPECT_EQ(store_->stats().appends, appends + 3);
  const Mailbox after = **store_->get_mailbox(inbox);
  EXPECT_EQ(after.uidnext, before.uidnext + 1);
  EXPECT_EQ(after.highestmodseq, d->appended[0].modseq);
  EXPECT_EQ(after.messages, 2u);
  EXPECT_EQ(after.total_size, before.total_size + bytes.size());

  auto queue = queue_of(*store_);
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue[0].id, d->queue_id);
  EXPECT_EQ(queue[0].size, bytes.size());
  // One stored copy of the bytes, shared by the three mailboxes and the queue.
  for (std::size_t i = 0; i < targets.size(); ++i) {
    auto msgs = store_->list_messages(targets[i].mailbox_id, d->appended[i].uid, d->appended[i].uid);
    ASSERT_TRUE(msgs);
    ASSERT_EQ(msgs->size(), 1u) << i;
    EXPECT_EQ((*msgs)[0].blob_id, queue[0].blob_id) << i;
    EXPECT_EQ((*msgs)[0].modseq, d->appended[i].modseq);
    EXPECT_EQ((*msgs)[0].internal_date, 1700000000);
    EXPECT_EQ((*msgs)[0].size, bytes.size());
    EXPECT_EQ((*msgs)[0].flags, targets[i].flags);
    EXPECT_EQ((*msgs)[0].keywords, targets[i].keywords);
  }
  EXPECT_EQ(*store_->read_blob(queue[0].blob_id), bytes);
}

TEST_P(QueueConformance, DeliverQueueOnlyTouchesNoMailbox) {
  const Id acc = make_account();
  const Id inbox = mailbox_id(acc, "INBOX");
  const Mailbox before = **store_->get_mailbox(inbox);
  const uint64_t appends = store_->stats().appends;
  const OutboundMessage out = outbound_to({"carol@remote.test"});
  auto d = store_->deliver("Subject: relayed\r\n\r\n", 1700000000, {}, &out);
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_THAT(d->appended, IsEmpty());
  EXPECT_NE(d->queue_id, 0);
  EXPECT_EQ(store_->stats().appends, appends);
  const Mailbox after = **store_->get_mailbox(inbox);
  EXPECT_EQ(after.uidnext, before.uidnext);
  EXPECT_EQ(after.highestmodseq, before.highestmodseq);
  EXPECT_EQ(after.messages, 0u);
  auto queue = queue_of(*store_);
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue[0].id, d->queue_id);
  EXPECT_EQ(*store_->read_blob(queue[0].blob_id), "Subject: relayed\r\n\r\n");
  // A second one gets its own entry and bytes.
  auto d2 = store_->deliver("Subject: again\r\n\r\n", 1700000000, {}, &out);
  ASSERT_TRUE(d2);
  EXPECT_NE(d2->queue_id, d->queue_id);
  queue = queue_of(*store_);
  ASSERT_EQ(queue.size(), 2u);
  EXPECT_NE(queue[0].blob_id, queue[1].blob_id);
}

TEST_P(QueueConformance, ListQueueReturnsEveryFieldOldestFirst) {
  const Id inbox = mailbox_id(make_account(), "INBOX");
  const int64_t before = now_seconds();
  // A bounce: the null sender, no DSN parameters.
  OutboundMessage bounce;
  bounce.recipients = {{"postmaster@remote.test", 0, "", QueueState::kQueued, ""}};
  // Everything set, with a local copy whose Return-Path line the relay skips.
  const std::string return_path = "Return-Path: <alice@example.org>\r\n";
  OutboundMessage full;
  full.sender = "alice@example.org";
  full.envid = "QQ314159 +xtext=decoded";
  full.ret = DsnRet::kHdrs;
  full.smtputf8 = true;
  full.eightbit = true;
  full.skip = return_path.size();
  full.recipients = {
      {"bob@remote.test", static_cast<uint8_t>(kNotifySuccess | kNotifyFailure), "rfc822;bob@remote.test",
       QueueState::kQueued, ""},
      {"j\xc3\xbcrgen@b\xc3\xbc" "cher.example", kNotifyNever, "utf-8;j\xc3\xbcrgen@b\xc3\xbc" "cher.example",
       QueueState::kQueued, ""},
      {"carol@remote.test", kNotifyDelay, "", QueueState::kQueued, ""}};
  OutboundMessage full_ret = outbound_to({"dave@remote.test"});
  full_ret.ret = DsnRet::kFull;
  full_ret.eightbit = true;

  const std::string body = "Subject: all\r\n\r\n";
  auto d1 = store_->deliver("bounce", 1, {}, &bounce);
  AppendTarget t{inbox, 0, {}};
  auto d2 = store_->deliver(return_path + body, 2, std::span(&t, 1), &full);
  auto d3 = store_->deliver("full", 3, {}, &full_ret);
  ASSERT_TRUE(d1 && d2 && d3);
  const int64_t after = now_seconds();

  auto queue = queue_of(*store_);
  ASSERT_EQ(queue.size(), 3u);
  const OutboundMessage* written[] = {&bounce, &full, &full_ret};
  const Id ids[] = {d1->queue_id, d2->queue_id, d3->queue_id};
  for (std::size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    const QueueEntry& e = queue[i];
    EXPECT_EQ(e.id, ids[i]);
    EXPECT_GE(e.created, before);
    EXPECT_LE(e.created, after);
    EXPECT_EQ(e.next_attempt, e.created);
    EXPECT_EQ(e.attempts, 0u);
    expect_same_outbound(*written[i], e.message);
  }
  EXPECT_LE(queue[0].created, queue[1].created);
  EXPECT_LE(queue[1].created, queue[2].created);
  EXPECT_EQ(queue[1].size, return_path.size() + body.size());
  auto bytes = store_->read_blob(queue[1].blob_id);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(bytes->substr(queue[1].message.skip), body);
}

TEST_P(QueueConformance, QueuedBytesReadInPieces) {
  make_account();
  std::string bytes(std::size_t{3} << 20, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 13) % 256);
  const OutboundMessage out = outbound_to({"carol@remote.test"});
  auto d = store_->deliver(bytes, 1, {}, &out);
  ASSERT_TRUE(d) << d.error().to_string();
  auto queue = queue_of(*store_);
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue[0].size, bytes.size());
  auto whole = store_->read_blob(queue[0].blob_id);
  ASSERT_TRUE(whole) << whole.error().to_string();
  EXPECT_TRUE(*whole == bytes);
  auto reader = store_->open_blob(queue[0].blob_id);
  ASSERT_TRUE(reader) << reader.error().to_string();
  EXPECT_EQ((*reader)->size(), bytes.size());
  // The reader keeps reading what it opened even after the entry goes.
  ASSERT_TRUE(store_->delete_queue_entry(queue[0].id));
  std::string got;
  for (;;) {
    auto piece = (*reader)->read(got.size(), 256 * 1024);
    ASSERT_TRUE(piece) << piece.error().to_string();
    if (piece->empty()) break;
    got += *piece;
  }
  EXPECT_TRUE(got == bytes);
  reader->reset();
  EXPECT_EQ(store_->read_blob(queue[0].blob_id).error().code, ErrorCode::kNotFound);
}

TEST_P(QueueConformance, QueueHoldsItsBytesAfterEveryCopyGoes) {
  const Id acc = make_account();
  const Id inbox = mailbox_id(acc, "INBOX");
  auto tmp = store_->create_mailbox(acc, "Tmp", SpecialUse::kNone);
  ASSERT_TRUE(tmp);
  const Id bob_inbox = mailbox_id(make_account("bob"), "INBOX");
  const std::vector<AppendTarget> targets{{inbox, 0, {}}, {tmp->id, 0, {}}, {bob_inbox, 0, {}}};
  const OutboundMessage out = outbound_to({"carol@remote.test"});
  auto d = store_->deliver("Subject: kept\r\n\r\n", 1, targets, &out);
  ASSERT_TRUE(d) << d.error().to_string();
  auto queue = queue_of(*store_);
  ASSERT_EQ(queue.size(), 1u);
  const Id blob = queue[0].blob_id;
  // Every mailbox copy goes: expunged, its mailbox deleted, its account deleted.
  ASSERT_TRUE(store_->expunge(inbox, std::vector<uint32_t>{d->appended[0].uid}));
  ASSERT_TRUE(store_->delete_mailbox(tmp->id));
  ASSERT_TRUE(store_->delete_account("bob@example.org"));
  auto bytes = store_->read_blob(blob);
  ASSERT_TRUE(bytes) << bytes.error().to_string();
  EXPECT_EQ(*bytes, "Subject: kept\r\n\r\n");
  auto reader = store_->open_blob(blob);
  ASSERT_TRUE(reader) << reader.error().to_string();
  EXPECT_EQ(*(*reader)->read(0, 100), "Subject: kept\r\n\r\n");
  reader->reset();
  EXPECT_EQ(queue_of(*store_).size(), 1u);
  // The entry was the last holder: its deletion frees the bytes.
  ASSERT_TRUE(store_->delete_queue_entry(d->queue_id));
  EXPECT_EQ(store_->read_blob(blob).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->open_blob(blob).error().code, ErrorCode::kNotFound);
  EXPECT_THAT(queue_of(*store_), IsEmpty());
  EXPECT_EQ(store_->delete_queue_entry(d->queue_id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->delete_queue_entry(d->queue_id + 1000).error().code, ErrorCode::kNotFound);
  // A deleted entry's id is never handed out again (logs name entries by id).
  auto next = store_->deliver("next", 1, {}, &out);
  ASSERT_TRUE(next);
  EXPECT_NE(next->queue_id, d->queue_id);
}

TEST_P(QueueConformance, MailboxCopiesHoldTheBytesAfterTheEntryGoes) {
  const Id inbox = mailbox_id(make_account(), "INBOX");
  AppendTarget t{inbox, 0, {}};
  const OutboundMessage out = outbound_to({"carol@remote.test", "dave@remote.test"});
  auto d = store_->deliver("Subject: both\r\n\r\n", 1, std::span(&t, 1), &out);
  ASSERT_TRUE(d) << d.error().to_string();
  const Id blob = queue_of(*store_).at(0).blob_id;
  ASSERT_TRUE(store_->delete_queue_entry(d->queue_id));
  EXPECT_THAT(queue_of(*store_), IsEmpty());
  EXPECT_EQ(*store_->read_blob(blob), "Subject: both\r\n\r\n");
  auto msgs = store_->list_messages(inbox);
  ASSERT_TRUE(msgs);
  ASSERT_EQ(msgs->size(), 1u);
  EXPECT_EQ((*msgs)[0].blob_id, blob);
  ASSERT_TRUE(store_->expunge(inbox, std::vector<uint32_t>{d->appended[0].uid}));
  EXPECT_EQ(store_->read_blob(blob).error().code, ErrorCode::kNotFound);
}

TEST_P(QueueConformance, InvalidDeliveriesChangeNothing) {
  const Id inbox = mailbox_id(make_account(), "INBOX");
  append1(inbox, "before");
  const Mailbox before = **store_->get_mailbox(inbox);
  const uint64_t appends = store_->stats().appends;
  const std::string bytes = "Subject: x\r\n\r\n";
  const AppendTarget t{inbox, 0, {}};
  const std::span<const AppendTarget> one(&t, 1);
  auto expect_refused = [&](std::span<const AppendTarget> targets, const OutboundMessage* out, ErrorCode code,
                            const char* what) {
    auto d = store_->deliver(bytes, 1, targets, out);
    ASSERT_FALSE(d) << what;
    EXPECT_EQ(d.error().code, code) << what << ": " << d.error().to_string();
  };
  expect_refused({}, nullptr, ErrorCode::kInvalid, "nothing to do");
  OutboundMessage none = outbound_to({});
  expect_refused(one, &none, ErrorCode::kInvalid, "outbound without recipients");
  expect_refused({}, &none, ErrorCode::kInvalid, "queue-only without recipients");
  auto bad = [](auto change) {
    OutboundMessage m = outbound_to({"ok@remote.test", "carol@remote.test"});
    change(m.recipients[1], m);
    return m;
  };
  const OutboundMessage cases[] = {
      bad([](OutboundRecipient& r, OutboundMessage&) { r.address.clear(); }),
      bad([](OutboundRecipient& r, OutboundMessage&) { r.address = "carol@remote.test\r\nRSET"; }),
      bad([](OutboundRecipient& r, OutboundMessage&) { r.state = QueueState::kDelivered; }),
      bad([](OutboundRecipient& r, OutboundMessage&) { r.last_error = "550 earlier"; }),
      bad([](OutboundRecipient& r, OutboundMessage&) { r.notify = 0x10; }),
      bad([](OutboundRecipient&, OutboundMessage& m) { m.ret = static_cast<DsnRet>(9); }),
      bad([&](OutboundRecipient&, OutboundMessage& m) { m.skip = bytes.size() + 1; }),
      bad([](OutboundRecipient&, OutboundMessage& m) { m.sender = std::string("a\0b@example.org", 15); }),
  };
  for (const OutboundMessage& m : cases) {
    expect_refused(one, &m, ErrorCode::kInvalid, "bad outbound with a target");
    expect_refused({}, &m, ErrorCode::kInvalid, "bad outbound alone");
  }
  // A missing mailbox after a good one: the good one's row, the bytes and the queue entry
  // are undone with it.
  const OutboundMessage good = outbound_to({"carol@remote.test"});
  const std::vector<AppendTarget> missing{{inbox, 0, {}}, {inbox + 1000, 0, {}}};
  expect_refused(missing, &good, ErrorCode::kNotFound, "missing mailbox");
  expect_refused(missing, nullptr, ErrorCode::kNotFound, "missing mailbox, no outbound");

  EXPECT_THAT(queue_of(*store_), IsEmpty());
  const Mailbox after = **store_->get_mailbox(inbox);
  EXPECT_EQ(after.uidnext, before.uidnext);
  EXPECT_EQ(after.highestmodseq, before.highestmodseq);
  EXPECT_EQ(after.messages, before.messages);
  EXPECT_EQ(after.total_size, before.total_size);
  EXPECT_EQ(store_->list_messages(inbox)->size(), 1u);
  EXPECT_EQ(store_->stats().appends, appends);
  // The limits themselves are fine: skipping every byte, every NOTIFY bit.
  OutboundMessage edge = outbound_to({"carol@remote.test"});
  edge.skip = bytes.size();
  edge.recipients[0].notify = kNotifyNever | kNotifySuccess | kNotifyFailure | kNotifyDelay;
  ASSERT_TRUE(store_->deliver(bytes, 1, {}, &edge));
  EXPECT_EQ(queue_of(*store_).size(), 1u);
}

TEST_P(QueueConformance, DeliverPublishesItsLocalTargets) {
  const Id acc = make_account();
  const Id inbox = mailbox_id(acc, "INBOX");
  const Id sent = mailbox_id(acc, "Sent");
  std::mutex mu;
  std::condition_variable cv;
  std::vector<MailboxChange> got;
  auto sub = feed_.subscribe_account(acc, [&](const MailboxChange& c) {
    // The account's creation may still be in flight: it is published after add_account returns.
    if (c.kind == MailboxChange::Kind::kMailboxCreated) return;
    std::lock_guard lock(mu);
    got.push_back(c);
    cv.notify_all();
  });
  const OutboundMessage out = outbound_to({"carol@remote.test"});
  // Queue-only: no mailbox changes, so nothing to publish (changes arrive in commit order,
  // so had it published, that would come first).
  ASSERT_TRUE(store_->deliver("queued only", 1, {}, &out));
  const std::vector<AppendTarget> targets{{inbox, 0, {}}, {sent, 0, {}}, {inbox, kFlagFlagged, {}}};
  auto d = store_->deliver("local and remote", 1, targets, &out);
  ASSERT_TRUE(d) << d.error().to_string();
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return got.size() >= 2; }));
  // One change per mailbox, in target order; the INBOX one names both its new UIDs.
  EXPECT_EQ(got[0].kind, MailboxChange::Kind::kAppend);
  EXPECT_EQ(got[0].mailbox_id, inbox);
  EXPECT_EQ(got[0].account_id, acc);
  EXPECT_THAT(got[0].uids, ElementsAre(d->appended[0].uid, d->appended[2].uid));
  EXPECT_EQ(got[0].modseq, d->appended[2].modseq);
  EXPECT_EQ(got[1].kind, MailboxChange::Kind::kAppend);
  EXPECT_EQ(got[1].mailbox_id, sent);
  EXPECT_THAT(got[1].uids, ElementsAre(d->appended[1].uid));
  EXPECT_EQ(got[1].modseq, d->appended[1].modseq);
}

TEST_P(QueueConformance, ImportQueueEntryWritesFieldsAsGiven) {
  make_account();
  const OutboundMessage out = outbound_to({"carol@remote.test"});
  auto fresh = store_->deliver("fresh", 1, {}, &out);
  ASSERT_TRUE(fresh);
  QueueEntry e;
  e.id = 424242;      // ignored
  e.blob_id = 434343;  // ignored
  e.size = 7;          // ignored
  e.created = 1600000000;
  e.next_attempt = 1600003600;
  e.attempts = 3;
  e.message.sender = "bob@example.org";
  e.message.envid = "E1";
  e.message.ret = DsnRet::kFull;
  e.message.eightbit = true;
  e.message.skip = 2;
  e.message.recipients = {
      {"a@remote.test", kNotifySuccess, "rfc822;a@remote.test", QueueState::kDelivered, "250 2.0.0 queued as X"},
      {"b@remote.test", 0, "", QueueState::kFailed, "550 5.1.1 <b@remote.test>: unknown"},
      {"c@remote.test", kNotifyDelay, "", QueueState::kQueued, "451 4.7.1 try again later"}};
  const std::string bytes = "X\nSubject: carried over\r\n\r\n";
  auto id = store_->import_queue_entry(e, bytes);
  ASSERT_TRUE(id) << id.error().to_string();
  EXPECT_NE(*id, fresh->queue_id);

  auto queue = queue_of(*store_);
  ASSERT_EQ(queue.size(), 2u);
  // Older than the fresh delivery, so listed first.
  const QueueEntry& got = queue[0];
  EXPECT_EQ(got.id, *id);
  EXPECT_EQ(got.size, bytes.size());
  EXPECT_EQ(got.created, e.created);
  EXPECT_EQ(got.next_attempt, e.next_attempt);
  EXPECT_EQ(got.attempts, e.attempts);
  expect_same_outbound(e.message, got.message);
  EXPECT_EQ(*store_->read_blob(got.blob_id), bytes);
  EXPECT_EQ(queue[1].id, fresh->queue_id);

  QueueEntry bad = e;
  bad.message.recipients.clear();
  EXPECT_EQ(store_->import_queue_entry(bad, bytes).error().code, ErrorCode::kInvalid);
  bad = e;
  bad.message.skip = bytes.size() + 1;
  EXPECT_EQ(store_->import_queue_entry(bad, bytes).error().code, ErrorCode::kInvalid);
  bad = e;
  bad.message.recipients[2].state = static_cast<QueueState>(7);
  EXPECT_EQ(store_->import_queue_entry(bad, bytes).error().code, ErrorCode::kInvalid);
  EXPECT_EQ(queue_of(*store_).size(), 2u);
  // An imported entry holds its bytes alone and frees them when deleted.
  ASSERT_TRUE(store_->delete_queue_entry(*id));
  EXPECT_EQ(store_->read_blob(got.blob_id).error().code, ErrorCode::kNotFound);
}

// ---- Real backends only: group commit and durability.

TEST_P(StoreConformance, ConcurrentDeliveriesShareCommits) {
  const Id inbox = mailbox_id(make_account(), "INBOX");
  constexpr int kThreads = 16;
  constexpr int kEach = 15;
  const StoreStats before = store_->stats();
  std::vector<std::vector<Id>> ids(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        // Half with a local copy, half queue-only.
        const AppendTarget target{inbox, 0, {}};
        const std::span<const AppendTarget> targets = i % 2 == 0 ? std::span(&target, 1) : std::span<const AppendTarget>();
        OutboundMessage out = outbound_to({"r" + std::to_string(t) + "@remote.test"});
        out.envid = std::to_string(t) + "." + std::to_string(i);
        auto d = store_->deliver("thread " + out.envid, 1, targets, &out);
        if (!d) {
          ++failures;
          continue;
        }
        ids[static_cast<std::size_t>(t)].push_back(d->queue_id);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  constexpr int kCalls = kThreads * kEach;
  std::set<Id> all;
  for (const auto& v : ids) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kCalls));
  auto queue = queue_of(*store_);
  ASSERT_EQ(queue.size(), static_cast<std::size_t>(kCalls));
  for (const QueueEntry& e : queue) {
    EXPECT_EQ(all.count(e.id), 1u);
    EXPECT_EQ(*store_->read_blob(e.blob_id), "thread " + e.message.envid);
  }
  const int with_copy = kThreads * ((kEach + 1) / 2);
  EXPECT_EQ(store_->list_messages(inbox)->size(), static_cast<std::size_t>(with_copy));
  const StoreStats after = store_->stats();
  EXPECT_EQ(after.appends - before.appends, static_cast<uint64_t>(with_copy));
  EXPECT_LT(after.commits - before.commits, static_cast<uint64_t>(kCalls)) << "no group commit happened";
}

TEST_P(StoreConformance, QueuePersistsAcrossReopen) {
  const Id inbox = mailbox_id(make_account(), "INBOX");
  OutboundMessage out = outbound_to({"carol@remote.test", "dave@remote.test"});
  out.envid = "persist";
  out.ret = DsnRet::kHdrs;
  out.recipients[1].notify = kNotifyFailure;
  AppendTarget t{inbox, 0, {}};
  auto d = store_->deliver("Subject: durable\r\n\r\n", 1, std::span(&t, 1), &out);
  ASSERT_TRUE(d) << d.error().to_string();
  const auto before = queue_of(*store_);
  ASSERT_EQ(before.size(), 1u);
  reopen();
  const auto after = queue_of(*store_);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].id, d->queue_id);
  EXPECT_EQ(after[0].blob_id, before[0].blob_id);
  EXPECT_EQ(after[0].created, before[0].created);
  EXPECT_EQ(after[0].next_attempt, before[0].next_attempt);
  expect_same_outbound(out, after[0].message);
  EXPECT_EQ(*store_->read_blob(after[0].blob_id), "Subject: durable\r\n\r\n");
  // A new entry after the reopen gets a new id.
  auto d2 = store_->deliver("second", 1, {}, &out);
  ASSERT_TRUE(d2);
  EXPECT_NE(d2->queue_id, d->queue_id);
}

}  // namespace tern::store::testing
