// imap/session_mailbox.cc: the authenticated state (RFC 3501 6.3 / RFC 9051 6.3): command
// dispatch, LIST / LSUB (imap/mailbox_list.h), STATUS, CREATE, DELETE, RENAME, SUBSCRIBE,
// UNSUBSCRIBE, APPEND (MULTIAPPEND, APPENDUID), ENABLE, NAMESPACE, ID.
#include "imap/session_impl.h"

namespace tern::imap::detail {

namespace {
std::optional<store::SpecialUse> special_use_from(std::string_view attr) {
  std::string lower;
  for (char c : attr) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "\\all") return store::SpecialUse::kAll;
  if (lower == "\\archive") return store::SpecialUse::kArchive;
  if (lower == "\\drafts") return store::SpecialUse::kDrafts;
  if (lower == "\\flagged") return store::SpecialUse::kFlagged;
  if (lower == "\\junk") return store::SpecialUse::kJunk;
  if (lower == "\\sent") return store::SpecialUse::kSent;
  if (lower == "\\trash") return store::SpecialUse::kTrash;
  return std::nullopt;
}
}  // namespace

asio::awaitable<Reply> Session::dispatch(const std::string& tag, proto::Command& command) {
  bool needs_selected = std::holds_alternative<proto::Check>(command) || std::holds_alternative<proto::Close>(command) ||
                        std::holds_alternative<proto::Unselect>(command) ||
                        std::holds_alternative<proto::Expunge>(command) ||
                        std::holds_alternative<proto::UidExpunge>(command) ||
                        std::holds_alternative<proto::Search>(command) || std::holds_alternative<proto::Fetch>(command) ||
                        std::holds_alternative<proto::Store>(command) || std::holds_alternative<proto::Copy>(command) ||
                        std::holds_alternative<proto::Move>(command);
  if (needs_selected && !selected_) co_return ok("BAD No mailbox selected");

  if (auto* c = std::get_if<proto::Select>(&command)) co_return co_await do_select(*c);
  if (auto* c = std::get_if<proto::List>(&command)) co_return co_await do_list(*c);
  if (auto* c = std::get_if<proto::Lsub>(&command)) co_return co_await do_lsub(*c);
  if (auto* c = std::get_if<proto::Status>(&command)) co_return co_await do_status(*c);
  if (auto* c = std::get_if<proto::Create>(&command)) co_return co_await do_create(*c);
  if (auto* c = std::get_if<proto::Delete>(&command)) co_return co_await do_delete(*c);
  if (auto* c = std::get_if<proto::Rename>(&command)) co_return co_await do_rename(*c);
  if (auto* c = std::get_if<proto::Subscribe>(&command)) co_return co_await do_subscribe(c->mailbox, true);
  if (auto* c = std::get_if<proto::Unsubscribe>(&command)) co_return co_await do_subscribe(c->mailbox, false);
  if (auto* c = std::get_if<proto::Append>(&command)) co_return co_await do_append(*c);
  if (auto* c = std::get_if<proto::Enable>(&command)) co_return co_await do_enable(*c);
  if (std::holds_alternative<proto::Namespace>(command)) {
    // RFC 2342: one personal namespace, no others.
    co_await line(R"(* NAMESPACE (("" "/")) NIL NIL)");
    co_return ok("OK NAMESPACE completed");
  }
  if (std::holds_alternative<proto::Id>(command)) {
    co_await line(R"(* ID ("name" "Tern"))");  // RFC 2971
    co_return ok("OK ID completed");
  }
  if (std::holds_alternative<proto::Idle>(command)) co_return co_await do_idle();
  if (std::holds_alternative<proto::GetQuota>(command) || std::holds_alternative<proto::GetQuotaRoot>(command)) {
    co_return ok("NO [CANNOT] Quotas are not supported");
  }
  if (std::holds_alternative<proto::Check>(command)) co_return ok("OK CHECK completed");
  if (std::holds_alternative<proto::Close>(command)) {
    // RFC 3501 6.4.2: expunge silently, then leave the selected state.
    if (!selected_->view->read_only()) {
      Reply r = co_await do_expunge(nullptr, true);
      if (r.text.rfind("OK", 0) != 0) co_return r;
    }
    deselect();
    co_return ok("OK CLOSE completed");
  }
  if (std::holds_alternative<proto::Unselect>(command)) {
    deselect();
    co_return ok("OK UNSELECT completed");
  }
  if (std::holds_alternative<proto::Expunge>(command)) co_return co_await do_expunge(nullptr, false);
  if (auto* c = std::get_if<proto::UidExpunge>(&command)) co_return co_await do_expunge(&c->uids, false);
  if (auto* c = std::get_if<proto::Search>(&command)) co_return co_await do_search(tag, *c);
  if (auto* c = std::get_if<proto::Fetch>(&command)) co_return co_await do_fetch(*c);
  if (auto* c = std::get_if<proto::Store>(&command)) co_return co_await do_store(*c);
  if (auto* c = std::get_if<proto::Copy>(&command)) co_return co_await do_copy(c->uid, c->set, c->mailbox, false);
  if (auto* c = std::get_if<proto::Move>(&command)) co_return co_await do_copy(c->uid, c->set, c->mailbox, true);
  // CAPABILITY, NOOP, LOGOUT, STARTTLS, LOGIN, AUTHENTICATE are handled before interpret().
  co_return ok("BAD Command not valid in this state");
}

