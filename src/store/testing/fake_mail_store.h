// store/testing/fake_mail_store.h: an in-memory MailStore for unit tests, holding only what
// authentication reads (accounts and their app passwords). Every other method answers
// kInternal "not in fake". Test-only: built when TERN_TESTS is on, never linked into tern.
//
// Thread-safety: none. One caller at a time (a test thread, or a session's single
// BlockingPool thread while the test thread waits).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/mail_store.h"

namespace tern::store::testing {

class FakeMailStore : public MailStore {
 public:
  // Adds an account whose password hash is `password_hash` (auth::hash_password's output);
  // returns its id. Ids are shared between accounts and app passwords and start at 1.
  Id add_account_with_hash(const std::string& address, std::string password_hash);
  // Adds an app password labelled "phone" to `account_id`; returns its id.
  Id add_app_password_with_hash(Id account_id, std::string hash);

  bool fail_lookups = false;       // find_account answers kUnavailable while set
  std::map<Id, int64_t> touched;   // app password id -> the `when` of its last touch

  Result<std::optional<Account>> find_account(std::string_view address) override;
  Result<std::vector<AppPassword>> list_app_passwords(Id account_id) override;
  Status delete_app_password(Id account_id, Id app_password_id) override;
  Status touch_app_password(Id app_password_id, int64_t when) override;

  Result<Domain> add_domain(std::string_view) override;
  Status delete_domain(std::string_view) override;
  Result<std::vector<Domain>> list_domains() override;
  Result<std::optional<Domain>> find_domain(std::string_view) override;
  Result<Account> add_account(std::string_view, std::string_view) override;
  Status delete_account(std::string_view) override;
  Result<std::vector<Account>> list_accounts() override;
  Result<std::optional<Account>> find_account_by_id(Id) override;
  Status set_password(Id, std::string_view) override;
  Status add_alias(std::string_view, std::span<const std::string>) override;
  Status delete_alias(std::string_view, std::span<const std::string>) override;
  Result<std::vector<Alias>> list_aliases() override;
  Result<std::optional<Alias>> find_alias(std::string_view) override;
  Result<AppPassword> add_app_password(Id, std::string_view, std::string_view) override;
  Result<std::vector<Mailbox>> list_mailboxes(Id) override;
  Result<std::optional<Mailbox>> find_mailbox(Id, std::string_view) override;
  Result<std::optional<Mailbox>> get_mailbox(Id) override;
  Result<Mailbox> create_mailbox(Id, std::string_view, SpecialUse) override;
  Status delete_mailbox(Id) override;
  Status rename_mailbox(Id, std::string_view) override;
  Status set_subscribed(Id, bool) override;
  Result<std::vector<Appended>> append(std::string_view, int64_t,
                                       std::span<const AppendTarget>) override;
  Result<std::vector<Message>> list_messages(Id, uint32_t, uint32_t) override;
  Result<std::vector<FlagChange>> store_flags(Id, std::span<const uint32_t>, FlagOp, uint32_t,
                                              std::span<const std::string>,
                                              std::optional<uint64_t>,
                                              std::vector<uint32_t>*) override;
  Result<Copied> copy_messages(Id, std::span<const uint32_t>, Id) override;
  Result<std::pair<Copied, Expunged>> move_messages(Id, std::span<const uint32_t>, Id) override;
  Result<Expunged> expunge(Id, std::span<const uint32_t>) override;
  Result<std::vector<uint32_t>> expunged_since(Id, uint64_t) override;
  Result<std::string> read_blob(Id) override;
  Result<std::unique_ptr<BlobReader>> open_blob(Id) override;
  // Import API: not in the fake (kInternal).
  Result<std::vector<ExpungeRecord>> expunge_log(Id) override;
  Result<Account> import_account(const ImportedAccount&) override;
  Result<Mailbox> import_mailbox(const ImportedMailbox&) override;
  Status import_messages(Id, std::span<const ImportedMessage>) override;
  StoreStats stats() const override;

 private:
  Id next_id_ = 1;
  std::map<std::string, Account> accounts_;
  std::map<Id, AppPassword> apps_;
};

}  // namespace tern::store::testing
