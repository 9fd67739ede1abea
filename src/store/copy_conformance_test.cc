// store/copy_conformance_test.cc: `tern store copy` (store/copy.h) in the conformance
// suite: a store filled with every kind of state, the queue included, copied into a fresh
// one of the same backend; refusals and failures that leave the destination as it was.
#include <gmock/gmock.h>

#include <algorithm>
#include <climits>

#include "store/conformance_test.h"
#include "store/copy.h"

namespace tern::store::testing {

using ::testing::IsEmpty;

namespace {

void must(const Status& s, const char* what) { ASSERT_TRUE(s) << what << ": " << s.error().to_string(); }

Id find_mb(MailStore& store, Id account, const std::string& name) {
  auto m = store.find_mailbox(account, name);
  EXPECT_TRUE(m && *m) << name;
  return (m && *m) ? (*m)->id : 0;
}

std::vector<uint32_t> append_n(MailStore& store, Id mailbox, int n, uint32_t flags,
                               const std::vector<std::string>& keywords) {
  std::vector<uint32_t> uids;
  for (int i = 0; i < n; ++i) {
    AppendTarget t{mailbox, flags, keywords};
    std::string bytes = "Subject: m" + std::to_string(i) + "\r\n\r\n" +
                        std::string(static_cast<std::size_t>(i % 7) * 100, 'x');
    auto r = store.append(bytes, 1700000000 + i, std::span(&t, 1));
    EXPECT_TRUE(r) << r.error().to_string();
    if (r) uids.push_back(r->front().uid);
  }
  return uids;
}

}  // namespace

void fill_copy_source(MailStore& s) {
  must(s.add_domain("example.org").map([](auto&&) {}), "domain");
  must(s.add_domain("other.net").map([](auto&&) {}), "domain");
  auto alice = s.add_account("alice@example.org", "$y$alice");
  ASSERT_TRUE(alice);
  auto bob = s.add_account("bob@other.net", "$y$bob");
  ASSERT_TRUE(bob);
  auto phone = s.add_app_password(alice->id, "phone", "$y$phone");
  ASSERT_TRUE(phone);
  must(s.add_app_password(alice->id, "laptop", "$y$laptop").map([](auto&&) {}), "app password");
  must(s.touch_app_password(phone->id, 1700001234), "touch");
  const std::vector<std::string> pm{"alice@example.org", "someone@remote.example"};
  must(s.add_alias("postmaster@example.org", pm), "alias");
  const std::vector<std::string> list{"bob@other.net"};
  must(s.add_alias("list@other.net", list), "alias");

  const Id inbox = find_mb(s, alice->id, "INBOX");
  std::vector<uint32_t> uids = append_n(s, inbox, 6, kFlagSeen, {"$Label1"});
  const std::vector<std::string> kw{"Work", "$Junk"};
  const std::vector<uint32_t> some{uids[1], uids[3]};
  ASSERT_TRUE(s.store_flags(inbox, some, FlagOp::kAdd, kFlagFlagged, kw, std::nullopt, nullptr));
  const std::vector<uint32_t> gone{uids[0], uids[4]};
  ASSERT_TRUE(s.expunge(inbox, gone));
  // Renamed (with a child) and deleted mailboxes.
  auto projects = s.create_mailbox(alice->id, "Projects", SpecialUse::kNone);
  ASSERT_TRUE(projects);
  ASSERT_TRUE(s.create_mailbox(alice->id, "Projects/Old", SpecialUse::kNone));
  must(s.rename_mailbox(projects->id, "Work"), "rename");
  must(s.set_subscribed(projects->id, true), "subscribe");
  auto temp = s.create_mailbox(alice->id, "Temp", SpecialUse::kNone);
  ASSERT_TRUE(temp);
  must(s.delete_mailbox(temp->id), "delete");
  const std::vector<uint32_t> cp{uids[1], uids[2]};
  ASSERT_TRUE(s.copy_messages(inbox, cp, projects->id));
  const std::vector<uint32_t> mv{uids[5]};
  ASSERT_TRUE(s.move_messages(inbox, mv, find_mb(s, alice->id, "Work/Old")));
  // More messages than one copy batch, in Archive.
  const Id archive = find_mb(s, alice->id, "Archive");
  std::vector<uint32_t> many = append_n(s, archive, static_cast<int>(kCopyBatchMessages) + 30, 0, {});
  ASSERT_TRUE(s.expunge(archive, std::vector<uint32_t>{many[10], many[205]}));
  // Renaming INBOX moves its messages to a new mailbox and leaves INBOX's expunge log.
  must(s.rename_mailbox(inbox, "Old Inbox"), "rename INBOX");
  append_n(s, inbox, 2, kFlagAnswered | kFlagDraft, {"after"});
  append_n(s, find_mb(s, bob->id, "INBOX"), 3, 0, {});

  // Queued mail: one whose only mailbox copy is expunged since (the queue alone holds its
  // bytes), a bounce (null sender) with a copy kept, a queue-only one, and an entry with
  // attempts and per-recipient outcomes, older than the rest (imported as a copy writes it).
  const std::string return_path = "Return-Path: <alice@example.org>\r\n";
  OutboundMessage out;
  out.sender = "alice@example.org";
  out.envid = "env-1";
  out.ret = DsnRet::kHdrs;
  out.smtputf8 = true;
  out.eightbit = true;
  out.skip = return_path.size();
  out.recipients = {{"x@remote.example", static_cast<uint8_t>(kNotifyFailure | kNotifyDelay), "rfc822;x@remote.example",
                     QueueState::kQueued, ""},
                    {"y@remote.example", 0, "", QueueState::kQueued, ""}};
  const Id sent = find_mb(s, alice->id, "Sent");
  AppendTarget to_sent{sent, kFlagSeen, {}};
  auto d1 = s.deliver(return_path + "Subject: out\r\n\r\nbody\r\n", 1700000100, std::span(&to_sent, 1), &out);
  ASSERT_TRUE(d1) << d1.error().to_string();
  ASSERT_TRUE(s.expunge(sent, std::vector<uint32_t>{d1->appended.at(0).uid}));
  OutboundMessage bounce;
  bounce.recipients = {{"alice@remote.example", kNotifyNever, "", QueueState::kQueued, ""}};
  AppendTarget to_bob{find_mb(s, bob->id, "INBOX"), 0, {}};
  ASSERT_TRUE(s.deliver("Subject: bounce\r\n\r\n", 1700000200, std::span(&to_bob, 1), &bounce));
  OutboundMessage relay;
  relay.sender = "list@other.net";
  relay.recipients = {{"z@remote.example", kNotifySuccess, "utf-8;z@remote.example", QueueState::kQueued, ""}};
  ASSERT_TRUE(s.deliver("Subject: relay\r\n\r\n" + std::string(5000, 'r'), 1700000300, {}, &relay));
  QueueEntry old;
  old.created = 1600000000;
  old.next_attempt = 1600007200;
  old.attempts = 4;
  old.message = out;
  old.message.skip = 0;
  old.message.recipients[0].state = QueueState::kDelivered;
  old.message.recipients[1].state = QueueState::kFailed;
  old.message.recipients[1].last_error = "550 5.1.1 <y@remote.example>: no such user";
  ASSERT_TRUE(s.import_queue_entry(old, "Subject: old\r\n\r\n"));
}

void expect_same_queue(MailStore& a, MailStore& b) {
  auto qa = a.list_queue();
  auto qb = b.list_queue();
  ASSERT_TRUE(qa) << qa.error().to_string();
  ASSERT_TRUE(qb) << qb.error().to_string();
  ASSERT_EQ(qa->size(), qb->size());
  for (std::size_t i = 0; i < qa->size(); ++i) {
    const QueueEntry& x = (*qa)[i];
    const QueueEntry& y = (*qb)[i];
    SCOPED_TRACE("queue entry " + std::to_string(i));
    EXPECT_EQ(x.size, y.size);
    EXPECT_EQ(x.created, y.created);
    EXPECT_EQ(x.next_attempt, y.next_attempt);
    EXPECT_EQ(x.attempts, y.attempts);
    expect_same_outbound(x.message, y.message);
    auto bx = a.read_blob(x.blob_id);
    auto by = b.read_blob(y.blob_id);
    ASSERT_TRUE(bx && by);
    EXPECT_TRUE(*bx == *by);
  }
}

void expect_same_content(MailStore& a, MailStore& b) {
  auto da = a.list_domains();
  auto db = b.list_domains();
  ASSERT_TRUE(da && db);
  ASSERT_EQ(da->size(), db->size());
  for (std::size_t i = 0; i < da->size(); ++i) EXPECT_EQ((*da)[i].name, (*db)[i].name);

  auto aa = a.list_aliases();
  auto ab = b.list_aliases();
  ASSERT_TRUE(aa && ab);
  ASSERT_EQ(aa->size(), ab->size());
  for (std::size_t i = 0; i < aa->size(); ++i) {
    EXPECT_EQ((*aa)[i].address, (*ab)[i].address);
    EXPECT_EQ((*aa)[i].targets, (*ab)[i].targets);
  }

  auto accounts = a.list_accounts();
  ASSERT_TRUE(accounts);
  auto accounts_b = b.list_accounts();
  ASSERT_TRUE(accounts_b);
  ASSERT_EQ(accounts->size(), accounts_b->size());
  for (const Account& acc : *accounts) {
    SCOPED_TRACE(acc.address);
    auto other = b.find_account(acc.address);
    ASSERT_TRUE(other && *other);
    const Account& acc_b = **other;
    EXPECT_EQ(acc.password_hash, acc_b.password_hash);
    EXPECT_EQ(acc.created, acc_b.created);
    auto pa = a.list_app_passwords(acc.id);
    auto pb = b.list_app_passwords(acc_b.id);
    ASSERT_TRUE(pa && pb);
    ASSERT_EQ(pa->size(), pb->size());
    for (std::size_t i = 0; i < pa->size(); ++i) {
      EXPECT_EQ((*pa)[i].label, (*pb)[i].label);
      EXPECT_EQ((*pa)[i].hash, (*pb)[i].hash);
      EXPECT_EQ((*pa)[i].created, (*pb)[i].created);
      EXPECT_EQ((*pa)[i].last_used, (*pb)[i].last_used);
    }
    auto ma = a.list_mailboxes(acc.id);
    auto mb = b.list_mailboxes(acc_b.id);
    ASSERT_TRUE(ma && mb);
    ASSERT_EQ(ma->size(), mb->size());
    for (std::size_t i = 0; i < ma->size(); ++i) {
      const Mailbox& x = (*ma)[i];
      const Mailbox& y = (*mb)[i];
      SCOPED_TRACE(x.name);
      EXPECT_EQ(x.name, y.name);
      EXPECT_EQ(x.uidvalidity, y.uidvalidity);
      EXPECT_EQ(x.uidnext, y.uidnext);
      EXPECT_EQ(x.highestmodseq, y.highestmodseq);
      EXPECT_EQ(x.special_use, y.special_use);
      EXPECT_EQ(x.subscribed, y.subscribed);
      EXPECT_EQ(x.messages, y.messages);
      EXPECT_EQ(x.total_size, y.total_size);
      auto la = a.expunge_log(x.id);
      auto lb = b.expunge_log(y.id);
      ASSERT_TRUE(la && lb);
      ASSERT_EQ(la->size(), lb->size());
      for (std::size_t j = 0; j < la->size(); ++j) {
        EXPECT_EQ((*la)[j].uid, (*lb)[j].uid);
        EXPECT_EQ((*la)[j].modseq, (*lb)[j].modseq);
      }
      EXPECT_EQ(*a.expunged_since(x.id, 0), *b.expunged_since(y.id, 0));
      auto xa = a.list_messages(x.id);
      auto xb = b.list_messages(y.id);
      ASSERT_TRUE(xa && xb);
      ASSERT_EQ(xa->size(), xb->size());
      for (std::size_t j = 0; j < xa->size(); ++j) {
        const Message& p = (*xa)[j];
        const Message& q = (*xb)[j];
        EXPECT_EQ(p.uid, q.uid);
        EXPECT_EQ(p.modseq, q.modseq);
        EXPECT_EQ(p.flags, q.flags);
        EXPECT_EQ(p.keywords, q.keywords);
        EXPECT_EQ(p.internal_date, q.internal_date);
        EXPECT_EQ(p.size, q.size);
        EXPECT_EQ(*a.read_blob(p.blob_id), *b.read_blob(q.blob_id));
      }
    }
  }
  expect_same_queue(a, b);
}

TEST_P(StoreConformance, CopyKeepsUidsModseqsAndEverythingElse) {
  fill_copy_source(*store_);
  if (HasFatalFailure()) return;
  auto dest_db = GetParam().create();
  auto dest = dest_db->open(nullptr);
  ASSERT_TRUE(dest) << dest.error().to_string();
  auto summary = copy_store(*store_, **dest);
  ASSERT_TRUE(summary) << summary.error().to_string();
  EXPECT_EQ(summary->domains, 2u);
  EXPECT_EQ(summary->accounts, 2u);
  EXPECT_EQ(summary->aliases, 2u);
  EXPECT_EQ(summary->mailboxes, 9u + 6u);  // alice: 6 defaults, Work, Work/Old, Old Inbox; bob: 6
  EXPECT_EQ(summary->queued, 4u);
  expect_same_content(*store_, **dest);

  // Carrying on in the copy: the next UID and MODSEQ follow the copied ones, and a new
  // mailbox never reuses a copied UIDVALIDITY.
  auto alice = (*dest)->find_account("alice@example.org");
  ASSERT_TRUE(alice && *alice);
  auto inbox = (*dest)->find_mailbox((*alice)->id, "INBOX");
  ASSERT_TRUE(inbox && *inbox);
  AppendTarget t{(*inbox)->id, 0, {}};
  auto appended = (*dest)->append("Subject: new\r\n\r\n", 1700000000, std::span(&t, 1));
  ASSERT_TRUE(appended);
  EXPECT_EQ(appended->front().uid, (*inbox)->uidnext);
  EXPECT_EQ(appended->front().uidvalidity, (*inbox)->uidvalidity);
  EXPECT_EQ(appended->front().modseq, (*inbox)->highestmodseq + 1);
  auto fresh = (*dest)->create_mailbox((*alice)->id, "Fresh", SpecialUse::kNone);
  ASSERT_TRUE(fresh);
  auto copied = (*dest)->list_mailboxes((*alice)->id);
  ASSERT_TRUE(copied);
  for (const Mailbox& m : *copied) {
    if (m.name != "Fresh") {
      EXPECT_GT(fresh->uidvalidity, m.uidvalidity) << m.name;
    }
  }
}

TEST_P(StoreConformance, CopiedQueueEntriesHoldTheirOwnBytes) {
  fill_copy_source(*store_);
  if (HasFatalFailure()) return;
  auto dest_db = GetParam().create();
  auto dest = dest_db->open(nullptr);
  ASSERT_TRUE(dest) << dest.error().to_string();
  ASSERT_TRUE(copy_store(*store_, **dest));
  // The bounce has a mailbox copy in bob's INBOX in both stores; in the copy, dropping that
  // copy (and the whole account) keeps the queued bytes, and the entry frees them.
  auto queue = (*dest)->list_queue();
  ASSERT_TRUE(queue);
  auto bounce = std::find_if(queue->begin(), queue->end(), [](const QueueEntry& e) { return e.message.sender.empty(); });
  ASSERT_NE(bounce, queue->end());
  ASSERT_TRUE((*dest)->delete_account("bob@other.net"));
  auto bytes = (*dest)->read_blob(bounce->blob_id);
  ASSERT_TRUE(bytes) << bytes.error().to_string();
  EXPECT_EQ(*bytes, "Subject: bounce\r\n\r\n");
  ASSERT_TRUE((*dest)->delete_queue_entry(bounce->id));
  EXPECT_EQ((*dest)->read_blob(bounce->blob_id).error().code, ErrorCode::kNotFound);
  // The source is untouched.
  EXPECT_EQ(store_->list_queue()->size(), 4u);
}

TEST_P(StoreConformance, CopyRefusesDomainsTheDestinationHas) {
  make_account("alice");
  auto dest_db = GetParam().create();
  auto dest = dest_db->open(nullptr);
  ASSERT_TRUE(dest) << dest.error().to_string();
  ASSERT_TRUE((*dest)->add_domain("example.org"));
  auto summary = copy_store(*store_, **dest);
  ASSERT_FALSE(summary);
  EXPECT_EQ(summary.error().code, ErrorCode::kExists);
  EXPECT_NE(summary.error().message.find("example.org"), std::string::npos);
  auto accounts = (*dest)->list_accounts();
  ASSERT_TRUE(accounts);
  EXPECT_THAT(*accounts, IsEmpty());
}

TEST_P(StoreConformance, ImportRejectsInconsistentRows) {
  const Id alice = make_account();
  ImportedMailbox mb{alice, "Imported", 77, 10, 5, SpecialUse::kNone, true, {{3, 6}}};
  auto bad = store_->import_mailbox(mb);  // expunge modseq above HIGHESTMODSEQ
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalid);
  mb.expunged = {{3, 4}};
  auto m = store_->import_mailbox(mb);
  ASSERT_TRUE(m) << m.error().to_string();
  EXPECT_EQ(m->uidvalidity, 77u);
  auto again = store_->import_mailbox(mb);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kExists);

  std::vector<ImportedMessage> msgs{{2, 5, kFlagSeen, {"k"}, 1700000000, "a"}};
  ASSERT_TRUE(store_->import_messages(m->id, msgs));
  for (const ImportedMessage& wrong : {ImportedMessage{10, 1, 0, {}, 0, "uid >= uidnext"},
                                       ImportedMessage{4, 6, 0, {}, 0, "modseq > highestmodseq"},
                                       ImportedMessage{3, 1, 0, {}, 0, "expunged uid"},
                                       ImportedMessage{2, 1, 0, {}, 0, "existing uid"}}) {
    std::vector<ImportedMessage> batch{ImportedMessage{5, 1, 0, {}, 0, "fine"}, wrong};
    EXPECT_FALSE(store_->import_messages(m->id, batch)) << wrong.bytes;
  }
  // The failed batches left nothing behind.
  auto listed = store_->list_messages(m->id);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().uid, 2u);
  auto after = store_->get_mailbox(m->id);
  ASSERT_TRUE(after && *after);
  EXPECT_EQ((*after)->messages, 1u);
  EXPECT_EQ((*after)->total_size, 1u);
}

