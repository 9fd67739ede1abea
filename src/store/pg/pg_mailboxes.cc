// store/pg/pg_mailboxes.cc: mailboxes (create, delete, rename, subscribe, list).
#include <algorithm>

#include "base/clock.h"
#include "store/pg/pg_store_impl.h"

namespace tern::store::pg {
namespace {

#define MAILBOX_COLS \
  "SELECT id, account_id, name, uidvalidity, uidnext, highestmodseq, special_use, subscribed, messages, total_size FROM mailboxes "

Mailbox mailbox_row(const PgResult& r, int i) {
  Mailbox m;
  m.id = r.i64(i, 0);
  m.account_id = r.i64(i, 1);
  m.name = r.text(i, 2);
  m.uidvalidity = static_cast<uint32_t>(r.i64(i, 3));
  m.uidnext = static_cast<uint32_t>(r.i64(i, 4));
  m.highestmodseq = static_cast<uint64_t>(r.i64(i, 5));
  m.special_use = static_cast<SpecialUse>(r.i64(i, 6));
  m.subscribed = r.boolean(i, 7);
  m.messages = static_cast<uint32_t>(r.i64(i, 8));
  m.total_size = static_cast<uint64_t>(r.i64(i, 9));
  return m;
}

std::optional<Mailbox> one_mailbox(const PgResult& r) {
  if (r.rows() == 0) return std::nullopt;
  return mailbox_row(r, 0);
}

bool valid_mailbox_name(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.back() == '/') return false;
  if (name.find("//") != std::string_view::npos) return false;
  return std::none_of(name.begin(), name.end(), [](char ch) { return ch == '\0' || ch == '\r' || ch == '\n'; });
}

// Allocates a UIDVALIDITY: max(now, last + 1) from a database-wide counter, so no value is
// ever handed out twice, whatever the mailbox name or the node. The row lock serialises
// concurrent creations across nodes until commit.
Result<uint32_t> next_uidvalidity(Conn& c) {
  PG_ASSIGN(r, c.exec("UPDATE meta SET value = greatest($1, value + 1) WHERE name = 'uidvalidity' RETURNING value",
                      Params().i64(unix_seconds(SystemClock::instance().now()))));
  if (r.rows() == 0) return make_error(ErrorCode::kCorruption, "uidvalidity counter missing");
  const int64_t v = r.i64(0, 0);
  if (v <= 0 || v > int64_t{UINT32_MAX}) return make_error(ErrorCode::kLimit, "uidvalidity counter exhausted");
  return static_cast<uint32_t>(v);
}

}  // namespace

Result<std::optional<Mailbox>> load_mailbox(Conn& c, Id mailbox_id, bool for_update) {
  if (for_update) {
    PG_ASSIGN(r, c.exec(MAILBOX_COLS "WHERE id = $1 FOR UPDATE", Params().i64(mailbox_id)));
    return one_mailbox(r);
  }
  PG_ASSIGN(r, c.exec(MAILBOX_COLS "WHERE id = $1", Params().i64(mailbox_id)));
  return one_mailbox(r);
}

Result<std::optional<Mailbox>> load_mailbox_by_name(Conn& c, Id account_id, std::string_view name) {
  PG_ASSIGN(r, c.exec(MAILBOX_COLS "WHERE account_id = $1 AND name = $2", Params().i64(account_id).text(name)));
  return one_mailbox(r);
}

Result<Mailbox> insert_mailbox(Conn& c, Id account_id, std::string_view name, SpecialUse use, bool subscribed) {
  PG_ASSIGN(uidvalidity, next_uidvalidity(c));
  PG_ASSIGN(r, c.exec("INSERT INTO mailboxes(account_id, name, uidvalidity, uidnext, highestmodseq, special_use, "
                      "subscribed) VALUES ($1,$2,$3,1,1,$4,$5) RETURNING id",
                      Params().i64(account_id).text(name).i64(uidvalidity).i64(static_cast<int>(use))
                          .text(subscribed ? "true" : "false")));
  Mailbox m;
  m.id = r.i64(0, 0);
  m.account_id = account_id;
  m.name = std::string(name);
  m.uidvalidity = uidvalidity;
  m.special_use = use;
  m.subscribed = subscribed;
  return m;
}

