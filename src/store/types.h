// store/types.h: the values the store hands out. Plain data, no behaviour; safe to copy
// across threads. Times are Unix seconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tern::store {

using Id = int64_t;

struct Domain {
  Id id = 0;
  std::string name;  // lower case, no trailing dot
};

struct Account {
  Id id = 0;
  std::string address;        // lower-case local@domain
  Id domain_id = 0;
  std::string password_hash;  // crypt(3) string ($y$ yescrypt); never shown
  int64_t created = 0;
};

struct Alias {
  std::string address;               // lower case
  std::vector<std::string> targets;  // local or remote addresses, in insertion order
};

struct AppPassword {
  Id id = 0;
  Id account_id = 0;
  std::string label;
  std::string hash;  // crypt(3) string
  int64_t created = 0;
  int64_t last_used = 0;  // 0: never
};

// RFC 6154 special-use attributes; kNone for ordinary mailboxes.
enum class SpecialUse : uint8_t { kNone, kAll, kArchive, kDrafts, kFlagged, kJunk, kSent, kTrash };

struct Mailbox {
  Id id = 0;
  Id account_id = 0;
  std::string name;            // full hierarchical name, '/' separated, UTF-8; "INBOX" exact
  uint32_t uidvalidity = 0;    // Invariant: never reused for the same name of the same account
  uint32_t uidnext = 1;        // Invariant: greater than every UID ever assigned in this mailbox
  uint64_t highestmodseq = 1;  // Invariant: >= every message's and expunge's modseq
  SpecialUse special_use = SpecialUse::kNone;
  bool subscribed = false;
  uint32_t messages = 0;       // current message count
  uint64_t total_size = 0;     // sum of message sizes in bytes
};

// System flags; \Recent is a session concept and not stored.
enum Flag : uint32_t {
  kFlagSeen = 1u << 0,
  kFlagAnswered = 1u << 1,
  kFlagFlagged = 1u << 2,
  kFlagDeleted = 1u << 3,
  kFlagDraft = 1u << 4,
};
inline constexpr uint32_t kAllFlags = 0x1f;

struct Message {
  Id mailbox_id = 0;
  uint32_t uid = 0;
  uint64_t modseq = 0;
  uint32_t flags = 0;                 // Flag bits
  std::vector<std::string> keywords;  // sorted, unique, case preserved as first set
  int64_t internal_date = 0;
  uint64_t size = 0;                  // exact octets of the stored bytes
  Id blob_id = 0;
};

// One mailbox an incoming message goes to, with its initial flags.
struct AppendTarget {
  Id mailbox_id = 0;
  uint32_t flags = 0;
  std::vector<std::string> keywords;
};

struct Appended {
  Id mailbox_id = 0;
  uint32_t uidvalidity = 0;
  uint32_t uid = 0;
  uint64_t modseq = 0;
};

enum class FlagOp { kReplace, kAdd, kRemove };

struct FlagChange {
  uint32_t uid = 0;
  uint64_t modseq = 0;  // the message's new modseq
  uint32_t flags = 0;   // the resulting flags
  std::vector<std::string> keywords;
};

struct Copied {
  uint32_t uidvalidity = 0;              // of the destination
  std::vector<uint32_t> source_uids;     // in ascending order
  std::vector<uint32_t> dest_uids;       // dest_uids[i] is the copy of source_uids[i]
};

struct Expunged {
  uint64_t modseq = 0;            // the mailbox's modseq after the expunge (0: nothing expunged)
  std::vector<uint32_t> uids;     // ascending
};

// ---- The outbound queue: mail accepted for remote recipients, waiting for delivery (T3).

// RFC 3461 NOTIFY bits; 0 when the client gave no NOTIFY parameter.
enum DsnNotify : uint8_t {
  kNotifyNever = 1u << 0,
  kNotifySuccess = 1u << 1,
  kNotifyFailure = 1u << 2,
  kNotifyDelay = 1u << 3,
};
// RFC 3461 RET: what a bounce carries back.
enum class DsnRet : uint8_t { kDefault, kFull, kHdrs };

