// queue/scheduler.h: the delivery loop of `tern serve`: claims due queue entries with a
// lease (MailStore::claim_due), sends each domain's recipients through the SMTP client to
// the domain's [[route]], records every recipient's outcome with the next attempt from the
// retry policy (MailStore::record_attempt), bounces the recipients that failed for good
// (queue/bounce.h; the bounce is stored before the attempt is recorded, so a crash can
// duplicate a bounce but never lose one), and removes entries once no recipient is left
// queued. Several processes or nodes may run it on one store: leases keep them apart.
//
// A domain without a [[route]] goes to its MX hosts (RFC 5321 5.1) found through the c-ares
// resolver: by preference, each host's addresses in turn, the domain itself when it has no
// MX; NXDOMAIN and a null MX (RFC 7505) fail the recipients at once, DNS trouble defers
// them. Not yet: STARTTLS.
//
// Thread-safety: run on one executor; store calls go through the blocking pool, never on the
// I/O thread. The store and pool must outlive the coroutines.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "dns/resolver.h"
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
  dns::ResolverOptions dns;            // for MX lookups (run() makes the resolver)
  uint16_t smtp_port = 25;             // the port of MX hosts
};

// One pass at time `now`: claims up to options.batch due entries and attempts each.
// Returns how many were claimed; store failures are logged and end the pass. Without a
// resolver, domains without a route are deferred.
boost::asio::awaitable<std::size_t> run_once(store::MailStore& store, net::BlockingPool& pool,
                                             const SchedulerOptions& options, int64_t now,
                                             dns::Resolver* resolver = nullptr);

// Passes forever, pausing options.interval when a pass claimed less than a full batch.
// Ends when its executor's io_context stops.
boost::asio::awaitable<void> run(store::MailStore& store, net::BlockingPool& pool, SchedulerOptions options);

}  // namespace tern::queue