Result<std::vector<Mailbox>> PgStore::list_mailboxes(Id account_id) {
  return read([&](Conn& c) -> Result<std::vector<Mailbox>> {
    // COLLATE "C": byte order, as the SQLite store sorts.
    PG_ASSIGN(r, c.exec(MAILBOX_COLS "WHERE account_id = $1 ORDER BY name COLLATE \"C\"", Params().i64(account_id)));
    std::vector<Mailbox> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(mailbox_row(r, i));
    return out;
  });
}

Result<std::optional<Mailbox>> PgStore::find_mailbox(Id account_id, std::string_view name) {
  return read([&](Conn& c) { return load_mailbox_by_name(c, account_id, name); });
}

Result<std::optional<Mailbox>> PgStore::get_mailbox(Id mailbox_id) {
  return read([&](Conn& c) { return load_mailbox(c, mailbox_id); });
}

Result<Mailbox> PgStore::create_mailbox(Id account_id, std::string_view name, SpecialUse special_use) {
  if (!valid_mailbox_name(name)) return make_error(ErrorCode::kInvalid, "bad mailbox name '{}'", name);
  Mailbox m;
  PG_TRY(write([&](Conn& c, std::vector<MailboxChange>& events) -> Status {
    PG_ASSIGN(acc, c.exec("SELECT 1 FROM accounts WHERE id = $1 FOR KEY SHARE", Params().i64(account_id)));
    if (acc.rows() == 0) return make_error(ErrorCode::kNotFound, "no account {}", account_id);
    PG_ASSIGN(existing, load_mailbox_by_name(c, account_id, name));
    if (existing) return make_error(ErrorCode::kExists, "mailbox {} exists", name);
    // A concurrent create on another node ends in unique_violation: kExists as well.
    PG_ASSIGN(mb, insert_mailbox(c, account_id, name, special_use, false));
    m = mb;
    events.push_back(MailboxChange{MailboxChange::Kind::kMailboxCreated, account_id, m.id, m.highestmodseq, {}});
    return ok();
  }));
  return m;
}

Status PgStore::delete_mailbox(Id mailbox_id) {
  return write([&](Conn& c, std::vector<MailboxChange>& events) -> Status {
    PG_ASSIGN(mb, load_mailbox(c, mailbox_id, true));
    if (!mb) return make_error(ErrorCode::kNotFound, "no mailbox {}", mailbox_id);
    if (mb->name == "INBOX") return make_error(ErrorCode::kInvalid, "INBOX cannot be deleted");
    // Cascades to messages and the expunge log; the trigger frees unshared blobs.
    PG_TRY(c.exec("DELETE FROM mailboxes WHERE id = $1", Params().i64(mailbox_id)));
    events.push_back(MailboxChange{MailboxChange::Kind::kMailboxDeleted, mb->account_id, mb->id,
                                   mb->highestmodseq, {}});
    return ok();
  });
}

namespace {

// RFC 3501 6.3.5: renaming INBOX moves its messages to a new mailbox and leaves INBOX empty.
// The messages keep their UIDs under the new mailbox's fresh UIDVALIDITY; INBOX records them
// as expunged. `inbox` was loaded FOR UPDATE.
Status rename_inbox(Conn& c, const Mailbox& inbox, std::string_view new_name, std::vector<MailboxChange>& events) {
  PG_ASSIGN(nb, insert_mailbox(c, inbox.account_id, new_name, SpecialUse::kNone, inbox.subscribed));
  const uint64_t modseq = inbox.highestmodseq + 1;
  MailboxChange gone{MailboxChange::Kind::kExpunge, inbox.account_id, inbox.id, modseq, {}};
  PG_ASSIGN(log, c.exec("INSERT INTO expunged(mailbox_id, uid, modseq) SELECT mailbox_id, uid, $1 "
                        "FROM messages WHERE mailbox_id = $2 RETURNING uid",
                        Params().i64(static_cast<int64_t>(modseq)).i64(inbox.id)));
  for (int i = 0; i < log.rows(); ++i) gone.uids.push_back(static_cast<uint32_t>(log.i64(i, 0)));
  std::sort(gone.uids.begin(), gone.uids.end());
  PG_TRY(c.exec("UPDATE messages SET mailbox_id = $1 WHERE mailbox_id = $2", Params().i64(nb.id).i64(inbox.id)));
  PG_TRY(c.exec("UPDATE mailboxes SET uidnext = $1, highestmodseq = $2, messages = $3, total_size = $4 WHERE id = $5",
                Params().i64(inbox.uidnext).i64(static_cast<int64_t>(inbox.highestmodseq)).i64(inbox.messages)
                    .i64(static_cast<int64_t>(inbox.total_size)).i64(nb.id)));
  PG_TRY(c.exec("UPDATE mailboxes SET highestmodseq = $1, messages = 0, total_size = 0 WHERE id = $2",
                Params().i64(static_cast<int64_t>(modseq)).i64(inbox.id)));
  events.push_back(MailboxChange{MailboxChange::Kind::kMailboxCreated, inbox.account_id, nb.id,
                                 inbox.highestmodseq, gone.uids});
  if (!gone.uids.empty()) events.push_back(std::move(gone));
  return ok();
}

}  // namespace