asio::awaitable<Result<std::optional<store::Mailbox>>> Session::find_mailbox(const std::string& name) {
  store::MailStore* st = env_.store;
  store::Id account = account_id_;
  auto found = co_await env_.pool->run([&] { return st->find_mailbox(account, name); });
  co_return found;
}

// ---- Mailboxes.

asio::awaitable<Reply> Session::do_list(const proto::List& cmd) {
  store::MailStore* st = env_.store;
  store::Id account = account_id_;
  auto mailboxes = co_await env_.pool->run([&] { return st->list_mailboxes(account); });
  if (!mailboxes) co_return ok(store_failure(mailboxes.error(), "LIST"));
  std::string out;
  for (const ListEntry& entry : list_mailboxes(cmd, *mailboxes)) out += format_list_line(entry, false);
  if (!out.empty() && !co_await send(out)) co_return Reply{"", FlushMode::kAll, false, true};
  co_return ok("OK LIST completed");
}

asio::awaitable<Reply> Session::do_lsub(const proto::Lsub& cmd) {
  store::MailStore* st = env_.store;
  store::Id account = account_id_;
  auto mailboxes = co_await env_.pool->run([&] { return st->list_mailboxes(account); });
  if (!mailboxes) co_return ok(store_failure(mailboxes.error(), "LSUB"));
  std::string out;
  for (const ListEntry& entry : lsub_mailboxes(cmd, *mailboxes)) out += format_lsub_line(entry, false);
  if (!out.empty() && !co_await send(out)) co_return Reply{"", FlushMode::kAll, false, true};
  co_return ok("OK LSUB completed");
}

