// store/sqlite/sqlite_mailboxes.cc: mailboxes (create, delete, rename, subscribe, list).
#include <algorithm>

#include "base/clock.h"
#include "store/sqlite/sqlite_store_impl.h"

namespace tern::store::sqlite {
namespace {

#define MAILBOX_COLS \
  "SELECT id, account_id, name, uidvalidity, uidnext, highestmodseq, special_use, subscribed, messages, total_size FROM mailboxes "

Mailbox mailbox_row(const Query& q) {
  Mailbox m;
  m.id = q.i64(0);
  m.account_id = q.i64(1);
  m.name = q.text(2);
  m.uidvalidity = static_cast<uint32_t>(q.i64(3));
  m.uidnext = static_cast<uint32_t>(q.i64(4));
  m.highestmodseq = static_cast<uint64_t>(q.i64(5));
  m.special_use = static_cast<SpecialUse>(q.i64(6));
  m.subscribed = q.i64(7) != 0;
  m.messages = static_cast<uint32_t>(q.i64(8));
  m.total_size = static_cast<uint64_t>(q.i64(9));
  return m;
}

Result<std::optional<Mailbox>> one_mailbox(Query& q) {
  STORE_ASSIGN(row, q.step());
  if (!row) return std::optional<Mailbox>();
  return std::optional<Mailbox>(mailbox_row(q));
}

bool valid_mailbox_name(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.back() == '/') return false;
  if (name.find("//") != std::string_view::npos) return false;
  return std::none_of(name.begin(), name.end(), [](char ch) { return ch == '\0' || ch == '\r' || ch == '\n'; });
}

// Allocates a UIDVALIDITY: max(now, last + 1) from a database-wide counter, so no value is
// ever handed out twice, whatever the mailbox name.
Result<uint32_t> next_uidvalidity(Connection& c) {
  STORE_ASSIGN(q, c.query("UPDATE meta SET value = max(?, value + 1) WHERE name = 'uidvalidity' RETURNING value"));
  q.bind(1, unix_seconds(SystemClock::instance().now()));
  STORE_ASSIGN(row, q.step());
  if (!row) return make_error(ErrorCode::kCorruption, "uidvalidity counter missing");
  int64_t v = q.i64(0);
  if (v <= 0 || v > int64_t{UINT32_MAX}) return make_error(ErrorCode::kLimit, "uidvalidity counter exhausted");
  return static_cast<uint32_t>(v);
}

}  // namespace

Result<std::optional<Mailbox>> load_mailbox(Connection& c, Id mailbox_id) {
  STORE_ASSIGN(q, c.query(MAILBOX_COLS "WHERE id = ?"));
  q.bind(1, mailbox_id);
  return one_mailbox(q);
}

Result<std::optional<Mailbox>> load_mailbox_by_name(Connection& c, Id account_id, std::string_view name) {
  STORE_ASSIGN(q, c.query(MAILBOX_COLS "WHERE account_id = ? AND name = ?"));
  q.bind(1, account_id).bind(2, name);
  return one_mailbox(q);
}

Result<Mailbox> insert_mailbox(Connection& c, Id account_id, std::string_view name, SpecialUse use,
                               bool subscribed) {
  STORE_ASSIGN(uidvalidity, next_uidvalidity(c));
  STORE_ASSIGN(q, c.query("INSERT INTO mailboxes(account_id, name, uidvalidity, uidnext, highestmodseq, "
                          "special_use, subscribed) VALUES (?,?,?,1,1,?,?)"));
  STORE_TRY(q.bind(1, account_id).bind(2, name).bind(3, uidvalidity).bind(4, static_cast<int>(use))
                .bind(5, subscribed ? 1 : 0).run());
  Mailbox m;
  m.id = c.last_insert_rowid();
  m.account_id = account_id;
  m.name = std::string(name);
  m.uidvalidity = uidvalidity;
  m.special_use = use;
  m.subscribed = subscribed;
  return m;
}

