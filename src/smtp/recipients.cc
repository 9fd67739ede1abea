#include "smtp/recipients.h"

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

#include "base/strings.h"

namespace tern::smtp {

struct RecipientResolver::Walk {
  std::set<std::string> visited;  // normalized addresses already expanded
  std::vector<LocalTarget> local;
  std::vector<std::string> remote;
  std::size_t count = 0;
};

namespace {

// "Domain." -> "domain": names compare in lower case without the root's dot.
std::string canonical_domain(std::string_view domain) {
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  return ascii_lower(domain);
}

// "user+tag" -> "user" when the delimiter occurs (not at the start); nullopt otherwise.
std::optional<std::string_view> strip_tag(std::string_view local, std::string_view delimiter) {
  if (delimiter.empty()) return std::nullopt;
  auto pos = local.find(delimiter);
  if (pos == std::string_view::npos || pos == 0) return std::nullopt;
  return local.substr(0, pos);
}

}  // namespace

Result<bool> RecipientResolver::is_local_domain(std::string_view domain) {
  if (domain.empty() || domain.front() == '[') return false;  // address literals are never ours
  auto found = store_.find_domain(domain);
  if (!found) return tl::unexpected(found.error());
  return found->has_value();
}

Status RecipientResolver::expand(std::string_view address, std::size_t depth, Walk& walk) {
  if (depth > kMaxAliasDepth || walk.count >= kMaxExpansion) return ok();
  auto parts = store::split_address(address);
  if (!parts) return ok();  // an alias target that is not an address: nothing to deliver
  std::string domain = canonical_domain(parts->second);
  std::string key = ascii_lower(parts->first) + "@" + domain;
  if (!walk.visited.insert(key).second) return ok();  // a loop, or reached twice
  ++walk.count;

  auto local_domain = is_local_domain(domain);
  if (!local_domain) return tl::unexpected(local_domain.error());
  if (!*local_domain) {
    std::string target(address);
    auto same = [&](const std::string& r) { return ascii_lower(r) == ascii_lower(target); };
    if (std::none_of(walk.remote.begin(), walk.remote.end(), same)) walk.remote.push_back(target);
    return ok();
  }

  auto alias = store_.find_alias(key);
  if (!alias) return tl::unexpected(alias.error());
  if (alias->has_value()) {
    for (const std::string& target : (*alias)->targets) {
      if (auto st = expand(target, depth + 1, walk); !st) return st;
    }
    return ok();
  }

  auto account = store_.find_account(key);
  if (!account) return tl::unexpected(account.error());
  if (account->has_value()) {
    const store::Account& acct = **account;
    for (const LocalTarget& t : walk.local) {
      if (t.account_id == acct.id) return ok();
    }
    auto inbox = store_.find_mailbox(acct.id, "INBOX");
    if (!inbox) return tl::unexpected(inbox.error());
    store::Id inbox_id = 0;
    if (inbox->has_value()) {
      inbox_id = (*inbox)->id;
    } else {
      // Every account has an INBOX (RFC 3501 5.1); recreate one that went missing.
      auto created = store_.create_mailbox(acct.id, "INBOX", store::SpecialUse::kNone);
      if (!created) return tl::unexpected(created.error());
      inbox_id = created->id;
    }
    walk.local.push_back(LocalTarget{acct.id, acct.address, inbox_id});
    return ok();
  }

  std::string_view local = parts->first;
  if (auto base = strip_tag(local, config_.recipient_delimiter)) {
    std::string untagged = std::string(*base) + "@" + domain;
    return expand(untagged, depth + 1, walk);
  }
  if (ascii_lower(local) == "postmaster" && !config_.postmaster.empty()) {
    return expand(config_.postmaster, depth + 1, walk);
  }
  return ok();  // unknown here; the caller decides what an empty walk means
}

Result<Resolution> RecipientResolver::resolve(std::string_view local, std::string_view domain,
                                              std::string_view raw, bool may_relay,
                                              std::string_view default_domain) {
  Resolution res;
  std::string dom = canonical_domain(domain.empty() ? default_domain : domain);
  auto local_domain = is_local_domain(dom);
  if (!local_domain) return tl::unexpected(local_domain.error());
  if (!*local_domain) {
    if (domain.empty() && !config_.postmaster.empty()) {
      // RCPT TO:<Postmaster> on a host whose name is not a mail domain here.
      Walk walk;
      if (auto st = expand(config_.postmaster, 0, walk); !st) return tl::unexpected(st.error());
      res.local = std::move(walk.local);
      res.remote = std::move(walk.remote);
      res.kind = res.local.empty() && res.remote.empty() ? Resolution::Kind::kUnknownUser
                                                          : Resolution::Kind::kAccepted;
      return res;
    }
    if (domain.empty()) return res;  // <Postmaster> with nowhere to go
    if (!may_relay) {
      res.kind = Resolution::Kind::kRelayDenied;
      return res;
    }
    res.kind = Resolution::Kind::kAccepted;
    res.remote.emplace_back(raw);
    return res;
  }
  Walk walk;
  std::string address = std::string(local) + "@" + dom;
  if (auto st = expand(address, 0, walk); !st) return tl::unexpected(st.error());
  res.local = std::move(walk.local);
  res.remote = std::move(walk.remote);
  res.kind = res.local.empty() && res.remote.empty() ? Resolution::Kind::kUnknownUser
                                                      : Resolution::Kind::kAccepted;
  return res;
}

Result<bool> RecipientResolver::may_send_as(std::string_view sender, std::string_view account) {
  auto parts = store::split_address(sender);
  if (!parts) return false;
  std::string domain = canonical_domain(parts->second);
  std::string want = ascii_lower(account);
  std::vector<std::string> candidates{ascii_lower(parts->first) + "@" + domain};
  if (auto base = strip_tag(parts->first, config_.recipient_delimiter)) {
    candidates.push_back(ascii_lower(*base) + "@" + domain);
  }
  for (const std::string& candidate : candidates) {
    if (candidate == want) return true;
    auto alias = store_.find_alias(candidate);
    if (!alias) return tl::unexpected(alias.error());
    if (!alias->has_value()) continue;
    for (const std::string& target : (*alias)->targets) {
      if (ascii_lower(target) == want) return true;
    }
  }
  return false;
}

}  // namespace tern::smtp
