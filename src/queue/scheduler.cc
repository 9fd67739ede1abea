#include "queue/scheduler.h"

#include <ctime>
#include <optional>
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

// Attempts one claimed entry and records the outcome.
asio::awaitable<void> attempt(store::MailStore& store, net::BlockingPool& pool, const SchedulerOptions& o,
                              store::QueueEntry entry) {
  std::vector<store::RecipientOutcome> outcomes;
  auto groups = pending_by_domain(entry.message);
  auto read = [&] { return store.read_blob(entry.blob_id); };
  Result<std::string> bytes = co_await pool.run(read);
  for (auto& [domain, indices] : groups) {
    if (!bytes) {
      defer_all(outcomes, indices, "cannot read the message: " + bytes.error().message);
      continue;
    }
    std::optional<Route> route = find_route(o.routes, domain);
    if (!route) {
      defer_all(outcomes, indices, "no route for " + domain + " (MX lookup is not implemented yet)");
      continue;
    }
    std::optional<asio::ip::tcp::endpoint> endpoint = co_await resolve(*route);
    if (!endpoint) {
      defer_all(outcomes, indices, "cannot resolve " + route->host);
      continue;
    }
    const std::string_view message = *bytes;
    smtp::SendReport report = co_await smtp::send(*endpoint, o.client, entry.message, indices, message);
    for (auto& r : report.outcomes) {
      spdlog::info("queue {}: <{}> {}: {}", entry.id, entry.message.recipients[r.index].address,
                   r.state == store::QueueState::kDelivered ? "delivered"
                   : r.state == store::QueueState::kFailed  ? "failed"
                                                            : "deferred",
                   r.reply);
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
                                      const SchedulerOptions& options, int64_t now) {
  auto claim = [&] { return store.claim_due(now, options.batch, options.owner, options.lease_seconds); };
  Result<std::vector<store::QueueEntry>> claimed = co_await pool.run(claim);
  if (!claimed) {
    spdlog::warn("queue: cannot claim due entries: {}", claimed.error().to_string());
    co_return 0;
  }
  for (store::QueueEntry& e : *claimed) co_await attempt(store, pool, options, std::move(e));
  co_return claimed->size();
}

asio::awaitable<void> run(store::MailStore& store, net::BlockingPool& pool, SchedulerOptions options) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    const std::size_t n = co_await run_once(store, pool, options, now_seconds());
    if (n >= options.batch) continue;
    timer.expires_after(options.interval);
    error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
}

}  // namespace tern::queue
