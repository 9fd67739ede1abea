#include "server/server.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <unordered_map>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>
#include <spdlog/spdlog.h>

namespace tern::server {

namespace {

using tcp = asio::ip::tcp;
using net::error_code;
using namespace std::chrono_literals;

// Time a refused client gets to take its busy reply; it is a few bytes.
constexpr auto kRefuseTimeout = 5s;
// After the grace period, time for force-closed sessions to unwind.
constexpr auto kUnwindTimeout = 2s;

void log_exception(std::exception_ptr e, std::string_view what) {
  if (!e) {
    return;
  }
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("bug: {} ended by exception: {}", what, ex.what());
  } catch (...) {
    spdlog::error("bug: {} ended by an unknown exception", what);
  }
}

// Runs `f` on `ctx`'s thread and waits for it.
template <typename F>
void run_on(asio::io_context& ctx, F f) {
  std::promise<void> done;
  asio::post(ctx, [&] {
    f();
    done.set_value();
  });
  done.get_future().wait();
}

}  // namespace

// Per-io_context registry of open streams, touched only on that context's thread.
struct Registry {
  std::unordered_map<uint64_t, net::Stream::Handle> streams;
};

std::string busy_reply(const config::Listener& listener, const std::string& hostname) {
  if (listener.tls == config::TlsMode::kImplicit) {
    return "";
  }
  switch (listener.protocol) {
    case config::Protocol::kSmtp:
    case config::Protocol::kSubmission:
      // RFC 5321 3.8: 421 closes the transmission channel.
      return fmt::format("421 4.7.0 {} Too many connections, try again later\r\n", hostname);
    case config::Protocol::kImap:
      return "* BYE [UNAVAILABLE] Too many connections, try again later\r\n";  // RFC 5530
    case config::Protocol::kPop3:
      return "-ERR [SYS/TEMP] Too many connections, try again later\r\n";  // RFC 3206
  }
  return "";
}

Server::Server(config::Config cfg, Services services, std::shared_ptr<tls::ServerContext> tls,
               SessionHandler handler)
    : cfg_(std::move(cfg)),
      services_(services),
      tls_(std::move(tls)),
      handler_(std::move(handler)),
      limiter_(cfg_.limits.max_connections, cfg_.limits.max_connections_per_ip) {}

Server::~Server() {
  stop();
  // Listeners before their io_contexts; then the io_contexts destroy what they still hold.
  listeners_.clear();
  work_.clear();
  contexts_.clear();
}

Status Server::start() {
  if (started_) {
    return make_error(ErrorCode::kInternal, "server already started");
  }
  std::vector<net::proxy::Cidr> trusted;
  for (const std::string& text : cfg_.proxy_trusted) {
    auto cidr = net::proxy::Cidr::parse(text);
    if (!cidr) {
      return make_error(ErrorCode::kInvalid, "proxy_trusted: {}", cidr.error().message);
    }
    trusted.push_back(*cidr);
  }
  for (const auto& lc : cfg_.listeners) {
    if (lc.tls != config::TlsMode::kNone && !tls_) {
      return make_error(ErrorCode::kInvalid, "listener {}:{} needs TLS but no certificate is loaded",
                        lc.address, lc.port);
    }
    if (lc.proxy_protocol && trusted.empty()) {
      return make_error(ErrorCode::kInvalid,
                        "listener {}:{} has proxy_protocol but proxy_trusted is empty",
                        lc.address, lc.port);
    }
  }
  trusted_ = std::move(trusted);
  std::size_t n = cfg_.threads != 0 ? cfg_.threads : std::max(1u, std::thread::hardware_concurrency());
  for (std::size_t i = 0; i < n; ++i) {
    contexts_.push_back(std::make_unique<asio::io_context>(1));
    registries_.push_back(std::make_unique<Registry>());
  }
  for (std::size_t i = 0; i < cfg_.listeners.size(); ++i) {
    auto l = net::Listener::open(*contexts_[i % n], cfg_.listeners[i]);
    if (!l) {
      endpoints_.clear();
      listeners_.clear();
      registries_.clear();
      contexts_.clear();
      return tl::unexpected(l.error());
    }
    endpoints_.push_back({cfg_.listeners[i], (*l)->local_endpoint()});
    listeners_.push_back(std::move(*l));
  }
  started_ = true;
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    asio::co_spawn(*contexts_[i % n], accept_loop(listeners_[i].get()),
                   [](std::exception_ptr e) { log_exception(e, "accept loop"); });
  }
  for (auto& ctx : contexts_) {
    work_.push_back(asio::make_work_guard(*ctx));
  }
  for (auto& ctx : contexts_) {
    threads_.emplace_back([c = ctx.get()] { c->run(); });
  }
  return ok();
}

