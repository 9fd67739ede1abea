// imap/mailbox_view.h: the selected mailbox as one IMAP session sees it.
//
// IMAP numbers the messages of the selected mailbox 1..n in UID order, and every session
// has its own numbering: a message another session expunges keeps its number here until
// this session tells its client, which it may do only at certain points (RFC 3501 5.2 and
// 7.4.1, RFC 9051 7.5.1: never while answering FETCH, STORE or SEARCH). MailboxView holds
// that numbering and the flags the client has been told about; it queues what changed
// meanwhile (other IMAP sessions, SMTP delivery, POP3, this session's own commands) and,
// when the session calls flush() at a point where the protocol allows it, turns the queue
// into untagged responses: EXPUNGE (or VANISHED under QRESYNC), EXISTS, RECENT, FLAGS and
// FETCH (FLAGS ... MODSEQ ... UID ...).
//
// How a session feeds it (it never calls the store itself):
//   1. Subscribe to the ChangeFeed, then read the Mailbox, then list_messages(): in that
//      order nothing is missed and UIDNEXT is never ahead of a message the view lacks.
//      Construct the view from them and from the UIDs RecentTracker gave this session.
//   2. For each ChangeFeed event, in the order the feed delivers them (commit order),
//      re-read the messages it names and pass their current state: note_appended() /
//      note_flags(); an expunge passes its UIDs to note_expunged(). The same change
//      delivered twice, one the snapshot already holds, a re-read that finds a later state
//      or no message at all: each is harmless (the MODSEQs decide, and a UID expunged before
//      it was announced is never announced).
//   3. After its own STORE (or a FETCH that set \Seen), call note_own_flags() with what the
//      client asked for and what the store returned; after its own EXPUNGE / MOVE, call
//      note_expunged() like for anyone else's.
//   4. Call flush(FlushMode::kNoExpunge) at the end of FETCH, STORE, SEARCH (and their UID
//      forms), flush(FlushMode::kAll) at the end of every other command in the selected
//      state and as soon as anything is noted during IDLE; send what it returns.
//
// Memory: 17 bytes per message (UID 4, MODSEQ 8, flags and state 1, keyword-set id 4) in
// parallel arrays; keywords are interned per mailbox and each distinct set of keywords is
// kept once. Pending changes cost more per entry but only until the next flush.
//
// Pure: no I/O, no store calls, no logging. Thread-safety: none; one view per session.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <deque>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/assert.h"
#include "imap/proto/seqset.h"
#include "store/types.h"

namespace tern::imap {

// A message as the client numbers it.
struct SeqUid {
  std::uint32_t seq = 0;
  std::uint32_t uid = 0;
  friend bool operator==(const SeqUid&, const SeqUid&) = default;
};

// A message-number set resolved against the view.
struct ResolvedSet {
  std::vector<SeqUid> messages;  // ascending, each once
  // A number above the message count was written out (not through `*`). RFC 9051 leaves the
  // reply to the server: FETCH / STORE / COPY usually answer BAD, SEARCH ignores it.
  bool out_of_range = false;
};

enum class FlushMode {
  // While answering FETCH, STORE, SEARCH (RFC 3501 7.4.1, RFC 9051 7.5.1): announces new
  // messages and flag changes but holds expunges back. RFC 9051 would allow EXPUNGE during
  // the UID forms; holding them there too is always allowed and what Tern does.
  kNoExpunge,
  // NOOP, CHECK, IDLE, and the end of any other command: everything.
  kAll,
};

// What the client asked a STORE (or an implicit \Seen) to do, as given to the store. The view
// compares the store's result with this applied to what the client knows: a difference means
// someone else changed the message too, and the client must hear of it even under .SILENT.
struct FlagUpdate {
  store::FlagOp op = store::FlagOp::kAdd;
  std::uint32_t flags = 0;            // store::Flag bits
  std::vector<std::string> keywords;
};

// Whether this session's own flag change is to be reported back to its client.
enum class Echo {
  kReport,  // STORE without .SILENT: the next flush sends FETCH (FLAGS ...) for it
  // STORE .SILENT, or a FETCH that already includes the new FLAGS itself: nothing is sent,
  // except FETCH (MODSEQ (n) UID n) once CONDSTORE is enabled (RFC 7162 3.1.3).
  kSilent,
};

class MailboxView {
 public:
  // `mailbox` and `messages` are the store's snapshot at SELECT / EXAMINE (messages in UID
  // order; out-of-order input is sorted, duplicates dropped). `recent`: the UIDs that are
  // \Recent for this session (RecentTracker::claim, or ::peek for EXAMINE). Nothing is kept
  // of the arguments after the call.
  MailboxView(const store::Mailbox& mailbox, std::span<const store::Message> messages,
              const proto::RangeSet& recent, bool read_only);

