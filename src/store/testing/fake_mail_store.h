// store/testing/fake_mail_store.h: an in-memory MailStore for unit tests of other modules
// (auth, SMTP/IMAP/POP3 sessions). Test-only: built when TERN_TESTS is on, never linked into
// tern.
//
// It keeps domains, accounts with their app passwords, aliases, mailboxes (without rename),
// messages (append, deliver, list, expunge; not flags, copy or move), blobs shared and
// freed like the real backends', POP3 maildrop locks (in memory: one store instance is one
// "node"), and the outbound queue (deliver, list_queue, delete_queue_entry,
// import_queue_entry, claim_due, record_attempt, hold and retry), with the semantics of the
// store conformance suite (the queue part of it runs on this fake too:
// fake_mail_store_test.cc). Every other
// method answers kInternal "not in fake". Nothing is durable; commits count write calls.
//
// Thread-safety: every method may be called from any thread (one mutex, held for each
// call; ChangeFeed callbacks run after it is released). The public test knobs below are
// plain fields: set them while no other thread uses the store.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/change_feed.h"
#include "store/mail_store.h"

namespace tern::store::testing {

class FakeMailStore : public MailStore {
 public:
  // `feed`, when not null, must outlive the store; it receives every change after the call
  // that made it, as a real store publishes after its commit.
  explicit FakeMailStore(ChangeFeed* feed = nullptr) : feed_(feed) {}

  // Adds an account whose password hash is `password_hash` (auth::hash_password's output),
  // with add_account's default mailboxes but without needing its domain; returns its id.
  // Ids are shared between accounts and app passwords and start at 1.
  Id add_account_with_hash(const std::string& address, std::string password_hash);
  // Adds an app password labelled "phone" to `account_id`; returns its id.
  Id add_app_password_with_hash(Id account_id, std::string hash);

  bool fail_lookups = false;       // find_account answers kUnavailable while set
  std::map<Id, int64_t> touched;   // app password id -> the `when` of its last touch

  Result<Domain> add_domain(std::string_view name) override;
  Status delete_domain(std::string_view name) override;
  Result<std::vector<Domain>> list_domains() override;
  Result<std::optional<Domain>> find_domain(std::string_view name) override;

  Result<Account> add_account(std::string_view address, std::string_view password_hash) override;
  Status delete_account(std::string_view address) override;
  Result<std::vector<Account>> list_accounts() override;
  Result<std::optional<Account>> find_account(std::string_view address) override;
  Result<std::optional<Account>> find_account_by_id(Id id) override;
  Status set_password(Id account_id, std::string_view password_hash) override;

  Status add_alias(std::string_view address, std::span<const std::string> targets) override;
  Status delete_alias(std::string_view address, std::span<const std::string> targets) override;
  Result<std::vector<Alias>> list_aliases() override;
  Result<std::optional<Alias>> find_alias(std::string_view address) override;

  Result<AppPassword> add_app_password(Id account_id, std::string_view label, std::string_view hash) override;
  Result<std::vector<AppPassword>> list_app_passwords(Id account_id) override;
  Status delete_app_password(Id account_id, Id app_password_id) override;
  Status touch_app_password(Id app_password_id, int64_t when) override;

  Result<std::vector<Mailbox>> list_mailboxes(Id account_id) override;
  Result<std::optional<Mailbox>> find_mailbox(Id account_id, std::string_view name) override;
  Result<std::optional<Mailbox>> get_mailbox(Id mailbox_id) override;
  Result<Mailbox> create_mailbox(Id account_id, std::string_view name, SpecialUse special_use) override;
  Status delete_mailbox(Id mailbox_id) override;
  Status rename_mailbox(Id, std::string_view) override;  // not in fake
  Status set_subscribed(Id mailbox_id, bool subscribed) override;