enum class QueueState : uint8_t {
  kQueued,     // waiting for its (first or next) attempt
  kDelivered,  // the remote server took it
  kFailed,     // permanently refused, or expired; a bounce is due or sent
};

struct OutboundRecipient {
  std::string address;  // the forward-path as it will be sent (no angle brackets)
  uint8_t notify = 0;   // DsnNotify bits
  std::string orcpt;    // RFC 3461 ORCPT, decoded from xtext ("rfc822;user@example.org"); "" if absent
  QueueState state = QueueState::kQueued;
  std::string last_error;  // the last remote reply or local reason; "" before any attempt
};

struct OutboundMessage {
  std::string sender;  // reverse-path without angle brackets; "" is the null sender <>
  std::string envid;   // RFC 3461 ENVID, decoded from xtext; "" if absent
  DsnRet ret = DsnRet::kDefault;
  bool smtputf8 = false;  // MAIL FROM had SMTPUTF8
  bool eightbit = false;  // MAIL FROM had BODY=8BITMIME
  // Leading bytes of the stored message that are not sent onward: local copies carry a
  // Return-Path line (RFC 5321 4.4) that a relayed copy must not.
  uint64_t skip = 0;
  std::vector<OutboundRecipient> recipients;  // at least one
};

struct QueueEntry {
  Id id = 0;
  Id blob_id = 0;
  uint64_t size = 0;          // of the stored bytes (including `skip`)
  int64_t created = 0;
  int64_t next_attempt = 0;   // due when <= now
  uint32_t attempts = 0;
  OutboundMessage message;
  // Delivery state (MailStore::claim_due). import_queue_entry ignores these three.
  bool held = false;         // never claimed while set (`tern queue hold`)
  std::string lease_owner;   // the process attempting it; "" when unclaimed
  int64_t lease_until = 0;   // the lease runs out at this time; 0 when unclaimed
};

// The outcome of one delivery attempt for one recipient (MailStore::record_attempt).
struct RecipientOutcome {
  std::size_t index = 0;                   // into QueueEntry::message.recipients
  QueueState state = QueueState::kQueued;  // kQueued: deferred; kDelivered; kFailed
  std::string reply;                       // the remote reply or local reason: the new last_error
};

// What MailStore::deliver did.
struct Delivered {
  std::vector<Appended> appended;  // one per AppendTarget, in order
  Id queue_id = 0;                 // the new queue entry, 0 when there was no outbound part
};

// ---- Import (`tern store copy`, see MailStore::import_account): rows written as given.

// One expunge-log entry: `uid` was expunged at `modseq`.
struct ExpungeRecord {
  uint32_t uid = 0;
  uint64_t modseq = 0;
};

struct ImportedAccount {
  std::string address;        // lower-case local@domain; the domain must exist
  std::string password_hash;  // copied verbatim
  int64_t created = 0;
  std::vector<AppPassword> app_passwords;  // label, hash, created, last_used kept; ids ignored
};

// A mailbox header, imported before its messages (MailStore::import_messages).
struct ImportedMailbox {
  Id account_id = 0;  // in the destination store
  std::string name;
  uint32_t uidvalidity = 0;
  uint32_t uidnext = 1;
  uint64_t highestmodseq = 1;
  SpecialUse special_use = SpecialUse::kNone;
  bool subscribed = false;
  std::vector<ExpungeRecord> expunged;  // the whole expunge log
};

struct ImportedMessage {
  uint32_t uid = 0;
  uint64_t modseq = 0;
  uint32_t flags = 0;
  std::vector<std::string> keywords;
  int64_t internal_date = 0;
  std::string bytes;
};

// Counters for benchmarks and monitoring; monotonically increasing.
struct StoreStats {
  uint64_t commits = 0;  // durable transactions (each costs one WAL fsync on SQLite)
  uint64_t appends = 0;  // messages appended (counting each target mailbox)
};

}  // namespace tern::store