void Server::for_each_stream(const std::function<void(const net::Stream::Handle&)>& f) {
  for (std::size_t i = 0; i < contexts_.size(); ++i) {
    Registry* reg = registries_[i].get();
    run_on(*contexts_[i], [reg, &f] {
      for (auto& [id, handle] : reg->streams) {
        f(handle);
      }
    });
  }
}

void Server::stop() {
  if (!started_ || stopped_) {
    return;
  }
  stopped_ = true;
  stopping_ = true;
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    net::Listener* l = listeners_[i].get();
    run_on(*contexts_[i % contexts_.size()], [l] { l->close(); });
  }
  // Sessions waiting for a command are told at once (their read fails with kStopped and
  // they say goodbye); a session inside a command finishes it first, then stops reading.
  for_each_stream([](const net::Stream::Handle& h) { h.interrupt(); });
  std::unique_lock lock(mu_);
  bool idle = idle_.wait_for(lock, cfg_.timeouts.shutdown, [&] { return sessions_ == 0; });
  if (!idle) {
    spdlog::info("shutdown: closing {} connections still open", sessions_);
    lock.unlock();
    for_each_stream([](const net::Stream::Handle& h) { h.close(); });
    lock.lock();
    idle_.wait_for(lock, kUnwindTimeout, [&] { return sessions_ == 0; });
  }
  lock.unlock();
  work_.clear();
  for (auto& ctx : contexts_) {
    ctx->stop();
  }
  for (auto& t : threads_) {
    t.join();
  }
  threads_.clear();
}

std::size_t Server::open_connections() const {
  std::lock_guard lock(mu_);
  return sessions_;
}

asio::awaitable<void> Server::accept_loop(net::Listener* listener) {
  const config::Listener* lc = &listener->config();
  for (;;) {
    std::size_t index = next_++ % contexts_.size();
    asio::io_context& target = *contexts_[index];
    auto [ec, socket] = co_await listener->accept(target);
    if (stopping_ || ec == asio::error::operation_aborted) {
      co_return;
    }
    if (ec) {
      // EMFILE and friends: pause instead of spinning.
      spdlog::warn("{} listener: accept failed: {}", config::to_string(lc->protocol), ec.message());
      asio::steady_timer pause(co_await asio::this_coro::executor, 100ms);
      auto token = asio::as_tuple(asio::use_awaitable);
      co_await pause.async_wait(token);
      continue;
    }
    if (lc->proxy_protocol) {
      // Admission waits for the header: the limits count the client, not the balancer.
      asio::co_spawn(target, proxied(std::move(socket), lc, index),
                     [](std::exception_ptr e) { log_exception(e, "proxied connection"); });
      continue;
    }
    error_code peer_ec;
    tcp::endpoint peer = socket.remote_endpoint(peer_ec);
    if (peer_ec) {
      continue;  // already gone
    }
    net::ConnectionLimiter::Slot slot = limiter_.try_acquire(peer.address());
    if (!slot) {
      spdlog::info("{} refused {}: too many connections", config::to_string(lc->protocol),
                   net::format_endpoint(peer));
      asio::co_spawn(target, refuse(std::move(socket), lc),
                     [](std::exception_ptr e) { log_exception(e, "refusal"); });
      continue;
    }
    asio::co_spawn(target,
                   connection(std::move(socket), lc, std::move(slot), index, std::nullopt,
                              std::nullopt),
                   [](std::exception_ptr e) { log_exception(e, "connection"); });
  }
}

