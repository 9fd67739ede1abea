// store/copy.cc: see copy.h.
#include "store/copy.h"

#include <algorithm>
#include <map>

#include <fmt/ranges.h>

namespace tern::store {
namespace {

// UIDs listed per list_messages call: starts here, grows over sparse ranges, shrinks over
// dense ones, so neither a huge mailbox nor a huge UID gap costs much.
constexpr uint64_t kInitialWindow = 1000;
constexpr uint64_t kMaxWindow = uint64_t{1} << 16;  // bounds the Message list of one call
constexpr std::size_t kDenseWindow = 5000;

class Copier {
 public:
  Copier(MailStore& from, MailStore& to, const std::function<void(std::string_view)>& progress)
      : from_(from), to_(to), progress_(progress) {}

  Result<CopySummary> run() {
    auto domains = from_.list_domains();
    if (!domains) return tl::unexpected(domains.error());
    std::vector<std::string> clash;
    for (const Domain& d : *domains) {
      auto found = to_.find_domain(d.name);
      if (!found) return tl::unexpected(found.error());
      if (*found) clash.push_back(d.name);
    }
    if (!clash.empty()) {
      return make_error(ErrorCode::kExists, "the destination already has domain(s) {}; copy only fills a store "
                        "without them", fmt::join(clash, ", "));
    }
    auto accounts = from_.list_accounts();
    if (!accounts) return tl::unexpected(accounts.error());
    auto aliases = from_.list_aliases();
    if (!aliases) return tl::unexpected(aliases.error());

    Status s = copy_all(*domains, *accounts, *aliases);
    if (!s) {
      undo();
      return tl::unexpected(s.error());
    }
    return summary_;
  }

 private:
  Status copy_all(const std::vector<Domain>& domains, const std::vector<Account>& accounts,
                  const std::vector<Alias>& aliases) {
    for (const Domain& d : domains) {
      auto added = to_.add_domain(d.name);
      if (!added) return tl::unexpected(added.error());
      created_domains_.push_back(d.name);
      ++summary_.domains;
    }
    for (const Account& a : accounts) {
      if (progress_) progress_(a.address);
      if (auto s = copy_account(a); !s) {
        return make_error(s.error().code, "copying {}: {}", a.address, s.error().message);
      }
    }
    for (const Alias& al : aliases) {
      if (auto s = to_.add_alias(al.address, al.targets); !s) {
        return make_error(s.error().code, "copying alias {}: {}", al.address, s.error().message);
      }
      created_aliases_.push_back(al.address);
      ++summary_.aliases;
    }
    return copy_queue();
  }

  // Oldest first, so the destination lists them in the same order; one entry's bytes in
  // memory at a time.
  Status copy_queue() {
    auto queue = from_.list_queue();
    if (!queue) return tl::unexpected(queue.error());
    for (const QueueEntry& e : *queue) {
      auto bytes = from_.read_blob(e.blob_id);
      if (!bytes) return make_error(bytes.error().code, "queue entry {}: {}", e.id, bytes.error().message);
      auto id = to_.import_queue_entry(e, *bytes);
      if (!id) return make_error(id.error().code, "copying queue entry {}: {}", e.id, id.error().message);
      created_queue_.push_back(*id);
      ++summary_.queued;
    }
    return ok();
  }

  Status copy_account(const Account& a) {
    ImportedAccount in;
    in.address = a.address;
    in.password_hash = a.password_hash;
    in.created = a.created;
    auto apps = from_.list_app_passwords(a.id);
    if (!apps) return tl::unexpected(apps.error());
    in.app_passwords = std::move(*apps);
    auto dest = to_.import_account(in);
    if (!dest) return tl::unexpected(dest.error());
    created_accounts_.push_back(a.address);
    ++summary_.accounts;
    auto mailboxes = from_.list_mailboxes(a.id);
    if (!mailboxes) return tl::unexpected(mailboxes.error());
    for (const Mailbox& mb : *mailboxes) {
      if (auto s = copy_mailbox(mb, dest->id); !s) {
        return make_error(s.error().code, "mailbox {}: {}", mb.name, s.error().message);
      }
    }
    return ok();
  }

