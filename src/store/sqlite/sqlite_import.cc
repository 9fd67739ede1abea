// store/sqlite/sqlite_import.cc: the import API for `tern store copy` (see mail_store.h):
// rows written with the UIDVALIDITY, UIDs and MODSEQs they had in the source store.
#include "store/copy.h"
#include "store/sqlite/sqlite_store_impl.h"

namespace tern::store::sqlite {

Result<std::vector<ExpungeRecord>> SqliteStore::expunge_log(Id mailbox_id) {
  return read([&](Connection& c) -> Result<std::vector<ExpungeRecord>> {
    std::vector<ExpungeRecord> out;
    STORE_ASSIGN(q, c.query("SELECT uid, modseq FROM expunged WHERE mailbox_id = ? ORDER BY uid"));
    q.bind(1, mailbox_id);
    for (;;) {
      STORE_ASSIGN(row, q.step());
      if (!row) break;
      out.push_back(ExpungeRecord{static_cast<uint32_t>(q.i64(0)), static_cast<uint64_t>(q.i64(1))});
    }
    return out;
  });
}

Result<Account> SqliteStore::import_account(const ImportedAccount& account) {
  auto parts = split_address(account.address);
  if (!parts) return make_error(ErrorCode::kInvalid, "bad address '{}'", account.address);
  Account a;
  STORE_TRY(write([&](Connection& c, std::vector<MailboxChange>&) -> Status {
    STORE_ASSIGN(d, load_domain(c, parts->second));
    if (!d) return make_error(ErrorCode::kNotFound, "no domain {}", parts->second);
    STORE_ASSIGN(existing, load_account(c, account.address));
    if (existing) return make_error(ErrorCode::kExists, "account {} exists", account.address);
    STORE_ASSIGN(q, c.query("INSERT INTO accounts(address, domain_id, password_hash, created) VALUES (?,?,?,?)"));
    STORE_TRY(q.bind(1, account.address).bind(2, d->id).bind(3, account.password_hash).bind(4, account.created).run());
    a = Account{c.last_insert_rowid(), account.address, d->id, account.password_hash, account.created};
    STORE_ASSIGN(ap, c.query("INSERT INTO app_passwords(account_id, label, hash, created, last_used) "
                             "VALUES (?,?,?,?,?)"));
    for (const AppPassword& p : account.app_passwords) {
      STORE_TRY(ap.bind(1, a.id).bind(2, p.label).bind(3, p.hash).bind(4, p.created).bind(5, p.last_used).run());
    }
    return ok();
  }));
  return a;
}

Result<Mailbox> SqliteStore::import_mailbox(const ImportedMailbox& in) {
  STORE_TRY(check_imported_mailbox(in));
  Mailbox m;
  STORE_TRY(write([&](Connection& c, std::vector<MailboxChange>&) -> Status {
    STORE_ASSIGN(chk, c.query("SELECT 1 FROM accounts WHERE id = ?"));
    chk.bind(1, in.account_id);
    STORE_ASSIGN(found, chk.step());
    if (!found) return make_error(ErrorCode::kNotFound, "no account {}", in.account_id);
    chk.reset();
    STORE_ASSIGN(existing, load_mailbox_by_name(c, in.account_id, in.name));
    if (existing) return make_error(ErrorCode::kExists, "mailbox {} exists", in.name);
    STORE_ASSIGN(q, c.query("INSERT INTO mailboxes(account_id, name, uidvalidity, uidnext, highestmodseq, "
                            "special_use, subscribed) VALUES (?,?,?,?,?,?,?)"));
    STORE_TRY(q.bind(1, in.account_id).bind(2, in.name).bind(3, in.uidvalidity).bind(4, in.uidnext)
                  .bind(5, in.highestmodseq).bind(6, static_cast<int>(in.special_use))
                  .bind(7, in.subscribed ? 1 : 0).run());
    m.id = c.last_insert_rowid();
    m.account_id = in.account_id;
    m.name = in.name;
    m.uidvalidity = in.uidvalidity;
    m.uidnext = in.uidnext;
    m.highestmodseq = in.highestmodseq;
    m.special_use = in.special_use;
    m.subscribed = in.subscribed;
    // No later mailbox may be handed this UIDVALIDITY (counter is max(now, last + 1)).
    STORE_ASSIGN(ctr, c.query("UPDATE meta SET value = max(value, ?) WHERE name = 'uidvalidity'"));
    STORE_TRY(ctr.bind(1, in.uidvalidity).run());
    STORE_ASSIGN(log, c.query("INSERT INTO expunged(mailbox_id, uid, modseq) VALUES (?,?,?)"));
    for (const ExpungeRecord& e : in.expunged) STORE_TRY(log.bind(1, m.id).bind(2, e.uid).bind(3, e.modseq).run());
    return ok();
  }));
  return m;
}

Status SqliteStore::import_messages(Id mailbox_id, std::span<const ImportedMessage> messages) {
  if (messages.empty()) return ok();
  return write([&](Connection& c, std::vector<MailboxChange>&) -> Status {
    STORE_ASSIGN(mb, load_mailbox(c, mailbox_id));
    if (!mb) return make_error(ErrorCode::kNotFound, "no mailbox {}", mailbox_id);
    STORE_TRY(check_imported_messages(*mb, messages));
    STORE_ASSIGN(gone, c.query("SELECT 1 FROM expunged WHERE mailbox_id = ? AND uid = ?"));
    STORE_ASSIGN(blob, c.query("INSERT INTO blobs(size, refcount, data) VALUES (?,1,?)"));
    STORE_ASSIGN(ins, c.query("INSERT INTO messages(mailbox_id, uid, modseq, flags, keywords, internal_date, "
                              "size, blob_id) VALUES (?,?,?,?,?,?,?,?)"));
    int64_t total = 0;
    for (const ImportedMessage& msg : messages) {
      gone.bind(1, mailbox_id).bind(2, msg.uid);
      STORE_ASSIGN(expunged, gone.step());
      if (expunged) {
        gone.reset();
        return make_error(ErrorCode::kInvalid, "uid {} of mailbox {} is in its expunge log", msg.uid, mb->name);
      }
      STORE_TRY(blob.bind(1, msg.bytes.size()).bind_blob(2, msg.bytes).run());
      const Id blob_id = c.last_insert_rowid();
      const std::string keywords = join_keywords(normalize_keywords(msg.keywords));
      auto r = ins.bind(1, mailbox_id).bind(2, msg.uid).bind(3, msg.modseq).bind(4, msg.flags & kAllFlags)
                   .bind(5, keywords).bind(6, msg.internal_date)
                   .bind(7, msg.bytes.size()).bind(8, blob_id).run();
      if (!r) {
        if (r.error().code == ErrorCode::kExists) {
          return make_error(ErrorCode::kExists, "uid {} of mailbox {} exists", msg.uid, mb->name);
        }
        return r;
      }
      total += static_cast<int64_t>(msg.bytes.size());
    }
    STORE_ASSIGN(upd, c.query("UPDATE mailboxes SET messages = messages + ?, total_size = total_size + ? "
                              "WHERE id = ?"));
    return upd.bind(1, messages.size()).bind(2, total).bind(3, mailbox_id).run();
  });
}

}  // namespace tern::store::sqlite