  // ---- Session state. CONDSTORE (RFC 7162 3.1): every unsolicited FETCH then carries MODSEQ
  // and UID. QRESYNC (RFC 7162 3.2) implies CONDSTORE and reports expunges as VANISHED.
  // IMAP4rev2 (RFC 9051): no RECENT responses, no \Recent flag.
  void enable_condstore() { condstore_ = true; }
  void enable_qresync() { condstore_ = qresync_ = true; }
  void set_imap4rev2(bool on) { rev2_ = on; }
  bool condstore() const { return condstore_; }
  bool qresync() const { return qresync_; }

  store::Id mailbox_id() const { return mailbox_id_; }
  bool read_only() const { return read_only_; }
  std::uint32_t uidvalidity() const { return uidvalidity_; }

  // ---- Counts as the client knows them (what was flushed), for SELECT / STATUS.
  std::uint32_t exists() const { return static_cast<std::uint32_t>(uids_.size()); }
  std::uint32_t recent() const { return rev2_ ? 0 : recent_count_; }
  // Number of the first message without \Seen, 0 when all are seen (OK [UNSEEN n]). O(n).
  std::uint32_t first_unseen() const;
  // How many messages lack \Seen. O(n).
  std::uint32_t unseen() const;
  // The UID the next message will get at least: the snapshot's UIDNEXT, or more when the
  // view has announced messages beyond it.
  std::uint32_t uidnext() const;
  // HIGHESTMODSEQ as far as the client has been told: changes still pending (held expunges
  // included) keep it below their MODSEQ, so a client that saves it misses nothing.
  std::uint64_t highestmodseq() const;

  // ---- Message numbers. seq is 1-based; preconditions 1 <= seq <= exists() (TERN_ASSERT).
  std::uint32_t uid(std::uint32_t seq) const {
    TERN_ASSERT(seq >= 1 && seq <= exists());
    return uids_[seq - 1];
  }
  // The number of the message with this UID, 0 when the client does not know it. O(log n).
  std::uint32_t seq(std::uint32_t uid) const;
  // A message-number set: `*` is the message count (RFC 9051 9); "a:*" with a beyond the
  // count stands for the last message. O(ranges + result).
  ResolvedSet resolve(const proto::SequenceSet& set) const;
  // A UID set: `*` is the highest UID, "a:*" includes it even when it is below a (RFC 9051
  // 6.4.8); UIDs the client does not know are left out. O(ranges * log n + result).
  std::vector<SeqUid> resolve_uids(const proto::SequenceSet& set) const;
  // resolve_uids() for a UID command, else resolve(); nullopt when a message number is out
  // of range (the command's answer is then BAD).
  std::optional<std::vector<SeqUid>> resolve_for(const proto::SequenceSet& set, bool uid) const;
  // True when the message is expunged but the client has not been told (a FETCH of it may
  // answer from what is left, or say [EXPUNGEISSUED], RFC 5530).
  bool expunge_pending(std::uint32_t seq) const;

  // ---- A message's flags as the client knows them (FETCH FLAGS, SEARCH on flags).
  std::uint32_t system_flags(std::uint32_t seq) const;  // store::Flag bits
  const std::vector<std::string>& keywords(std::uint32_t seq) const;  // valid as long as the view
  bool is_recent(std::uint32_t seq) const;  // always false under IMAP4rev2
  std::uint64_t modseq(std::uint32_t seq) const;

  // The messages whose MODSEQ is above `modseq`, ascending: FETCH (CHANGEDSINCE) and the
  // FETCH responses of SELECT (QRESYNC) (RFC 7162 3.1.4, 3.2.5). O(n).
  std::vector<SeqUid> changed_since(std::uint64_t modseq) const;

