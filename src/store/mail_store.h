// store/mail_store.h: the backend-neutral interface to everything Tern keeps.
//
// Two backends implement it: SQLite (embedded default, store/sqlite/) and PostgreSQL
// (cluster, store/pg/). Nothing here may assume either: ids are opaque, names are compared
// as given (callers normalise case), and every method is blocking.
//
// Thread-safety: every method may be called concurrently from any thread. Methods block
// on disk or network I/O, so sessions call them through the store executor
// (net/blocking_pool.h), never on an I/O thread; the CLI calls them directly.
//
// Durability: a method that changes state returns only after the change is durable
// (SQLite: committed with synchronous=FULL; PostgreSQL: committed). Concurrent writers
// share one commit (group commit), so durability does not cost one fsync per call.
// After the commit, the change is published on the ChangeFeed given at open.
//
// Errors: kNotFound / kExists / kInvalid describe the request; kIo, kUnavailable and
// kCorruption are the backend's failures (corruption reported apart from I/O).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "store/types.h"

namespace tern::store {

// Reads a stored message in pieces, so a 50 MiB message is sent with bounded memory.
// Not thread-safe; one reader per user. Valid while its store lives; it keeps reading the
// bytes it was opened on even if the message is expunged meanwhile.
class BlobReader {
 public:
  virtual ~BlobReader() = default;
  virtual uint64_t size() const = 0;
  // Up to `max` bytes from `offset`; an empty result means offset >= size().
  virtual Result<std::string> read(uint64_t offset, std::size_t max) = 0;
};

// A BlobReader over bytes already in memory (small blobs, the in-memory test store).
std::unique_ptr<BlobReader> memory_blob_reader(std::string bytes);

// The POP3 maildrop lock of one account (MailStore::lock_maildrop): held until destroyed.
// Not thread-safe (one owner); must not outlive the store that made it. Destroying it may
// block briefly (PostgreSQL: one round trip), so sessions destroy it through the store
// executor too.
class MaildropLock {
 public:
  virtual ~MaildropLock() = default;
};

class MailStore {
 public:
  virtual ~MailStore() = default;

  // ---- Domains. Names are lower case without a trailing dot.
  virtual Result<Domain> add_domain(std::string_view name) = 0;
  // Fails with kBusy while accounts or aliases of the domain exist.
  virtual Status delete_domain(std::string_view name) = 0;
  virtual Result<std::vector<Domain>> list_domains() = 0;
  virtual Result<std::optional<Domain>> find_domain(std::string_view name) = 0;

  // ---- Accounts. The domain must exist (kNotFound otherwise). A new account gets INBOX,
  // Drafts, Sent, Trash, Junk and Archive, the last five with their special-use attribute,
  // all subscribed.
  virtual Result<Account> add_account(std::string_view address, std::string_view password_hash) = 0;
  // Deletes the account with its mailboxes, messages and app passwords.
  virtual Status delete_account(std::string_view address) = 0;
  virtual Result<std::vector<Account>> list_accounts() = 0;
  virtual Result<std::optional<Account>> find_account(std::string_view address) = 0;
  virtual Result<std::optional<Account>> find_account_by_id(Id id) = 0;
  virtual Status set_password(Id account_id, std::string_view password_hash) = 0;

  // ---- Aliases: an address that forwards to one or more local or remote addresses.
  // add_alias appends targets to the alias (creating it); its domain must be local.
  virtual Status add_alias(std::string_view address, std::span<const std::string> targets) = 0;
  // Removes the given targets, or the whole alias when `targets` is empty.
  virtual Status delete_alias(std::string_view address, std::span<const std::string> targets) = 0;
  virtual Result<std::vector<Alias>> list_aliases() = 0;
  virtual Result<std::optional<Alias>> find_alias(std::string_view address) = 0;

  // ---- App passwords: extra passwords for one account, each revocable alone.
  virtual Result<AppPassword> add_app_password(Id account_id, std::string_view label,
                                               std::string_view hash) = 0;
  virtual Result<std::vector<AppPassword>> list_app_passwords(Id account_id) = 0;
  virtual Status delete_app_password(Id account_id, Id app_password_id) = 0;
  // Records a successful use (best effort; not group-committed with anything else).
  virtual Status touch_app_password(Id app_password_id, int64_t when) = 0;

  // ---- Mailboxes.
  virtual Result<std::vector<Mailbox>> list_mailboxes(Id account_id) = 0;
  virtual Result<std::optional<Mailbox>> find_mailbox(Id account_id, std::string_view name) = 0;
  virtual Result<std::optional<Mailbox>> get_mailbox(Id mailbox_id) = 0;
  // kExists if the name is taken. The new mailbox gets a fresh UIDVALIDITY.
  virtual Result<Mailbox> create_mailbox(Id account_id, std::string_view name,
                                         SpecialUse special_use) = 0;
  // Deletes the mailbox and its messages; their blobs go when nothing else holds them.
  virtual Status delete_mailbox(Id mailbox_id) = 0;
  // Renames the mailbox and every mailbox below it ("a" -> "b" moves "a/x" to "b/x").
  // Renaming INBOX moves its messages to a new mailbox and leaves INBOX empty (RFC 3501 6.3.5).
  virtual Status rename_mailbox(Id mailbox_id, std::string_view new_name) = 0;
  virtual Status set_subscribed(Id mailbox_id, bool subscribed) = 0;

