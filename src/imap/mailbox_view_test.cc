#include "imap/mailbox_view.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/change_feed.h"

namespace tern::imap {
namespace {

using store::kFlagDeleted;
using store::kFlagFlagged;
using store::kFlagSeen;

store::Message msg(std::uint32_t uid, std::uint64_t modseq, std::uint32_t flags = 0,
                   std::vector<std::string> keywords = {}) {
  store::Message m;
  m.mailbox_id = 7;
  m.uid = uid;
  m.modseq = modseq;
  m.flags = flags;
  m.keywords = std::move(keywords);
  return m;
}

store::FlagChange change(std::uint32_t uid, std::uint64_t modseq, std::uint32_t flags,
                         std::vector<std::string> keywords = {}) {
  return store::FlagChange{uid, modseq, flags, std::move(keywords)};
}

store::Mailbox box(std::uint32_t uidnext = 51, std::uint64_t highestmodseq = 10) {
  store::Mailbox b;
  b.id = 7;
  b.name = "INBOX";
  b.uidvalidity = 42;
  b.uidnext = uidnext;
  b.highestmodseq = highestmodseq;
  return b;
}

proto::SequenceSet set(std::string_view text) {
  auto s = proto::SequenceSet::parse(text);
  EXPECT_TRUE(s) << text;
  return s ? *s : proto::SequenceSet{};
}

proto::RangeSet uids(std::uint32_t first, std::uint32_t last) {
  proto::RangeSet r;
  r.add(first, last);
  return r;
}

// Splits CRLF-ended responses into lines (without the CRLF); fails on a missing CRLF.
std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find("\r\n", pos);
    EXPECT_NE(end, std::string::npos) << "unterminated: " << text.substr(pos);
    if (end == std::string::npos) break;
    out.push_back(text.substr(pos, end - pos));
    pos = end + 2;
  }
  return out;
}

using Lines = std::vector<std::string>;

// Five messages, UIDs 10..50, MODSEQs 1..5; 40 and 50 are \Recent; 10 and 30 are seen.
MailboxView five(bool read_only = false) {
  std::vector<store::Message> messages = {msg(10, 1, kFlagSeen), msg(20, 2), msg(30, 3, kFlagSeen),
                                          msg(40, 4, 0, {"$Forwarded"}), msg(50, 5)};
  return MailboxView(box(), messages, uids(40, 50), read_only);
}

// ---- Snapshot and counts

TEST(MailboxView, NumbersTheSnapshotInUidOrder) {
  std::vector<store::Message> messages = {msg(30, 3), msg(10, 1), msg(20, 2), msg(20, 9, kFlagSeen), msg(0, 4)};
  MailboxView v(box(31, 5), messages, {}, false);
  ASSERT_EQ(v.exists(), 3u);  // sorted, the duplicate 20 kept once (newest state), UID 0 dropped
  EXPECT_EQ(v.uid(1), 10u);
  EXPECT_EQ(v.uid(2), 20u);
  EXPECT_EQ(v.uid(3), 30u);
  EXPECT_EQ(v.system_flags(2), kFlagSeen);
  EXPECT_EQ(v.modseq(2), 9u);
  EXPECT_EQ(v.seq(10), 1u);
  EXPECT_EQ(v.seq(30), 3u);
  EXPECT_EQ(v.seq(15), 0u);
  EXPECT_EQ(v.seq(31), 0u);
  EXPECT_EQ(v.highestmodseq(), 9u);  // above the Mailbox's 5: a message changed between the reads
}

TEST(MailboxView, CountsForSelectAndStatus) {
  MailboxView v = five();
  EXPECT_EQ(v.exists(), 5u);
  EXPECT_EQ(v.recent(), 2u);
  EXPECT_EQ(v.first_unseen(), 2u);
  EXPECT_EQ(v.unseen(), 3u);
  EXPECT_EQ(v.uidnext(), 51u);
  EXPECT_EQ(v.highestmodseq(), 10u);
  EXPECT_EQ(v.uidvalidity(), 42u);
  EXPECT_EQ(v.mailbox_id(), 7);
  EXPECT_TRUE(v.is_recent(4));
  EXPECT_FALSE(v.is_recent(3));
  EXPECT_EQ(v.keywords(4), std::vector<std::string>{"$Forwarded"});
  EXPECT_TRUE(v.keywords(1).empty());
  v.set_imap4rev2(true);
  EXPECT_EQ(v.recent(), 0u);
  EXPECT_FALSE(v.is_recent(4));
}

TEST(MailboxView, UidnextCoversMessagesBeyondTheSnapshotsValue) {
  // The Mailbox was read before list_messages, which already saw UID 60.
  std::vector<store::Message> messages = {msg(10, 1), msg(60, 2)};
  MailboxView v(box(51, 2), messages, {}, false);
  EXPECT_EQ(v.uidnext(), 61u);
  MailboxView empty(box(1, 1), {}, {}, false);
  EXPECT_EQ(empty.uidnext(), 1u);
  EXPECT_EQ(empty.first_unseen(), 0u);
}

TEST(MailboxView, SelectResponses) {
  MailboxView v = five();
  EXPECT_EQ(lines(v.select_responses()),
            (Lines{"* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $Forwarded)",
                   "* OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $Forwarded \\*)] Flags permitted",
                   "* 5 EXISTS", "* 2 RECENT", "* OK [UNSEEN 2] First unseen", "* OK [UIDVALIDITY 42] UIDs valid",
                   "* OK [UIDNEXT 51] Predicted next UID", "* OK [HIGHESTMODSEQ 10] Highest"}));
  v.set_imap4rev2(true);
  EXPECT_EQ(lines(v.select_responses()),
            (Lines{"* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $Forwarded)",
                   "* OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $Forwarded \\*)] Flags permitted",
                   "* 5 EXISTS", "* OK [UIDVALIDITY 42] UIDs valid", "* OK [UIDNEXT 51] Predicted next UID",
                   "* OK [HIGHESTMODSEQ 10] Highest"}));
}