Status PgStore::rename_mailbox(Id mailbox_id, std::string_view new_name) {
  if (!valid_mailbox_name(new_name)) return make_error(ErrorCode::kInvalid, "bad mailbox name '{}'", new_name);
  return write([&](Conn& c, std::vector<MailboxChange>& events) -> Status {
    PG_ASSIGN(mb, load_mailbox(c, mailbox_id, true));
    if (!mb) return make_error(ErrorCode::kNotFound, "no mailbox {}", mailbox_id);
    PG_ASSIGN(clash, load_mailbox_by_name(c, mb->account_id, new_name));
    if (clash) return make_error(ErrorCode::kExists, "mailbox {} exists", new_name);
    if (new_name == "INBOX") return make_error(ErrorCode::kExists, "INBOX exists");
    if (mb->name == "INBOX") return rename_inbox(c, *mb, new_name, events);
    const std::string old_prefix = mb->name + "/";
    if (new_name.substr(0, old_prefix.size()) == old_prefix) {
      return make_error(ErrorCode::kInvalid, "cannot move {} below itself", mb->name);
    }
    // The mailbox and its children, with their new names.
    std::vector<std::pair<Id, std::string>> moves{{mb->id, std::string(new_name)}};
    {
      PG_ASSIGN(r, c.exec("SELECT id, name FROM mailboxes WHERE account_id = $1 AND starts_with(name, $2) "
                          "ORDER BY id FOR UPDATE",
                          Params().i64(mb->account_id).text(old_prefix)));
      for (int i = 0; i < r.rows(); ++i) {
        moves.emplace_back(r.i64(i, 0), std::string(new_name) + "/" + r.text(i, 1).substr(old_prefix.size()));
      }
    }
    for (std::size_t i = 1; i < moves.size(); ++i) {
      PG_ASSIGN(child_clash, load_mailbox_by_name(c, mb->account_id, moves[i].second));
      if (child_clash) return make_error(ErrorCode::kExists, "mailbox {} exists", moves[i].second);
    }
    for (const auto& [id, name] : moves) {
      PG_ASSIGN(r, c.exec("UPDATE mailboxes SET name = $1 WHERE id = $2 RETURNING highestmodseq",
                          Params().text(name).i64(id)));
      const uint64_t modseq = r.rows() > 0 ? static_cast<uint64_t>(r.i64(0, 0)) : 0;
      events.push_back(MailboxChange{MailboxChange::Kind::kMailboxRenamed, mb->account_id, id, modseq, {}});
    }
    return ok();
  });
}

Status PgStore::set_subscribed(Id mailbox_id, bool subscribed) {
  return write([&](Conn& c, std::vector<MailboxChange>&) -> Status {
    PG_ASSIGN(r, c.exec("UPDATE mailboxes SET subscribed = $1 WHERE id = $2",
                        Params().text(subscribed ? "true" : "false").i64(mailbox_id)));
    if (r.affected() == 0) return make_error(ErrorCode::kNotFound, "no mailbox {}", mailbox_id);
    return ok();
  });
}

}  // namespace tern::store::pg