asio::awaitable<Reply> Session::do_status(const proto::Status& cmd) {
  auto found = co_await find_mailbox(cmd.mailbox);
  if (!found) co_return ok(store_failure(found.error(), "STATUS"));
  if (!*found) co_return ok("NO [NONEXISTENT] Mailbox does not exist");
  const store::Mailbox& mb = **found;
  bool need_messages = false;
  for (proto::StatusItem item : cmd.items) {
    if (item == proto::StatusItem::kUnseen || item == proto::StatusItem::kDeleted) need_messages = true;
  }
  uint32_t unseen = 0, deleted = 0;
  if (need_messages) {
    store::MailStore* st = env_.store;
    store::Id id = mb.id;
    auto listed = co_await env_.pool->run([&] { return st->list_messages(id); });
    if (!listed) co_return ok(store_failure(listed.error(), "STATUS"));
    for (const store::Message& m : *listed) {
      if (!(m.flags & store::kFlagSeen)) ++unseen;
      if (m.flags & store::kFlagDeleted) ++deleted;
    }
  }
  std::string out = "* STATUS ";
  proto::append_mailbox(out, mb.name, false);
  out += " (";
  bool first = true;
  for (proto::StatusItem item : cmd.items) {
    if (!first) out += ' ';
    first = false;
    out += proto::status_item_name(item);
    out += ' ';
    uint64_t value = 0;
    switch (item) {
      case proto::StatusItem::kMessages: value = mb.messages; break;
      case proto::StatusItem::kRecent:
        value = recent_tracker().peek(mb.id, mb.uidnext > 0 ? mb.uidnext - 1 : 0).count();
        break;
      case proto::StatusItem::kUidNext: value = mb.uidnext; break;
      case proto::StatusItem::kUidValidity: value = mb.uidvalidity; break;
      case proto::StatusItem::kUnseen: value = unseen; break;
      case proto::StatusItem::kDeleted: value = deleted; break;
      case proto::StatusItem::kSize: value = mb.total_size; break;
      case proto::StatusItem::kHighestModSeq: value = mb.highestmodseq; break;
      case proto::StatusItem::kAppendLimit: value = env_.config->limits.max_message_size; break;
    }
    out += std::to_string(value);
  }
  out += ")";
  if (!co_await line(out)) co_return Reply{"", FlushMode::kAll, false, true};
  co_return ok("OK STATUS completed");
}

asio::awaitable<Reply> Session::do_create(const proto::Create& cmd) {
  auto name = normalize_mailbox_name(cmd.mailbox, true);
  if (!name) co_return ok(fmt::format("NO {}", name.error()));
  if (*name == "INBOX") co_return ok("NO [ALREADYEXISTS] INBOX exists");
  store::SpecialUse use = store::SpecialUse::kNone;
  if (cmd.special_use.size() > 1) co_return ok("NO [USEATTR] Only one special-use attribute per mailbox");
  if (!cmd.special_use.empty()) {
    auto parsed = special_use_from(cmd.special_use.front());
    if (!parsed) co_return ok("NO [USEATTR] Unsupported special-use attribute");
    use = *parsed;
  }
  store::MailStore* st = env_.store;
  store::Id account = account_id_;
  const std::string& mailbox = *name;
  auto created = co_await env_.pool->run([&] { return st->create_mailbox(account, mailbox, use); });
  if (!created) {
    if (created.error().code == ErrorCode::kExists) co_return ok("NO [ALREADYEXISTS] Mailbox exists");
    co_return ok(store_failure(created.error(), "CREATE"));
  }
  co_return ok("OK CREATE completed");
}

asio::awaitable<Reply> Session::do_delete(const proto::Delete& cmd) {
  if (cmd.mailbox == "INBOX") co_return ok("NO [CANNOT] INBOX cannot be deleted");
  auto found = co_await find_mailbox(cmd.mailbox);
  if (!found) co_return ok(store_failure(found.error(), "DELETE"));
  if (!*found) co_return ok("NO [NONEXISTENT] Mailbox does not exist");
  store::Id id = (*found)->id;
  if (selected_ && selected_->mailbox.id == id) deselect();
  store::MailStore* st = env_.store;
  auto deleted = co_await env_.pool->run([&] { return st->delete_mailbox(id); });
  if (!deleted) co_return ok(store_failure(deleted.error(), "DELETE"));
  recent_tracker().forget(id);
  co_return ok("OK DELETE completed");
}