TEST(MailboxView, ReadOnlyHasNoPermanentFlagsAndAllSeenHasNoUnseen) {
  std::vector<store::Message> messages = {msg(1, 1, kFlagSeen)};
  MailboxView v(box(2, 1), messages, {}, true);
  EXPECT_TRUE(v.read_only());
  EXPECT_EQ(lines(v.select_responses()),
            (Lines{"* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)", "* OK [PERMANENTFLAGS ()] Read-only mailbox",
                   "* 1 EXISTS", "* 0 RECENT", "* OK [UIDVALIDITY 42] UIDs valid",
                   "* OK [UIDNEXT 2] Predicted next UID", "* OK [HIGHESTMODSEQ 1] Highest"}));
}

// ---- Resolving sets

struct SeqCase {
  std::string set;
  std::vector<std::uint32_t> seqs;
  bool out_of_range = false;
};

TEST(MailboxView, ResolvesMessageNumbers) {
  MailboxView v = five();
  const std::vector<SeqCase> cases = {
      {"1", {1}},
      {"2:4", {2, 3, 4}},
      {"4:2", {2, 3, 4}},
      {"*", {5}},
      {"3:*", {3, 4, 5}},
      {"*:4", {4, 5}},
      {"1,3,5", {1, 3, 5}},
      {"5,1,3,1", {1, 3, 5}},
      {"1:*", {1, 2, 3, 4, 5}},
      {"9:*", {5}},  // "9:*" is "5:9"; only 5 exists, and no number was written beyond 5 but 9 via *
      {"6", {}, true},
      {"4:7", {4, 5}, true},
      {"4294967295", {}, true},
  };
  for (const auto& c : cases) {
    ResolvedSet r = v.resolve(set(c.set));
    std::vector<std::uint32_t> seqs;
    for (const auto& m : r.messages) {
      seqs.push_back(m.seq);
      EXPECT_EQ(m.uid, m.seq * 10) << c.set;
    }
    EXPECT_EQ(seqs, c.seqs) << c.set;
    EXPECT_EQ(r.out_of_range, c.out_of_range) << c.set;
  }
}

TEST(MailboxView, ResolvesForUidAndNumberCommands) {
  MailboxView v = five();  // UIDs 10..50
  auto by_number = v.resolve_for(set("2:3"), false);
  ASSERT_TRUE(by_number);
  ASSERT_EQ(by_number->size(), 2u);
  EXPECT_EQ((*by_number)[0].uid, 20u);
  EXPECT_FALSE(v.resolve_for(set("6"), false));  // out of range: BAD
  auto by_uid = v.resolve_for(set("20:30,99"), true);
  ASSERT_TRUE(by_uid);  // unknown UIDs are left out, never an error
  ASSERT_EQ(by_uid->size(), 2u);
  EXPECT_EQ((*by_uid)[1].seq, 3u);
}

TEST(MailboxView, ResolvesMessageNumbersInAnEmptyMailbox) {
  MailboxView v(box(1, 1), {}, {}, false);
  EXPECT_TRUE(v.resolve(set("1:*")).messages.empty());
  EXPECT_FALSE(v.resolve(set("1:*")).out_of_range);  // "*" names nothing; SEARCH 1:* is fine
  EXPECT_TRUE(v.resolve(set("1")).out_of_range);
  EXPECT_TRUE(v.resolve_uids(set("1:*")).empty());
  EXPECT_TRUE(v.resolve_uids(set("*")).empty());
}

struct UidCase {
  std::string set;
  std::vector<std::uint32_t> uids;
};

TEST(MailboxView, ResolvesUids) {
  MailboxView v = five();
  const std::vector<UidCase> cases = {
      {"20", {20}},
      {"20:40", {20, 30, 40}},
      {"15:35", {20, 30}},
      {"15,25", {}},
      {"*", {50}},
      {"45:*", {50}},
      {"55:*", {50}},  // RFC 9051 6.4.8: "559:*" includes the highest UID even below 559
      {"60", {}},
      {"1:4294967295", {10, 20, 30, 40, 50}},
      {"1:*", {10, 20, 30, 40, 50}},
      {"50,10,30", {10, 30, 50}},
      {"10:20,19:31", {10, 20, 30}},
  };
  for (const auto& c : cases) {
    std::vector<std::uint32_t> got;
    for (const auto& m : v.resolve_uids(set(c.set))) {
      got.push_back(m.uid);
      EXPECT_EQ(v.uid(m.seq), m.uid) << c.set;
    }
    EXPECT_EQ(got, c.uids) << c.set;
  }
}

// ---- Appends, expunges and their order

TEST(MailboxView, AnnouncesNewMessagesWithExistsAndRecent) {
  MailboxView v = five();
  EXPECT_FALSE(v.has_pending(FlushMode::kAll));
  EXPECT_EQ(v.flush(FlushMode::kAll), "");
  std::vector<store::Message> added = {msg(60, 11), msg(70, 12, kFlagSeen)};
  v.note_appended(added, uids(60, 70));
  EXPECT_TRUE(v.has_pending(FlushMode::kNoExpunge));
  EXPECT_EQ(v.exists(), 5u);  // not before the flush
  EXPECT_EQ(v.seq(60), 0u);
  EXPECT_EQ(lines(v.flush(FlushMode::kNoExpunge)), (Lines{"* 7 EXISTS", "* 4 RECENT"}));
  EXPECT_EQ(v.exists(), 7u);
  EXPECT_EQ(v.seq(70), 7u);
  EXPECT_EQ(v.system_flags(7), kFlagSeen);
  EXPECT_TRUE(v.is_recent(6));
  EXPECT_EQ(v.uidnext(), 71u);
  EXPECT_EQ(v.highestmodseq(), 12u);
  EXPECT_EQ(v.flush(FlushMode::kAll), "");
}

TEST(MailboxView, NoRecentResponseUnderImap4rev2) {
  MailboxView v = five();
  v.set_imap4rev2(true);
  std::vector<store::Message> added = {msg(60, 11)};
  v.note_appended(added, uids(60, 60));
  EXPECT_EQ(lines(v.flush(FlushMode::kAll)), (Lines{"* 6 EXISTS"}));
}

