#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "auth/authenticator.h"
#include "base/clock.h"
#include "base/log.h"
#include "net/blocking_pool.h"
#include "queue/scheduler.h"
#include "server/server.h"
#include "store/change_feed.h"
#include "server/store_factory.h"
#include "tls/server_context.h"

namespace tern::server {

namespace {

constexpr std::size_t kBlockingThreads = 16;

// Every connection is a descriptor, and [limits] max_connections defaults to 2,000 while a
// shell's soft limit is often 1,024: raise the soft limit to the hard one, as far as the
// system lets an unprivileged process go, and warn when it stays below what the
// configuration may need.
void raise_open_files_limit(const config::Config& cfg) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur < lim.rlim_max) {
    const rlim_t before = lim.rlim_cur;
    lim.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &lim) == 0) {
      spdlog::debug("open files limit raised from {} to {}", before, lim.rlim_cur);
    } else {
      lim.rlim_cur = before;
    }
  }
  const rlim_t needed = static_cast<rlim_t>(cfg.limits.max_connections) + 256;  // store, listeners, queue
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < needed) {
    spdlog::warn("open files limit is {}, below the {} that [limits] max_connections = {} may need",
                 lim.rlim_cur, needed, cfg.limits.max_connections);
  }
}

}  // namespace

int run(const config::Config& original) {
  config::Config cfg = original;
  if (cfg.listeners.empty()) {
    cfg.listeners = config::default_listeners();
  }
  if (auto st = init_logging(cfg.log.level, cfg.log.format); !st) {
    std::fprintf(stderr, "tern: %s\n", st.error().to_string().c_str());
    return 1;
  }
  std::error_code fs_ec;
  std::filesystem::create_directories(cfg.data_dir, fs_ec);
  if (fs_ec) {
    spdlog::error("cannot create data directory {}: {}", cfg.data_dir, fs_ec.message());
    return 1;
  }

  // Signals are taken synchronously by this thread: block them before any thread starts,
  // so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a vanished peer is a write error, not a reason to exit
  raise_open_files_limit(cfg);

  // Declaration order is destruction order in reverse: the feed outlives the store, the
  // store outlives the authenticator and the server.
  store::ChangeFeed feed;
  auto store = open_store(cfg, &feed);
  if (!store) {
    spdlog::error("cannot open the store: {}", store.error().to_string());
    return 1;
  }
  auth::Authenticator authenticator(**store, cfg.auth, SystemClock::instance());
  auto tls = tls::ServerContext::from_config(cfg);
  if (!tls) {
    spdlog::error("TLS: {}", tls.error().to_string());
    return 1;
  }
  auto pool = std::make_unique<net::BlockingPool>(kBlockingThreads);
  Server server(cfg, Services{store->get(), &feed, &authenticator, pool.get()}, *tls,
                protocol_sessions());
  if (auto st = server.start(); !st) {
    spdlog::error("cannot start: {}", st.error().to_string());
    return 1;
  }
  for (const auto& ep : server.endpoints()) {
    spdlog::info("listening for {} on {} (tls={})", config::to_string(ep.listener.protocol),
                 net::format_endpoint(ep.endpoint), config::to_string(ep.listener.tls));
    std::fputs(fmt::format("listening {} {} tls={}\n", config::to_string(ep.listener.protocol),
                           net::format_endpoint(ep.endpoint), config::to_string(ep.listener.tls))
                   .c_str(),
               stdout);
  }
  // The outbound queue's scheduler, on its own thread; store calls go through the pool.
  boost::asio::io_context queue_io(1);
  std::thread queue_thread;
  if (cfg.queue.enabled) {
    queue::SchedulerOptions qo;
    qo.owner = fmt::format("{}/{}", cfg.hostname, ::getpid());
    qo.retry = queue::RetryPolicy{cfg.queue.retry_base.count(), cfg.queue.retry_max.count(),
                                  cfg.queue.max_age.count()};
    for (const auto& r : cfg.routes) qo.routes.push_back(queue::Route{r.domain, r.host, r.port});
    qo.client.helo_name = cfg.hostname;
    qo.bounce.dsn.hostname = cfg.hostname;
    qo.bounce.smtp = cfg.smtp;
    qo.interval = cfg.queue.interval;
    qo.lease_seconds = cfg.queue.lease.count();
    qo.dns.servers = cfg.queue.dns_servers;
    qo.smtp_port = cfg.queue.smtp_port;
    boost::asio::co_spawn(queue_io, queue::run(**store, *pool, std::move(qo)), boost::asio::detached);
    queue_thread = std::thread([&queue_io] { queue_io.run(); });
  }

  std::fputs("ready\n", stdout);
  std::fflush(stdout);

  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) {
      continue;
    }
    if (sig == SIGHUP) {
      if (auto st = (*tls)->reload(); st) {
        spdlog::info("TLS certificate reloaded from {}", (*tls)->cert_file());
      } else {
        spdlog::error("TLS certificate reload failed, keeping the old one: {}",
                      st.error().to_string());
      }
      continue;
    }
    spdlog::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    break;
  }
  server.stop();
  queue_io.stop();
  if (queue_thread.joinable()) queue_thread.join();
  pool.reset();  // joins blocking work while the server's io_contexts still exist
  spdlog::info("stopped");
  return 0;
}

}  // namespace tern::server
