#include "queue/scheduler.h"

#include <ctime>
#include <optional>
#include <random>
#include <string_view>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace tern::queue {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

int64_t now_seconds() { return static_cast<int64_t>(std::time(nullptr)); }

void defer_all(std::vector<store::RecipientOutcome>& out, const std::vector<std::size_t>& indices,
               const std::string& why) {
  for (std::size_t i : indices) out.push_back(store::RecipientOutcome{i, store::QueueState::kQueued, why});
}

// The route's address: a literal, or the first address the system resolver gives.
asio::awaitable<std::optional<asio::ip::tcp::endpoint>> resolve(Route route) {
  error_code ec;
  auto address = asio::ip::make_address(route.host, ec);
  if (!ec) co_return asio::ip::tcp::endpoint(address, route.port);
  asio::ip::tcp::resolver resolver(co_await asio::this_coro::executor);
  const std::string service = std::to_string(route.port);
  auto results = co_await resolver.async_resolve(route.host, service, asio::redirect_error(asio::use_awaitable, ec));
  if (ec || results.empty()) co_return std::nullopt;
  co_return results.begin()->endpoint();
}

void log_outcome(const store::QueueEntry& entry, const store::RecipientOutcome& r) {
  spdlog::info("queue {}: <{}> {}: {}", entry.id, entry.message.recipients[r.index].address,
               r.state == store::QueueState::kDelivered ? "delivered"
               : r.state == store::QueueState::kFailed  ? "failed"
                                                        : "deferred",
               r.reply);
}

void fail_all(std::vector<store::RecipientOutcome>& out, const std::vector<std::size_t>& indices,
              const std::string& why) {
  for (std::size_t i : indices) out.push_back(store::RecipientOutcome{i, store::QueueState::kFailed, why});
}

std::mt19937_64& shuffle_rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

// Delivers one domain's recipients to the domain's MX hosts: by preference, every address
// of each host in turn, until one answers (RFC 5321 5.1 and 4.5.4.1). Appends one outcome
// per recipient.
asio::awaitable<void> send_by_mx(dns::Resolver& resolver, const SchedulerOptions& o, const store::QueueEntry& entry,
                                 const std::string& domain, const std::vector<std::size_t>& indices,
                                 std::string_view message, std::vector<store::RecipientOutcome>& outcomes) {
  dns::MxAnswer answer = co_await resolver.mx(domain);
  dns::MxPlan plan = dns::plan_mx(domain, answer.answer, std::move(answer.records), shuffle_rng());
  switch (plan.kind) {
    case dns::MxPlan::Kind::kTemporary:
      defer_all(outcomes, indices, "DNS: MX lookup for " + domain + " failed: " + answer.detail);
      co_return;
    case dns::MxPlan::Kind::kNoDomain:
      fail_all(outcomes, indices, "5.1.2 the domain " + domain + " does not exist (DNS: " + answer.detail + ")");
      co_return;
    case dns::MxPlan::Kind::kNullMx:
      fail_all(outcomes, indices, "556 5.1.10 the domain " + domain + " accepts no mail (null MX, RFC 7505)");
      co_return;
    case dns::MxPlan::Kind::kHosts:
      break;
  }
  std::string last_error;
  bool dns_trouble = false;
  for (const std::string& host : plan.hosts) {
    dns::AddressAnswer addrs = co_await resolver.addresses(host);
    if (addrs.answer == dns::Answer::kTemporary) dns_trouble = true;
    if (addrs.answer != dns::Answer::kOk) {
      last_error = "DNS: no address for " + host + ": " + dns::to_string(addrs.answer);
      if (plan.implicit && !dns_trouble) {
        // RFC 5321 5.1: no MX and no address records: the domain cannot take mail.
        fail_all(outcomes, indices, "5.1.2 the domain " + domain + " has no MX and no address records");
        co_return;
      }
      continue;
    }
    for (const asio::ip::address& address : addrs.addresses) {
      const asio::ip::tcp::endpoint endpoint(address, o.smtp_port);
      smtp::SendReport report = co_await smtp::send(endpoint, o.client, entry.message, indices, message);
      if (!report.connected) {
        last_error = report.outcomes.empty() ? "cannot connect to " + host : report.outcomes.front().reply;
        spdlog::info("queue {}: MX {} ({}) for {}: {}", entry.id, host, address.to_string(), domain, last_error);
        continue;
      }
      for (auto& r : report.outcomes) outcomes.push_back(std::move(r));
      co_return;
    }
  }
  defer_all(outcomes, indices, "no MX host of " + domain + " answered: " + last_error);
}