TEST(MailboxView, ExpungesAreNumberedAsEachOneIsRemoved) {
  MailboxView v = five();
  std::vector<std::uint32_t> gone = {20, 40, 50};
  v.note_expunged(gone, 11);
  // 20 is message 2; then 40, once message 4, is message 3; then 50 is message 3 again.
  EXPECT_EQ(lines(v.flush(FlushMode::kAll)), (Lines{"* 2 EXPUNGE", "* 3 EXPUNGE", "* 3 EXPUNGE"}));
  EXPECT_EQ(v.exists(), 2u);
  EXPECT_EQ(v.uid(2), 30u);
  EXPECT_EQ(v.seq(30), 2u);
  EXPECT_EQ(v.recent(), 0u);  // 40 and 50 were the recent ones
  EXPECT_EQ(v.highestmodseq(), 11u);
}

TEST(MailboxView, NoExpungeModeHoldsExpungesBack) {
  MailboxView v = five();
  std::vector<std::uint32_t> gone = {20};
  v.note_expunged(gone, 11);
  EXPECT_FALSE(v.has_pending(FlushMode::kNoExpunge));
  EXPECT_TRUE(v.has_pending(FlushMode::kAll));
  std::vector<store::Message> added = {msg(60, 12)};
  v.note_appended(added, {});
  // During FETCH / STORE / SEARCH: the new message is announced, the expunge is not.
  EXPECT_EQ(lines(v.flush(FlushMode::kNoExpunge)), (Lines{"* 6 EXISTS", "* 2 RECENT"}));
  EXPECT_EQ(v.exists(), 6u);
  EXPECT_EQ(v.seq(20), 2u);  // still numbered
  EXPECT_TRUE(v.expunge_pending(2));
  EXPECT_FALSE(v.expunge_pending(3));
  EXPECT_EQ(v.highestmodseq(), 10u);  // below the held expunge's MODSEQ
  EXPECT_EQ(v.flush(FlushMode::kNoExpunge), "");
  // Then NOOP.
  EXPECT_EQ(lines(v.flush(FlushMode::kAll)), (Lines{"* 2 EXPUNGE"}));
  EXPECT_EQ(v.exists(), 5u);
  EXPECT_EQ(v.seq(60), 5u);
  EXPECT_EQ(v.highestmodseq(), 12u);
}

TEST(MailboxView, OneFlushReportsExpungesThenExistsThenFetch) {
  MailboxView v = five();
  std::vector<std::uint32_t> gone = {10};
  v.note_expunged(gone, 11);
  std::vector<store::Message> added = {msg(60, 12)};
  v.note_appended(added, uids(60, 60));
  std::vector<store::Message> changed = {msg(30, 13, kFlagSeen | kFlagFlagged)};
  v.note_flags(changed);
  EXPECT_EQ(lines(v.flush(FlushMode::kAll)),
            (Lines{"* 1 EXPUNGE", "* 5 EXISTS", "* 3 RECENT", "* 2 FETCH (FLAGS (\\Seen \\Flagged))"}));
}

TEST(MailboxView, QresyncReportsVanishedAndFetchCarriesModseqAndUid) {
  MailboxView v = five();
  v.enable_qresync();
  EXPECT_TRUE(v.condstore());
  std::vector<std::uint32_t> gone = {20, 30, 50};
  v.note_expunged(gone, 11);
  std::vector<store::Message> changed = {msg(40, 12, kFlagDeleted, {"$Forwarded"})};
  v.note_flags(changed);
  EXPECT_EQ(lines(v.flush(FlushMode::kAll)),
            (Lines{"* VANISHED 20,30,50", "* 2 FETCH (FLAGS (\\Deleted \\Recent $Forwarded) MODSEQ (12) UID 40)"}));
}

// ---- Consistency: races, duplicates, held messages

TEST(MailboxView, MessageAppendedAndExpungedWhilePendingIsNeverAnnounced) {
  MailboxView v = five();
  std::vector<store::Message> added = {msg(60, 11), msg(70, 12)};
  v.note_appended(added, uids(60, 70));
  std::vector<std::uint32_t> gone = {60};
  v.note_expunged(gone, 13);
  EXPECT_EQ(lines(v.flush(FlushMode::kNoExpunge)), (Lines{"* 6 EXISTS", "* 3 RECENT"}));
  EXPECT_EQ(v.seq(60), 0u);
  EXPECT_EQ(v.seq(70), 6u);
  // A late duplicate of the append changes nothing.
  v.note_appended(added, uids(60, 70));
  EXPECT_EQ(v.flush(FlushMode::kAll), "");

  std::vector<store::Message> both = {msg(80, 14)};
  v.note_appended(both, {});
  std::vector<std::uint32_t> gone_too = {80};
  v.note_expunged(gone_too, 15);
  EXPECT_EQ(v.flush(FlushMode::kAll), "");
  EXPECT_EQ(v.exists(), 6u);
}

TEST(MailboxView, ExpungeBeforeItsAppendIsIgnoredAndTheAppendToo) {
  MailboxView v = five();
  std::vector<std::uint32_t> gone = {60};
  v.note_expunged(gone, 12);
  std::vector<store::Message> added = {msg(60, 11)};  // the re-read raced the expunge
  v.note_appended(added, {});
  EXPECT_EQ(v.flush(FlushMode::kAll), "");
  EXPECT_EQ(v.exists(), 5u);
  EXPECT_EQ(v.highestmodseq(), 12u);
}

