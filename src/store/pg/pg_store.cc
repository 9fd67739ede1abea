// store/pg/pg_store.cc: opening the store; domains, accounts, aliases and app passwords.
// Mailboxes are in pg_mailboxes.cc, messages in pg_messages.cc, blobs in pg_blobs.cc.
#include "store/pg/pg_store.h"

#include <random>

#include "base/clock.h"
#include "store/pg/pg_store_impl.h"
#include "store/pg/schema.h"

namespace tern::store::pg {
namespace {

int64_t now_seconds() { return unix_seconds(SystemClock::instance().now()); }

constexpr const char* kAccountCols = "SELECT id, address, domain_id, password_hash, created FROM accounts ";

Account account_row(const PgResult& r, int i) {
  return Account{r.i64(i, 0), r.text(i, 1), r.i64(i, 2), r.text(i, 3), r.i64(i, 4)};
}

std::string random_node_id() {
  std::random_device rd;
  return fmt::format("{:08x}{:08x}", rd(), rd());
}

}  // namespace

// ---- ConnPool

void ConnPool::add(std::unique_ptr<Conn> conn) { release(std::move(conn)); }

Result<ConnPool::Lease> ConnPool::acquire() {
  std::unique_ptr<Conn> conn;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !free_.empty(); });
    conn = std::move(free_.back());
    free_.pop_back();
  }
  Lease lease(this, std::move(conn));
  if (lease->broken()) {
    if (auto s = lease->reset(); !s) return tl::unexpected(s.error());
  }
  return lease;
}

void ConnPool::release(std::unique_ptr<Conn> conn) {
  // A lease may end inside a failed transaction (an error mid-read): start clean.
  if (!conn->broken() && conn->in_transaction()) (void)conn->run("ROLLBACK");
  {
    std::lock_guard lock(mu_);
    free_.push_back(std::move(conn));
  }
  cv_.notify_one();
}

// ---- Row helpers

Result<std::optional<Account>> load_account(Conn& c, std::string_view address) {
  PG_ASSIGN(r, c.exec(std::string(kAccountCols) + "WHERE address = $1", Params().text(address)));
  if (r.rows() == 0) return std::optional<Account>();
  return std::optional<Account>(account_row(r, 0));
}

Result<std::optional<Domain>> load_domain(Conn& c, std::string_view name) {
  PG_ASSIGN(r, c.exec("SELECT id, name FROM domains WHERE name = $1", Params().text(name)));
  if (r.rows() == 0) return std::optional<Domain>();
  return std::optional<Domain>(Domain{r.i64(0, 0), r.text(0, 1)});
}

// ---- Open

PgStore::~PgStore() {
  listener_.reset();
  writer_.reset();
}

Status PgStore::open(const PgOptions& options) {
  PG_ASSIGN(wconn, Conn::open(conninfo_));
  PG_TRY(migrate(*wconn));
  const unsigned n = options.pool_size == 0 ? 1 : options.pool_size;
  for (unsigned i = 0; i < n; ++i) {
    PG_ASSIGN(rconn, Conn::open(conninfo_));
    pool_.add(std::move(rconn));
  }
  const bool listen = feed_ != nullptr && options.listen;
  const std::string node_id = listen ? random_node_id() : std::string();
  writer_ = std::make_unique<Writer>(std::move(wconn), feed_, node_id);
  if (listen) listener_ = std::make_unique<Listener>(conninfo_, node_id, feed_);
  maildrop_locker_ = make_maildrop_locker(conninfo_);  // connects at the first lock
  return ok();
}

StoreStats PgStore::stats() const {
  return StoreStats{writer_->commits(), appends_.load(std::memory_order_relaxed)};
}

// ---- Domains

Result<Domain> PgStore::add_domain(std::string_view name) {
  if (name.empty() || name.back() == '.' || name.find('@') != std::string_view::npos) {
    return make_error(ErrorCode::kInvalid, "bad domain name '{}'", name);
  }
  Domain d;
  PG_TRY(write([&](Conn& c, std::vector<MailboxChange>&) -> Status {
    PG_ASSIGN(r, c.exec("INSERT INTO domains(name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id",
                        Params().text(name)));
    if (r.rows() == 0) return make_error(ErrorCode::kExists, "domain {} exists", name);
    d = Domain{r.i64(0, 0), std::string(name)};
    return ok();
  }));
  return d;
}

