// store/conformance_test.cc: the MailStore conformance suite (see conformance_test.h).
#include "store/conformance_test.h"

#include <gmock/gmock.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace tern::store::testing {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

void StoreFixture::SetUp() {
  db_ = GetParam().create();
  ASSERT_TRUE(db_);
  auto s = db_->open(&feed_);
  ASSERT_TRUE(s) << s.error().to_string();
  store_ = std::move(*s);
}

void StoreFixture::TearDown() {
  store_.reset();
  db_.reset();
}

void StoreFixture::reopen() {
  store_.reset();
  auto s = db_->open(&feed_);
  ASSERT_TRUE(s) << s.error().to_string();
  store_ = std::move(*s);
}

Id StoreFixture::make_account(const std::string& local) {
  auto d = store_->find_domain("example.org");
  if (d && !*d) {
    EXPECT_TRUE(store_->add_domain("example.org"));
  }
  auto a = store_->add_account(local + "@example.org", "$y$hash");
  EXPECT_TRUE(a) << a.error().to_string();
  return a ? a->id : 0;
}

Id StoreFixture::mailbox_id(Id account, const std::string& name) {
  auto m = store_->find_mailbox(account, name);
  EXPECT_TRUE(m && *m) << name;
  return (m && *m) ? (*m)->id : 0;
}

Appended StoreFixture::append1(Id mailbox, const std::string& bytes, uint32_t flags) {
  AppendTarget t{mailbox, flags, {}};
  auto r = store_->append(bytes, 1700000000, std::span(&t, 1));
  EXPECT_TRUE(r) << r.error().to_string();
  return (r && r->size() == 1) ? r->front() : Appended{};
}

namespace {

std::vector<uint32_t> uids_of(const std::vector<Message>& ms) {
  std::vector<uint32_t> out;
  for (const auto& m : ms) out.push_back(m.uid);
  return out;
}

}  // namespace

// ---- Domains, accounts, aliases, app passwords

TEST_P(StoreConformance, DomainsCrud) {
  auto d = store_->add_domain("example.org");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->name, "example.org");
  EXPECT_EQ(store_->add_domain("example.org").error().code, ErrorCode::kExists);
  EXPECT_EQ(store_->add_domain("").error().code, ErrorCode::kInvalid);
  ASSERT_TRUE(store_->add_domain("example.com"));
  auto list = store_->list_domains();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "example.com");
  auto found = store_->find_domain("example.org");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->id, d->id);
  EXPECT_TRUE(store_->delete_domain("example.com"));
  EXPECT_EQ(store_->delete_domain("example.com").error().code, ErrorCode::kNotFound);
  auto gone = store_->find_domain("example.com");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(*gone);
}

TEST_P(StoreConformance, AccountsCrud) {
  EXPECT_EQ(store_->add_account("bob@nowhere.test", "h").error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store_->add_domain("example.org"));
  EXPECT_EQ(store_->add_account("no-at-sign", "h").error().code, ErrorCode::kInvalid);
  auto a = store_->add_account("bob@example.org", "$y$one");
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_EQ(a->address, "bob@example.org");
  EXPECT_EQ(store_->add_account("bob@example.org", "x").error().code, ErrorCode::kExists);
  auto by_name = store_->find_account("bob@example.org");
  ASSERT_TRUE(by_name && *by_name);
  EXPECT_EQ((*by_name)->id, a->id);
  EXPECT_EQ((*by_name)->password_hash, "$y$one");
  ASSERT_TRUE(store_->set_password(a->id, "$y$two"));
  auto by_id = store_->find_account_by_id(a->id);
  ASSERT_TRUE(by_id && *by_id);
  EXPECT_EQ((*by_id)->password_hash, "$y$two");
  EXPECT_EQ(store_->set_password(a->id + 1000, "x").error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store_->add_account("ann@example.org", "h"));
  auto list = store_->list_accounts();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].address, "ann@example.org");
  ASSERT_TRUE(store_->delete_account("bob@example.org"));
  EXPECT_EQ(store_->delete_account("bob@example.org").error().code, ErrorCode::kNotFound);
  auto gone = store_->find_account_by_id(a->id);
  ASSERT_TRUE(gone);
  EXPECT_FALSE(*gone);
  auto boxes = store_->list_mailboxes(a->id);
  ASSERT_TRUE(boxes);
  EXPECT_THAT(*boxes, IsEmpty());
}