TEST(MailboxView, DuplicatesAndWhatTheSnapshotHoldsAreIgnored) {
  MailboxView v = five();
  // Events for changes already in the snapshot (the feed subscription came first).
  std::vector<store::Message> same = {msg(20, 2), msg(50, 5)};
  v.note_appended(same, {});
  v.note_flags(same);
  std::vector<store::Message> older = {msg(30, 1, 0)};
  v.note_flags(older);
  std::vector<std::uint32_t> unknown = {15, 25};
  v.note_expunged(unknown, 9);
  EXPECT_EQ(v.flush(FlushMode::kAll), "");

  std::vector<store::Message> changed = {msg(20, 11, kFlagSeen)};
  v.note_flags(changed);
  v.note_flags(changed);
  std::vector<std::uint32_t> gone = {30};
  v.note_expunged(gone, 12);
  v.note_expunged(gone, 12);
  EXPECT_EQ(lines(v.flush(FlushMode::kAll)), (Lines{"* 3 EXPUNGE", "* 2 FETCH (FLAGS (\\Seen))"}));
  v.note_flags(changed);
  v.note_expunged(gone, 12);
  EXPECT_EQ(v.flush(FlushMode::kAll), "");
}

TEST(MailboxView, FlagChangesOfPendingMessagesFoldIntoTheAppend) {
  MailboxView v = five();
  std::vector<store::Message> added = {msg(60, 11)};
  v.note_appended(added, uids(60, 60));
  std::vector<store::Message> changed = {msg(60, 12, kFlagSeen, {"Work"})};
  v.note_flags(changed);
  std::vector<store::Message> stale = {msg(60, 11)};
  v.note_flags(stale);
  EXPECT_EQ(lines(v.flush(FlushMode::kNoExpunge)),
            (Lines{"* 6 EXISTS", "* 3 RECENT", "* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $Forwarded Work)",
                   "* OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $Forwarded Work \\*)] Flags "
                   "permitted"}));
  EXPECT_EQ(v.system_flags(6), kFlagSeen);
  EXPECT_EQ(v.keywords(6), std::vector<std::string>{"Work"});
  EXPECT_TRUE(v.is_recent(6));
  EXPECT_EQ(v.modseq(6), 12u);
}

TEST(MailboxView, AppendsNotedOutOfOrderBeforeTheFlushAreNumberedInUidOrder) {
  MailboxView v = five();
  std::vector<store::Message> later = {msg(80, 13), msg(70, 12)};
  v.note_appended(later, {});
  std::vector<std::uint32_t> gone = {75};
  v.note_expunged(gone, 14);
  std::vector<store::Message> earlier = {msg(60, 11), msg(75, 12)};  // 75: a stale re-read
  v.note_appended(earlier, {});
  EXPECT_EQ(lines(v.flush(FlushMode::kAll)), (Lines{"* 8 EXISTS", "* 2 RECENT"}));
  EXPECT_EQ(v.uid(6), 60u);
  EXPECT_EQ(v.uid(7), 70u);
  EXPECT_EQ(v.uid(8), 80u);
  // Once 80 was shown, nothing at or below it can be numbered any more.
  std::vector<store::Message> too_late = {msg(65, 15), msg(75, 15)};
  v.note_appended(too_late, {});
  EXPECT_FALSE(v.has_pending(FlushMode::kAll));
  EXPECT_EQ(v.flush(FlushMode::kAll), "");
}

TEST(MailboxView, FlagChangeThatOvertakesItsAppendCountsAsTheAppend) {
  MailboxView v = five();
  std::vector<store::Message> changed = {msg(60, 12, kFlagSeen)};
  v.note_flags(changed, uids(60, 60));
  std::vector<store::Message> added = {msg(60, 11)};
  v.note_appended(added, uids(60, 60));
  EXPECT_EQ(lines(v.flush(FlushMode::kAll)), (Lines{"* 6 EXISTS", "* 3 RECENT"}));
  EXPECT_EQ(v.system_flags(6), kFlagSeen);
}

TEST(MailboxView, NoFetchForAMessageWhoseExpungeIsHeld) {
  MailboxView v = five();
  std::vector<std::uint32_t> gone = {20};
  v.note_expunged(gone, 11);
  std::vector<store::Message> changed = {msg(20, 12, kFlagSeen), msg(30, 12, kFlagFlagged)};
  v.note_flags(changed);
  EXPECT_EQ(lines(v.flush(FlushMode::kNoExpunge)), (Lines{"* 3 FETCH (FLAGS (\\Flagged))"}));
  EXPECT_EQ(lines(v.flush(FlushMode::kAll)), (Lines{"* 2 EXPUNGE"}));
}

TEST(MailboxView, RecentCountFollowsExpungesAndAppends) {
  MailboxView v = five();
  std::vector<std::uint32_t> gone = {50};
  v.note_expunged(gone, 11);
  std::vector<store::Message> added = {msg(60, 12), msg(70, 13)};
  v.note_appended(added, uids(70, 70));  // 60 was claimed by another session
  EXPECT_EQ(lines(v.flush(FlushMode::kAll)), (Lines{"* 5 EXPUNGE", "* 6 EXISTS", "* 2 RECENT"}));
  EXPECT_FALSE(v.is_recent(5));
  EXPECT_TRUE(v.is_recent(6));
}

// ---- Flag changes: others', and this session's own

TEST(MailboxView, ReportsOthersFlagChangesWithUidWhenAskedAndModseqUnderCondstore) {
  MailboxView v = five();
  std::vector<store::Message> changed = {msg(20, 11, kFlagSeen), msg(40, 12, 0)};
  v.note_flags(changed);
  EXPECT_EQ(v.system_flags(2), 0u);  // the client's view changes at the flush
  EXPECT_EQ(lines(v.flush(FlushMode::kNoExpunge, /*uid=*/true)),
            (Lines{"* 2 FETCH (FLAGS (\\Seen) UID 20)", "* 4 FETCH (FLAGS (\\Recent) UID 40)"}));
  EXPECT_EQ(v.system_flags(2), kFlagSeen);
  EXPECT_TRUE(v.keywords(4).empty());

  v.enable_condstore();
  std::vector<store::Message> again = {msg(10, 13, 0)};
  v.note_flags(again);
  EXPECT_EQ(lines(v.flush(FlushMode::kAll)), (Lines{"* 1 FETCH (FLAGS () MODSEQ (13) UID 10)"}));
}