asio::awaitable<void> Server::proxied(tcp::socket socket, const config::Listener* lc,
                                      std::size_t index) {
  const std::string_view proto = config::to_string(lc->protocol);
  error_code peer_ec;
  tcp::endpoint peer = socket.remote_endpoint(peer_ec);
  if (peer_ec) {
    co_return;  // already gone
  }
  bool trusted = std::any_of(trusted_.begin(), trusted_.end(),
                             [&](const net::proxy::Cidr& c) { return c.contains(peer.address()); });
  if (!trusted) {
    spdlog::warn("{} closed {}: not in proxy_trusted, PROXY header not accepted", proto,
                 net::format_endpoint(peer));
    error_code ignored;
    socket.close(ignored);
    co_return;
  }
  Result<tcp::endpoint> client = co_await net::read_proxy_header(&socket, cfg_.timeouts.pre_auth);
  if (!client) {
    spdlog::warn("{} closed {}: {}", proto, net::format_endpoint(peer), client.error().message);
    error_code ignored;
    socket.close(ignored);
    co_return;
  }
  if (stopping_) {
    co_return;
  }
  net::ConnectionLimiter::Slot slot = limiter_.try_acquire(client->address());
  if (!slot) {
    spdlog::info("{} refused {} via {}: too many connections", proto,
                 net::format_endpoint(*client), net::format_endpoint(peer));
    co_await refuse(std::move(socket), lc);
    co_return;
  }
  co_await connection(std::move(socket), lc, std::move(slot), index, *client, peer);
}

asio::awaitable<void> Server::refuse(tcp::socket socket, const config::Listener* lc) {
  net::Stream stream(std::move(socket), nullptr);
  std::string reply = busy_reply(*lc, cfg_.hostname);
  if (!reply.empty()) {
    stream.set_timeout(kRefuseTimeout);
    co_await stream.write(reply);
  }
  co_await stream.shutdown();
}

void Server::session_started() {
  std::lock_guard lock(mu_);
  ++sessions_;
}

void Server::session_ended() {
  std::lock_guard lock(mu_);
  --sessions_;
  idle_.notify_all();
}

asio::awaitable<void> Server::connection(tcp::socket socket, const config::Listener* lc,
                                         net::ConnectionLimiter::Slot slot, std::size_t index,
                                         std::optional<tcp::endpoint> client,
                                         std::optional<tcp::endpoint> proxied_by) {
  // Ends the session's accounting however this frame ends (also when destroyed unfinished).
  struct Accounting {
    Server* server;
    Registry* registry;
    uint64_t id;
    ~Accounting() {
      registry->streams.erase(id);
      server->session_ended();
    }
  };
  static std::atomic<uint64_t> next_id{1};
  const uint64_t id = next_id++;
  session_started();
  Accounting accounting{this, registries_[index].get(), id};
  (void)slot;  // held until the connection ends

  const auto started = std::chrono::steady_clock::now();
  auto stream = std::make_unique<net::Stream>(std::move(socket), tls_);
  if (client) {
    stream->set_remote(*client);
  }
  const std::string peer = net::format_endpoint(stream->remote());
  const std::string_view proto = config::to_string(lc->protocol);
  if (proxied_by) {
    spdlog::info("conn#{} {} connect from {} via {} to {}", id, proto, peer,
                 net::format_endpoint(*proxied_by), net::format_endpoint(stream->local()));
  } else {
    spdlog::info("conn#{} {} connect from {} to {}", id, proto, peer,
                 net::format_endpoint(stream->local()));
  }
  accounting.registry->streams.emplace(id, stream->handle());
  stream->set_timeout(cfg_.timeouts.pre_auth);

  bool handshake_ok = true;
  if (lc->tls == config::TlsMode::kImplicit) {
    error_code ec = co_await stream->start_tls();
    if (ec) {
      spdlog::info("conn#{} TLS handshake failed: {}", id, ec.message());
      handshake_ok = false;
      stream->close();
    }
  }
  if (handshake_ok && !stopping_) {
    net::SessionEnv env;
    env.config = &cfg_;
    env.listener = lc;
    env.store = services_.store;
    env.feed = services_.feed;
    env.auth = services_.auth;
    env.pool = services_.pool;
    env.stopping = &stopping_;
    try {
      auto session = handler_(std::move(stream), env);
      co_await std::move(session);
    } catch (const std::exception& e) {
      spdlog::error("conn#{} bug: session ended by exception: {}", id, e.what());
    } catch (...) {
      spdlog::error("conn#{} bug: session ended by an unknown exception", id);
    }
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  spdlog::info("conn#{} {} disconnect {} after {}.{:03}s", id, proto, peer, ms.count() / 1000,
               ms.count() % 1000);
}

}  // namespace tern::server