TEST_P(StoreConformance, DeleteDomainIsBusyWhileInUse) {
  ASSERT_TRUE(store_->add_domain("example.org"));
  ASSERT_TRUE(store_->add_account("a@example.org", "h"));
  EXPECT_EQ(store_->delete_domain("example.org").error().code, ErrorCode::kBusy);
  ASSERT_TRUE(store_->delete_account("a@example.org"));
  std::vector<std::string> targets{"x@remote.test"};
  ASSERT_TRUE(store_->add_alias("list@example.org", targets));
  EXPECT_EQ(store_->delete_domain("example.org").error().code, ErrorCode::kBusy);
  ASSERT_TRUE(store_->delete_alias("list@example.org", {}));
  EXPECT_TRUE(store_->delete_domain("example.org"));
}

TEST_P(StoreConformance, AliasesKeepTargetOrder) {
  std::vector<std::string> t1{"b@remote.test", "a@example.org"};
  EXPECT_EQ(store_->add_alias("team@example.org", t1).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store_->add_domain("example.org"));
  ASSERT_TRUE(store_->add_alias("team@example.org", t1));
  std::vector<std::string> t2{"c@remote.test", "b@remote.test"};
  ASSERT_TRUE(store_->add_alias("team@example.org", t2));
  auto found = store_->find_alias("team@example.org");
  ASSERT_TRUE(found && *found);
  EXPECT_THAT((*found)->targets, ElementsAre("b@remote.test", "a@example.org", "c@remote.test"));
  EXPECT_EQ(store_->add_alias("x@example.org", {}).error().code, ErrorCode::kInvalid);
  std::vector<std::string> t3{"z@remote.test"};
  ASSERT_TRUE(store_->add_alias("abuse@example.org", t3));
  auto list = store_->list_aliases();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].address, "abuse@example.org");
  EXPECT_EQ((*list)[1].targets.size(), 3u);

  std::vector<std::string> drop{"a@example.org"};
  ASSERT_TRUE(store_->delete_alias("team@example.org", drop));
  found = store_->find_alias("team@example.org");
  ASSERT_TRUE(found && *found);
  EXPECT_THAT((*found)->targets, ElementsAre("b@remote.test", "c@remote.test"));
  EXPECT_EQ(store_->delete_alias("team@example.org", drop).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store_->delete_alias("team@example.org", {}));
  found = store_->find_alias("team@example.org");
  ASSERT_TRUE(found);
  EXPECT_FALSE(*found);
  EXPECT_EQ(store_->delete_alias("team@example.org", {}).error().code, ErrorCode::kNotFound);
}

TEST_P(StoreConformance, AppPasswords) {
  Id acc = make_account();
  EXPECT_EQ(store_->add_app_password(acc + 1000, "phone", "h").error().code, ErrorCode::kNotFound);
  auto p1 = store_->add_app_password(acc, "phone", "$y$p1");
  auto p2 = store_->add_app_password(acc, "laptop", "$y$p2");
  ASSERT_TRUE(p1 && p2);
  EXPECT_NE(p1->id, p2->id);
  EXPECT_EQ(p1->last_used, 0);
  ASSERT_TRUE(store_->touch_app_password(p1->id, 1234));
  auto list = store_->list_app_passwords(acc);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].label, "phone");
  EXPECT_EQ((*list)[0].last_used, 1234);
  EXPECT_EQ((*list)[1].hash, "$y$p2");
  EXPECT_EQ(store_->delete_app_password(acc + 1000, p1->id).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store_->delete_app_password(acc, p1->id));
  EXPECT_EQ(store_->delete_app_password(acc, p1->id).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store_->delete_account("alice@example.org"));
  list = store_->list_app_passwords(acc);
  ASSERT_TRUE(list);
  EXPECT_THAT(*list, IsEmpty());
}

// ---- Mailboxes

TEST_P(StoreConformance, NewAccountHasDefaultMailboxes) {
  Id acc = make_account();
  auto boxes = store_->list_mailboxes(acc);
  ASSERT_TRUE(boxes);
  std::map<std::string, SpecialUse> got;
  for (const auto& m : *boxes) {
    got[m.name] = m.special_use;
    EXPECT_TRUE(m.subscribed) << m.name;
    EXPECT_EQ(m.messages, 0u);
    EXPECT_EQ(m.uidnext, 1u);
    EXPECT_NE(m.uidvalidity, 0u);
    EXPECT_EQ(m.account_id, acc);
  }
  std::map<std::string, SpecialUse> want{{"INBOX", SpecialUse::kNone},   {"Drafts", SpecialUse::kDrafts},
                                         {"Sent", SpecialUse::kSent},    {"Trash", SpecialUse::kTrash},
                                         {"Junk", SpecialUse::kJunk},    {"Archive", SpecialUse::kArchive}};
  EXPECT_EQ(got, want);
}