TEST(MailboxView, OwnSilentStoreIsNotEchoedNorIsItsFeedEvent) {
  MailboxView v = five();
  FlagUpdate update{store::FlagOp::kAdd, kFlagDeleted, {}};
  std::vector<store::FlagChange> result = {change(20, 11, kFlagDeleted)};
  v.note_own_flags(update, result, Echo::kSilent);
  EXPECT_EQ(v.system_flags(2), kFlagDeleted);  // at once
  EXPECT_FALSE(v.has_pending(FlushMode::kNoExpunge));
  // The ChangeFeed delivers the same change; the session re-reads it.
  std::vector<store::Message> echo = {msg(20, 11, kFlagDeleted)};
  v.note_flags(echo);
  EXPECT_EQ(v.flush(FlushMode::kNoExpunge), "");
  EXPECT_EQ(v.highestmodseq(), 11u);
}

TEST(MailboxView, OwnSilentStoreAfterItsEchoWasNotedIsNotEchoed) {
  MailboxView v = five();
  std::vector<store::Message> echo = {msg(20, 11, kFlagDeleted)};
  v.note_flags(echo);  // the feed event was processed before the STORE returned
  FlagUpdate update{store::FlagOp::kAdd, kFlagDeleted, {}};
  std::vector<store::FlagChange> result = {change(20, 11, kFlagDeleted)};
  v.note_own_flags(update, result, Echo::kSilent);
  EXPECT_EQ(v.flush(FlushMode::kNoExpunge), "");
}

TEST(MailboxView, OwnSilentStoreUnderCondstoreStillSendsModseq) {
  MailboxView v = five();
  v.enable_condstore();
  FlagUpdate update{store::FlagOp::kAdd, kFlagDeleted, {}};
  std::vector<store::FlagChange> result = {change(20, 11, kFlagDeleted), change(30, 12, kFlagSeen | kFlagDeleted)};
  v.note_own_flags(update, result, Echo::kSilent);
  // RFC 7162 3.1.3: untagged FETCH with MODSEQ even for .SILENT.
  EXPECT_EQ(lines(v.flush(FlushMode::kNoExpunge)),
            (Lines{"* 2 FETCH (MODSEQ (11) UID 20)", "* 3 FETCH (MODSEQ (12) UID 30)"}));
}

TEST(MailboxView, OwnSilentStoreStillReportsAChangeBySomeoneElse) {
  MailboxView v = five();
  // Another session flagged message 2 (MODSEQ 11); its feed event is not processed yet.
  // This session's +FLAGS.SILENT (\Seen) commits at 12; the store's result shows both.
  FlagUpdate update{store::FlagOp::kAdd, kFlagSeen, {}};
  std::vector<store::FlagChange> result = {change(20, 12, kFlagSeen | kFlagFlagged)};
  v.note_own_flags(update, result, Echo::kSilent);
  std::vector<store::Message> late = {msg(20, 12, kFlagSeen | kFlagFlagged)};
  v.note_flags(late);  // the other session's event, re-read after our commit
  EXPECT_EQ(lines(v.flush(FlushMode::kNoExpunge)), (Lines{"* 2 FETCH (FLAGS (\\Seen \\Flagged))"}));
}

TEST(MailboxView, OwnSilentStoreAfterAnUnreportedChangeReportsIt) {
  MailboxView v = five();
  std::vector<store::Message> theirs = {msg(20, 11, kFlagFlagged)};
  v.note_flags(theirs);  // queued, not yet told
  FlagUpdate update{store::FlagOp::kAdd, kFlagSeen, {}};
  std::vector<store::FlagChange> result = {change(20, 12, kFlagSeen | kFlagFlagged)};
  v.note_own_flags(update, result, Echo::kSilent);
  EXPECT_EQ(lines(v.flush(FlushMode::kNoExpunge)), (Lines{"* 2 FETCH (FLAGS (\\Seen \\Flagged))"}));
}

TEST(MailboxView, OwnReplaceThatOverwritesAnUnreportedChangeNeedsNoReport) {
  MailboxView v = five();
  std::vector<store::Message> theirs = {msg(20, 11, kFlagFlagged)};
  v.note_flags(theirs);
  FlagUpdate update{store::FlagOp::kReplace, kFlagSeen, {}};
  std::vector<store::FlagChange> result = {change(20, 12, kFlagSeen)};
  v.note_own_flags(update, result, Echo::kSilent);
  // The client set the flags to exactly what they are now: nothing it does not know.
  EXPECT_EQ(v.flush(FlushMode::kNoExpunge), "");
  EXPECT_EQ(v.system_flags(2), kFlagSeen);
}

TEST(MailboxView, ANewerChangeBySomeoneElseWinsOverOwnResult) {
  MailboxView v = five();
  // Someone set \Flagged after our STORE committed; we re-read that before our STORE returned.
  std::vector<store::Message> theirs = {msg(20, 13, kFlagSeen | kFlagFlagged)};
  v.note_flags(theirs);
  FlagUpdate update{store::FlagOp::kAdd, kFlagSeen, {}};
  std::vector<store::FlagChange> result = {change(20, 12, kFlagSeen)};
  v.note_own_flags(update, result, Echo::kSilent);
  v.enable_condstore();
  EXPECT_EQ(lines(v.flush(FlushMode::kNoExpunge)), (Lines{"* 2 FETCH (FLAGS (\\Seen \\Flagged) MODSEQ (13) UID 20)"}));
  EXPECT_EQ(v.modseq(2), 13u);
}

TEST(MailboxView, OwnStoreWithoutSilentIsReported) {
  MailboxView v = five();
  FlagUpdate update{store::FlagOp::kRemove, kFlagSeen, {"$Forwarded"}};
  std::vector<store::FlagChange> result = {change(10, 11, 0), change(40, 12, 0)};
  v.note_own_flags(update, result, Echo::kReport);
  // STORE answers for every message of its set "1:4", changed or not (20 and 30 are not).
  std::vector<std::uint32_t> all = {10, 20, 30, 40};
  v.report_flags(all);
  EXPECT_EQ(lines(v.flush(FlushMode::kNoExpunge)),
            (Lines{"* 1 FETCH (FLAGS ())", "* 2 FETCH (FLAGS ())", "* 3 FETCH (FLAGS (\\Seen))",
                   "* 4 FETCH (FLAGS (\\Recent))"}));
  EXPECT_EQ(v.flush(FlushMode::kNoExpunge), "");
}

