// store/sqlite/sqlite_store.cc: opening the store; domains, accounts, aliases and app
// passwords. Mailboxes and messages are in sqlite_messages.cc, blobs in sqlite_blobs.cc.
#include "store/sqlite/sqlite_store.h"

#include "base/clock.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/sqlite_store_impl.h"

namespace tern::store::sqlite {
namespace {

int64_t now_seconds() { return unix_seconds(SystemClock::instance().now()); }

Account account_row(const Query& q) {
  return Account{q.i64(0), q.text(1), q.i64(2), q.text(3), q.i64(4)};
}

}  // namespace

// ---- ReadPool

void ReadPool::add(std::unique_ptr<Connection> conn) { release(std::move(conn)); }

ReadPool::Lease ReadPool::acquire() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !free_.empty(); });
  auto conn = std::move(free_.back());
  free_.pop_back();
  return Lease(this, std::move(conn));
}

void ReadPool::release(std::unique_ptr<Connection> conn) {
  {
    std::lock_guard lock(mu_);
    free_.push_back(std::move(conn));
  }
  cv_.notify_one();
}

// ---- Row helpers

Result<std::optional<Account>> load_account(Connection& c, std::string_view address) {
  STORE_ASSIGN(q, c.query("SELECT id, address, domain_id, password_hash, created FROM accounts WHERE address = ?"));
  q.bind(1, address);
  STORE_ASSIGN(row, q.step());
  if (!row) return std::optional<Account>();
  return std::optional<Account>(account_row(q));
}

Result<std::optional<Domain>> load_domain(Connection& c, std::string_view name) {
  STORE_ASSIGN(q, c.query("SELECT id, name FROM domains WHERE name = ?"));
  q.bind(1, name);
  STORE_ASSIGN(row, q.step());
  if (!row) return std::optional<Domain>();
  return std::optional<Domain>(Domain{q.i64(0), q.text(1)});
}

// ---- Open

Status SqliteStore::open(const SqliteOptions& options) {
  STORE_ASSIGN(wconn, Connection::open(path_, false));
  STORE_TRY(migrate(*wconn));
  unsigned n = options.read_connections == 0 ? 1 : options.read_connections;
  for (unsigned i = 0; i < n; ++i) {
    STORE_ASSIGN(rconn, Connection::open(path_, true));
    readers_.add(std::move(rconn));
  }
  writer_ = std::make_unique<Writer>(std::move(wconn), feed_);
  return ok();
}

StoreStats SqliteStore::stats() const {
  return StoreStats{writer_->commits(), appends_.load(std::memory_order_relaxed)};
}

// ---- Domains

Result<Domain> SqliteStore::add_domain(std::string_view name) {
  if (name.empty() || name.back() == '.' || name.find('@') != std::string_view::npos) {
    return make_error(ErrorCode::kInvalid, "bad domain name '{}'", name);
  }
  Domain d;
  STORE_TRY(write([&](Connection& c, std::vector<MailboxChange>&) -> Status {
    STORE_ASSIGN(existing, load_domain(c, name));
    if (existing) return make_error(ErrorCode::kExists, "domain {} exists", name);
    STORE_ASSIGN(q, c.query("INSERT INTO domains(name) VALUES (?)"));
    STORE_TRY(q.bind(1, name).run());
    d = Domain{c.last_insert_rowid(), std::string(name)};
    return ok();
  }));
  return d;
}

Status SqliteStore::delete_domain(std::string_view name) {
  return write([&](Connection& c, std::vector<MailboxChange>&) -> Status {
    STORE_ASSIGN(d, load_domain(c, name));
    if (!d) return make_error(ErrorCode::kNotFound, "no domain {}", name);
    STORE_ASSIGN(q, c.query("SELECT EXISTS(SELECT 1 FROM accounts WHERE domain_id = ?1) OR "
                            "EXISTS(SELECT 1 FROM aliases WHERE domain_id = ?1)"));
    q.bind(1, d->id);
    STORE_ASSIGN(row, q.step());
    if (row && q.i64(0) != 0) return make_error(ErrorCode::kBusy, "domain {} has accounts or aliases", name);
    STORE_ASSIGN(del, c.query("DELETE FROM domains WHERE id = ?"));
    return del.bind(1, d->id).run();
  });
}

Result<std::vector<Domain>> SqliteStore::list_domains() {
  return read([&](Connection& c) -> Result<std::vector<Domain>> {
    std::vector<Domain> out;
    STORE_ASSIGN(q, c.query("SELECT id, name FROM domains ORDER BY name"));
    for (;;) {
      STORE_ASSIGN(row, q.step());
      if (!row) break;
      out.push_back(Domain{q.i64(0), q.text(1)});
    }
    return out;
  });
}

Result<std::optional<Domain>> SqliteStore::find_domain(std::string_view name) {
  return read([&](Connection& c) { return load_domain(c, name); });
}

// ---- Accounts