TEST_P(StoreConformance, CreateDeleteSubscribeMailbox) {
  Id acc = make_account();
  auto m = store_->create_mailbox(acc, "Projects/Tern", SpecialUse::kNone);
  ASSERT_TRUE(m) << m.error().to_string();
  EXPECT_FALSE(m->subscribed);
  EXPECT_EQ(store_->create_mailbox(acc, "Projects/Tern", SpecialUse::kNone).error().code, ErrorCode::kExists);
  EXPECT_EQ(store_->create_mailbox(acc, "", SpecialUse::kNone).error().code, ErrorCode::kInvalid);
  EXPECT_EQ(store_->create_mailbox(acc + 1000, "X", SpecialUse::kNone).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store_->set_subscribed(m->id, true));
  auto got = store_->get_mailbox(m->id);
  ASSERT_TRUE(got && *got);
  EXPECT_TRUE((*got)->subscribed);
  EXPECT_EQ((*got)->name, "Projects/Tern");
  ASSERT_TRUE(store_->delete_mailbox(m->id));
  EXPECT_EQ(store_->delete_mailbox(m->id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->set_subscribed(m->id, false).error().code, ErrorCode::kNotFound);
  got = store_->get_mailbox(m->id);
  ASSERT_TRUE(got);
  EXPECT_FALSE(*got);
}

TEST_P(StoreConformance, UidvalidityDiffersAfterRecreate) {
  Id acc = make_account();
  std::set<uint32_t> seen;
  const auto boxes = store_->list_mailboxes(acc);
  ASSERT_TRUE(boxes);
  for (const auto& m : *boxes) seen.insert(m.uidvalidity);
  EXPECT_EQ(seen.size(), 6u);
  for (int i = 0; i < 3; ++i) {
    auto m = store_->create_mailbox(acc, "Again", SpecialUse::kNone);
    ASSERT_TRUE(m);
    EXPECT_TRUE(seen.insert(m->uidvalidity).second) << "UIDVALIDITY " << m->uidvalidity << " reused";
    ASSERT_TRUE(store_->delete_mailbox(m->id));
  }
  reopen();
  auto m = store_->create_mailbox(acc, "Again", SpecialUse::kNone);
  ASSERT_TRUE(m);
  EXPECT_TRUE(seen.insert(m->uidvalidity).second);
}

TEST_P(StoreConformance, RenameMovesChildren) {
  Id acc = make_account();
  auto a = store_->create_mailbox(acc, "a", SpecialUse::kNone);
  auto ax = store_->create_mailbox(acc, "a/x", SpecialUse::kNone);
  auto ab = store_->create_mailbox(acc, "ab", SpecialUse::kNone);
  ASSERT_TRUE(a && ax && ab);
  append1(ax->id, "Subject: child\r\n\r\nhi\r\n");
  EXPECT_EQ(store_->rename_mailbox(a->id, "Sent").error().code, ErrorCode::kExists);
  EXPECT_EQ(store_->rename_mailbox(a->id, "a/x/y").error().code, ErrorCode::kInvalid);
  EXPECT_EQ(store_->rename_mailbox(a->id + 1000, "zz").error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store_->rename_mailbox(a->id, "b"));
  auto b = store_->find_mailbox(acc, "b");
  auto bx = store_->find_mailbox(acc, "b/x");
  ASSERT_TRUE(b && *b && bx && *bx);
  EXPECT_EQ((*b)->id, a->id);
  EXPECT_EQ((*bx)->id, ax->id);
  EXPECT_EQ((*bx)->uidvalidity, ax->uidvalidity);
  EXPECT_EQ((*bx)->messages, 1u);
  auto old = store_->find_mailbox(acc, "a/x");
  ASSERT_TRUE(old);
  EXPECT_FALSE(*old);
  auto untouched = store_->find_mailbox(acc, "ab");  // a sibling sharing the prefix, not a child
  ASSERT_TRUE(untouched && *untouched);
}

TEST_P(StoreConformance, RenameInboxMovesMessagesAndLeavesInboxEmpty) {
  Id acc = make_account();
  Id inbox = mailbox_id(acc, "INBOX");
  append1(inbox, "one");
  append1(inbox, "two");
  auto before = *store_->get_mailbox(inbox);
  ASSERT_TRUE(store_->rename_mailbox(inbox, "Old"));
  auto in = store_->get_mailbox(inbox);
  ASSERT_TRUE(in && *in);
  EXPECT_EQ((*in)->name, "INBOX");
  EXPECT_EQ((*in)->messages, 0u);
  EXPECT_EQ((*in)->total_size, 0u);
  EXPECT_GE((*in)->uidnext, before->uidnext);
  EXPECT_GT((*in)->highestmodseq, before->highestmodseq);
  EXPECT_THAT(*store_->list_messages(inbox), IsEmpty());
  EXPECT_THAT(*store_->expunged_since(inbox, before->highestmodseq), ElementsAre(1u, 2u));
  Id old = mailbox_id(acc, "Old");
  auto old_box = *store_->get_mailbox(old);
  EXPECT_NE(old_box->uidvalidity, before->uidvalidity);
  EXPECT_EQ(old_box->messages, 2u);
  EXPECT_EQ(old_box->total_size, 6u);
  auto msgs = store_->list_messages(old);
  ASSERT_TRUE(msgs);
  ASSERT_EQ(msgs->size(), 2u);
  EXPECT_EQ(*store_->read_blob((*msgs)[1].blob_id), "two");
  // New mail still lands in INBOX with a UID never used there.
  auto a = append1(inbox, "three");
  EXPECT_GE(a.uid, 3u);
}

// ---- Messages: UIDs, MODSEQ, flags, keywords

TEST_P(StoreConformance, UidsIncreaseAndAreNeverReused) {
  Id acc = make_account();
  Id inbox = mailbox_id(acc, "INBOX");
  auto a1 = append1(inbox, "m1");
  auto a2 = append1(inbox, "m22");
  auto a3 = append1(inbox, "m333");
  EXPECT_LT(a1.uid, a2.uid);
  EXPECT_LT(a2.uid, a3.uid);
  EXPECT_EQ(a1.uidvalidity, (*store_->get_mailbox(inbox))->uidvalidity);
  std::vector<uint32_t> last{a3.uid};
  ASSERT_TRUE(store_->expunge(inbox, last));
  auto box = *store_->get_mailbox(inbox);
  EXPECT_EQ(box->uidnext, a3.uid + 1);
  EXPECT_EQ(box->messages, 2u);
  EXPECT_EQ(box->total_size, 5u);
  reopen();
  auto a4 = append1(inbox, "m4");
  EXPECT_GT(a4.uid, a3.uid);
  auto msgs = store_->list_messages(inbox);
  ASSERT_TRUE(msgs);
  EXPECT_EQ(uids_of(*msgs), (std::vector<uint32_t>{a1.uid, a2.uid, a4.uid}));
  auto range = store_->list_messages(inbox, a2.uid, a4.uid - 1);
  ASSERT_TRUE(range);
  EXPECT_EQ(uids_of(*range), std::vector<uint32_t>{a2.uid});
  EXPECT_EQ((*msgs)[1].size, 3u);
  EXPECT_EQ((*msgs)[1].internal_date, 1700000000);
  EXPECT_EQ(*store_->read_blob((*msgs)[1].blob_id), "m22");
}

TEST_P(StoreConformance, AppendToMissingMailboxFailsAlone) {
  Id acc = make_account();
  Id inbox = mailbox_id(acc, "INBOX");
  AppendTarget bad{inbox + 1000, 0, {}};
  EXPECT_EQ(store_->append("x", 1, std::span(&bad, 1)).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->append("x", 1, {}).error().code, ErrorCode::kInvalid);
  EXPECT_THAT(*store_->list_messages(inbox), IsEmpty());
  append1(inbox, "fine");
  EXPECT_EQ(store_->list_messages(inbox)->size(), 1u);
}

TEST_P(StoreConformance, ModseqBumpsOnlyForChangedMessages) {
  Id acc = make_account();
  Id inbox = mailbox_id(acc, "INBOX");
  auto a1 = append1(inbox, "1");
  auto a2 = append1(inbox, "2", kFlagSeen);
  auto a3 = append1(inbox, "3");
  EXPECT_LT(a1.modseq, a2.modseq);
  EXPECT_LT(a2.modseq, a3.modseq);
  const uint64_t top = (*store_->get_mailbox(inbox))->highestmodseq;
  EXPECT_EQ(top, a3.modseq);

  std::vector<uint32_t> uids{a1.uid, a2.uid, 999};
  auto ch = store_->store_flags(inbox, uids, FlagOp::kAdd, kFlagSeen, {}, std::nullopt, nullptr);
  ASSERT_TRUE(ch) << ch.error().to_string();
  ASSERT_EQ(ch->size(), 1u);  // a2 was already \Seen
  EXPECT_EQ((*ch)[0].uid, a1.uid);
  EXPECT_EQ((*ch)[0].flags, kFlagSeen);
  EXPECT_GT((*ch)[0].modseq, top);
  auto msgs = *store_->list_messages(inbox);
  EXPECT_EQ(msgs[0].modseq, (*ch)[0].modseq);
  EXPECT_EQ(msgs[1].modseq, a2.modseq);
  EXPECT_EQ(msgs[2].modseq, a3.modseq);
  const uint64_t top2 = (*store_->get_mailbox(inbox))->highestmodseq;
  EXPECT_EQ(top2, (*ch)[0].modseq);

  // No-op change: nothing returned, nothing bumped.
  auto noop = store_->store_flags(inbox, uids, FlagOp::kAdd, kFlagSeen, {}, std::nullopt, nullptr);
  ASSERT_TRUE(noop);
  EXPECT_THAT(*noop, IsEmpty());
  EXPECT_EQ((*store_->get_mailbox(inbox))->highestmodseq, top2);

  // UNCHANGEDSINCE: a1 was modified after `top`, so it fails; a3 passes.
  std::vector<uint32_t> failed;
  std::vector<uint32_t> both{a1.uid, a3.uid};
  auto cond = store_->store_flags(inbox, both, FlagOp::kReplace, kFlagFlagged, {}, top, &failed);
  ASSERT_TRUE(cond);
  EXPECT_THAT(failed, ElementsAre(a1.uid));
  ASSERT_EQ(cond->size(), 1u);
  EXPECT_EQ((*cond)[0].uid, a3.uid);
  EXPECT_EQ((*cond)[0].flags, kFlagFlagged);

  auto rm = store_->store_flags(inbox, both, FlagOp::kRemove, kFlagSeen, {}, std::nullopt, nullptr);
  ASSERT_TRUE(rm);
  ASSERT_EQ(rm->size(), 1u);
  EXPECT_EQ((*rm)[0].uid, a1.uid);
  EXPECT_EQ((*rm)[0].flags, 0u);
}

TEST_P(StoreConformance, KeywordsAddRemoveReplace) {
  Id acc = make_account();
  Id inbox = mailbox_id(acc, "INBOX");
  AppendTarget t{inbox, 0, {"$Label1", "Work"}};
  auto app = store_->append("k", 1, std::span(&t, 1));
  ASSERT_TRUE(app);
  const uint32_t uid = (*app)[0].uid;
  std::vector<uint32_t> uids{uid};
  auto msgs = *store_->list_messages(inbox);
  EXPECT_THAT(msgs[0].keywords, ElementsAre("$Label1", "Work"));

  std::vector<std::string> add{"work", "Todo"};  // "work" is already there (case-insensitive)
  auto ch = store_->store_flags(inbox, uids, FlagOp::kAdd, 0, add, std::nullopt, nullptr);
  ASSERT_TRUE(ch);
  ASSERT_EQ(ch->size(), 1u);
  EXPECT_THAT((*ch)[0].keywords, ElementsAre("$Label1", "Todo", "Work"));

  std::vector<std::string> again{"TODO"};
  auto same = store_->store_flags(inbox, uids, FlagOp::kAdd, 0, again, std::nullopt, nullptr);
  ASSERT_TRUE(same);
  EXPECT_THAT(*same, IsEmpty());

  std::vector<std::string> rm{"$label1", "Missing"};
  ch = store_->store_flags(inbox, uids, FlagOp::kRemove, 0, rm, std::nullopt, nullptr);
  ASSERT_TRUE(ch);
  ASSERT_EQ(ch->size(), 1u);
  EXPECT_THAT((*ch)[0].keywords, ElementsAre("Todo", "Work"));

  std::vector<std::string> repl{"Only"};
  ch = store_->store_flags(inbox, uids, FlagOp::kReplace, kFlagAnswered, repl, std::nullopt, nullptr);
  ASSERT_TRUE(ch);
  msgs = *store_->list_messages(inbox);
  EXPECT_THAT(msgs[0].keywords, ElementsAre("Only"));
  EXPECT_EQ(msgs[0].flags, kFlagAnswered);
}

TEST_P(StoreConformance, ExpungeLogAndExpungedSince) {
  Id acc = make_account();
  Id inbox = mailbox_id(acc, "INBOX");
  auto a1 = append1(inbox, "1");
  auto a2 = append1(inbox, "2");
  auto a3 = append1(inbox, "3");
  std::vector<uint32_t> first{a2.uid, 777};
  auto e1 = store_->expunge(inbox, first);
  ASSERT_TRUE(e1);
  EXPECT_THAT(e1->uids, ElementsAre(a2.uid));
  EXPECT_GT(e1->modseq, a3.modseq);
  EXPECT_EQ((*store_->get_mailbox(inbox))->highestmodseq, e1->modseq);
  std::vector<uint32_t> second{a1.uid, a3.uid};
  auto e2 = store_->expunge(inbox, second);
  ASSERT_TRUE(e2);
  EXPECT_GT(e2->modseq, e1->modseq);
  EXPECT_THAT(*store_->expunged_since(inbox, 0), ElementsAre(a1.uid, a2.uid, a3.uid));
  EXPECT_THAT(*store_->expunged_since(inbox, e1->modseq), ElementsAre(a1.uid, a3.uid));
  EXPECT_THAT(*store_->expunged_since(inbox, e2->modseq), IsEmpty());
  auto none = store_->expunge(inbox, second);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->modseq, 0u);
  EXPECT_THAT(none->uids, IsEmpty());
  EXPECT_EQ((*store_->get_mailbox(inbox))->highestmodseq, e2->modseq);
}