namespace {

// A destination whose import_messages fails from its `fail_at`-th call on, or whose
// import_queue_entry fails from its `fail_queue_at`-th: a copy that breaks halfway (disk
// full, connection lost).
class FailingDestination final : public MailStore {
 public:
  FailingDestination(MailStore& inner, int fail_at, int fail_queue_at = INT_MAX)
      : inner_(inner), fail_at_(fail_at), fail_queue_at_(fail_queue_at) {}
  Status import_messages(Id mailbox_id, std::span<const ImportedMessage> messages) override {
    if (++calls_ >= fail_at_) return make_error(ErrorCode::kIo, "disk full (test)");
    return inner_.import_messages(mailbox_id, messages);
  }
  Result<Id> import_queue_entry(const QueueEntry& entry, std::string_view bytes) override {
    if (++queue_calls_ >= fail_queue_at_) return make_error(ErrorCode::kIo, "disk full (test)");
    return inner_.import_queue_entry(entry, bytes);
  }
  Result<Delivered> deliver(std::string_view bytes, int64_t internal_date, std::span<const AppendTarget> targets,
                            const OutboundMessage* outbound) override {
    return inner_.deliver(bytes, internal_date, targets, outbound);
  }
  Result<std::unique_ptr<MaildropLock>> lock_maildrop(Id account_id) override {
    return inner_.lock_maildrop(account_id);
  }
  Result<std::vector<QueueEntry>> list_queue() override { return inner_.list_queue(); }
  Status delete_queue_entry(Id id) override { return inner_.delete_queue_entry(id); }
  Result<std::vector<QueueEntry>> claim_due(int64_t now, std::size_t limit, std::string_view owner,
                                            int64_t lease_seconds) override {
    return inner_.claim_due(now, limit, owner, lease_seconds);
  }
  Status record_attempt(Id id, std::string_view owner, std::span<const RecipientOutcome> outcomes,
                        int64_t next_attempt) override {
    return inner_.record_attempt(id, owner, outcomes, next_attempt);
  }
  Status set_queue_held(Id id, bool held) override { return inner_.set_queue_held(id, held); }
  Status retry_queue_entry(Id id, int64_t now) override { return inner_.retry_queue_entry(id, now); }
  Result<Domain> add_domain(std::string_view name) override { return inner_.add_domain(name); }
  Status delete_domain(std::string_view name) override { return inner_.delete_domain(name); }
  Result<std::vector<Domain>> list_domains() override { return inner_.list_domains(); }
  Result<std::optional<Domain>> find_domain(std::string_view name) override { return inner_.find_domain(name); }
  Result<Account> add_account(std::string_view address, std::string_view password_hash) override {
    return inner_.add_account(address, password_hash);
  }
  Status delete_account(std::string_view address) override { return inner_.delete_account(address); }
  Result<std::vector<Account>> list_accounts() override { return inner_.list_accounts(); }
  Result<std::optional<Account>> find_account(std::string_view address) override {
    return inner_.find_account(address);
  }
  Result<std::optional<Account>> find_account_by_id(Id id) override { return inner_.find_account_by_id(id); }
  Status set_password(Id account_id, std::string_view password_hash) override {
    return inner_.set_password(account_id, password_hash);
  }
  Status add_alias(std::string_view address, std::span<const std::string> targets) override {
    return inner_.add_alias(address, targets);
  }
  Status delete_alias(std::string_view address, std::span<const std::string> targets) override {
    return inner_.delete_alias(address, targets);
  }
  Result<std::vector<Alias>> list_aliases() override { return inner_.list_aliases(); }
  Result<std::optional<Alias>> find_alias(std::string_view address) override { return inner_.find_alias(address); }
  Result<AppPassword> add_app_password(Id account_id, std::string_view label, std::string_view hash) override {
    return inner_.add_app_password(account_id, label, hash);
  }
  Result<std::vector<AppPassword>> list_app_passwords(Id account_id) override {
    return inner_.list_app_passwords(account_id);
  }
  Status delete_app_password(Id account_id, Id app_password_id) override {
    return inner_.delete_app_password(account_id, app_password_id);
  }
  Status touch_app_password(Id app_password_id, int64_t when) override {
    return inner_.touch_app_password(app_password_id, when);
  }
  Result<std::vector<Mailbox>> list_mailboxes(Id account_id) override { return inner_.list_mailboxes(account_id); }
  Result<std::optional<Mailbox>> find_mailbox(Id account_id, std::string_view name) override {
    return inner_.find_mailbox(account_id, name);
  }
  Result<std::optional<Mailbox>> get_mailbox(Id mailbox_id) override { return inner_.get_mailbox(mailbox_id); }
  Result<Mailbox> create_mailbox(Id account_id, std::string_view name, SpecialUse special_use) override {
    return inner_.create_mailbox(account_id, name, special_use);
  }
  Status delete_mailbox(Id mailbox_id) override { return inner_.delete_mailbox(mailbox_id); }
  Status rename_mailbox(Id mailbox_id, std::string_view new_name) override {
    return inner_.rename_mailbox(mailbox_id, new_name);
  }
  Status set_subscribed(Id mailbox_id, bool subscribed) override {
    return inner_.set_subscribed(mailbox_id, subscribed);
  }
  Result<std::vector<Appended>> append(std::string_view bytes, int64_t internal_date,
                                       std::span<const AppendTarget> targets) override {
    return inner_.append(bytes, internal_date, targets);
  }
  Result<std::vector<Message>> list_messages(Id mailbox_id, uint32_t first_uid, uint32_t last_uid) override {
    return inner_.list_messages(mailbox_id, first_uid, last_uid);
  }
  Result<std::vector<FlagChange>> store_flags(Id mailbox_id, std::span<const uint32_t> uids, FlagOp op, uint32_t flags,
                                              std::span<const std::string> keywords,
                                              std::optional<uint64_t> unchanged_since,
                                              std::vector<uint32_t>* failed) override {
    return inner_.store_flags(mailbox_id, uids, op, flags, keywords, unchanged_since, failed);
  }
  Result<Copied> copy_messages(Id source_mailbox, std::span<const uint32_t> uids, Id dest) override {
    return inner_.copy_messages(source_mailbox, uids, dest);
  }
  Result<std::pair<Copied, Expunged>> move_messages(Id source_mailbox, std::span<const uint32_t> uids,
                                                    Id dest) override {
    return inner_.move_messages(source_mailbox, uids, dest);
  }
  Result<Expunged> expunge(Id mailbox_id, std::span<const uint32_t> uids) override {
    return inner_.expunge(mailbox_id, uids);
  }
  Result<std::vector<uint32_t>> expunged_since(Id mailbox_id, uint64_t since) override {
    return inner_.expunged_since(mailbox_id, since);
  }
  Result<std::string> read_blob(Id blob_id) override { return inner_.read_blob(blob_id); }
  Result<std::unique_ptr<BlobReader>> open_blob(Id blob_id) override { return inner_.open_blob(blob_id); }
  Result<std::vector<ExpungeRecord>> expunge_log(Id mailbox_id) override { return inner_.expunge_log(mailbox_id); }
  Result<Account> import_account(const ImportedAccount& account) override { return inner_.import_account(account); }
  Result<Mailbox> import_mailbox(const ImportedMailbox& mailbox) override { return inner_.import_mailbox(mailbox); }
  StoreStats stats() const override { return inner_.stats(); }