  Status copy_mailbox(const Mailbox& mb, Id dest_account) {
    ImportedMailbox in;
    in.account_id = dest_account;
    in.name = mb.name;
    in.uidvalidity = mb.uidvalidity;
    in.uidnext = mb.uidnext;
    in.highestmodseq = mb.highestmodseq;
    in.special_use = mb.special_use;
    in.subscribed = mb.subscribed;
    auto log = from_.expunge_log(mb.id);
    if (!log) return tl::unexpected(log.error());
    in.expunged = std::move(*log);
    auto dest = to_.import_mailbox(in);
    if (!dest) return tl::unexpected(dest.error());
    ++summary_.mailboxes;

    std::vector<ImportedMessage> batch;
    std::size_t batch_bytes = 0;
    auto flush = [&]() -> Status {
      if (batch.empty()) return ok();
      if (auto s = to_.import_messages(dest->id, batch); !s) return s;
      summary_.messages += batch.size();
      summary_.bytes += batch_bytes;
      batch.clear();
      batch_bytes = 0;
      return ok();
    };
    uint64_t window = kInitialWindow;
    for (uint64_t first = 1; first < mb.uidnext;) {
      const uint64_t last = std::min<uint64_t>(first + window - 1, uint64_t{mb.uidnext} - 1);
      auto msgs = from_.list_messages(mb.id, static_cast<uint32_t>(first), static_cast<uint32_t>(last));
      if (!msgs) return tl::unexpected(msgs.error());
      for (const Message& m : *msgs) {
        auto bytes = from_.read_blob(m.blob_id);
        if (!bytes) return tl::unexpected(bytes.error());
        batch_bytes += bytes->size();
        batch.push_back(ImportedMessage{m.uid, m.modseq, m.flags, m.keywords, m.internal_date, std::move(*bytes)});
        if (batch.size() >= kCopyBatchMessages || batch_bytes >= kCopyBatchBytes) {
          if (auto s = flush(); !s) return s;
        }
      }
      if (msgs->size() > kDenseWindow && window > 1) {
        window /= 2;
      } else if (msgs->size() < kDenseWindow / 10 && window < kMaxWindow) {
        window *= 2;
      }
      first = last + 1;
    }
    return flush();
  }

  // Best effort: removes what this run created, so a failed copy leaves the destination as
  // it was (accounts cascade to their mailboxes, messages and app passwords; queue entries
  // take their bytes with them).
  void undo() {
    for (Id id : created_queue_) (void)to_.delete_queue_entry(id);
    for (const std::string& a : created_accounts_) (void)to_.delete_account(a);
    for (const std::string& a : created_aliases_) (void)to_.delete_alias(a, {});
    for (const std::string& d : created_domains_) (void)to_.delete_domain(d);
  }

  MailStore& from_;
  MailStore& to_;
  const std::function<void(std::string_view)>& progress_;
  CopySummary summary_;
  std::vector<std::string> created_domains_;
  std::vector<std::string> created_accounts_;
  std::vector<std::string> created_aliases_;
  std::vector<Id> created_queue_;
};

}  // namespace

Result<CopySummary> copy_store(MailStore& from, MailStore& to, const std::function<void(std::string_view)>& progress) {
  return Copier(from, to, progress).run();
}

Status check_imported_mailbox(const ImportedMailbox& m) {
  if (m.name.empty()) return make_error(ErrorCode::kInvalid, "imported mailbox without a name");
  if (m.uidvalidity == 0) return make_error(ErrorCode::kInvalid, "mailbox {}: UIDVALIDITY 0", m.name);
  if (m.uidnext == 0 || m.highestmodseq == 0) {
    return make_error(ErrorCode::kInvalid, "mailbox {}: UIDNEXT and HIGHESTMODSEQ must be positive", m.name);
  }
  for (const ExpungeRecord& e : m.expunged) {
    if (e.uid == 0 || e.uid >= m.uidnext || e.modseq == 0 || e.modseq > m.highestmodseq) {
      return make_error(ErrorCode::kInvalid, "mailbox {}: expunged uid {} modseq {} outside UIDNEXT {} / "
                        "HIGHESTMODSEQ {}", m.name, e.uid, e.modseq, m.uidnext, m.highestmodseq);
    }
  }
  return ok();
}

Status check_imported_messages(const Mailbox& mb, std::span<const ImportedMessage> messages) {
  for (const ImportedMessage& msg : messages) {
    if (msg.uid == 0 || msg.uid >= mb.uidnext || msg.modseq == 0 || msg.modseq > mb.highestmodseq) {
      return make_error(ErrorCode::kInvalid, "mailbox {}: message uid {} modseq {} outside UIDNEXT {} / "
                        "HIGHESTMODSEQ {}", mb.name, msg.uid, msg.modseq, mb.uidnext, mb.highestmodseq);
    }
  }
  return ok();
}

}  // namespace tern::store