  // Every keyword the view has met in this mailbox, in the order first met (the snapshot's
  // sorted ignoring case): the FLAGS and PERMANENTFLAGS lists.
  const std::vector<std::string>& known_keywords() const { return keywords_.all(); }
  // "* FLAGS (...)" and "* OK [PERMANENTFLAGS (... \*)] ..." (read-only: "()"), CRLF-ended.
  std::string flags_responses() const;
  // The untagged responses of SELECT / EXAMINE other than LIST (RFC 3501 6.3.1, RFC 9051
  // 6.3.2, RFC 7162 3.1.2.1), in this order: FLAGS, OK [PERMANENTFLAGS], EXISTS, RECENT,
  // OK [UNSEEN] (when a message is unseen), OK [UIDVALIDITY], OK [UIDNEXT],
  // OK [HIGHESTMODSEQ]; under IMAP4rev2 without RECENT and UNSEEN. The session adds QRESYNC's VANISHED (EARLIER) / FETCH and the tagged OK.
  std::string select_responses() const;

  // ---- Changes, queued until flush(). Each takes the messages' state as the store holds it
  // now; anything older than what the view already has is ignored.
  //
  // New messages. `recent`: which of them are \Recent for this session (RecentTracker).
  // A UID the client already knows counts as note_flags(). Appends may be noted in any order
  // until they are flushed; one at or below the highest UID the client has been shown, or
  // one already noted as expunged, is ignored (it is gone).
  void note_appended(std::span<const store::Message> messages, const proto::RangeSet& recent);
  // Messages whose flags changed. A message not yet announced has its pending state
  // updated; one the view never met (its append event not yet seen) is taken as appended,
  // with `recent` as for note_appended.
  void note_flags(std::span<const store::Message> current, const proto::RangeSet& recent = {});
  // Messages expunged at `modseq` (by anyone, this session included). A message not yet
  // announced is dropped and never announced; UIDs the view does not know are ignored.
  void note_expunged(std::span<const std::uint32_t> uids, std::uint64_t modseq);
  // This session's own flag change: `changes` is what MailStore::store_flags returned for
  // `update`. Applied to the client's view at once (FETCH FLAGS sees it before the flush);
  // reported according to `echo`, and reported in full anyway when the result shows a
  // change by someone else that the client has not heard of.
  void note_own_flags(const FlagUpdate& update, std::span<const store::FlagChange> changes, Echo echo);
  // Asks the next flush to send FETCH (FLAGS ...) for these UIDs even if nothing changed
  // (STORE without .SILENT answers for every message of its set, RFC 3501 6.4.6).
  void report_flags(std::span<const std::uint32_t> uids);

  // True when flush(mode) may have something to send (it may still turn out empty).
  bool has_pending(FlushMode mode) const;
  // Applies what is queued and returns the untagged responses, CRLF-ended, in order: the
  // expunges ("* n EXPUNGE" in ascending order, each number counted after the previous
  // removal; or one "* VANISHED uid-set" under QRESYNC), "* n EXISTS" and "* n RECENT" if
  // messages were added, "* FLAGS" / "* OK [PERMANENTFLAGS]" if new keywords appeared, then
  // "* n FETCH (FLAGS (...) [MODSEQ (m)] [UID u])" for flag changes, ascending. `uid`: the
  // command was a UID command, so FETCH responses carry UID (always under CONDSTORE).
  std::string flush(FlushMode mode, bool uid = false);

  // Approximate heap bytes held (arrays, keyword tables, pending changes).
  std::size_t memory_usage() const;

 private:
  // Interned keywords and keyword sets. Set 0 is the empty set.
  class Keywords {
   public:
    Keywords();
    // The id of a keyword (ASCII case-insensitive; the first spelling met is kept); keywords
    // that are not IMAP atoms are not interned (npos).
    std::uint32_t intern(std::string_view name);
    std::uint32_t find(std::string_view name) const;  // npos when unknown
    // The id of the set holding these keyword ids (any order, duplicates allowed).
    std::uint32_t set_of(std::vector<std::uint32_t> ids);
    std::uint32_t set_of_names(const std::vector<std::string>& names);
    const std::vector<std::uint32_t>& ids(std::uint32_t set) const { return sets_[set].ids; }
    const std::vector<std::string>& names(std::uint32_t set) const { return sets_[set].names; }
    const std::vector<std::string>& all() const { return names_; }
    std::size_t memory_usage() const;
    static constexpr std::uint32_t npos = UINT32_MAX;