// ---- Copy, move and shared blobs

TEST_P(StoreConformance, CopySharesTheBlob) {
  Id acc = make_account();
  Id inbox = mailbox_id(acc, "INBOX");
  Id archive = mailbox_id(acc, "Archive");
  auto a1 = append1(inbox, "first", kFlagFlagged);
  auto a2 = append1(inbox, "second");
  const uint64_t appends = store_->stats().appends;
  std::vector<uint32_t> uids{a2.uid, a1.uid, 4242};
  auto c = store_->copy_messages(inbox, uids, archive);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->uidvalidity, (*store_->get_mailbox(archive))->uidvalidity);
  EXPECT_THAT(c->source_uids, ElementsAre(a1.uid, a2.uid));
  ASSERT_EQ(c->dest_uids.size(), 2u);
  EXPECT_LT(c->dest_uids[0], c->dest_uids[1]);
  EXPECT_EQ(store_->stats().appends, appends);  // a copy is not an append
  auto src = *store_->list_messages(inbox);
  auto dst = *store_->list_messages(archive);
  ASSERT_EQ(dst.size(), 2u);
  EXPECT_EQ(dst[0].blob_id, src[0].blob_id);
  EXPECT_EQ(dst[1].blob_id, src[1].blob_id);
  EXPECT_EQ(dst[0].flags, kFlagFlagged);
  EXPECT_EQ((*store_->get_mailbox(archive))->total_size, 11u);
  // Deleting the originals keeps the copies readable.
  ASSERT_TRUE(store_->expunge(inbox, c->source_uids));
  EXPECT_EQ(*store_->read_blob(dst[0].blob_id), "first");
  EXPECT_EQ(*store_->read_blob(dst[1].blob_id), "second");
  EXPECT_EQ(store_->copy_messages(inbox, uids, archive + 1000).error().code, ErrorCode::kNotFound);
}