asio::awaitable<Reply> Session::do_rename(const proto::Rename& cmd) {
  auto to = normalize_mailbox_name(cmd.to);
  if (!to) co_return ok(fmt::format("NO {}", to.error()));
  if (*to == "INBOX") co_return ok("NO [ALREADYEXISTS] INBOX exists");
  if (*to == cmd.from || is_below(*to, cmd.from)) co_return ok("NO [CANNOT] Cannot rename a mailbox into itself");
  auto found = co_await find_mailbox(cmd.from);
  if (!found) co_return ok(store_failure(found.error(), "RENAME"));
  if (!*found) co_return ok("NO [NONEXISTENT] Mailbox does not exist");
  auto existing = co_await find_mailbox(*to);
  if (!existing) co_return ok(store_failure(existing.error(), "RENAME"));
  if (*existing) co_return ok("NO [ALREADYEXISTS] Mailbox exists");
  store::Id id = (*found)->id;
  store::MailStore* st = env_.store;
  const std::string& name = *to;
  auto renamed = co_await env_.pool->run([&] { return st->rename_mailbox(id, name); });
  if (!renamed) {
    if (renamed.error().code == ErrorCode::kExists) co_return ok("NO [ALREADYEXISTS] Mailbox exists");
    co_return ok(store_failure(renamed.error(), "RENAME"));
  }
  if (selected_ && selected_->mailbox.id == id) selected_->mailbox.name = name;
  co_return ok("OK RENAME completed");
}

asio::awaitable<Reply> Session::do_subscribe(const std::string& mailbox, bool on) {
  auto found = co_await find_mailbox(mailbox);
  std::string_view verb = on ? "SUBSCRIBE" : "UNSUBSCRIBE";
  if (!found) co_return ok(store_failure(found.error(), verb));
  if (!*found) co_return ok("NO [NONEXISTENT] Mailbox does not exist");
  store::Id id = (*found)->id;
  store::MailStore* st = env_.store;
  auto done = co_await env_.pool->run([&] { return st->set_subscribed(id, on); });
  if (!done) co_return ok(store_failure(done.error(), verb));
  co_return ok(fmt::format("OK {} completed", verb));
}

// APPEND, with MULTIAPPEND (RFC 3502) and APPENDUID (RFC 4315). Each message is appended
// durably in turn; a failure part way leaves the earlier ones in place.
asio::awaitable<Reply> Session::do_append(proto::Append& cmd) {
  auto found = co_await find_mailbox(cmd.mailbox);
  if (!found) co_return ok(store_failure(found.error(), "APPEND"));
  if (!*found) co_return ok("NO [TRYCREATE] Mailbox does not exist");
  store::Id id = (*found)->id;
  for (const proto::AppendMessage& m : cmd.messages) {
    if (m.bytes.size() > env_.config->limits.max_message_size) co_return ok("NO [TOOBIG] Message too large");
  }
  store::MailStore* st = env_.store;
  proto::RangeSet uids;
  uint32_t uidvalidity = 0;
  for (proto::AppendMessage& m : cmd.messages) {
    int64_t date = m.internal_date ? m.internal_date->unix_time
                                   : std::chrono::duration_cast<std::chrono::seconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count();
    std::vector<store::AppendTarget> targets(1);
    targets[0].mailbox_id = id;
    targets[0].flags = m.flags.system;
    targets[0].keywords = m.flags.keywords;
    const std::string& bytes = m.bytes;
    auto appended = co_await env_.pool->run([&] { return st->append(bytes, date, targets); });
    if (!appended) co_return ok(store_failure(appended.error(), "APPEND"));
    if (!appended->empty()) {
      uidvalidity = appended->front().uidvalidity;
      uids.add(appended->front().uid);
    }
    std::string().swap(m.bytes);  // free the literal as soon as it is stored
  }
  co_return ok(fmt::format("OK [APPENDUID {} {}] APPEND completed", uidvalidity, uids.to_string()));
}

asio::awaitable<Reply> Session::do_enable(const proto::Enable& cmd) {
  std::string enabled;
  for (const std::string& cap : cmd.capabilities) {
    if (cap == "CONDSTORE" && !condstore_) {
      condstore_ = true;
      if (selected_) selected_->view->enable_condstore();
      enabled += " CONDSTORE";
    }
  }
  // RFC 5161 3.2: ENABLED lists what this command newly enabled.
  std::string text = "* ENABLED" + enabled;
  if (!co_await line(text)) co_return Reply{"", FlushMode::kAll, false, true};
  co_return ok("OK ENABLE completed");
}


}  // namespace tern::imap::detail