Status PgStore::delete_domain(std::string_view name) {
  return write([&](Conn& c, std::vector<MailboxChange>&) -> Status {
    PG_ASSIGN(d, load_domain(c, name));
    if (!d) return make_error(ErrorCode::kNotFound, "no domain {}", name);
    PG_ASSIGN(r, c.exec("SELECT EXISTS(SELECT 1 FROM accounts WHERE domain_id = $1) OR "
                        "EXISTS(SELECT 1 FROM aliases WHERE domain_id = $1)",
                        Params().i64(d->id)));
    if (r.boolean(0, 0)) return make_error(ErrorCode::kBusy, "domain {} has accounts or aliases", name);
    auto del = c.exec("DELETE FROM domains WHERE id = $1", Params().i64(d->id));
    if (!del && del.error().code == ErrorCode::kNotFound) {
      // foreign_key_violation: another node added an account or alias meanwhile.
      return make_error(ErrorCode::kBusy, "domain {} has accounts or aliases", name);
    }
    if (!del) return tl::unexpected(del.error());
    return ok();
  });
}

Result<std::vector<Domain>> PgStore::list_domains() {
  return read([&](Conn& c) -> Result<std::vector<Domain>> {
    PG_ASSIGN(r, c.exec("SELECT id, name FROM domains ORDER BY name COLLATE \"C\""));
    std::vector<Domain> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(Domain{r.i64(i, 0), r.text(i, 1)});
    return out;
  });
}

Result<std::optional<Domain>> PgStore::find_domain(std::string_view name) {
  return read([&](Conn& c) { return load_domain(c, name); });
}

// ---- Accounts

Result<Account> PgStore::add_account(std::string_view address, std::string_view password_hash) {
  auto parts = split_address(address);
  if (!parts) return make_error(ErrorCode::kInvalid, "bad address '{}'", address);
  Account a;
  PG_TRY(write([&](Conn& c, std::vector<MailboxChange>& events) -> Status {
    // FOR KEY SHARE: a concurrent delete_domain waits for this transaction.
    PG_ASSIGN(d, c.exec("SELECT id FROM domains WHERE name = $1 FOR KEY SHARE", Params().text(parts->second)));
    if (d.rows() == 0) return make_error(ErrorCode::kNotFound, "no domain {}", parts->second);
    const Id domain_id = d.i64(0, 0);
    const int64_t now = now_seconds();
    PG_ASSIGN(r, c.exec("INSERT INTO accounts(address, domain_id, password_hash, created) VALUES ($1,$2,$3,$4) "
                        "ON CONFLICT (address) DO NOTHING RETURNING id",
                        Params().text(address).i64(domain_id).text(password_hash).i64(now)));
    if (r.rows() == 0) return make_error(ErrorCode::kExists, "account {} exists", address);
    a = Account{r.i64(0, 0), std::string(address), domain_id, std::string(password_hash), now};
    static const std::pair<const char*, SpecialUse> kDefaults[] = {
        {"INBOX", SpecialUse::kNone}, {"Drafts", SpecialUse::kDrafts}, {"Sent", SpecialUse::kSent},
        {"Trash", SpecialUse::kTrash}, {"Junk", SpecialUse::kJunk},     {"Archive", SpecialUse::kArchive}};
    for (const auto& [name, use] : kDefaults) {
      PG_ASSIGN(mb, insert_mailbox(c, a.id, name, use, true));
      events.push_back(MailboxChange{MailboxChange::Kind::kMailboxCreated, a.id, mb.id, mb.highestmodseq, {}});
    }
    return ok();
  }));
  return a;
}