TEST_P(StoreConformance, CopyIntoSameMailbox) {
  Id acc = make_account();
  Id inbox = mailbox_id(acc, "INBOX");
  auto a1 = append1(inbox, "x");
  std::vector<uint32_t> uids{a1.uid, a1.uid + 1};  // a1.uid + 1 is the copy's future UID
  auto c = store_->copy_messages(inbox, uids, inbox);
  ASSERT_TRUE(c);
  EXPECT_THAT(c->source_uids, ElementsAre(a1.uid));
  EXPECT_EQ(store_->list_messages(inbox)->size(), 2u);
}

TEST_P(StoreConformance, MoveCopiesThenExpunges) {
  Id acc = make_account();
  Id inbox = mailbox_id(acc, "INBOX");
  Id trash = mailbox_id(acc, "Trash");
  auto a1 = append1(inbox, "doomed");
  auto a2 = append1(inbox, "kept");
  const uint64_t since = (*store_->get_mailbox(inbox))->highestmodseq;
  std::vector<uint32_t> uids{a1.uid};
  auto m = store_->move_messages(inbox, uids, trash);
  ASSERT_TRUE(m) << m.error().to_string();
  EXPECT_THAT(m->first.source_uids, ElementsAre(a1.uid));
  ASSERT_EQ(m->first.dest_uids.size(), 1u);
  EXPECT_THAT(m->second.uids, ElementsAre(a1.uid));
  EXPECT_THAT(uids_of(*store_->list_messages(inbox)), ElementsAre(a2.uid));
  auto moved = *store_->list_messages(trash);
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].uid, m->first.dest_uids[0]);
  EXPECT_EQ(*store_->read_blob(moved[0].blob_id), "doomed");
  EXPECT_THAT(*store_->expunged_since(inbox, since), ElementsAre(a1.uid));
  EXPECT_EQ((*store_->get_mailbox(trash))->messages, 1u);
  EXPECT_EQ((*store_->get_mailbox(inbox))->messages, 1u);
}