Result<Account> SqliteStore::add_account(std::string_view address, std::string_view password_hash) {
  auto parts = split_address(address);
  if (!parts) return make_error(ErrorCode::kInvalid, "bad address '{}'", address);
  Account a;
  std::vector<Mailbox> created;
  STORE_TRY(write([&](Connection& c, std::vector<MailboxChange>& events) -> Status {
    created.clear();
    STORE_ASSIGN(d, load_domain(c, parts->second));
    if (!d) return make_error(ErrorCode::kNotFound, "no domain {}", parts->second);
    STORE_ASSIGN(existing, load_account(c, address));
    if (existing) return make_error(ErrorCode::kExists, "account {} exists", address);
    STORE_ASSIGN(q, c.query("INSERT INTO accounts(address, domain_id, password_hash, created) VALUES (?,?,?,?)"));
    int64_t now = now_seconds();
    STORE_TRY(q.bind(1, address).bind(2, d->id).bind(3, password_hash).bind(4, now).run());
    a = Account{c.last_insert_rowid(), std::string(address), d->id, std::string(password_hash), now};
    static const std::pair<const char*, SpecialUse> kDefaults[] = {
        {"INBOX", SpecialUse::kNone}, {"Drafts", SpecialUse::kDrafts}, {"Sent", SpecialUse::kSent},
        {"Trash", SpecialUse::kTrash}, {"Junk", SpecialUse::kJunk},     {"Archive", SpecialUse::kArchive}};
    for (const auto& [name, use] : kDefaults) {
      STORE_ASSIGN(mb, insert_mailbox(c, a.id, name, use, true));
      events.push_back(MailboxChange{MailboxChange::Kind::kMailboxCreated, a.id, mb.id, mb.highestmodseq, {}});
    }
    return ok();
  }));
  return a;
}

Status SqliteStore::delete_account(std::string_view address) {
  return write([&](Connection& c, std::vector<MailboxChange>& events) -> Status {
    STORE_ASSIGN(a, load_account(c, address));
    if (!a) return make_error(ErrorCode::kNotFound, "no account {}", address);
    {
      STORE_ASSIGN(q, c.query("SELECT id, highestmodseq FROM mailboxes WHERE account_id = ?"));
      q.bind(1, a->id);
      for (;;) {
        STORE_ASSIGN(row, q.step());
        if (!row) break;
        events.push_back(MailboxChange{MailboxChange::Kind::kMailboxDeleted, a->id, q.i64(0),
                                       static_cast<uint64_t>(q.i64(1)), {}});
      }
    }
    // Cascades to app passwords, mailboxes, messages, expunge log; the trigger frees blobs.
    STORE_ASSIGN(del, c.query("DELETE FROM accounts WHERE id = ?"));
    return del.bind(1, a->id).run();
  });
}

Result<std::vector<Account>> SqliteStore::list_accounts() {
  return read([&](Connection& c) -> Result<std::vector<Account>> {
    std::vector<Account> out;
    STORE_ASSIGN(q, c.query("SELECT id, address, domain_id, password_hash, created FROM accounts ORDER BY address"));
    for (;;) {
      STORE_ASSIGN(row, q.step());
      if (!row) break;
      out.push_back(account_row(q));
    }
    return out;
  });
}

Result<std::optional<Account>> SqliteStore::find_account(std::string_view address) {
  return read([&](Connection& c) { return load_account(c, address); });
}

Result<std::optional<Account>> SqliteStore::find_account_by_id(Id id) {
  return read([&](Connection& c) -> Result<std::optional<Account>> {
    STORE_ASSIGN(q, c.query("SELECT id, address, domain_id, password_hash, created FROM accounts WHERE id = ?"));
    q.bind(1, id);
    STORE_ASSIGN(row, q.step());
    if (!row) return std::optional<Account>();
    return std::optional<Account>(account_row(q));
  });
}

Status SqliteStore::set_password(Id account_id, std::string_view password_hash) {
  return write([&](Connection& c, std::vector<MailboxChange>&) -> Status {
    STORE_ASSIGN(q, c.query("UPDATE accounts SET password_hash = ? WHERE id = ?"));
    STORE_TRY(q.bind(1, password_hash).bind(2, account_id).run());
    if (c.changes() == 0) return make_error(ErrorCode::kNotFound, "no account {}", account_id);
    return ok();
  });
}

// ---- Aliases

Status SqliteStore::add_alias(std::string_view address, std::span<const std::string> targets) {
  auto parts = split_address(address);
  if (!parts) return make_error(ErrorCode::kInvalid, "bad alias address '{}'", address);
  if (targets.empty()) return make_error(ErrorCode::kInvalid, "alias {} needs a target", address);
  for (const auto& t : targets) {
    if (!split_address(t)) return make_error(ErrorCode::kInvalid, "bad alias target '{}'", t);
  }
  return write([&](Connection& c, std::vector<MailboxChange>&) -> Status {
    STORE_ASSIGN(d, load_domain(c, parts->second));
    if (!d) return make_error(ErrorCode::kNotFound, "alias domain {} is not local", parts->second);
    STORE_ASSIGN(q, c.query("INSERT OR IGNORE INTO aliases(address, domain_id, target) VALUES (?,?,?)"));
    for (const auto& t : targets) STORE_TRY(q.bind(1, address).bind(2, d->id).bind(3, t).run());
    return ok();
  });
}

