// store/pg/pg_store_impl.h: the PostgreSQL MailStore class (private to store/pg/).
//
// Reads lease a connection from a fixed pool; writes become Writer jobs (group commit, see
// writer.h). Every job that changes a mailbox's messages first row-locks the mailbox (via
// UPDATE ... RETURNING or SELECT ... FOR UPDATE), which serialises UID and MODSEQ
// allocation per mailbox across all nodes until commit. Thread-safety: see mail_store.h.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "store/keywords.h"
#include "store/mail_store.h"
#include "store/pg/connection.h"
#include "store/pg/notify.h"
#include "store/pg/pg_store.h"
#include "store/pg/writer.h"

// Early return of a failed Result/Status from a function returning Result/Status.
#define PG_TRY(expr)                                            \
  do {                                                          \
    auto pg_try_ = (expr);                                      \
    if (!pg_try_) return tl::unexpected(pg_try_.error());       \
  } while (0)
// Declares `auto& var` bound to the value of a Result, or returns its error.
#define PG_ASSIGN(var, expr)                                         \
  auto var##_result_ = (expr);                                       \
  if (!var##_result_) return tl::unexpected(var##_result_.error());  \
  auto& var = *var##_result_

namespace tern::store::pg {

// A fixed set of connections; acquire() blocks while all are in use and repairs a
// connection that broke (kUnavailable when it cannot).
class ConnPool {
 public:
  class Lease {
   public:
    Lease(ConnPool* pool, std::unique_ptr<Conn> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (conn_) pool_->release(std::move(conn_));
    }
    Conn& operator*() { return *conn_; }
    Conn* operator->() { return conn_.get(); }

   private:
    ConnPool* pool_;
    std::unique_ptr<Conn> conn_;
  };
  void add(std::unique_ptr<Conn> conn);
  Result<Lease> acquire();

 private:
  void release(std::unique_ptr<Conn> conn);
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Conn>> free_;
};

// ---- Row helpers (any connection).
Result<std::optional<Mailbox>> load_mailbox(Conn& c, Id mailbox_id, bool for_update = false);
Result<std::optional<Mailbox>> load_mailbox_by_name(Conn& c, Id account_id, std::string_view name);
Result<std::optional<Account>> load_account(Conn& c, std::string_view address);
Result<std::optional<Domain>> load_domain(Conn& c, std::string_view name);

// ---- Write helpers (writer connection, inside the batch transaction).
Result<Mailbox> insert_mailbox(Conn& c, Id account_id, std::string_view name, SpecialUse use, bool subscribed);
// Inserts a queue row holding `blob_id` (whose refcount the caller has counted it in) and
// its recipients with their states and errors as given; returns the new entry's id.
Result<Id> insert_queue_entry(Conn& c, Id blob_id, const OutboundMessage& message, int64_t created,
                              int64_t next_attempt, uint32_t attempts);

// Holds this node's POP3 maildrop locks on a connection of its own (pg_locks.cc).
class MaildropLocker;
std::shared_ptr<MaildropLocker> make_maildrop_locker(std::string conninfo);

class PgStore final : public MailStore {
 public:
  PgStore(std::string conninfo, ChangeFeed* feed) : conninfo_(std::move(conninfo)), feed_(feed) {}
  ~PgStore() override;
  Status open(const PgOptions& options);

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
  Status rename_mailbox(Id mailbox_id, std::string_view new_name) override;
  Status set_subscribed(Id mailbox_id, bool subscribed) override;

  Result<std::vector<Appended>> append(std::string_view bytes, int64_t internal_date,
                                       std::span<const AppendTarget> targets) override;
  Result<Delivered> deliver(std::string_view bytes, int64_t internal_date, std::span<const AppendTarget> targets,
                            const OutboundMessage* outbound) override;
  Result<std::vector<Message>> list_messages(Id mailbox_id, uint32_t first_uid, uint32_t last_uid) override;
  Result<std::vector<FlagChange>> store_flags(Id mailbox_id, std::span<const uint32_t> uids, FlagOp op,
                                              uint32_t flags, std::span<const std::string> keywords,
                                              std::optional<uint64_t> unchanged_since,
                                              std::vector<uint32_t>* failed) override;
  Result<Copied> copy_messages(Id source_mailbox, std::span<const uint32_t> uids, Id dest) override;
  Result<std::pair<Copied, Expunged>> move_messages(Id source_mailbox, std::span<const uint32_t> uids,
                                                    Id dest) override;
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
  Result<Account> import_account(const ImportedAccount& account) override;
  Result<Mailbox> import_mailbox(const ImportedMailbox& mailbox) override;
  Status import_messages(Id mailbox_id, std::span<const ImportedMessage> messages) override;
  Result<Id> import_queue_entry(const QueueEntry& entry, std::string_view bytes) override;

  StoreStats stats() const override;

 private:
  // Runs f(Conn&) on a pooled connection; f returns a Result. A read that failed because
  // the connection broke (server restart, idle timeout) is run once more on a fresh one.
  template <typename F>
  auto read(F&& f) -> decltype(f(std::declval<Conn&>())) {
    auto lease = pool_.acquire();
    if (!lease) return tl::unexpected(lease.error());
    auto r = f(**lease);
    if (!r && (*lease)->broken() && (*lease)->reset()) r = f(**lease);
    return r;
  }
  Status write(Writer::Job job) { return writer_->run(std::move(job)); }

  std::string conninfo_;
  ChangeFeed* feed_;
  ConnPool pool_;
  std::unique_ptr<Writer> writer_;
  std::unique_ptr<Listener> listener_;
  std::shared_ptr<MaildropLocker> maildrop_locker_;  // shared with the locks it hands out
  std::atomic<uint64_t> appends_{0};
};

}  // namespace tern::store::pg