TEST_P(StoreConformance, MultiTargetAppendStoresOneBlob) {
  Id acc = make_account();
  Id inbox = mailbox_id(acc, "INBOX");
  Id sent = mailbox_id(acc, "Sent");
  Id bob_inbox = mailbox_id(make_account("bob"), "INBOX");
  const uint64_t appends = store_->stats().appends;
  std::vector<AppendTarget> targets{{inbox, 0, {}}, {sent, kFlagSeen, {}}, {bob_inbox, 0, {"x"}}};
  auto r = store_->append("shared bytes", 5, targets);
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[1].mailbox_id, sent);
  EXPECT_EQ(store_->stats().appends, appends + 3);
  auto m1 = *store_->list_messages(inbox);
  auto m2 = *store_->list_messages(sent);
  auto m3 = *store_->list_messages(bob_inbox);
  ASSERT_EQ(m1.size(), 1u);
  ASSERT_EQ(m2.size(), 1u);
  ASSERT_EQ(m3.size(), 1u);
  EXPECT_EQ(m1[0].blob_id, m2[0].blob_id);
  EXPECT_EQ(m1[0].blob_id, m3[0].blob_id);
  EXPECT_EQ(m2[0].flags, kFlagSeen);
  EXPECT_THAT(m3[0].keywords, ElementsAre("x"));
  // The blob lives while any holder remains.
  const Id blob = m1[0].blob_id;
  std::vector<uint32_t> one{m1[0].uid};
  ASSERT_TRUE(store_->expunge(inbox, one));
  ASSERT_TRUE(store_->delete_account("bob@example.org"));
  EXPECT_EQ(*store_->read_blob(blob), "shared bytes");
  std::vector<uint32_t> last{m2[0].uid};
  ASSERT_TRUE(store_->expunge(sent, last));
  EXPECT_EQ(store_->read_blob(blob).error().code, ErrorCode::kNotFound);
}

