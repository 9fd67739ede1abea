// smtp/recipients.h: where a RCPT TO address goes (RFC 5321 3.6, 4.5.1).
//
// Resolves one recipient against the store: local accounts (by exact address, then with
// the recipient delimiter's tag removed, user+tag@domain -> user@domain), aliases expanded
// to local and remote targets (recursively, with loop protection and a depth limit), the
// reserved postmaster mailbox, and remote domains (relay only when the client may relay).
//
// Blocking (store lookups): sessions call it through the store executor. Thread-safe as
// long as the store is.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "store/mail_store.h"

namespace tern::smtp {

// Alias chains longer than this are cut (RFC 5321 6.2 asks for loop detection).
inline constexpr std::size_t kMaxAliasDepth = 10;
// Most addresses one recipient may expand to through aliases.
inline constexpr std::size_t kMaxExpansion = 1000;

struct LocalTarget {
  store::Id account_id = 0;
  std::string account;      // the account's address
  store::Id inbox_id = 0;   // its INBOX
};

struct Resolution {
  enum class Kind {
    kAccepted,     // at least one local target or remote address
    kUnknownUser,  // a local domain without such a user: 550 5.1.1
    kRelayDenied,  // a remote domain and the client may not relay: 554 5.7.1
  };
  Kind kind = Kind::kUnknownUser;
  std::vector<LocalTarget> local;   // distinct accounts
  std::vector<std::string> remote;  // distinct addresses to queue for delivery elsewhere
};

class RecipientResolver {
 public:
  RecipientResolver(store::MailStore& store, const config::Smtp& config)
      : store_(store), config_(config) {}

  // `local` is the recipient's local part (dequoted), `domain` its domain ("" for the bare
  // RCPT TO:<Postmaster>, which goes to `default_domain`). `raw` is the address as the
  // client wrote it (kept for remote delivery). Store failures are returned as errors.
  Result<Resolution> resolve(std::string_view local, std::string_view domain, std::string_view raw,
                             bool may_relay, std::string_view default_domain);

  // True when `sender` may be used as MAIL FROM by `account`: it is the account itself,
  // the account with a +tag, or an alias whose targets include the account.
  Result<bool> may_send_as(std::string_view sender, std::string_view account);

 private:
  struct Walk;
  Status expand(std::string_view address, std::size_t depth, Walk& walk);
  Result<bool> is_local_domain(std::string_view domain);

  store::MailStore& store_;
  const config::Smtp& config_;
};

}  // namespace tern::smtp
