// store/pg/pg_locks.cc: the POP3 maildrop lock (MailStore::lock_maildrop) across nodes.
//
// A session-level advisory lock, pg_try_advisory_lock(key), dies with the connection that
// took it, so a crashed node releases its locks. One connection per store, opened at the
// first lock and used for nothing else, holds all of this node's POP3 locks: the number of
// PostgreSQL connections then grows with nodes, not with POP3 sessions. Advisory locks are
// re-entrant within one PostgreSQL session, so this node's own holders are kept apart by
// the set `held_` first. If the connection breaks, its locks are gone on the server: the
// next lock or unlock reconnects and takes the held ones again (logging any that another
// node took meanwhile). The connection is never in the read pool, so no other query runs
// on it.
#include <mutex>
#include <set>

#include "base/log.h"
#include "store/pg/pg_store_impl.h"

namespace tern::store::pg {

// Keys live in their own space ("POP3" in the high 32 bits), apart from the migration lock
// (schema.cc); account ids stay far below 2^32.
constexpr int64_t kPop3KeySpace = int64_t{0x504f5033} << 32;

class MaildropLocker {
 public:
  explicit MaildropLocker(std::string conninfo) : conninfo_(std::move(conninfo)) {}

  Status lock(Id account_id) {
    std::lock_guard guard(mu_);
    if (held_.contains(account_id)) return busy(account_id);
    PG_TRY(connect());
    PG_ASSIGN(r, conn_->exec("SELECT pg_try_advisory_lock($1)", Params().i64(key(account_id))));
    if (!r.boolean(0, 0)) return busy(account_id);
    held_.insert(account_id);
    return ok();
  }

  void unlock(Id account_id) {
    std::lock_guard guard(mu_);
    held_.erase(account_id);
    if (!conn_ || conn_->broken()) return;  // the lock died with the connection
    auto r = conn_->exec("SELECT pg_advisory_unlock($1)", Params().i64(key(account_id)));
    if (!r) spdlog::warn("pop3 maildrop unlock of account {}: {}", account_id, r.error().to_string());
  }

 private:
  static int64_t key(Id account_id) { return kPop3KeySpace | (account_id & 0xffffffff); }

  static Status busy(Id account_id) {
    return make_error(ErrorCode::kBusy, "POP3 maildrop of account {} is locked", account_id);
  }

  // With mu_ held: a working connection that holds every lock in held_.
  Status connect() {
    if (conn_ && !conn_->broken()) return ok();
    if (!conn_) {
      PG_ASSIGN(c, Conn::open(conninfo_));
      conn_ = std::move(c);
      return ok();
    }
    PG_TRY(conn_->reset());
    for (Id id : held_) {
      PG_ASSIGN(r, conn_->exec("SELECT pg_try_advisory_lock($1)", Params().i64(key(id))));
      if (!r.boolean(0, 0)) {
        spdlog::warn("pop3 maildrop lock of account {} was lost with its connection and is now held elsewhere", id);
      }
    }
    return ok();
  }

  const std::string conninfo_;
  std::mutex mu_;
  std::unique_ptr<Conn> conn_;  // Invariant: used only with mu_ held
  std::set<Id> held_;           // accounts locked through this store
};

namespace {

class PgMaildropLock final : public MaildropLock {
 public:
  PgMaildropLock(std::shared_ptr<MaildropLocker> locker, Id account_id)
      : locker_(std::move(locker)), account_id_(account_id) {}
  ~PgMaildropLock() override { locker_->unlock(account_id_); }
  PgMaildropLock(const PgMaildropLock&) = delete;
  PgMaildropLock& operator=(const PgMaildropLock&) = delete;

 private:
  std::shared_ptr<MaildropLocker> locker_;
  Id account_id_;
};

}  // namespace

std::shared_ptr<MaildropLocker> make_maildrop_locker(std::string conninfo) {
  return std::make_shared<MaildropLocker>(std::move(conninfo));
}

Result<std::unique_ptr<MaildropLock>> PgStore::lock_maildrop(Id account_id) {
  if (account_id <= 0) return make_error(ErrorCode::kInvalid, "bad account id {}", account_id);
  PG_TRY(maildrop_locker_->lock(account_id));
  return std::unique_ptr<MaildropLock>(std::make_unique<PgMaildropLock>(maildrop_locker_, account_id));
}

}  // namespace tern::store::pg
