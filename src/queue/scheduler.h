// queue/scheduler.h: the delivery loop of `tern serve`: claims due queue entries with a
// lease (MailStore::claim_due), sends each domain's recipients through the SMTP client to
// the domain's [[route]], records every recipient's outcome with the next attempt from the
// retry policy (MailStore::record_attempt), bounces the recipients that failed for good
// (queue/bounce.h; the bounce is stored before the attempt is recorded, so a crash can
// duplicate a bounce but never lose one), and removes entries once no recipient is left
// queued. Several processes or nodes may run it on one store: leases keep them apart.
//
// Not yet: DNS MX (a domain without a route is deferred), STARTTLS.
//
// Thread-safety: run on one executor; store calls go through the blocking pool, never on the
// I/O thread. The store and pool must outlive the coroutines.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "net/blocking_pool.h"
#include "queue/bounce.h"
#include "queue/policy.h"
#include "smtp/client.h"
#include "store/mail_store.h"

namespace tern::queue {

struct SchedulerOptions {
  std::string owner;                   // this process's lease name (host name and pid)
  RetryPolicy retry;
  std::vector<Route> routes;
  smtp::ClientOptions client;
  BounceOptions bounce;                // the DSN's host name; how a local sender is found
  std::chrono::seconds interval{5};    // pause between passes that found nothing more
  int64_t lease_seconds = 1800;        // longer than one attempt can take
  std::size_t batch = 16;              // entries claimed per pass
};

// One pass at time `now`: claims up to options.batch due entries and attempts each.
// Returns how many were claimed; store failures are logged and end the pass.
boost::asio::awaitable<std::size_t> run_once(store::MailStore& store, net::BlockingPool& pool,
                                             const SchedulerOptions& options, int64_t now);

// Passes forever, pausing options.interval when a pass claimed less than a full batch.
// Ends when its executor's io_context stops.
boost::asio::awaitable<void> run(store::MailStore& store, net::BlockingPool& pool, SchedulerOptions options);

}  // namespace tern::queue