   private:
    struct Set {
      std::vector<std::uint32_t> ids;   // ascending
      std::vector<std::string> names;   // sorted ignoring case, as the store sorts them
    };
    std::vector<std::string> names_;
    std::unordered_map<std::string, std::uint32_t> by_lower_;
    std::deque<Set> sets_;  // a deque: names() references stay valid as sets are added
    std::map<std::vector<std::uint32_t>, std::uint32_t> set_ids_;
  };

  // What a message's flags are: system bits (and kRecent for new messages), keyword set, MODSEQ.
  struct State {
    std::uint64_t modseq = 0;
    std::uint32_t kwset = 0;
    std::uint8_t bits = 0;
  };
  // A message announced by the next flush.
  struct Pending {
    std::uint32_t uid = 0;
    State state;
  };
  enum class Report : std::uint8_t { kNone, kModseq, kFull };
  // A pending flag change of a visible message: a newer state from the store (others'
  // change, reported in full), and/or a report this session asked for.
  struct Change {
    bool has_state = false;
    State state;
    Report requested = Report::kNone;
  };

  // bits_ layout: store::Flag bits in kSystemMask, then:
  static constexpr std::uint8_t kSystemMask = 0x1f;
  static constexpr std::uint8_t kRecent = 0x20;
  static constexpr std::uint8_t kExpunged = 0x40;  // expunged, not yet told
  static constexpr std::uint8_t kCancelled = 0x80;  // in appended_: expunged before announced

  std::size_t index_of(std::uint32_t uid) const;  // npos-like: uids_.size() when absent
  State state_from(const store::Message& m, bool recent);
  void note_current(const store::Message& m, const proto::RangeSet& recent);
  std::vector<Pending>::iterator find_pending(std::uint32_t uid);
  void set_visible(std::size_t i, const State& s);
  void note_unreported(std::uint64_t modseq);
  void apply_expunges(std::string& out);
  void append_fetch(std::string& out, std::size_t i, Report report, bool uid) const;

  store::Id mailbox_id_ = 0;
  std::uint32_t uidvalidity_ = 0;
  std::uint32_t snapshot_uidnext_ = 1;
  bool read_only_ = false;
  bool condstore_ = false;
  bool qresync_ = false;
  bool rev2_ = false;

  Keywords keywords_;
  std::size_t announced_keywords_ = 0;  // keywords_.all().size() the client was told of

  // The client's messages, index = seq - 1. Invariant: uids_ strictly ascending; the four
  // arrays have the same size.
  std::vector<std::uint32_t> uids_;
  std::vector<std::uint64_t> modseqs_;
  std::vector<std::uint8_t> bits_;
  std::vector<std::uint32_t> kwsets_;
  std::uint32_t recent_count_ = 0;  // visible messages with kRecent

  // Messages to announce, and tombstones (kCancelled) of UIDs expunged before they were
  // announced. Invariant: ascending by uid, every uid above seen_uid_; seen_uid_ is the
  // highest UID the client was ever shown (>= uids_.back()); announcing_ counts the entries
  // that are not tombstones.
  std::vector<Pending> appended_;
  std::uint32_t seen_uid_ = 0;
  std::size_t announcing_ = 0;
  std::map<std::uint32_t, Change> changes_;  // by uid; only visible messages
  std::uint32_t held_ = 0;                   // visible messages with kExpunged
  std::uint64_t held_min_modseq_ = UINT64_MAX;
  std::uint64_t held_max_modseq_ = 0;

  std::uint64_t applied_modseq_ = 0;          // highest MODSEQ the client's state reflects
  std::uint64_t unreported_min_ = UINT64_MAX;  // lowest MODSEQ of a change not yet told
};

}  // namespace tern::imap