// Attempts one claimed entry and records the outcome.
asio::awaitable<void> attempt(store::MailStore& store, net::BlockingPool& pool, const SchedulerOptions& o,
                              dns::Resolver* resolver, store::QueueEntry entry) {
  std::vector<store::RecipientOutcome> outcomes;
  auto groups = pending_by_domain(entry.message);
  auto read = [&] { return store.read_blob(entry.blob_id); };
  Result<std::string> bytes = co_await pool.run(read);
  for (auto& [domain, indices] : groups) {
    if (!bytes) {
      defer_all(outcomes, indices, "cannot read the message: " + bytes.error().message);
      continue;
    }
    const std::string_view message = *bytes;
    std::optional<Route> route = find_route(o.routes, domain);
    if (!route && resolver != nullptr) {
      std::vector<store::RecipientOutcome> mx_outcomes;
      co_await send_by_mx(*resolver, o, entry, domain, indices, message, mx_outcomes);
      for (auto& r : mx_outcomes) {
        log_outcome(entry, r);
        outcomes.push_back(std::move(r));
      }
      continue;
    }
    if (!route) {
      defer_all(outcomes, indices, "no route for " + domain + " and no DNS resolver");
      continue;
    }
    std::optional<asio::ip::tcp::endpoint> endpoint = co_await resolve(*route);
    if (!endpoint) {
      defer_all(outcomes, indices, "cannot resolve " + route->host);
      continue;
    }
    smtp::SendReport report = co_await smtp::send(*endpoint, o.client, entry.message, indices, message);
    for (auto& r : report.outcomes) {
      log_outcome(entry, r);
      outcomes.push_back(std::move(r));
    }
  }
  const int64_t done = now_seconds();
  if (expired(o.retry, entry.created, done)) expire_deferred(outcomes);
  // The bounce for the recipients that failed now is durable before the attempt is recorded:
  // a crash between the two sends the bounce again on the next attempt (the recipients are
  // still kQueued in the store), never loses it. A bounce that cannot be stored leaves them
  // queued, so they are tried and bounced again later.
  const std::vector<FailedRecipient> failed = failed_recipients(outcomes);
  if (!failed.empty()) {
    std::optional<std::string_view> original;
    if (bytes) original = *bytes;
    auto bounce = [&] { return send_bounce(store, o.bounce, entry, original, failed, done); };
    Result<BounceSent> sent = co_await pool.run(bounce);
    if (!sent) {
      spdlog::warn("queue {}: cannot store the bounce: {}", entry.id, sent.error().to_string());
      defer_unbounced(outcomes, "cannot store the bounce");
    }
  }
  const int64_t next = next_attempt(o.retry, done, entry.attempts + 1);
  auto record = [&] { return store.record_attempt(entry.id, o.owner, outcomes, next); };
  Status recorded = co_await pool.run(record);
  if (!recorded) {
    spdlog::warn("queue {}: cannot record the attempt: {}", entry.id, recorded.error().to_string());
    co_return;
  }
  // No recipient left to try (each delivered, or failed and bounced): the entry is done.
  bool done_with = true;
  for (std::size_t i = 0; i < entry.message.recipients.size(); ++i) {
    store::QueueState st = entry.message.recipients[i].state;
    for (const auto& oc : outcomes) {
      if (oc.index == i) st = oc.state;
    }
    if (st == store::QueueState::kQueued) done_with = false;
  }
  if (done_with) {
    auto remove = [&] { return store.delete_queue_entry(entry.id); };
    Status removed = co_await pool.run(remove);
    if (!removed) spdlog::warn("queue {}: cannot remove: {}", entry.id, removed.error().to_string());
  }
}

}  // namespace

asio::awaitable<std::size_t> run_once(store::MailStore& store, net::BlockingPool& pool,
                                      const SchedulerOptions& options, int64_t now, dns::Resolver* resolver) {
  auto claim = [&] { return store.claim_due(now, options.batch, options.owner, options.lease_seconds); };
  Result<std::vector<store::QueueEntry>> claimed = co_await pool.run(claim);
  if (!claimed) {
    spdlog::warn("queue: cannot claim due entries: {}", claimed.error().to_string());
    co_return 0;
  }
  for (store::QueueEntry& e : *claimed) co_await attempt(store, pool, options, resolver, std::move(e));
  co_return claimed->size();
}

asio::awaitable<void> run(store::MailStore& store, net::BlockingPool& pool, SchedulerOptions options) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);
  std::unique_ptr<dns::Resolver> resolver;
  if (auto made = dns::Resolver::create(executor, options.dns)) {
    resolver = std::move(*made);
  } else {
    spdlog::error("queue: no DNS resolver, so only [[route]] domains get mail: {}", made.error().to_string());
  }
  for (;;) {
    const std::size_t n = co_await run_once(store, pool, options, now_seconds(), resolver.get());
    if (n >= options.batch) continue;
    timer.expires_after(options.interval);
    error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
}

}  // namespace tern::queue
