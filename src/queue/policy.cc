#include "queue/policy.h"

#include <algorithm>

namespace tern::queue {

int64_t next_attempt(const RetryPolicy& policy, int64_t now, uint32_t attempts) {
  int64_t delay = std::max<int64_t>(policy.base, 1);
  for (uint32_t i = 1; i < attempts && delay < policy.max; ++i) delay *= 2;
  return now + std::min(delay, std::max<int64_t>(policy.max, 1));
}

bool expired(const RetryPolicy& policy, int64_t created, int64_t now) { return now - created >= policy.max_age; }

void expire_deferred(std::vector<store::RecipientOutcome>& outcomes) {
  for (store::RecipientOutcome& o : outcomes) {
    if (o.state != store::QueueState::kQueued) continue;
    o.state = store::QueueState::kFailed;
    o.reply = std::string(kExpiredPrefix) + o.reply;
  }
}

std::map<std::string, std::vector<std::size_t>> pending_by_domain(const store::OutboundMessage& message) {
  std::map<std::string, std::vector<std::size_t>> out;
  for (std::size_t i = 0; i < message.recipients.size(); ++i) {
    const store::OutboundRecipient& r = message.recipients[i];
    if (r.state != store::QueueState::kQueued) continue;
    const std::size_t at = r.address.rfind('@');
    std::string domain = at == std::string::npos ? std::string() : r.address.substr(at + 1);
    std::transform(domain.begin(), domain.end(), domain.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
    out[domain].push_back(i);
  }
  return out;
}

std::optional<Route> find_route(std::span<const Route> routes, const std::string& domain) {
  std::optional<Route> wildcard;
  for (const Route& r : routes) {
    if (r.domain == domain) return r;
    if (r.domain == "*" && !wildcard) wildcard = r;
  }
  return wildcard;
}

}  // namespace tern::queue
