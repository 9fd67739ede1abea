// store/sqlite/sqlite_store_impl.h: the SQLite MailStore class (private to store/sqlite/).
//
// Reads take a connection from a small pool of read-only connections (WAL lets them run
// beside the writer); writes become Writer jobs (group commit, see writer.h). Row helpers
// shared by reads and writes live here too. Thread-safety: see store/mail_store.h.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "store/keywords.h"
#include "store/mail_store.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/writer.h"

// Early return of a failed Result/Status from a function returning Result/Status.
#define STORE_TRY(expr)                                            \
  do {                                                             \
    auto store_try_ = (expr);                                      \
    if (!store_try_) return tl::unexpected(store_try_.error());    \
  } while (0)
// Declares `auto& var` bound to the value of a Result, or returns its error.
#define STORE_ASSIGN(var, expr)                                          \
  auto var##_result_ = (expr);                                           \
  if (!var##_result_) return tl::unexpected(var##_result_.error());      \
  auto& var = *var##_result_

namespace tern::store::sqlite {

// A fixed set of read-only connections; acquire() blocks while all are in use.
class ReadPool {
 public:
  class Lease {
   public:
    Lease(ReadPool* pool, std::unique_ptr<Connection> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (conn_) pool_->release(std::move(conn_));
    }
    Connection& operator*() { return *conn_; }
    Connection* operator->() { return conn_.get(); }

   private:
    ReadPool* pool_;
    std::unique_ptr<Connection> conn_;
  };
  void add(std::unique_ptr<Connection> conn);
  Lease acquire();

 private:
  void release(std::unique_ptr<Connection> conn);
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> free_;
};

// ---- Row helpers (any connection).
Result<std::optional<Mailbox>> load_mailbox(Connection& c, Id mailbox_id);
Result<std::optional<Mailbox>> load_mailbox_by_name(Connection& c, Id account_id, std::string_view name);
Result<std::optional<Account>> load_account(Connection& c, std::string_view address);
Result<std::optional<Domain>> load_domain(Connection& c, std::string_view name);

// ---- Write helpers (writer connection, inside the batch transaction).
Result<Mailbox> insert_mailbox(Connection& c, Id account_id, std::string_view name, SpecialUse use,
                               bool subscribed);
// Inserts a queue row holding `blob_id` (whose refcount the caller has counted it in) and
// its recipients with their states and errors as given; returns the new entry's id.
Result<Id> insert_queue_entry(Connection& c, Id blob_id, const OutboundMessage& message, int64_t created,
                              int64_t next_attempt, uint32_t attempts);

class SqliteStore final : public MailStore {
 public:
  SqliteStore(std::string path, ChangeFeed* feed) : path_(std::move(path)), feed_(feed) {}
  Status open(const SqliteOptions& options);

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
  bool async_deliver() const override { return true; }
  void deliver_async(std::string_view bytes, int64_t internal_date, std::span<const AppendTarget> targets,
                     const OutboundMessage* outbound, DeliverDone done) override;
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
  template <typename F>
  auto read(F&& f) {
    auto lease = readers_.acquire();
    return f(*lease);
  }
  Status write(Writer::Job job) { return writer_->run(std::move(job)); }
  // The writer job of deliver(): fills `*out` (kept alive by the job) when it runs.
  Writer::Job deliver_job(std::string_view bytes, int64_t internal_date, std::span<const AppendTarget> targets,
                          const OutboundMessage* outbound, std::shared_ptr<Delivered> out);

  std::string path_;
  ChangeFeed* feed_;
  ReadPool readers_;
  std::unique_ptr<Writer> writer_;
  std::atomic<uint64_t> appends_{0};
};

}  // namespace tern::store::sqlite