TEST_P(StoreConformance, BlobsGoWithTheirLastMessage) {
  Id acc = make_account();
  auto box = store_->create_mailbox(acc, "Tmp", SpecialUse::kNone);
  ASSERT_TRUE(box);
  append1(box->id, "in a deleted mailbox");
  Id b1 = store_->list_messages(box->id)->at(0).blob_id;
  ASSERT_TRUE(store_->delete_mailbox(box->id));
  EXPECT_EQ(store_->read_blob(b1).error().code, ErrorCode::kNotFound);
  append1(mailbox_id(acc, "INBOX"), "in a deleted account");
  Id b2 = store_->list_messages(mailbox_id(acc, "INBOX"))->at(0).blob_id;
  ASSERT_TRUE(store_->delete_account("alice@example.org"));
  EXPECT_EQ(store_->read_blob(b2).error().code, ErrorCode::kNotFound);
}

TEST_P(StoreConformance, OpenBlobReadsInPieces) {
  Id acc = make_account();
  Id inbox = mailbox_id(acc, "INBOX");
  for (std::size_t size : {std::size_t{10}, std::size_t{3} << 20}) {
    std::string bytes(size, '\0');
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>('a' + (i * 7) % 26);
    auto a = append1(inbox, bytes);
    auto msgs = *store_->list_messages(inbox, a.uid, a.uid);
    ASSERT_EQ(msgs.size(), 1u);
    auto reader = store_->open_blob(msgs[0].blob_id);
    ASSERT_TRUE(reader) << reader.error().to_string();
    EXPECT_EQ((*reader)->size(), size);
    // The reader keeps reading what it opened even after the message goes.
    std::vector<uint32_t> uids{a.uid};
    ASSERT_TRUE(store_->expunge(inbox, uids));
    std::string got;
    for (;;) {
      auto piece = (*reader)->read(got.size(), 64 * 1024);
      ASSERT_TRUE(piece) << piece.error().to_string();
      if (piece->empty()) break;
      EXPECT_LE(piece->size(), 64u * 1024);
      got += *piece;
    }
    EXPECT_EQ(got.size(), bytes.size());
    EXPECT_TRUE(got == bytes);
    reader->reset();
  }
  EXPECT_EQ(store_->open_blob(123456).error().code, ErrorCode::kNotFound);
}

// ---- ChangeFeed, concurrency, persistence