Result<std::vector<Mailbox>> SqliteStore::list_mailboxes(Id account_id) {
  return read([&](Connection& c) -> Result<std::vector<Mailbox>> {
    std::vector<Mailbox> out;
    STORE_ASSIGN(q, c.query(MAILBOX_COLS "WHERE account_id = ? ORDER BY name"));
    q.bind(1, account_id);
    for (;;) {
      STORE_ASSIGN(row, q.step());
      if (!row) break;
      out.push_back(mailbox_row(q));
    }
    return out;
  });
}

Result<std::optional<Mailbox>> SqliteStore::find_mailbox(Id account_id, std::string_view name) {
  return read([&](Connection& c) { return load_mailbox_by_name(c, account_id, name); });
}

Result<std::optional<Mailbox>> SqliteStore::get_mailbox(Id mailbox_id) {
  return read([&](Connection& c) { return load_mailbox(c, mailbox_id); });
}

Result<Mailbox> SqliteStore::create_mailbox(Id account_id, std::string_view name, SpecialUse special_use) {
  if (!valid_mailbox_name(name)) return make_error(ErrorCode::kInvalid, "bad mailbox name '{}'", name);
  Mailbox m;
  STORE_TRY(write([&](Connection& c, std::vector<MailboxChange>& events) -> Status {
    STORE_ASSIGN(chk, c.query("SELECT 1 FROM accounts WHERE id = ?"));
    chk.bind(1, account_id);
    STORE_ASSIGN(found, chk.step());
    if (!found) return make_error(ErrorCode::kNotFound, "no account {}", account_id);
    STORE_ASSIGN(existing, load_mailbox_by_name(c, account_id, name));
    if (existing) return make_error(ErrorCode::kExists, "mailbox {} exists", name);
    STORE_ASSIGN(mb, insert_mailbox(c, account_id, name, special_use, false));
    m = mb;
    events.push_back(MailboxChange{MailboxChange::Kind::kMailboxCreated, account_id, m.id, m.highestmodseq, {}});
    return ok();
  }));
  return m;
}

Status SqliteStore::delete_mailbox(Id mailbox_id) {
  return write([&](Connection& c, std::vector<MailboxChange>& events) -> Status {
    STORE_ASSIGN(mb, load_mailbox(c, mailbox_id));
    if (!mb) return make_error(ErrorCode::kNotFound, "no mailbox {}", mailbox_id);
    if (mb->name == "INBOX") return make_error(ErrorCode::kInvalid, "INBOX cannot be deleted");
    // Cascades to messages and the expunge log; the trigger frees unshared blobs.
    STORE_ASSIGN(del, c.query("DELETE FROM mailboxes WHERE id = ?"));
    STORE_TRY(del.bind(1, mailbox_id).run());
    events.push_back(MailboxChange{MailboxChange::Kind::kMailboxDeleted, mb->account_id, mb->id,
                                   mb->highestmodseq, {}});
    return ok();
  });
}

