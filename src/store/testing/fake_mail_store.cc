// store/testing/fake_mail_store.cc: the in-memory test MailStore (see fake_mail_store.h).
#include "store/testing/fake_mail_store.h"

namespace tern::store::testing {
namespace {

tl::unexpected<Error> not_in_fake() { return make_error(ErrorCode::kInternal, "not in fake"); }

}  // namespace

Id FakeMailStore::add_account_with_hash(const std::string& address, std::string password_hash) {
  Account a;
  a.id = next_id_++;
  a.address = address;
  a.password_hash = std::move(password_hash);
  accounts_[address] = a;
  return a.id;
}

Id FakeMailStore::add_app_password_with_hash(Id account_id, std::string hash) {
  AppPassword p;
  p.id = next_id_++;
  p.account_id = account_id;
  p.label = "phone";
  p.hash = std::move(hash);
  apps_[p.id] = p;
  return p.id;
}

Result<std::optional<Account>> FakeMailStore::find_account(std::string_view address) {
  if (fail_lookups) return make_error(ErrorCode::kUnavailable, "database down");
  auto it = accounts_.find(std::string(address));
  if (it == accounts_.end()) return std::optional<Account>();
  return std::optional<Account>(it->second);
}

Result<std::vector<AppPassword>> FakeMailStore::list_app_passwords(Id account_id) {
  std::vector<AppPassword> out;
  for (const auto& [id, p] : apps_)
    if (p.account_id == account_id) out.push_back(p);
  return out;
}

Status FakeMailStore::delete_app_password(Id account_id, Id app_password_id) {
  auto it = apps_.find(app_password_id);
  if (it == apps_.end() || it->second.account_id != account_id)
    return make_error(ErrorCode::kNotFound, "no such app password");
  apps_.erase(it);
  return ok();
}

Status FakeMailStore::touch_app_password(Id app_password_id, int64_t when) {
  touched[app_password_id] = when;
  return ok();
}

Result<Domain> FakeMailStore::add_domain(std::string_view) { return not_in_fake(); }
Status FakeMailStore::delete_domain(std::string_view) { return not_in_fake(); }
Result<std::vector<Domain>> FakeMailStore::list_domains() { return not_in_fake(); }
Result<std::optional<Domain>> FakeMailStore::find_domain(std::string_view) {
  return not_in_fake();
}
Result<Account> FakeMailStore::add_account(std::string_view, std::string_view) {
  return not_in_fake();
}
Status FakeMailStore::delete_account(std::string_view) { return not_in_fake(); }
Result<std::vector<Account>> FakeMailStore::list_accounts() { return not_in_fake(); }
Result<std::optional<Account>> FakeMailStore::find_account_by_id(Id) { return not_in_fake(); }
Status FakeMailStore::set_password(Id, std::string_view) { return not_in_fake(); }
Status FakeMailStore::add_alias(std::string_view, std::span<const std::string>) {
  return not_in_fake();
}
Status FakeMailStore::delete_alias(std::string_view, std::span<const std::string>) {
  return not_in_fake();
}
Result<std::vector<Alias>> FakeMailStore::list_aliases() { return not_in_fake(); }
Result<std::optional<Alias>> FakeMailStore::find_alias(std::string_view) { return not_in_fake(); }
Result<AppPassword> FakeMailStore::add_app_password(Id, std::string_view, std::string_view) {
  return not_in_fake();
}
Result<std::vector<Mailbox>> FakeMailStore::list_mailboxes(Id) { return not_in_fake(); }
Result<std::optional<Mailbox>> FakeMailStore::find_mailbox(Id, std::string_view) {
  return not_in_fake();
}
Result<std::optional<Mailbox>> FakeMailStore::get_mailbox(Id) { return not_in_fake(); }
Result<Mailbox> FakeMailStore::create_mailbox(Id, std::string_view, SpecialUse) {
  return not_in_fake();
}
Status FakeMailStore::delete_mailbox(Id) { return not_in_fake(); }
Status FakeMailStore::rename_mailbox(Id, std::string_view) { return not_in_fake(); }
Status FakeMailStore::set_subscribed(Id, bool) { return not_in_fake(); }
Result<std::vector<Appended>> FakeMailStore::append(std::string_view, int64_t,
                                                    std::span<const AppendTarget>) {
  return not_in_fake();
}
Result<std::vector<Message>> FakeMailStore::list_messages(Id, uint32_t, uint32_t) {
  return not_in_fake();
}
Result<std::vector<FlagChange>> FakeMailStore::store_flags(Id, std::span<const uint32_t>, FlagOp,
                                                           uint32_t, std::span<const std::string>,
                                                           std::optional<uint64_t>,
                                                           std::vector<uint32_t>*) {
  return not_in_fake();
}
Result<Copied> FakeMailStore::copy_messages(Id, std::span<const uint32_t>, Id) {
  return not_in_fake();
}
Result<std::pair<Copied, Expunged>> FakeMailStore::move_messages(Id, std::span<const uint32_t>,
                                                                 Id) {
  return not_in_fake();
}
Result<Expunged> FakeMailStore::expunge(Id, std::span<const uint32_t>) { return not_in_fake(); }
Result<std::vector<uint32_t>> FakeMailStore::expunged_since(Id, uint64_t) {
  return not_in_fake();
}
Result<std::string> FakeMailStore::read_blob(Id) { return not_in_fake(); }
Result<std::vector<ExpungeRecord>> FakeMailStore::expunge_log(Id) { return not_in_fake(); }
Result<Account> FakeMailStore::import_account(const ImportedAccount&) { return not_in_fake(); }
Result<Mailbox> FakeMailStore::import_mailbox(const ImportedMailbox&) { return not_in_fake(); }
Status FakeMailStore::import_messages(Id, std::span<const ImportedMessage>) { return not_in_fake(); }
Result<std::unique_ptr<BlobReader>> FakeMailStore::open_blob(Id) { return not_in_fake(); }
StoreStats FakeMailStore::stats() const { return {}; }

}  // namespace tern::store::testing