  // ---- Messages.
  // Stores `bytes` once and adds it to every target mailbox (all in one transaction).
  // Returns one Appended per target, in order. Returns only once durable.
  virtual Result<std::vector<Appended>> append(std::string_view bytes, int64_t internal_date,
                                               std::span<const AppendTarget> targets) = 0;
  // SMTP acceptance: stores `bytes` once, appends it to every target mailbox and, when
  // `outbound` is not null, queues it for those remote recipients (next_attempt = now), all
  // in one transaction sharing the group commit. Either everything is durable or nothing
  // is. kInvalid when there are no targets and no outbound recipients.
  // The targets get exactly what append() gives them (UIDs, MODSEQs, ChangeFeed events);
  // append() is deliver() without `outbound`. The queue entry starts with created =
  // next_attempt = now, no attempts, every recipient kQueued. It holds the bytes itself:
  // they stay readable (QueueEntry::blob_id) after every mailbox copy is expunged, until
  // delete_queue_entry. kInvalid also when `outbound` has no recipients, a recipient is not
  // kQueued or has a last_error, an address is empty or holds CR, LF or NUL, notify has
  // bits outside DsnNotify, or skip exceeds the bytes (see store/queue_checks.h). kNotFound
  // when a target mailbox does not exist.
  virtual Result<Delivered> deliver(std::string_view bytes, int64_t internal_date,
                                    std::span<const AppendTarget> targets,
                                    const OutboundMessage* outbound) = 0;
  // deliver() without blocking, for stores whose writer can report back (async_deliver()
  // true): returns at once and calls `done` on a store thread once the outcome is durable
  // (or failed). `done` must be quick and must not call the store (post to the caller's
  // executor). `bytes`, `targets` and `outbound` must stay valid until `done` has run.
  // Stores without it (async_deliver() false) run deliver() here, blocking the caller.
  using DeliverDone = std::function<void(Result<Delivered>)>;
  virtual bool async_deliver() const { return false; }
  virtual void deliver_async(std::string_view bytes, int64_t internal_date,
                             std::span<const AppendTarget> targets, const OutboundMessage* outbound,
                             DeliverDone done) {
    done(deliver(bytes, internal_date, targets, outbound));
  }
  // The mailbox's messages in UID order, optionally only those with uid in [first, last].
  virtual Result<std::vector<Message>> list_messages(Id mailbox_id, uint32_t first_uid = 1,
                                                     uint32_t last_uid = UINT32_MAX) = 0;
  // Changes flags on the given UIDs (missing UIDs are skipped). Messages whose flags do not
  // change keep their modseq and are not returned. `unchanged_since` (CONDSTORE) skips
  // messages whose modseq is greater, listing them in `*failed` when non-null.
  virtual Result<std::vector<FlagChange>> store_flags(Id mailbox_id, std::span<const uint32_t> uids,
                                                      FlagOp op, uint32_t flags,
                                                      std::span<const std::string> keywords,
                                                      std::optional<uint64_t> unchanged_since,
                                                      std::vector<uint32_t>* failed) = 0;
  // Copies the UIDs (those that exist) to `dest`, sharing the stored bytes.
  virtual Result<Copied> copy_messages(Id source_mailbox, std::span<const uint32_t> uids, Id dest) = 0;
  // Copies then expunges from the source, in one transaction (RFC 6851).
  virtual Result<std::pair<Copied, Expunged>> move_messages(Id source_mailbox,
                                                            std::span<const uint32_t> uids,
                                                            Id dest) = 0;
  // Removes the UIDs (those that exist) and remembers them in the expunge log.
  virtual Result<Expunged> expunge(Id mailbox_id, std::span<const uint32_t> uids) = 0;
  // UIDs expunged with modseq > `since` (QRESYNC VANISHED), ascending.
  virtual Result<std::vector<uint32_t>> expunged_since(Id mailbox_id, uint64_t since) = 0;

  // ---- POP3 (RFC 1939 8: one POP3 session per maildrop at a time).
  // Exclusive POP3 maildrop lock for the account, held until the returned handle is
  // destroyed. kBusy when another session, on this or another node, holds it. The lock is
  // advisory: it keeps POP3 sessions apart and nothing else (IMAP, delivery and expunge go
  // on). It dies with its holder: a crashed process or node releases its locks. The account
  // need not exist. SQLite: an open-file-description lock on one byte of "<db>-pop3" beside
  // the database, so every process on the data directory agrees. PostgreSQL: a session-level
  // advisory lock on one connection per store kept for POP3 locks alone.
  virtual Result<std::unique_ptr<MaildropLock>> lock_maildrop(Id account_id) = 0;

