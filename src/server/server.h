// server/server.h: the running mail server: I/O threads, listeners, connection limits,
// per-connection sessions, signals and graceful shutdown.
//
// run() is what `tern serve` calls: it opens the store, builds the services, starts a
// Server, prints the bound endpoints to stdout ("listening <proto> <addr>:<port> tls=<mode>"
// per listener, then "ready"), and blocks until SIGTERM/SIGINT (SIGHUP reloads the TLS
// certificate).
//
// Server is the part tests drive: start() binds every listener (port 0: ephemeral, see
// endpoints()) and starts one io_context per thread; each accepted connection is admitted
// against the connection limits (over the limit it gets the protocol's "too many
// connections" reply and is closed), wrapped in a net::Stream (implicit TLS: handshake
// first, bounded by timeouts.pre_auth) and handed to the SessionHandler on one of the
// io_contexts. stop() stops accepting, sets the `stopping` flag, waits up to
// timeouts.shutdown for sessions to end, then stops the threads; the remaining
// connections are closed when the Server is destroyed.
//
// On a proxy_protocol listener a connection is first checked against cfg.proxy_trusted
// (others are closed without a reply), then must send a PROXY v1/v2 header within
// timeouts.pre_auth (else it is closed without a reply); the client address from the header
// is the one the connection limits, the session (stream.remote()) and the logs see. The
// header is read before implicit TLS starts.
// Thread-safety: start(), stop() and the destructor from one controlling thread;
// open_connections() from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "base/result.h"
#include "config/config.h"
#include "net/listener.h"
#include "net/proxy_protocol.h"
#include "net/session_env.h"
#include "net/stream.h"
#include "tls/server_context.h"

namespace tern::server {

namespace asio = boost::asio;

struct Registry;

// Blocks until a stop signal; returns the process exit code (0 after a clean shutdown,
// 1 when start-up failed, with the reason logged).
int run(const config::Config& cfg);

// The long-lived services sessions use; all must outlive the Server (the BlockingPool
// must also be destroyed before the Server: see BlockingPool's lifetime rule).
struct Services {
  store::MailStore* store = nullptr;
  store::ChangeFeed* feed = nullptr;
  auth::Authenticator* auth = nullptr;
  net::BlockingPool* pool = nullptr;
};

// Runs one session; must not throw (a stray exception is logged as a bug and only closes
// that connection).
using SessionHandler =
    std::function<asio::awaitable<void>(std::unique_ptr<net::Stream>, net::SessionEnv)>;

// The protocol sessions of smtp/, imap/ and pop3/, chosen by env.listener->protocol.
SessionHandler protocol_sessions();

// The reply sent to a connection refused by the connection limits (SMTP 421, IMAP BYE,
// POP3 -ERR); empty for implicit-TLS listeners, which are closed without a reply.
std::string busy_reply(const config::Listener& listener, const std::string& hostname);

struct BoundEndpoint {
  config::Listener listener;
  asio::ip::tcp::endpoint endpoint;  // with the actual port
};

class Server {
 public:
  // Uses cfg.listeners as given (run() substitutes the defaults for an empty list).
  // `tls` may be null when no listener needs TLS.
  Server(config::Config cfg, Services services, std::shared_ptr<tls::ServerContext> tls,
         SessionHandler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds all listeners and starts the threads. Errors (nothing is left running): kIo when a
  // port cannot be bound, kInvalid for a listener that cannot be served (TLS without a
  // context, proxy_protocol without proxy_trusted) or a bad proxy_trusted range.
  Status start();
  const std::vector<BoundEndpoint>& endpoints() const { return endpoints_; }
  // Graceful stop as described above; idempotent.
  void stop();
  std::size_t open_connections() const;

 private:
  asio::awaitable<void> accept_loop(net::Listener* listener);
  // `proxied_by`: the load balancer's endpoint when the client's came from a PROXY header.
  asio::awaitable<void> connection(asio::ip::tcp::socket socket, const config::Listener* lc,
                                   net::ConnectionLimiter::Slot slot, std::size_t index,
                                   std::optional<asio::ip::tcp::endpoint> client,
                                   std::optional<asio::ip::tcp::endpoint> proxied_by);
  // A proxy_protocol listener's connection: trust check, header, admission, connection().
  asio::awaitable<void> proxied(asio::ip::tcp::socket socket, const config::Listener* lc,
                                std::size_t index);
  asio::awaitable<void> refuse(asio::ip::tcp::socket socket, const config::Listener* lc);
  void session_started();
  void session_ended();
  // Calls f(handle) for every open stream, each on its own io_context's thread; returns
  // when all have been visited.
  void for_each_stream(const std::function<void(const net::Stream::Handle&)>& f);

  const config::Config cfg_;
  const Services services_;
  const std::shared_ptr<tls::ServerContext> tls_;
  const SessionHandler handler_;
  net::ConnectionLimiter limiter_;
  std::vector<net::proxy::Cidr> trusted_;  // parsed cfg_.proxy_trusted, set by start()
  std::atomic<bool> stopping_{false};
  std::vector<BoundEndpoint> endpoints_;
  bool started_ = false;
  bool stopped_ = false;
  std::atomic<std::size_t> next_{0};

  mutable std::mutex mu_;
  std::condition_variable idle_;
  std::size_t sessions_ = 0;  // guarded by mu_: connections past admission, not yet ended

  // Invariant: declared last so they are destroyed first (see ~Server): listeners before
  // their io_contexts, io_contexts (and the coroutine frames they still hold) before the
  // members those frames use (registries_, the limiter, the session count).
  std::vector<std::unique_ptr<Registry>> registries_;  // one per io_context, used on its thread
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::unique_ptr<net::Listener>> listeners_;
  std::vector<std::thread> threads_;
};

}  // namespace tern::server