 private:
  MailStore& inner_;
  int fail_at_;
  int fail_queue_at_;
  int calls_ = 0;
  int queue_calls_ = 0;
};

}  // namespace

TEST_P(StoreConformance, FailedCopyLeavesTheDestinationAsItWas) {
  fill_copy_source(*store_);
  if (HasFatalFailure()) return;
  auto dest_db = GetParam().create();
  auto dest = dest_db->open(nullptr);
  ASSERT_TRUE(dest) << dest.error().to_string();
  FailingDestination failing(**dest, 3);
  auto summary = copy_store(*store_, failing);
  ASSERT_FALSE(summary);
  EXPECT_EQ(summary.error().code, ErrorCode::kIo);
  EXPECT_THAT(*(*dest)->list_domains(), IsEmpty());
  EXPECT_THAT(*(*dest)->list_accounts(), IsEmpty());
  EXPECT_THAT(*(*dest)->list_aliases(), IsEmpty());
  EXPECT_THAT(*(*dest)->list_queue(), IsEmpty());
  // And the copy can simply be run again.
  auto again = copy_store(*store_, **dest);
  ASSERT_TRUE(again) << again.error().to_string();
  expect_same_content(*store_, **dest);
}

TEST_P(StoreConformance, FailedQueueCopyLeavesTheDestinationAsItWas) {
  fill_copy_source(*store_);
  if (HasFatalFailure()) return;
  auto dest_db = GetParam().create();
  auto dest = dest_db->open(nullptr);
  ASSERT_TRUE(dest) << dest.error().to_string();
  FailingDestination failing(**dest, INT_MAX, 3);  // the third queue entry fails
  auto summary = copy_store(*store_, failing);
  ASSERT_FALSE(summary);
  EXPECT_EQ(summary.error().code, ErrorCode::kIo);
  EXPECT_THAT(*(*dest)->list_queue(), IsEmpty());
  EXPECT_THAT(*(*dest)->list_domains(), IsEmpty());
  EXPECT_THAT(*(*dest)->list_accounts(), IsEmpty());
  EXPECT_THAT(*(*dest)->list_aliases(), IsEmpty());
  auto again = copy_store(*store_, **dest);
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(again->queued, 4u);
  expect_same_content(*store_, **dest);
}

}  // namespace tern::store::testing