  // ---- The outbound queue. Entries are made by deliver(); an entry's id is never reused,
  // even after it is deleted.
  // Every entry, oldest first (by created, then by id), recipients in the order queued.
  virtual Result<std::vector<QueueEntry>> list_queue() = 0;
  // Removes the entry; its bytes go when nothing else holds them. kNotFound if absent.
  virtual Status delete_queue_entry(Id id) = 0;
  // Claims up to `limit` entries for a delivery attempt: those due (next_attempt <= now), not
  // held, with at least one kQueued recipient, and not leased (no lease, or lease_until <=
  // now: its owner died or gave up), earliest next_attempt first. In one transaction each
  // gets lease_owner = owner and lease_until = now + lease_seconds, so no other caller (a
  // second process, another node on the same PostgreSQL database) claims it before the
  // lease runs out. Returns the claimed entries, lease fields set. kInvalid for an empty owner.
  virtual Result<std::vector<QueueEntry>> claim_due(int64_t now, std::size_t limit, std::string_view owner,
                                                    int64_t lease_seconds) = 0;
  // Records an attempt made under a lease from claim_due: each outcome sets its recipient's
  // state and last_error, attempts grows by one, next_attempt becomes `next_attempt`, and the
  // lease is released. Recipients without an outcome keep theirs. The entry stays (even with
  // no kQueued recipient left) until delete_queue_entry. kNotFound when the entry is gone;
  // kBusy when `owner` does not hold its lease (it ran out and another claimed the entry);
  // kInvalid for an index out of range; nothing changes then.
  virtual Status record_attempt(Id id, std::string_view owner, std::span<const RecipientOutcome> outcomes,
                                int64_t next_attempt) = 0;
  // Holds the entry (claim_due skips it) or releases it. kNotFound if absent.
  virtual Status set_queue_held(Id id, bool held) = 0;
  // Makes the entry due now (next_attempt = now); a held entry stays held. kNotFound if absent.
  virtual Status retry_queue_entry(Id id, int64_t now) = 0;

  // ---- Message bytes.
  virtual Result<std::string> read_blob(Id blob_id) = 0;
  virtual Result<std::unique_ptr<BlobReader>> open_blob(Id blob_id) = 0;

  // ---- Import: `tern store copy` moves a store to another backend without clients noticing,
  // so these write UIDVALIDITY, UIDs and MODSEQs as given instead of allocating them. Nothing
  // else may call them. They publish nothing on the ChangeFeed (nobody can be watching rows
  // that did not exist). Each call is one durable transaction.
  //
  // The whole expunge log of a mailbox (every expunged UID with its modseq), UID order.
  virtual Result<std::vector<ExpungeRecord>> expunge_log(Id mailbox_id) = 0;
  // Creates the account with the given hash, creation time and app passwords, and no
  // mailboxes (unlike add_account). kNotFound without its domain, kExists if it exists.
  virtual Result<Account> import_account(const ImportedAccount& account) = 0;
  // Creates a mailbox with the given UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ and expunge log and
  // no messages; raises the store's UIDVALIDITY counter past it so no later mailbox reuses
  // it. kExists if the name is taken, kInvalid if the values are inconsistent.
  virtual Result<Mailbox> import_mailbox(const ImportedMailbox& mailbox) = 0;
  // Adds messages with their UIDs and MODSEQs to an imported mailbox, in batches the caller
  // bounds (copy.cc: 200 messages or 32 MiB). Each uid must be below UIDNEXT, not present,
  // not in the expunge log, and each modseq at most HIGHESTMODSEQ (kInvalid / kExists
  // otherwise; the batch is then not applied). Mailbox counters follow.
  virtual Status import_messages(Id mailbox_id, std::span<const ImportedMessage> messages) = 0;
  // Adds a queue entry with every field as given (created, next_attempt, attempts, sender,
  // ENVID, RET, SMTPUTF8, 8BITMIME, skip, and each recipient with its state and last_error),
  // its message being `bytes`, stored for it alone. `entry.id`, `entry.blob_id` and
  // `entry.size` are ignored: the entry gets a new id and blob, and its size is
  // bytes.size(). Returns the new id. kInvalid when the entry could not have been queued
  // (no recipients, skip beyond the bytes, a state or RET out of range: queue_checks.h).
  virtual Result<Id> import_queue_entry(const QueueEntry& entry, std::string_view bytes) = 0;

  virtual StoreStats stats() const = 0;
};

// Normalises an address for lookup: lower-cases the domain and the local part.
std::string normalize_address(std::string_view address);
// Splits "local@domain"; nullopt when there is no '@' or either side is empty.
std::optional<std::pair<std::string_view, std::string_view>> split_address(std::string_view address);

}  // namespace tern::store