Status PgStore::delete_account(std::string_view address) {
  return write([&](Conn& c, std::vector<MailboxChange>& events) -> Status {
    PG_ASSIGN(a, load_account(c, address));
    if (!a) return make_error(ErrorCode::kNotFound, "no account {}", address);
    // Cascades to app passwords, mailboxes, messages, expunge log; the trigger frees blobs.
    PG_ASSIGN(r, c.exec("DELETE FROM mailboxes WHERE account_id = $1 RETURNING id, highestmodseq",
                        Params().i64(a->id)));
    for (int i = 0; i < r.rows(); ++i) {
      events.push_back(MailboxChange{MailboxChange::Kind::kMailboxDeleted, a->id, r.i64(i, 0),
                                     static_cast<uint64_t>(r.i64(i, 1)), {}});
    }
    PG_ASSIGN(del, c.exec("DELETE FROM accounts WHERE id = $1", Params().i64(a->id)));
    if (del.affected() == 0) return make_error(ErrorCode::kNotFound, "no account {}", address);
    return ok();
  });
}

Result<std::vector<Account>> PgStore::list_accounts() {
  return read([&](Conn& c) -> Result<std::vector<Account>> {
    PG_ASSIGN(r, c.exec(std::string(kAccountCols) + "ORDER BY address COLLATE \"C\""));
    std::vector<Account> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(account_row(r, i));
    return out;
  });
}

Result<std::optional<Account>> PgStore::find_account(std::string_view address) {
  return read([&](Conn& c) { return load_account(c, address); });
}

Result<std::optional<Account>> PgStore::find_account_by_id(Id id) {
  return read([&](Conn& c) -> Result<std::optional<Account>> {
    PG_ASSIGN(r, c.exec(std::string(kAccountCols) + "WHERE id = $1", Params().i64(id)));
    if (r.rows() == 0) return std::optional<Account>();
    return std::optional<Account>(account_row(r, 0));
  });
}

Status PgStore::set_password(Id account_id, std::string_view password_hash) {
  return write([&](Conn& c, std::vector<MailboxChange>&) -> Status {
    PG_ASSIGN(r, c.exec("UPDATE accounts SET password_hash = $1 WHERE id = $2",
                        Params().text(password_hash).i64(account_id)));
    if (r.affected() == 0) return make_error(ErrorCode::kNotFound, "no account {}", account_id);
    return ok();
  });
}

// ---- Aliases

Status PgStore::add_alias(std::string_view address, std::span<const std::string> targets) {
  auto parts = split_address(address);
  if (!parts) return make_error(ErrorCode::kInvalid, "bad alias address '{}'", address);
  if (targets.empty()) return make_error(ErrorCode::kInvalid, "alias {} needs a target", address);
  for (const auto& t : targets) {
    if (!split_address(t)) return make_error(ErrorCode::kInvalid, "bad alias target '{}'", t);
  }
  return write([&](Conn& c, std::vector<MailboxChange>&) -> Status {
    PG_ASSIGN(d, c.exec("SELECT id FROM domains WHERE name = $1 FOR KEY SHARE", Params().text(parts->second)));
    if (d.rows() == 0) return make_error(ErrorCode::kNotFound, "alias domain {} is not local", parts->second);
    for (const auto& t : targets) {
      PG_TRY(c.exec("INSERT INTO aliases(address, domain_id, target) VALUES ($1,$2,$3) "
                    "ON CONFLICT (address, target) DO NOTHING",
                    Params().text(address).i64(d.i64(0, 0)).text(t)));
    }
    return ok();
  });
}

Status PgStore::delete_alias(std::string_view address, std::span<const std::string> targets) {
  return write([&](Conn& c, std::vector<MailboxChange>&) -> Status {
    int64_t removed = 0;
    if (targets.empty()) {
      PG_ASSIGN(r, c.exec("DELETE FROM aliases WHERE address = $1", Params().text(address)));
      removed = r.affected();
    } else {
      std::vector<std::string> list(targets.begin(), targets.end());
      PG_ASSIGN(r, c.exec("DELETE FROM aliases WHERE address = $1 AND target = ANY($2::text[])",
                          Params().text(address).text_array(list)));
      removed = r.affected();
    }
    if (removed == 0) return make_error(ErrorCode::kNotFound, "no alias {} (with those targets)", address);
    return ok();
  });
}

