// store/pg/pg_import.cc: the import API for `tern store copy` (see mail_store.h): rows
// written with the UIDVALIDITY, UIDs and MODSEQs they had in the source store.
#include "store/copy.h"
#include "store/pg/pg_store_impl.h"

namespace tern::store::pg {

Result<std::vector<ExpungeRecord>> PgStore::expunge_log(Id mailbox_id) {
  return read([&](Conn& c) -> Result<std::vector<ExpungeRecord>> {
    PG_ASSIGN(r, c.exec("SELECT uid, modseq FROM expunged WHERE mailbox_id = $1 ORDER BY uid",
                        Params().i64(mailbox_id)));
    std::vector<ExpungeRecord> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back(ExpungeRecord{static_cast<uint32_t>(r.i64(i, 0)), static_cast<uint64_t>(r.i64(i, 1))});
    }
    return out;
  });
}

Result<Account> PgStore::import_account(const ImportedAccount& account) {
  auto parts = split_address(account.address);
  if (!parts) return make_error(ErrorCode::kInvalid, "bad address '{}'", account.address);
  Account a;
  PG_TRY(write([&](Conn& c, std::vector<MailboxChange>&) -> Status {
    PG_ASSIGN(d, c.exec("SELECT id FROM domains WHERE name = $1 FOR KEY SHARE", Params().text(parts->second)));
    if (d.rows() == 0) return make_error(ErrorCode::kNotFound, "no domain {}", parts->second);
    const Id domain_id = d.i64(0, 0);
    PG_ASSIGN(r, c.exec("INSERT INTO accounts(address, domain_id, password_hash, created) VALUES ($1,$2,$3,$4) "
                        "ON CONFLICT (address) DO NOTHING RETURNING id",
                        Params().text(account.address).i64(domain_id).text(account.password_hash)
                            .i64(account.created)));
    if (r.rows() == 0) return make_error(ErrorCode::kExists, "account {} exists", account.address);
    a = Account{r.i64(0, 0), account.address, domain_id, account.password_hash, account.created};
    for (const AppPassword& p : account.app_passwords) {
      PG_TRY(c.exec("INSERT INTO app_passwords(account_id, label, hash, created, last_used) VALUES ($1,$2,$3,$4,$5)",
                    Params().i64(a.id).text(p.label).text(p.hash).i64(p.created).i64(p.last_used)));
    }
    return ok();
  }));
  return a;
}

Result<Mailbox> PgStore::import_mailbox(const ImportedMailbox& in) {
  PG_TRY(check_imported_mailbox(in));
  Mailbox m;
  PG_TRY(write([&](Conn& c, std::vector<MailboxChange>&) -> Status {
    PG_ASSIGN(acct, c.exec("SELECT 1 FROM accounts WHERE id = $1 FOR KEY SHARE", Params().i64(in.account_id)));
    if (acct.rows() == 0) return make_error(ErrorCode::kNotFound, "no account {}", in.account_id);
    PG_ASSIGN(r, c.exec("INSERT INTO mailboxes(account_id, name, uidvalidity, uidnext, highestmodseq, special_use, "
                        "subscribed) VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (account_id, name) DO NOTHING "
                        "RETURNING id",
                        Params().i64(in.account_id).text(in.name).i64(in.uidvalidity).i64(in.uidnext)
                            .i64(static_cast<int64_t>(in.highestmodseq)).i64(static_cast<int>(in.special_use))
                            .text(in.subscribed ? "true" : "false")));
    if (r.rows() == 0) return make_error(ErrorCode::kExists, "mailbox {} exists", in.name);
    m.id = r.i64(0, 0);
    m.account_id = in.account_id;
    m.name = in.name;
    m.uidvalidity = in.uidvalidity;
    m.uidnext = in.uidnext;
    m.highestmodseq = in.highestmodseq;
    m.special_use = in.special_use;
    m.subscribed = in.subscribed;
    // No later mailbox may be handed this UIDVALIDITY (counter is greatest(now, last + 1)).
    PG_TRY(c.exec("UPDATE meta SET value = greatest(value, $1) WHERE name = 'uidvalidity'",
                  Params().i64(in.uidvalidity)));
    if (!in.expunged.empty()) {
      std::vector<int64_t> uids, modseqs;
      for (const ExpungeRecord& e : in.expunged) {
        uids.push_back(e.uid);
        modseqs.push_back(static_cast<int64_t>(e.modseq));
      }
      PG_TRY(c.exec("INSERT INTO expunged(mailbox_id, uid, modseq) SELECT $1, u, s "
                    "FROM unnest($2::bigint[], $3::bigint[]) AS e(u, s)",
                    Params().i64(m.id).i64_array(uids.begin(), uids.end()).i64_array(modseqs.begin(), modseqs.end())));
    }
    return ok();
  }));
  return m;
}

Status PgStore::import_messages(Id mailbox_id, std::span<const ImportedMessage> messages) {
  if (messages.empty()) return ok();
  return write([&](Conn& c, std::vector<MailboxChange>&) -> Status {
    PG_ASSIGN(mb, load_mailbox(c, mailbox_id, /*for_update=*/true));
    if (!mb) return make_error(ErrorCode::kNotFound, "no mailbox {}", mailbox_id);
    PG_TRY(check_imported_messages(*mb, messages));
    std::vector<int64_t> uids;
    for (const ImportedMessage& msg : messages) uids.push_back(msg.uid);
    PG_ASSIGN(gone, c.exec("SELECT uid FROM expunged WHERE mailbox_id = $1 AND uid = ANY($2::bigint[]) LIMIT 1",
                           Params().i64(mailbox_id).i64_array(uids.begin(), uids.end())));
    if (gone.rows() > 0) {
      return make_error(ErrorCode::kInvalid, "uid {} of mailbox {} is in its expunge log", gone.i64(0, 0), mb->name);
    }
    int64_t total = 0;
    for (const ImportedMessage& msg : messages) {
      const auto size = static_cast<int64_t>(msg.bytes.size());
      PG_ASSIGN(r, c.exec("WITH b AS (INSERT INTO blobs(size, refcount, data) VALUES ($1, 1, $8) RETURNING id) "
                          "INSERT INTO messages(mailbox_id, uid, modseq, flags, keywords, internal_date, size, "
                          "blob_id) SELECT $2, $3, $4, $5, $6, $7, $1, b.id FROM b "
                          "ON CONFLICT (mailbox_id, uid) DO NOTHING RETURNING uid",
                          Params().i64(size).i64(mailbox_id).i64(msg.uid).i64(static_cast<int64_t>(msg.modseq))
                              .i64(msg.flags & kAllFlags).text(join_keywords(normalize_keywords(msg.keywords)))
                              .i64(msg.internal_date).bytes(msg.bytes)));
      if (r.rows() == 0) return make_error(ErrorCode::kExists, "uid {} of mailbox {} exists", msg.uid, mb->name);
      total += size;
    }
    PG_TRY(c.exec("UPDATE mailboxes SET messages = messages + $1, total_size = total_size + $2 WHERE id = $3",
                  Params().i64(static_cast<int64_t>(messages.size())).i64(total).i64(mailbox_id)));
    return ok();
  });
}

}  // namespace tern::store::pg