TEST_P(StoreConformance, PublishesCommittedChanges) {
  Id acc = make_account();
  Id inbox = mailbox_id(acc, "INBOX");
  std::mutex mu;
  std::condition_variable cv;
  std::vector<MailboxChange> got;
  auto sub = feed_.subscribe(inbox, [&](const MailboxChange& c) {
    // The account's creation may still be in flight: it is published after add_account returns.
    if (c.kind == MailboxChange::Kind::kMailboxCreated) return;
    std::lock_guard lock(mu);
    got.push_back(c);
    cv.notify_all();
  });
  auto wait_for = [&](std::size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return got.size() >= n; });
  };
  auto a = append1(inbox, "hello");
  ASSERT_TRUE(wait_for(1));
  std::vector<uint32_t> uids{a.uid};
  auto f = store_->store_flags(inbox, uids, FlagOp::kAdd, kFlagSeen, {}, std::nullopt, nullptr);
  ASSERT_TRUE(f);
  ASSERT_TRUE(wait_for(2));
  auto e = store_->expunge(inbox, uids);
  ASSERT_TRUE(e);
  ASSERT_TRUE(wait_for(3));
  std::lock_guard lock(mu);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].kind, MailboxChange::Kind::kAppend);
  EXPECT_EQ(got[0].account_id, acc);
  EXPECT_EQ(got[0].modseq, a.modseq);
  EXPECT_THAT(got[0].uids, ElementsAre(a.uid));
  EXPECT_EQ(got[1].kind, MailboxChange::Kind::kFlags);
  EXPECT_EQ(got[1].modseq, (*f)[0].modseq);
  EXPECT_EQ(got[2].kind, MailboxChange::Kind::kExpunge);
  EXPECT_EQ(got[2].modseq, e->modseq);
  EXPECT_THAT(got[2].uids, ElementsAre(a.uid));
}

TEST_P(StoreConformance, FailedWritesPublishNothing) {
  Id acc = make_account();
  std::mutex mu;
  std::condition_variable cv;
  std::vector<MailboxChange> got;
  std::set<Id> defaults;
  const auto boxes = store_->list_mailboxes(acc);
  ASSERT_TRUE(boxes);
  for (const auto& m : *boxes) defaults.insert(m.id);
  auto sub = feed_.subscribe_account(acc, [&](const MailboxChange& c) {
    if (defaults.count(c.mailbox_id) != 0) return;  // add_account's own changes, maybe late
    std::lock_guard lock(mu);
    got.push_back(c);
    cv.notify_all();
  });
  EXPECT_EQ(store_->create_mailbox(acc, "INBOX", SpecialUse::kNone).error().code, ErrorCode::kExists);
  auto ok_box = store_->create_mailbox(acc, "New", SpecialUse::kNone);
  ASSERT_TRUE(ok_box);
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return !got.empty(); }));
  // Changes are published in commit order: had the failed create published, it came first.
  EXPECT_EQ(got[0].kind, MailboxChange::Kind::kMailboxCreated);
  EXPECT_EQ(got[0].mailbox_id, ok_box->id);
  EXPECT_EQ(got[0].account_id, acc);
}

TEST_P(StoreConformance, ConcurrentAppendsShareCommits) {
  Id acc = make_account();
  Id inbox = mailbox_id(acc, "INBOX");
  constexpr int kThreads = 20;
  constexpr int kEach = 25;
  const StoreStats before = store_->stats();
  std::vector<std::vector<uint32_t>> uids(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        AppendTarget target{inbox, 0, {}};
        std::string body = "thread " + std::to_string(t) + " message " + std::to_string(i);
        auto r = store_->append(body, 1, std::span(&target, 1));
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
  EXPECT_EQ(store_->list_messages(inbox)->size(), static_cast<std::size_t>(kThreads * kEach));
  const StoreStats after = store_->stats();
  EXPECT_EQ(after.appends - before.appends, static_cast<uint64_t>(kThreads * kEach));
  EXPECT_LT(after.commits - before.commits, after.appends - before.appends) << "no group commit happened";
}

TEST_P(StoreConformance, DataPersistsAcrossReopen) {
  Id acc = make_account();
  Id inbox = mailbox_id(acc, "INBOX");
  auto a = append1(inbox, "persisted", kFlagDraft);
  std::vector<std::string> targets{"alice@example.org"};
  ASSERT_TRUE(store_->add_alias("postmaster@example.org", targets));
  const auto box = *store_->get_mailbox(inbox);
  reopen();
  auto acc2 = store_->find_account("alice@example.org");
  ASSERT_TRUE(acc2 && *acc2);
  EXPECT_EQ((*acc2)->id, acc);
  auto box2 = *store_->get_mailbox(inbox);
  EXPECT_EQ(box2->uidvalidity, box->uidvalidity);
  EXPECT_EQ(box2->uidnext, box->uidnext);
  EXPECT_EQ(box2->highestmodseq, box->highestmodseq);
  auto msgs = *store_->list_messages(inbox);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].uid, a.uid);
  EXPECT_EQ(msgs[0].flags, kFlagDraft);
  EXPECT_EQ(*store_->read_blob(msgs[0].blob_id), "persisted");
  EXPECT_TRUE(*store_->find_alias("postmaster@example.org"));
}

}  // namespace tern::store::testing