TEST(MailboxView, ReportFlagsSkipsUnknownAndExpungedMessages) {
  MailboxView v = five();
  std::vector<std::uint32_t> gone = {20};
  v.note_expunged(gone, 11);
  std::vector<std::uint32_t> asked = {20, 25, 30};
  v.report_flags(asked);
  EXPECT_EQ(lines(v.flush(FlushMode::kNoExpunge, true)), (Lines{"* 3 FETCH (FLAGS (\\Seen) UID 30)"}));
}

TEST(MailboxView, OwnKeywordChangesCompareIgnoringCase) {
  MailboxView v = five();
  FlagUpdate update{store::FlagOp::kAdd, 0, {"$forwarded", "Urgent"}};
  // The store kept the first spelling of $Forwarded and added Urgent.
  std::vector<store::FlagChange> result = {change(40, 11, 0, {"$Forwarded", "Urgent"}),
                                           change(50, 12, 0, {"$forwarded", "Urgent"})};
  v.note_own_flags(update, result, Echo::kSilent);
  // No FETCH (nothing unexpected), but the client learns of the new keyword.
  EXPECT_EQ(lines(v.flush(FlushMode::kNoExpunge)),
            (Lines{"* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $Forwarded Urgent)",
                   "* OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $Forwarded Urgent \\*)] "
                   "Flags permitted"}));
  EXPECT_EQ(v.keywords(4), (std::vector<std::string>{"$Forwarded", "Urgent"}));
  EXPECT_EQ(v.keywords(5), (std::vector<std::string>{"$Forwarded", "Urgent"}));  // one spelling per view
  EXPECT_EQ(v.known_keywords(), (std::vector<std::string>{"$Forwarded", "Urgent"}));
}

TEST(MailboxView, KeywordsThatAreNotAtomsAreNeverShown) {
  std::vector<store::Message> messages = {msg(1, 1, 0, {"ok", "bad(paren", "bad\\slash", "[x]"})};
  MailboxView v(box(2, 1), messages, {}, false);
  EXPECT_EQ(v.keywords(1), std::vector<std::string>{"ok"});
  EXPECT_EQ(v.known_keywords(), std::vector<std::string>{"ok"});
}

TEST(MailboxView, SnapshotKeywordsAreSortedIgnoringCase) {
  std::vector<store::Message> messages = {msg(1, 1, 0, {"zeta", "Alpha"}), msg(2, 2, 0, {"alpha", "Mid"})};
  MailboxView v(box(3, 2), messages, {}, false);
  EXPECT_EQ(v.known_keywords(), (std::vector<std::string>{"Alpha", "Mid", "zeta"}));
  EXPECT_EQ(v.keywords(1), (std::vector<std::string>{"Alpha", "zeta"}));
  EXPECT_EQ(v.keywords(2), (std::vector<std::string>{"Alpha", "Mid"}));
}

TEST(MailboxView, HighestModseqStaysBelowWhatTheClientWasNotTold) {
  MailboxView v = five();
  std::vector<std::uint32_t> gone = {10};
  v.note_expunged(gone, 12);
  std::vector<store::Message> changed = {msg(20, 11, kFlagSeen), msg(30, 13, 0)};
  v.note_flags(changed);
  EXPECT_EQ(v.highestmodseq(), 10u);
  v.flush(FlushMode::kNoExpunge);
  EXPECT_EQ(v.highestmodseq(), 11u);  // 13 is applied, but the expunge at 12 is held
  v.flush(FlushMode::kAll);
  EXPECT_EQ(v.highestmodseq(), 13u);
}

TEST(MailboxView, ChangedSince) {
  MailboxView v = five();
  EXPECT_EQ(v.changed_since(3), (std::vector<SeqUid>{{4, 40}, {5, 50}}));
  EXPECT_TRUE(v.changed_since(5).empty());
  std::vector<store::Message> changed = {msg(10, 11, 0)};
  v.note_flags(changed);
  EXPECT_TRUE(v.changed_since(5).empty());  // not before the client is told
  v.flush(FlushMode::kNoExpunge);
  EXPECT_EQ(v.changed_since(5), (std::vector<SeqUid>{{1, 10}}));
}

TEST(MailboxView, HasPendingSaysWhetherAFlushHasWork) {
  MailboxView v = five();
  EXPECT_FALSE(v.has_pending(FlushMode::kAll));
  std::vector<store::Message> changed = {msg(20, 11, kFlagSeen)};
  v.note_flags(changed);
  EXPECT_TRUE(v.has_pending(FlushMode::kNoExpunge));
  v.flush(FlushMode::kNoExpunge);
  EXPECT_FALSE(v.has_pending(FlushMode::kAll));
}

// ---- A random walk against a model store and a model client

// What a client that follows the untagged responses believes: the UIDs of its messages.
struct ClientModel {
  std::vector<std::uint32_t> uids;
  int expunges = 0, exists = 0, fetches = 0;  // responses seen, to show the walk did something

