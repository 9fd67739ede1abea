// store/testing/fake_mail_store.cc: the in-memory test MailStore (see fake_mail_store.h).
#include "store/testing/fake_mail_store.h"

#include <algorithm>

#include "base/clock.h"
#include "store/keywords.h"
#include "store/queue_checks.h"

namespace tern::store::testing {
namespace {

tl::unexpected<Error> not_in_fake() { return make_error(ErrorCode::kInternal, "not in fake"); }

int64_t now_seconds() { return unix_seconds(SystemClock::instance().now()); }

constexpr std::pair<const char*, SpecialUse> kDefaultMailboxes[] = {
    {"INBOX", SpecialUse::kNone},  {"Drafts", SpecialUse::kDrafts}, {"Sent", SpecialUse::kSent},
    {"Trash", SpecialUse::kTrash}, {"Junk", SpecialUse::kJunk},     {"Archive", SpecialUse::kArchive}};

bool valid_mailbox_name(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.back() == '/') return false;
  if (name.find("//") != std::string_view::npos) return false;
  return name.find_first_of(std::string_view("\0\r\n", 3)) == std::string_view::npos;
}

std::vector<uint32_t> sorted_unique(std::span<const uint32_t> uids) {
  std::vector<uint32_t> v(uids.begin(), uids.end());
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace

// ---- Private helpers (mu_ held)

Status FakeMailStore::wrote(std::vector<MailboxChange> events, std::unique_lock<std::mutex>& lock) {
  ++commits_;
  lock.unlock();
  if (feed_ != nullptr) {
    for (const auto& e : events) feed_->publish(e);
  }
  return ok();
}

Id FakeMailStore::insert_account(std::string_view address, Id domain_id, std::string password_hash,
                                 std::vector<MailboxChange>& events) {
  Account a{next_id_++, std::string(address), domain_id, std::move(password_hash), now_seconds()};
  accounts_[a.address] = a;
  for (const auto& [name, use] : kDefaultMailboxes) {
    const Mailbox& m = insert_mailbox(a.id, name, use, true);
    events.push_back(MailboxChange{MailboxChange::Kind::kMailboxCreated, a.id, m.id, m.highestmodseq, {}});
  }
  return a.id;
}

Mailbox& FakeMailStore::insert_mailbox(Id account_id, std::string_view name, SpecialUse use, bool subscribed) {
  Box b;
  b.mailbox.id = next_mailbox_++;
  b.mailbox.account_id = account_id;
  b.mailbox.name = std::string(name);
  b.mailbox.uidvalidity = ++last_uidvalidity_;
  b.mailbox.special_use = use;
  b.mailbox.subscribed = subscribed;
  const Id id = b.mailbox.id;
  return boxes_.emplace(id, std::move(b)).first->second.mailbox;
}

void FakeMailStore::release_blob(Id blob_id) {
  auto it = blobs_.find(blob_id);
  if (it != blobs_.end() && --it->second.holders <= 0) blobs_.erase(it);
}

void FakeMailStore::erase_box(std::map<Id, Box>::iterator it) {
  for (const auto& [uid, m] : it->second.messages) release_blob(m.blob_id);
  boxes_.erase(it);
}

FakeMailStore::Box* FakeMailStore::find_box(Id mailbox_id) {
  auto it = boxes_.find(mailbox_id);
  return it == boxes_.end() ? nullptr : &it->second;
}

// ---- Test setup

Id FakeMailStore::add_account_with_hash(const std::string& address, std::string password_hash) {
  std::unique_lock lock(mu_);
  std::vector<MailboxChange> events;
  const Id id = insert_account(address, 0, std::move(password_hash), events);
  (void)wrote(std::move(events), lock);
  return id;
}

Id FakeMailStore::add_app_password_with_hash(Id account_id, std::string hash) {
  std::lock_guard lock(mu_);
  AppPassword p;
  p.id = next_id_++;
  p.account_id = account_id;
  p.label = "phone";
  p.hash = std::move(hash);
  apps_[p.id] = p;
  return p.id;
}

// ---- Domains

Result<Domain> FakeMailStore::add_domain(std::string_view name) {
  if (name.empty() || name.back() == '.' || name.find('@') != std::string_view::npos) {
    return make_error(ErrorCode::kInvalid, "bad domain name '{}'", name);
  }
  std::unique_lock lock(mu_);
  if (domains_.count(name) != 0) return make_error(ErrorCode::kExists, "domain {} exists", name);
  Domain d{next_domain_++, std::string(name)};
  domains_.emplace(d.name, d);
  (void)wrote({}, lock);
  return d;
}

Status FakeMailStore::delete_domain(std::string_view name) {
  std::unique_lock lock(mu_);
  auto it = domains_.find(name);
  if (it == domains_.end()) return make_error(ErrorCode::kNotFound, "no domain {}", name);
  const Id id = it->second.id;
  const bool accounts = std::any_of(accounts_.begin(), accounts_.end(), [&](const auto& a) { return a.second.domain_id == id; });
  const bool aliases = std::any_of(aliases_.begin(), aliases_.end(), [&](const auto& a) {
    auto parts = split_address(a.first);
    return parts && parts->second == name;
  });
  if (accounts || aliases) return make_error(ErrorCode::kBusy, "domain {} has accounts or aliases", name);
  domains_.erase(it);
  return wrote({}, lock);
}

Result<std::vector<Domain>> FakeMailStore::list_domains() {
  std::lock_guard lock(mu_);
  std::vector<Domain> out;
  for (const auto& [name, d] : domains_) out.push_back(d);
  return out;
}

Result<std::optional<Domain>> FakeMailStore::find_domain(std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = domains_.find(name);
  if (it == domains_.end()) return std::optional<Domain>();
  return std::optional<Domain>(it->second);
}

// ---- Accounts

Result<Account> FakeMailStore::add_account(std::string_view address, std::string_view password_hash) {
  auto parts = split_address(address);
  if (!parts) return make_error(ErrorCode::kInvalid, "bad address '{}'", address);
  std::unique_lock lock(mu_);
  auto d = domains_.find(parts->second);
  if (d == domains_.end()) return make_error(ErrorCode::kNotFound, "no domain {}", parts->second);
  if (accounts_.count(address) != 0) return make_error(ErrorCode::kExists, "account {} exists", address);
  std::vector<MailboxChange> events;
  insert_account(address, d->second.id, std::string(password_hash), events);
  Account a = accounts_.find(address)->second;
  (void)wrote(std::move(events), lock);
  return a;
}

Status FakeMailStore::delete_account(std::string_view address) {
  std::unique_lock lock(mu_);
  auto it = accounts_.find(address);
  if (it == accounts_.end()) return make_error(ErrorCode::kNotFound, "no account {}", address);
  const Id id = it->second.id;
  std::vector<MailboxChange> events;
  for (auto b = boxes_.begin(); b != boxes_.end();) {
    auto next = std::next(b);
    if (b->second.mailbox.account_id == id) {
      events.push_back(MailboxChange{MailboxChange::Kind::kMailboxDeleted, id, b->first,
                                     b->second.mailbox.highestmodseq, {}});
      erase_box(b);
    }
    b = next;
  }
  std::erase_if(apps_, [&](const auto& p) { return p.second.account_id == id; });
  accounts_.erase(it);
  return wrote(std::move(events), lock);
}

Result<std::vector<Account>> FakeMailStore::list_accounts() {
  std::lock_guard lock(mu_);
  std::vector<Account> out;
  for (const auto& [address, a] : accounts_) out.push_back(a);
  return out;
}

Result<std::optional<Account>> FakeMailStore::find_account(std::string_view address) {
  std::lock_guard lock(mu_);
  if (fail_lookups) return make_error(ErrorCode::kUnavailable, "database down");
  auto it = accounts_.find(address);
  if (it == accounts_.end()) return std::optional<Account>();
  return std::optional<Account>(it->second);
}

Result<std::optional<Account>> FakeMailStore::find_account_by_id(Id id) {
  std::lock_guard lock(mu_);
  for (const auto& [address, a] : accounts_) {
    if (a.id == id) return std::optional<Account>(a);
  }
  return std::optional<Account>();
}

Status FakeMailStore::set_password(Id account_id, std::string_view password_hash) {
  std::unique_lock lock(mu_);
  for (auto& [address, a] : accounts_) {
    if (a.id == account_id) {
      a.password_hash = std::string(password_hash);
      return wrote({}, lock);
    }
  }
  return make_error(ErrorCode::kNotFound, "no account {}", account_id);
}

// ---- Aliases

Status FakeMailStore::add_alias(std::string_view address, std::span<const std::string> targets) {
  auto parts = split_address(address);
  if (!parts) return make_error(ErrorCode::kInvalid, "bad alias address '{}'", address);
  if (targets.empty()) return make_error(ErrorCode::kInvalid, "alias {} needs a target", address);
  for (const auto& t : targets) {
    if (!split_address(t)) return make_error(ErrorCode::kInvalid, "bad alias target '{}'", t);
  }
  std::unique_lock lock(mu_);
  if (domains_.count(parts->second) == 0) {
    return make_error(ErrorCode::kNotFound, "alias domain {} is not local", parts->second);
  }
  auto& list = aliases_[std::string(address)];
  for (const auto& t : targets) {
    if (std::find(list.begin(), list.end(), t) == list.end()) list.push_back(t);
  }
  return wrote({}, lock);
}

Status FakeMailStore::delete_alias(std::string_view address, std::span<const std::string> targets) {
  std::unique_lock lock(mu_);
  auto it = aliases_.find(address);
  if (it == aliases_.end()) return make_error(ErrorCode::kNotFound, "no alias {}", address);
  if (targets.empty()) {
    aliases_.erase(it);
    return wrote({}, lock);
  }
  const std::size_t before = it->second.size();
  std::erase_if(it->second, [&](const std::string& t) {
    return std::find(targets.begin(), targets.end(), t) != targets.end();
  });
  if (it->second.size() == before) return make_error(ErrorCode::kNotFound, "no alias {} with those targets", address);
  if (it->second.empty()) aliases_.erase(it);
  return wrote({}, lock);
}

Result<std::vector<Alias>> FakeMailStore::list_aliases() {
  std::lock_guard lock(mu_);
  std::vector<Alias> out;
  for (const auto& [address, targets] : aliases_) out.push_back(Alias{address, targets});
  return out;
}

Result<std::optional<Alias>> FakeMailStore::find_alias(std::string_view address) {
  std::lock_guard lock(mu_);
  auto it = aliases_.find(address);
  if (it == aliases_.end()) return std::optional<Alias>();
  return std::optional<Alias>(Alias{it->first, it->second});
}

// ---- App passwords

Result<AppPassword> FakeMailStore::add_app_password(Id account_id, std::string_view label, std::string_view hash) {
  std::unique_lock lock(mu_);
  if (std::none_of(accounts_.begin(), accounts_.end(), [&](const auto& a) { return a.second.id == account_id; })) {
    return make_error(ErrorCode::kNotFound, "no account {}", account_id);
  }
  AppPassword p{next_id_++, account_id, std::string(label), std::string(hash), now_seconds(), 0};
  apps_[p.id] = p;
  (void)wrote({}, lock);
  return p;
}

Result<std::vector<AppPassword>> FakeMailStore::list_app_passwords(Id account_id) {
  std::lock_guard lock(mu_);
  std::vector<AppPassword> out;
  for (const auto& [id, p] : apps_) {
    if (p.account_id == account_id) out.push_back(p);
  }
  return out;
}

Status FakeMailStore::delete_app_password(Id account_id, Id app_password_id) {
  std::unique_lock lock(mu_);
  auto it = apps_.find(app_password_id);
  if (it == apps_.end() || it->second.account_id != account_id) {
    return make_error(ErrorCode::kNotFound, "no such app password");
  }
  apps_.erase(it);
  return wrote({}, lock);
}

Status FakeMailStore::touch_app_password(Id app_password_id, int64_t when) {
  std::unique_lock lock(mu_);
  touched[app_password_id] = when;
  auto it = apps_.find(app_password_id);
  if (it != apps_.end()) it->second.last_used = when;
  return wrote({}, lock);
}

// ---- Mailboxes

Result<std::vector<Mailbox>> FakeMailStore::list_mailboxes(Id account_id) {
  std::lock_guard lock(mu_);
  std::vector<Mailbox> out;
  for (const auto& [id, b] : boxes_) {
    if (b.mailbox.account_id == account_id) out.push_back(b.mailbox);
  }
  std::sort(out.begin(), out.end(), [](const Mailbox& x, const Mailbox& y) { return x.name < y.name; });
  return out;
}

Result<std::optional<Mailbox>> FakeMailStore::find_mailbox(Id account_id, std::string_view name) {
  std::lock_guard lock(mu_);
  for (const auto& [id, b] : boxes_) {
    if (b.mailbox.account_id == account_id && b.mailbox.name == name) return std::optional<Mailbox>(b.mailbox);
  }
  return std::optional<Mailbox>();
}

Result<std::optional<Mailbox>> FakeMailStore::get_mailbox(Id mailbox_id) {
  std::lock_guard lock(mu_);
  const Box* b = find_box(mailbox_id);
  if (b == nullptr) return std::optional<Mailbox>();
  return std::optional<Mailbox>(b->mailbox);
}

Result<Mailbox> FakeMailStore::create_mailbox(Id account_id, std::string_view name, SpecialUse special_use) {
  if (!valid_mailbox_name(name)) return make_error(ErrorCode::kInvalid, "bad mailbox name '{}'", name);
  std::unique_lock lock(mu_);
  if (std::none_of(accounts_.begin(), accounts_.end(), [&](const auto& a) { return a.second.id == account_id; })) {
    return make_error(ErrorCode::kNotFound, "no account {}", account_id);
  }
  for (const auto& [id, b] : boxes_) {
    if (b.mailbox.account_id == account_id && b.mailbox.name == name) {
      return make_error(ErrorCode::kExists, "mailbox {} exists", name);
    }
  }
  Mailbox m = insert_mailbox(account_id, name, special_use, false);
  (void)wrote({MailboxChange{MailboxChange::Kind::kMailboxCreated, account_id, m.id, m.highestmodseq, {}}}, lock);
  return m;
}

Status FakeMailStore::delete_mailbox(Id mailbox_id) {
  std::unique_lock lock(mu_);
  auto it = boxes_.find(mailbox_id);
  if (it == boxes_.end()) return make_error(ErrorCode::kNotFound, "no mailbox {}", mailbox_id);
  if (it->second.mailbox.name == "INBOX") return make_error(ErrorCode::kInvalid, "INBOX cannot be deleted");
  MailboxChange e{MailboxChange::Kind::kMailboxDeleted, it->second.mailbox.account_id, mailbox_id,
                  it->second.mailbox.highestmodseq, {}};
  erase_box(it);
  return wrote({e}, lock);
}

Status FakeMailStore::rename_mailbox(Id, std::string_view) { return not_in_fake(); }

Status FakeMailStore::set_subscribed(Id mailbox_id, bool subscribed) {
  std::unique_lock lock(mu_);
  Box* b = find_box(mailbox_id);
  if (b == nullptr) return make_error(ErrorCode::kNotFound, "no mailbox {}", mailbox_id);
  b->mailbox.subscribed = subscribed;
  return wrote({}, lock);
}

// ---- Messages

Result<std::vector<Appended>> FakeMailStore::append(std::string_view bytes, int64_t internal_date,
                                                    std::span<const AppendTarget> targets) {
  if (targets.empty()) return make_error(ErrorCode::kInvalid, "append without a target mailbox");
  auto d = deliver(bytes, internal_date, targets, nullptr);
  if (!d) return tl::unexpected(d.error());
  return std::move(d->appended);
}

Result<Delivered> FakeMailStore::deliver(std::string_view bytes, int64_t internal_date,
                                         std::span<const AppendTarget> targets, const OutboundMessage* outbound) {
  if (auto s = check_delivery(bytes, targets, outbound); !s) return tl::unexpected(s.error());
  std::unique_lock lock(mu_);
  // Check every target before changing anything: all or nothing.
  std::map<Id, uint64_t> next_uid;
  for (const AppendTarget& t : targets) {
    const Box* b = find_box(t.mailbox_id);
    if (b == nullptr) return make_error(ErrorCode::kNotFound, "no mailbox {}", t.mailbox_id);
    auto [it, fresh] = next_uid.emplace(t.mailbox_id, b->mailbox.uidnext);
    if (!fresh) ++it->second;
    if (it->second >= UINT32_MAX) return make_error(ErrorCode::kLimit, "mailbox {} has run out of UIDs", t.mailbox_id);
  }
  const Id blob_id = next_blob_++;
  blobs_[blob_id] = Blob{std::string(bytes), static_cast<int>(targets.size() + (outbound != nullptr ? 1 : 0))};
  Delivered out;
  std::vector<MailboxChange> events;
  for (const AppendTarget& t : targets) {
    Box& b = *find_box(t.mailbox_id);
    Message m;
    m.mailbox_id = t.mailbox_id;
    m.uid = b.mailbox.uidnext++;
    m.modseq = ++b.mailbox.highestmodseq;
    m.flags = t.flags & kAllFlags;
    m.keywords = normalize_keywords(t.keywords);
    m.internal_date = internal_date;
    m.size = bytes.size();
    m.blob_id = blob_id;
    b.messages[m.uid] = m;
    b.mailbox.messages += 1;
    b.mailbox.total_size += bytes.size();
    out.appended.push_back(Appended{t.mailbox_id, b.mailbox.uidvalidity, m.uid, m.modseq});
    auto same = std::find_if(events.begin(), events.end(),
                             [&](const MailboxChange& e) { return e.mailbox_id == t.mailbox_id; });
    if (same == events.end()) {
      events.push_back(MailboxChange{MailboxChange::Kind::kAppend, b.mailbox.account_id, t.mailbox_id, m.modseq, {m.uid}});
    } else {
      same->modseq = m.modseq;
      same->uids.push_back(m.uid);
    }
  }
  if (outbound != nullptr) {
    QueueEntry e;
    e.id = next_queue_++;
    e.blob_id = blob_id;
    e.size = bytes.size();
    e.created = e.next_attempt = now_seconds();
    e.message = *outbound;
    queue_[e.id] = e;
    out.queue_id = e.id;
  }
  appends_ += targets.size();
  (void)wrote(std::move(events), lock);
  return out;
}

Result<std::vector<Message>> FakeMailStore::list_messages(Id mailbox_id, uint32_t first_uid, uint32_t last_uid) {
  std::lock_guard lock(mu_);
  std::vector<Message> out;
  const Box* b = find_box(mailbox_id);
  if (b == nullptr || first_uid > last_uid) return out;
  for (auto it = b->messages.lower_bound(first_uid); it != b->messages.end() && it->first <= last_uid; ++it) {
    out.push_back(it->second);
  }
  return out;
}

Result<std::vector<FlagChange>> FakeMailStore::store_flags(Id, std::span<const uint32_t>, FlagOp, uint32_t,
                                                           std::span<const std::string>, std::optional<uint64_t>,
                                                           std::vector<uint32_t>*) {
  return not_in_fake();
}

Result<Copied> FakeMailStore::copy_messages(Id, std::span<const uint32_t>, Id) { return not_in_fake(); }

Result<std::pair<Copied, Expunged>> FakeMailStore::move_messages(Id, std::span<const uint32_t>, Id) {
  return not_in_fake();
}

Result<Expunged> FakeMailStore::expunge(Id mailbox_id, std::span<const uint32_t> uids) {
  std::unique_lock lock(mu_);
  Box* b = find_box(mailbox_id);
  if (b == nullptr) return make_error(ErrorCode::kNotFound, "no mailbox {}", mailbox_id);
  Expunged out;
  const uint64_t modseq = b->mailbox.highestmodseq + 1;
  for (uint32_t uid : sorted_unique(uids)) {
    auto it = b->messages.find(uid);
    if (it == b->messages.end()) continue;
    b->mailbox.messages -= 1;
    b->mailbox.total_size -= it->second.size;
    release_blob(it->second.blob_id);
    b->messages.erase(it);
    b->expunged[uid] = modseq;
    out.uids.push_back(uid);
  }
  if (out.uids.empty()) return out;
  out.modseq = modseq;
  b->mailbox.highestmodseq = modseq;
  (void)wrote({MailboxChange{MailboxChange::Kind::kExpunge, b->mailbox.account_id, mailbox_id, modseq, out.uids}}, lock);
  return out;
}

Result<std::vector<uint32_t>> FakeMailStore::expunged_since(Id mailbox_id, uint64_t since) {
  std::lock_guard lock(mu_);
  std::vector<uint32_t> out;
  const Box* b = find_box(mailbox_id);
  if (b == nullptr) return out;
  for (const auto& [uid, modseq] : b->expunged) {
    if (modseq > since) out.push_back(uid);
  }
  return out;
}

// ---- The outbound queue

Result<std::vector<QueueEntry>> FakeMailStore::list_queue() {
  std::lock_guard lock(mu_);
  std::vector<QueueEntry> out;
  for (const auto& [id, e] : queue_) out.push_back(e);  // by id
  std::stable_sort(out.begin(), out.end(), [](const QueueEntry& x, const QueueEntry& y) { return x.created < y.created; });
  return out;
}

Status FakeMailStore::delete_queue_entry(Id id) {
  std::unique_lock lock(mu_);
  auto it = queue_.find(id);
  if (it == queue_.end()) return make_error(ErrorCode::kNotFound, "no queue entry {}", id);
  release_blob(it->second.blob_id);
  queue_.erase(it);
  return wrote({}, lock);
}

Result<std::vector<QueueEntry>> FakeMailStore::claim_due(int64_t now, std::size_t limit, std::string_view owner,
                                                         int64_t lease_seconds) {
  if (owner.empty()) return make_error(ErrorCode::kInvalid, "a queue lease needs an owner");
  std::unique_lock lock(mu_);
  std::vector<QueueEntry*> due;
  for (auto& [id, e] : queue_) {
    const bool pending = std::any_of(e.message.recipients.begin(), e.message.recipients.end(),
                                     [](const OutboundRecipient& r) { return r.state == QueueState::kQueued; });
    const bool leased = !e.lease_owner.empty() && e.lease_until > now;
    if (e.next_attempt <= now && !e.held && pending && !leased) due.push_back(&e);
  }
  std::stable_sort(due.begin(), due.end(),
                   [](const QueueEntry* x, const QueueEntry* y) { return x->next_attempt < y->next_attempt; });
  if (due.size() > limit) due.resize(limit);
  std::vector<QueueEntry> out;
  for (QueueEntry* e : due) {
    e->lease_owner = std::string(owner);
    e->lease_until = now + lease_seconds;
    out.push_back(*e);
  }
  if (!out.empty()) (void)wrote({}, lock);
  return out;
}

Status FakeMailStore::record_attempt(Id id, std::string_view owner, std::span<const RecipientOutcome> outcomes,
                                     int64_t next_attempt) {
  std::unique_lock lock(mu_);
  auto it = queue_.find(id);
  if (it == queue_.end()) return make_error(ErrorCode::kNotFound, "no queue entry {}", id);
  QueueEntry& e = it->second;
  if (e.lease_owner.empty() || e.lease_owner != owner) {
    return make_error(ErrorCode::kBusy, "queue entry {} is not leased to {}", id, owner);
  }
  for (const RecipientOutcome& o : outcomes) {
    if (o.index >= e.message.recipients.size()) {
      return make_error(ErrorCode::kInvalid, "queue entry {} has no recipient {}", id, o.index);
    }
  }
  for (const RecipientOutcome& o : outcomes) {
    e.message.recipients[o.index].state = o.state;
    e.message.recipients[o.index].last_error = o.reply;
  }
  e.attempts += 1;
  e.next_attempt = next_attempt;
  e.lease_owner.clear();
  e.lease_until = 0;
  return wrote({}, lock);
}

Status FakeMailStore::set_queue_held(Id id, bool held) {
  std::unique_lock lock(mu_);
  auto it = queue_.find(id);
  if (it == queue_.end()) return make_error(ErrorCode::kNotFound, "no queue entry {}", id);
  it->second.held = held;
  return wrote({}, lock);
}

Status FakeMailStore::retry_queue_entry(Id id, int64_t now) {
  std::unique_lock lock(mu_);
  auto it = queue_.find(id);
  if (it == queue_.end()) return make_error(ErrorCode::kNotFound, "no queue entry {}", id);
  it->second.next_attempt = now;
  return wrote({}, lock);
}

Result<Id> FakeMailStore::import_queue_entry(const QueueEntry& entry, std::string_view bytes) {
  if (auto s = check_queue_entry(entry, bytes); !s) return tl::unexpected(s.error());
  std::unique_lock lock(mu_);
  QueueEntry e = entry;
  e.id = next_queue_++;
  e.held = false;
  e.lease_owner.clear();
  e.lease_until = 0;
  e.blob_id = next_blob_++;
  e.size = bytes.size();
  blobs_[e.blob_id] = Blob{std::string(bytes), 1};
  queue_[e.id] = e;
  (void)wrote({}, lock);
  return e.id;
}

// ---- Message bytes

Result<std::string> FakeMailStore::read_blob(Id blob_id) {
  std::lock_guard lock(mu_);
  auto it = blobs_.find(blob_id);
  if (it == blobs_.end()) return make_error(ErrorCode::kNotFound, "no blob {}", blob_id);
  return it->second.bytes;
}

Result<std::unique_ptr<BlobReader>> FakeMailStore::open_blob(Id blob_id) {
  auto bytes = read_blob(blob_id);
  if (!bytes) return tl::unexpected(bytes.error());
  return memory_blob_reader(std::move(*bytes));
}

// ---- Import

Result<std::vector<ExpungeRecord>> FakeMailStore::expunge_log(Id mailbox_id) {
  std::lock_guard lock(mu_);
  std::vector<ExpungeRecord> out;
  const Box* b = find_box(mailbox_id);
  if (b == nullptr) return out;
  for (const auto& [uid, modseq] : b->expunged) out.push_back(ExpungeRecord{uid, modseq});
  return out;
}

Result<Account> FakeMailStore::import_account(const ImportedAccount&) { return not_in_fake(); }
Result<Mailbox> FakeMailStore::import_mailbox(const ImportedMailbox&) { return not_in_fake(); }
Status FakeMailStore::import_messages(Id, std::span<const ImportedMessage>) { return not_in_fake(); }

Result<std::unique_ptr<MaildropLock>> FakeMailStore::lock_maildrop(Id account_id) {
  // Releases on destruction; holds the table, not the store.
  class Lock final : public MaildropLock {
   public:
    Lock(std::shared_ptr<MaildropLocks> locks, Id id) : locks_(std::move(locks)), id_(id) {}
    ~Lock() override {
      std::lock_guard lock(locks_->mu);
      locks_->held.erase(id_);
    }

   private:
    std::shared_ptr<MaildropLocks> locks_;
    Id id_;
  };
  if (account_id <= 0) return make_error(ErrorCode::kInvalid, "bad account id {}", account_id);
  std::lock_guard lock(maildrop_locks_->mu);
  if (!maildrop_locks_->held.insert(account_id).second) {
    return make_error(ErrorCode::kBusy, "POP3 maildrop of account {} is locked", account_id);
  }
  return std::unique_ptr<MaildropLock>(std::make_unique<Lock>(maildrop_locks_, account_id));
}

StoreStats FakeMailStore::stats() const {
  std::lock_guard lock(mu_);
  return StoreStats{commits_, appends_};
}

}  // namespace tern::store::testing