namespace {

// RFC 3501 6.3.5: renaming INBOX moves its messages to a new mailbox and leaves INBOX empty.
// The messages keep their UIDs under the new mailbox's fresh UIDVALIDITY; INBOX records them
// as expunged.
Status rename_inbox(Connection& c, const Mailbox& inbox, std::string_view new_name,
                    std::vector<MailboxChange>& events) {
  STORE_ASSIGN(nb, insert_mailbox(c, inbox.account_id, new_name, SpecialUse::kNone, inbox.subscribed));
  const uint64_t modseq = inbox.highestmodseq + 1;
  MailboxChange gone{MailboxChange::Kind::kExpunge, inbox.account_id, inbox.id, modseq, {}};
  {
    STORE_ASSIGN(q, c.query("SELECT uid FROM messages WHERE mailbox_id = ? ORDER BY uid"));
    q.bind(1, inbox.id);
    for (;;) {
      STORE_ASSIGN(row, q.step());
      if (!row) break;
      gone.uids.push_back(static_cast<uint32_t>(q.i64(0)));
    }
  }
  STORE_ASSIGN(log, c.query("INSERT INTO expunged(mailbox_id, uid, modseq) SELECT mailbox_id, uid, ? "
                            "FROM messages WHERE mailbox_id = ?"));
  STORE_TRY(log.bind(1, modseq).bind(2, inbox.id).run());
  STORE_ASSIGN(mv, c.query("UPDATE messages SET mailbox_id = ? WHERE mailbox_id = ?"));
  STORE_TRY(mv.bind(1, nb.id).bind(2, inbox.id).run());
  STORE_ASSIGN(upd_new, c.query("UPDATE mailboxes SET uidnext = ?, highestmodseq = ?, messages = ?, "
                                "total_size = ? WHERE id = ?"));
  STORE_TRY(upd_new.bind(1, inbox.uidnext).bind(2, inbox.highestmodseq).bind(3, inbox.messages)
                .bind(4, inbox.total_size).bind(5, nb.id).run());
  STORE_ASSIGN(upd_inbox, c.query("UPDATE mailboxes SET highestmodseq = ?, messages = 0, total_size = 0 "
                                  "WHERE id = ?"));
  STORE_TRY(upd_inbox.bind(1, modseq).bind(2, inbox.id).run());
  events.push_back(MailboxChange{MailboxChange::Kind::kMailboxCreated, inbox.account_id, nb.id,
                                 inbox.highestmodseq, gone.uids});
  if (!gone.uids.empty()) events.push_back(std::move(gone));
  return ok();
}

}  // namespace

Status SqliteStore::rename_mailbox(Id mailbox_id, std::string_view new_name) {
  if (!valid_mailbox_name(new_name)) return make_error(ErrorCode::kInvalid, "bad mailbox name '{}'", new_name);
  return write([&](Connection& c, std::vector<MailboxChange>& events) -> Status {
    STORE_ASSIGN(mb, load_mailbox(c, mailbox_id));
    if (!mb) return make_error(ErrorCode::kNotFound, "no mailbox {}", mailbox_id);
    STORE_ASSIGN(clash, load_mailbox_by_name(c, mb->account_id, new_name));
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
      STORE_ASSIGN(q, c.query("SELECT id, name FROM mailboxes WHERE account_id = ? AND substr(name, 1, ?) = ?"));
      q.bind(1, mb->account_id).bind(2, old_prefix.size()).bind(3, old_prefix);
      for (;;) {
        STORE_ASSIGN(row, q.step());
        if (!row) break;
        moves.emplace_back(q.i64(0), std::string(new_name) + "/" + q.text(1).substr(old_prefix.size()));
      }
    }
    for (std::size_t i = 1; i < moves.size(); ++i) {
      STORE_ASSIGN(child_clash, load_mailbox_by_name(c, mb->account_id, moves[i].second));
      if (child_clash) return make_error(ErrorCode::kExists, "mailbox {} exists", moves[i].second);
    }
    STORE_ASSIGN(upd, c.query("UPDATE mailboxes SET name = ? WHERE id = ? RETURNING highestmodseq"));
    for (const auto& [id, name] : moves) {
      upd.bind(1, name).bind(2, id);
      STORE_ASSIGN(row, upd.step());
      uint64_t modseq = row ? static_cast<uint64_t>(upd.i64(0)) : 0;
      STORE_TRY(upd.run());
      events.push_back(MailboxChange{MailboxChange::Kind::kMailboxRenamed, mb->account_id, id, modseq, {}});
    }
    return ok();
  });
}

Status SqliteStore::set_subscribed(Id mailbox_id, bool subscribed) {
  return write([&](Connection& c, std::vector<MailboxChange>&) -> Status {
    STORE_ASSIGN(q, c.query("UPDATE mailboxes SET subscribed = ? WHERE id = ?"));
    STORE_TRY(q.bind(1, subscribed ? 1 : 0).bind(2, mailbox_id).run());
    if (c.changes() == 0) return make_error(ErrorCode::kNotFound, "no mailbox {}", mailbox_id);
    return ok();
  });
}

}  // namespace tern::store::sqlite