  // Applies one flush's output; `view` is the state after that flush.
  void apply(const std::string& out, const MailboxView& view, FlushMode mode) {
    for (const std::string& line : lines(out)) {
      std::uint32_t n = 0;
      char word[16] = {};
      if (line.starts_with("* VANISHED ")) {
        ASSERT_EQ(mode, FlushMode::kAll) << line;
        auto set = proto::SequenceSet::parse(line.substr(11));
        ASSERT_TRUE(set) << line;
        for (std::uint32_t uid : set->resolve(0)) {
          auto it = std::find(uids.begin(), uids.end(), uid);
          ASSERT_NE(it, uids.end()) << line;  // only UIDs the client knows
          uids.erase(it);
          ++expunges;
        }
      } else if (std::sscanf(line.c_str(), "* %u %15s", &n, word) == 2) {
        std::string what = word;
        if (what == "EXPUNGE") {
          ASSERT_EQ(mode, FlushMode::kAll) << line;  // never during FETCH, STORE, SEARCH
          ASSERT_TRUE(n >= 1 && n <= uids.size()) << line;
          uids.erase(uids.begin() + (n - 1));
          ++expunges;
        } else if (what == "EXISTS") {
          ASSERT_GT(n, uids.size()) << line;  // only ever grows
          ASSERT_EQ(n, view.exists()) << line;
          while (uids.size() < n) uids.push_back(view.uid(static_cast<std::uint32_t>(uids.size() + 1)));
          ++exists;
        } else if (what == "FETCH") {
          ASSERT_TRUE(n >= 1 && n <= uids.size()) << line;
          std::size_t at = line.find(" UID ");
          ASSERT_NE(at, std::string::npos) << line;  // the walk flushes as UID commands
          EXPECT_EQ(std::stoul(line.substr(at + 5)), uids[n - 1]) << line;
          ++fetches;
        }
      }
    }
  }
};

void random_walk(std::uint32_t seed, bool qresync, ClientModel& totals) {
  std::mt19937 rng(seed);
  auto chance = [&](int percent) { return static_cast<int>(rng() % 100) < percent; };
  std::map<std::uint32_t, store::Message> store_state;
  std::uint32_t next_uid = 1;
  std::uint64_t modseq = 1;
  for (int i = 0; i < 20; ++i) {
    store_state[next_uid] = msg(next_uid, modseq, 0);
    ++next_uid;
  }
  std::vector<store::Message> snapshot;
  for (const auto& [uid, m] : store_state) snapshot.push_back(m);
  MailboxView view(box(next_uid, modseq), snapshot, {}, false);
  if (qresync) view.enable_qresync();
  ClientModel client;
  for (std::uint32_t seq = 1; seq <= view.exists(); ++seq) client.uids.push_back(view.uid(seq));

  struct Event {
    store::MailboxChange::Kind kind;
    std::vector<std::uint32_t> uids;
    std::uint64_t modseq;
  };
  std::deque<Event> feed;          // published, not yet handled (in commit order)
  std::vector<Event> delivered;    // handled; may come again (the same change twice)
  auto existing = [&] {
    std::vector<std::uint32_t> out;
    for (const auto& [uid, m] : store_state) {
      if (chance(30)) out.push_back(uid);
    }
    return out;
  };
  auto deliver = [&](const Event& e) {
    if (e.kind == store::MailboxChange::Kind::kExpunge) {
      view.note_expunged(e.uids, e.modseq);
      return;
    }
    std::vector<store::Message> now;  // the session re-reads the messages' current state
    for (std::uint32_t uid : e.uids) {
      if (auto it = store_state.find(uid); it != store_state.end()) now.push_back(it->second);
    }
    if (e.kind == store::MailboxChange::Kind::kAppend) {
      view.note_appended(now, {});
    } else {
      view.note_flags(now);
    }
  };

  for (int step = 0; step < 400; ++step) {
    switch (rng() % 7) {
      case 0: {  // someone appends
        std::vector<std::uint32_t> added;
        for (int k = 0, n = 1 + static_cast<int>(rng() % 3); k < n; ++k) {
          store_state[next_uid] = msg(next_uid, ++modseq, chance(50) ? std::uint32_t{kFlagSeen} : 0u);
          added.push_back(next_uid++);
        }
        feed.push_back({store::MailboxChange::Kind::kAppend, added, modseq});
        break;
      }
      case 1: {  // someone changes flags
        std::vector<std::uint32_t> changed = existing();
        for (std::uint32_t uid : changed) {
          store_state[uid].flags ^= kFlagFlagged;
          store_state[uid].modseq = ++modseq;
        }
        if (!changed.empty()) feed.push_back({store::MailboxChange::Kind::kFlags, changed, modseq});
        break;
      }
      case 2: {  // someone expunges
        std::vector<std::uint32_t> gone = existing();
        if (gone.empty()) break;
        ++modseq;
        for (std::uint32_t uid : gone) store_state.erase(uid);
        feed.push_back({store::MailboxChange::Kind::kExpunge, gone, modseq});
        break;
      }
      case 3:
      case 4: {  // the session handles the next feed event, or one it handled before again
        if (!delivered.empty() && chance(25)) {
          deliver(delivered[rng() % delivered.size()]);
        } else if (!feed.empty()) {
          deliver(feed.front());
          delivered.push_back(feed.front());
          feed.pop_front();
        }
        break;
      }
      case 5: {  // this session stores flags on a message it knows
        if (view.exists() == 0) break;
        std::uint32_t uid = view.uid(1 + static_cast<std::uint32_t>(rng() % view.exists()));
        auto it = store_state.find(uid);
        if (it == store_state.end()) break;  // expunged meanwhile: the store skips it
        FlagUpdate update{store::FlagOp::kAdd, kFlagDeleted, {}};
        if (it->second.flags & kFlagDeleted) break;  // unchanged: the store returns nothing
        it->second.flags |= kFlagDeleted;
        it->second.modseq = ++modseq;
        std::vector<store::FlagChange> result = {change(uid, modseq, it->second.flags)};
        view.note_own_flags(update, result, chance(50) ? Echo::kSilent : Echo::kReport);
        feed.push_back({store::MailboxChange::Kind::kFlags, {uid}, modseq});
        break;
      }
      case 6: {  // a command ends
        FlushMode mode = chance(50) ? FlushMode::kAll : FlushMode::kNoExpunge;
        std::string out = view.flush(mode, true);
        client.apply(out, view, mode);
        ASSERT_EQ(client.uids.size(), view.exists()) << "seed " << seed << " step " << step;
        break;
      }
    }
    if (::testing::Test::HasFatalFailure()) return;
  }
  // Everything delivered and flushed: the client sees exactly what the store holds.
  while (!feed.empty()) {
    deliver(feed.front());
    feed.pop_front();
  }
  client.apply(view.flush(FlushMode::kAll, true), view, FlushMode::kAll);
  std::vector<std::uint32_t> expected;
  for (const auto& [uid, m] : store_state) expected.push_back(uid);
  ASSERT_EQ(client.uids, expected) << "seed " << seed;
  for (std::uint32_t seq = 1; seq <= view.exists(); ++seq) {
    const store::Message& m = store_state[view.uid(seq)];
    EXPECT_EQ(view.system_flags(seq), m.flags) << "seed " << seed << " uid " << m.uid;
    EXPECT_EQ(view.modseq(seq), m.modseq) << "seed " << seed << " uid " << m.uid;
  }
  EXPECT_EQ(view.highestmodseq(), modseq) << "seed " << seed;
  EXPECT_FALSE(view.has_pending(FlushMode::kAll));
  totals.expunges += client.expunges;
  totals.exists += client.exists;
  totals.fetches += client.fetches;
}