Status SqliteStore::delete_alias(std::string_view address, std::span<const std::string> targets) {
  return write([&](Connection& c, std::vector<MailboxChange>&) -> Status {
    int64_t removed = 0;
    if (targets.empty()) {
      STORE_ASSIGN(q, c.query("DELETE FROM aliases WHERE address = ?"));
      STORE_TRY(q.bind(1, address).run());
      removed = c.changes();
    } else {
      STORE_ASSIGN(q, c.query("DELETE FROM aliases WHERE address = ? AND target = ?"));
      for (const auto& t : targets) {
        STORE_TRY(q.bind(1, address).bind(2, t).run());
        removed += c.changes();
      }
    }
    if (removed == 0) return make_error(ErrorCode::kNotFound, "no alias {} (with those targets)", address);
    return ok();
  });
}

Result<std::vector<Alias>> SqliteStore::list_aliases() {
  return read([&](Connection& c) -> Result<std::vector<Alias>> {
    std::vector<Alias> out;
    STORE_ASSIGN(q, c.query("SELECT address, target FROM aliases ORDER BY address, id"));
    for (;;) {
      STORE_ASSIGN(row, q.step());
      if (!row) break;
      std::string addr = q.text(0);
      if (out.empty() || out.back().address != addr) out.push_back(Alias{addr, {}});
      out.back().targets.push_back(q.text(1));
    }
    return out;
  });
}

Result<std::optional<Alias>> SqliteStore::find_alias(std::string_view address) {
  return read([&](Connection& c) -> Result<std::optional<Alias>> {
    Alias a{std::string(address), {}};
    STORE_ASSIGN(q, c.query("SELECT target FROM aliases WHERE address = ? ORDER BY id"));
    q.bind(1, address);
    for (;;) {
      STORE_ASSIGN(row, q.step());
      if (!row) break;
      a.targets.push_back(q.text(0));
    }
    if (a.targets.empty()) return std::optional<Alias>();
    return std::optional<Alias>(std::move(a));
  });
}

// ---- App passwords

Result<AppPassword> SqliteStore::add_app_password(Id account_id, std::string_view label, std::string_view hash) {
  AppPassword p;
  STORE_TRY(write([&](Connection& c, std::vector<MailboxChange>&) -> Status {
    STORE_ASSIGN(chk, c.query("SELECT 1 FROM accounts WHERE id = ?"));
    chk.bind(1, account_id);
    STORE_ASSIGN(found, chk.step());
    if (!found) return make_error(ErrorCode::kNotFound, "no account {}", account_id);
    STORE_ASSIGN(q, c.query("INSERT INTO app_passwords(account_id, label, hash, created) VALUES (?,?,?,?)"));
    int64_t now = now_seconds();
    STORE_TRY(q.bind(1, account_id).bind(2, label).bind(3, hash).bind(4, now).run());
    p = AppPassword{c.last_insert_rowid(), account_id, std::string(label), std::string(hash), now, 0};
    return ok();
  }));
  return p;
}

Result<std::vector<AppPassword>> SqliteStore::list_app_passwords(Id account_id) {
  return read([&](Connection& c) -> Result<std::vector<AppPassword>> {
    std::vector<AppPassword> out;
    STORE_ASSIGN(q, c.query("SELECT id, account_id, label, hash, created, last_used FROM app_passwords "
                            "WHERE account_id = ? ORDER BY id"));
    q.bind(1, account_id);
    for (;;) {
      STORE_ASSIGN(row, q.step());
      if (!row) break;
      out.push_back(AppPassword{q.i64(0), q.i64(1), q.text(2), q.text(3), q.i64(4), q.i64(5)});
    }
    return out;
  });
}

Status SqliteStore::delete_app_password(Id account_id, Id app_password_id) {
  return write([&](Connection& c, std::vector<MailboxChange>&) -> Status {
    STORE_ASSIGN(q, c.query("DELETE FROM app_passwords WHERE id = ? AND account_id = ?"));
    STORE_TRY(q.bind(1, app_password_id).bind(2, account_id).run());
    if (c.changes() == 0) return make_error(ErrorCode::kNotFound, "no app password {}", app_password_id);
    return ok();
  });
}

Status SqliteStore::touch_app_password(Id app_password_id, int64_t when) {
  return write([&](Connection& c, std::vector<MailboxChange>&) -> Status {
    STORE_ASSIGN(q, c.query("UPDATE app_passwords SET last_used = ? WHERE id = ?"));
    STORE_TRY(q.bind(1, when).bind(2, app_password_id).run());
    if (c.changes() == 0) return make_error(ErrorCode::kNotFound, "no app password {}", app_password_id);
    return ok();
  });
}

}  // namespace tern::store::sqlite

namespace tern::store {

Result<std::unique_ptr<MailStore>> open_sqlite_store(const SqliteOptions& options, ChangeFeed* feed) {
  auto store = std::make_unique<sqlite::SqliteStore>(options.path, feed);
  if (auto s = store->open(options); !s) return tl::unexpected(s.error());
  return std::unique_ptr<MailStore>(std::move(store));
}

}  // namespace tern::store
