// queue/policy.h: the pure decisions of the outbound queue: when to try an entry again
// (exponential back-off, RFC 5321 4.5.4.1), when to give up on it, which recipients go
// together in one SMTP transaction (same domain), and where a domain's mail goes when the
// configuration routes it explicitly ([[route]]).
//
// Pure; no clock (times are passed in, Unix seconds), no I/O; safe from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/types.h"

namespace tern::queue {

struct RetryPolicy {
  int64_t base = 300;         // seconds before the second attempt; doubled after each further one
  int64_t max = 3600;         // the delay never grows past this
  int64_t max_age = 5 * 86400;  // a recipient still deferred this long after queueing fails
};

// When to try again after `attempts` attempts (counting the one just made; >= 1) ending at
// `now`: now + min(base * 2^(attempts - 1), max).
int64_t next_attempt(const RetryPolicy& policy, int64_t now, uint32_t attempts);

// An entry queued at `created` has expired at `now` when its age reaches max_age; then every
// deferred outcome (kQueued) becomes kFailed, its reply kept after kExpiredPrefix.
bool expired(const RetryPolicy& policy, int64_t created, int64_t now);
void expire_deferred(std::vector<store::RecipientOutcome>& outcomes);
inline constexpr std::string_view kExpiredPrefix = "delivery time expired; last: ";

// The kQueued recipients of `message` by lower-cased domain (indices into recipients, in
// order). Addresses without '@' are grouped under "".
std::map<std::string, std::vector<std::size_t>> pending_by_domain(const store::OutboundMessage& message);

// One [[route]]: mail for `domain` goes to host:port instead of the domain's MX.
struct Route {
  std::string domain;  // lower case; "*" matches every domain without a route of its own
  std::string host;    // a name or an address
  uint16_t port = 25;
};
// The route for `domain` (lower case): its own, else "*", else nullopt (use DNS MX).
std::optional<Route> find_route(std::span<const Route> routes, const std::string& domain);

}  // namespace tern::queue