TEST(MailboxView, RandomWalkAgainstAModelStoreAndClient) {
  ClientModel totals;
  for (std::uint32_t seed = 1; seed <= 40; ++seed) {
    random_walk(seed, false, totals);
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(totals.expunges, 100);
  EXPECT_GT(totals.exists, 100);
  EXPECT_GT(totals.fetches, 100);
}

TEST(MailboxView, RandomWalkWithQresync) {
  ClientModel totals;
  for (std::uint32_t seed = 100; seed <= 120; ++seed) {
    random_walk(seed, true, totals);
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(totals.expunges, 100);
  EXPECT_GT(totals.fetches, 100);
}

// ---- Large mailboxes

TEST(MailboxView, LargeMailbox) {
  constexpr std::uint32_t kCount = 100'000;
  std::vector<store::Message> messages;
  messages.reserve(kCount);
  for (std::uint32_t i = 1; i <= kCount; ++i) {
    std::uint32_t flags = i % 3 == 0 ? std::uint32_t{kFlagSeen} : 0u;
    messages.push_back(msg(i * 2, i, flags, i % 100 == 0 ? std::vector<std::string>{"$Junk"} : std::vector<std::string>{}));
  }
  MailboxView v(box(2 * kCount + 1, kCount), messages, {}, false);
  messages.clear();
  messages.shrink_to_fit();
  ASSERT_EQ(v.exists(), kCount);

  // Memory per message: 17 bytes (UID 4 + MODSEQ 8 + flags 1 + keyword set 4); 1.7 MB for
  // 100k messages, plus a few hundred bytes of keyword tables.
  EXPECT_LE(v.memory_usage(), std::size_t{kCount} * 17 + 4096);

  // "1:*" is one range: one pass over the numbers, no per-number search.
  ResolvedSet all = v.resolve(set("1:*"));
  ASSERT_EQ(all.messages.size(), kCount);
  EXPECT_EQ(all.messages.front(), (SeqUid{1, 2}));
  EXPECT_EQ(all.messages.back(), (SeqUid{kCount, 2 * kCount}));
  std::vector<SeqUid> by_uid = v.resolve_uids(set("1:*"));
  ASSERT_EQ(by_uid.size(), kCount);
  EXPECT_EQ(by_uid[4999], (SeqUid{5000, 10000}));
  EXPECT_EQ(v.resolve_uids(set("1:4294967295")).size(), kCount);
  // Many single UIDs: one binary search each.
  std::string singles;
  for (std::uint32_t uid = 1; uid <= 20000; ++uid) singles += (singles.empty() ? "" : ",") + std::to_string(uid);
  EXPECT_EQ(v.resolve_uids(set(singles)).size(), 10000u);  // the even ones exist
  EXPECT_EQ(v.first_unseen(), 1u);
  EXPECT_EQ(v.unseen(), kCount - kCount / 3);

  // Another session expunges every other message and flags the rest.
  std::vector<std::uint32_t> gone;
  std::vector<store::Message> flagged;
  for (std::uint32_t i = 1; i <= kCount; ++i) {
    if (i % 2 == 1) {
      gone.push_back(i * 2);
    } else {
      flagged.push_back(msg(i * 2, kCount + 1 + i, kFlagFlagged));
    }
  }
  v.note_expunged(gone, kCount + 1);
  v.note_flags(flagged);
  std::vector<std::string> out = lines(v.flush(FlushMode::kAll));
  ASSERT_EQ(out.size(), kCount);  // 50k EXPUNGE + 50k FETCH
  EXPECT_EQ(out.front(), "* 1 EXPUNGE");  // message 1 goes; message 3 is then 2, and so on
  EXPECT_EQ(out[1], "* 2 EXPUNGE");
  EXPECT_EQ(out[kCount / 2 - 1], "* 50000 EXPUNGE");
  EXPECT_EQ(out[kCount / 2], "* 1 FETCH (FLAGS (\\Flagged))");
  EXPECT_EQ(out.back(), "* 50000 FETCH (FLAGS (\\Flagged))");
  EXPECT_EQ(v.exists(), kCount / 2);
  EXPECT_EQ(v.uid(1), 4u);
  EXPECT_EQ(v.seq(2 * kCount), kCount / 2);
}

TEST(MailboxView, ManyNewMessagesExpungedBeforeTheFlush) {
  MailboxView v = five();
  std::vector<store::Message> added;
  std::vector<std::uint32_t> gone;
  for (std::uint32_t uid = 100; uid < 50'100; ++uid) {
    added.push_back(msg(uid, uid));
    if (uid % 2 == 0) gone.push_back(uid);
  }
  v.note_appended(added, {});
  v.note_expunged(gone, 60'000);
  EXPECT_EQ(lines(v.flush(FlushMode::kAll)), (Lines{"* 25005 EXISTS", "* 2 RECENT"}));
  EXPECT_EQ(v.uid(6), 101u);
}

}  // namespace
}  // namespace tern::imap