  Result<std::vector<Appended>> append(std::string_view bytes, int64_t internal_date,
                                       std::span<const AppendTarget> targets) override;
  Result<Delivered> deliver(std::string_view bytes, int64_t internal_date, std::span<const AppendTarget> targets,
                            const OutboundMessage* outbound) override;
  Result<std::vector<Message>> list_messages(Id mailbox_id, uint32_t first_uid, uint32_t last_uid) override;
  // Not in fake: store_flags, copy_messages, move_messages.
  Result<std::vector<FlagChange>> store_flags(Id, std::span<const uint32_t>, FlagOp, uint32_t,
                                              std::span<const std::string>, std::optional<uint64_t>,
                                              std::vector<uint32_t>*) override;
  Result<Copied> copy_messages(Id, std::span<const uint32_t>, Id) override;
  Result<std::pair<Copied, Expunged>> move_messages(Id, std::span<const uint32_t>, Id) override;
  Result<Expunged> expunge(Id mailbox_id, std::span<const uint32_t> uids) override;
  Result<std::vector<uint32_t>> expunged_since(Id mailbox_id, uint64_t since) override;

  Result<std::unique_ptr<MaildropLock>> lock_maildrop(Id account_id) override;

  Result<std::vector<QueueEntry>> list_queue() override;
  Status delete_queue_entry(Id id) override;
  Result<std::vector<QueueEntry>> claim_due(int64_t now, std::size_t limit, std::string_view owner,
                                            int64_t lease_seconds) override;
  Status record_attempt(Id id, std::string_view owner, std::span<const RecipientOutcome> outcomes,
                        int64_t next_attempt) override;
  Status set_queue_held(Id id, bool held) override;
  Status retry_queue_entry(Id id, int64_t now) override;

  Result<std::string> read_blob(Id blob_id) override;
  Result<std::unique_ptr<BlobReader>> open_blob(Id blob_id) override;

  Result<std::vector<ExpungeRecord>> expunge_log(Id mailbox_id) override;
  // Not in fake: import_account, import_mailbox, import_messages.
  Result<Account> import_account(const ImportedAccount&) override;
  Result<Mailbox> import_mailbox(const ImportedMailbox&) override;
  Status import_messages(Id, std::span<const ImportedMessage>) override;
  Result<Id> import_queue_entry(const QueueEntry& entry, std::string_view bytes) override;

  StoreStats stats() const override;

 private:
  struct Box {
    Mailbox mailbox;                          // messages / total_size kept current
    std::map<uint32_t, Message> messages;     // by uid
    std::map<uint32_t, uint64_t> expunged;    // uid -> modseq
  };
  struct Blob {
    std::string bytes;
    int holders = 0;  // Invariant: messages + queue entries with this blob_id
  };

  // All below run with mu_ held.
  Id insert_account(std::string_view address, Id domain_id, std::string password_hash,
                    std::vector<MailboxChange>& events);
  Mailbox& insert_mailbox(Id account_id, std::string_view name, SpecialUse use, bool subscribed);
  void release_blob(Id blob_id);
  void erase_box(std::map<Id, Box>::iterator it);
  Box* find_box(Id mailbox_id);
  Status wrote(std::vector<MailboxChange> events, std::unique_lock<std::mutex>& lock);

  // Accounts whose POP3 maildrop is locked; shared with the locks so they may outlive the store.
  struct MaildropLocks {
    std::mutex mu;
    std::set<Id> held;
  };

  ChangeFeed* feed_;
  std::shared_ptr<MaildropLocks> maildrop_locks_ = std::make_shared<MaildropLocks>();
  mutable std::mutex mu_;
  Id next_id_ = 1;  // accounts and app passwords
  Id next_domain_ = 1;
  Id next_mailbox_ = 1;
  Id next_blob_ = 1;
  Id next_queue_ = 1;
  uint32_t last_uidvalidity_ = 0;
  uint64_t commits_ = 0;
  uint64_t appends_ = 0;
  std::map<std::string, Domain, std::less<>> domains_;
  std::map<std::string, Account, std::less<>> accounts_;
  std::map<Id, AppPassword> apps_;
  std::map<std::string, std::vector<std::string>, std::less<>> aliases_;
  std::map<Id, Box> boxes_;
  std::map<Id, Blob> blobs_;
  std::map<Id, QueueEntry> queue_;  // by id; size and blob_id filled, bytes in blobs_
};

}  // namespace tern::store::testing