Result<std::vector<Alias>> PgStore::list_aliases() {
  return read([&](Conn& c) -> Result<std::vector<Alias>> {
    PG_ASSIGN(r, c.exec("SELECT address, target FROM aliases ORDER BY address COLLATE \"C\", id"));
    std::vector<Alias> out;
    for (int i = 0; i < r.rows(); ++i) {
      std::string addr = r.text(i, 0);
      if (out.empty() || out.back().address != addr) out.push_back(Alias{addr, {}});
      out.back().targets.push_back(r.text(i, 1));
    }
    return out;
  });
}

Result<std::optional<Alias>> PgStore::find_alias(std::string_view address) {
  return read([&](Conn& c) -> Result<std::optional<Alias>> {
    PG_ASSIGN(r, c.exec("SELECT target FROM aliases WHERE address = $1 ORDER BY id", Params().text(address)));
    if (r.rows() == 0) return std::optional<Alias>();
    Alias a{std::string(address), {}};
    for (int i = 0; i < r.rows(); ++i) a.targets.push_back(r.text(i, 0));
    return std::optional<Alias>(std::move(a));
  });
}

// ---- App passwords

Result<AppPassword> PgStore::add_app_password(Id account_id, std::string_view label, std::string_view hash) {
  AppPassword p;
  PG_TRY(write([&](Conn& c, std::vector<MailboxChange>&) -> Status {
    const int64_t now = now_seconds();
    // INSERT ... SELECT: no row when the account does not exist.
    PG_ASSIGN(r, c.exec("INSERT INTO app_passwords(account_id, label, hash, created) "
                        "SELECT id, $2, $3, $4 FROM accounts WHERE id = $1 RETURNING id",
                        Params().i64(account_id).text(label).text(hash).i64(now)));
    if (r.rows() == 0) return make_error(ErrorCode::kNotFound, "no account {}", account_id);
    p = AppPassword{r.i64(0, 0), account_id, std::string(label), std::string(hash), now, 0};
    return ok();
  }));
  return p;
}

Result<std::vector<AppPassword>> PgStore::list_app_passwords(Id account_id) {
  return read([&](Conn& c) -> Result<std::vector<AppPassword>> {
    PG_ASSIGN(r, c.exec("SELECT id, account_id, label, hash, created, last_used FROM app_passwords "
                        "WHERE account_id = $1 ORDER BY id",
                        Params().i64(account_id)));
    std::vector<AppPassword> out;
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back(AppPassword{r.i64(i, 0), r.i64(i, 1), r.text(i, 2), r.text(i, 3), r.i64(i, 4), r.i64(i, 5)});
    }
    return out;
  });
}

Status PgStore::delete_app_password(Id account_id, Id app_password_id) {
  return write([&](Conn& c, std::vector<MailboxChange>&) -> Status {
    PG_ASSIGN(r, c.exec("DELETE FROM app_passwords WHERE id = $1 AND account_id = $2",
                        Params().i64(app_password_id).i64(account_id)));
    if (r.affected() == 0) return make_error(ErrorCode::kNotFound, "no app password {}", app_password_id);
    return ok();
  });
}

Status PgStore::touch_app_password(Id app_password_id, int64_t when) {
  return write([&](Conn& c, std::vector<MailboxChange>&) -> Status {
    PG_ASSIGN(r, c.exec("UPDATE app_passwords SET last_used = $1 WHERE id = $2",
                        Params().i64(when).i64(app_password_id)));
    if (r.affected() == 0) return make_error(ErrorCode::kNotFound, "no app password {}", app_password_id);
    return ok();
  });
}

}  // namespace tern::store::pg

namespace tern::store {

Result<std::unique_ptr<MailStore>> open_pg_store(const PgOptions& options, ChangeFeed* feed) {
  auto store = std::make_unique<pg::PgStore>(options.url, feed);
  if (auto s = store->open(options); !s) return tl::unexpected(s.error());
  return std::unique_ptr<MailStore>(std::move(store));
}

}  // namespace tern::store
