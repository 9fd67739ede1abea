// net/listener.h: accepting connections on one configured endpoint, and the connection
// limits (in total and per client address) the server enforces on what it accepts.
//
// Listener::open binds and listens (port 0: an ephemeral port, see local_endpoint()).
// A Listener belongs to the io_context it was opened on: accept() and close() run on that
// context's thread. ConnectionLimiter is thread-safe; its Slots may be released on any
// thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <unordered_map>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "base/result.h"
#include "config/config.h"
#include "net/stream.h"

namespace tern::net {

// "127.0.0.1:25" or "[::1]:25", for logs and the server's start-up lines.
std::string format_endpoint(const asio::ip::tcp::endpoint& ep);

class ConnectionLimiter {
 public:
  // Holds one admitted connection; releasing it (destruction) frees its place. Move-only.
  // An empty Slot (operator bool false) means the connection was not admitted.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept;
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot();
    explicit operator bool() const { return owner_ != nullptr; }

   private:
    friend class ConnectionLimiter;
    Slot(ConnectionLimiter* owner, asio::ip::address addr) : owner_(owner), addr_(addr) {}
    void release();
    ConnectionLimiter* owner_ = nullptr;
    asio::ip::address addr_;
  };

  // 0 for either limit: unlimited. The limiter must outlive its Slots.
  ConnectionLimiter(uint32_t max_total, uint32_t max_per_ip)
      : max_total_(max_total), max_per_ip_(max_per_ip) {}

  // Admits a connection from `addr` unless a limit is reached (IPv4-mapped IPv6 addresses
  // count as their IPv4 address).
  Slot try_acquire(const asio::ip::address& addr);
  uint32_t total() const;
  uint32_t count(const asio::ip::address& addr) const;

 private:
  void release(const asio::ip::address& addr);
  const uint32_t max_total_;
  const uint32_t max_per_ip_;
  mutable std::mutex mu_;
  uint32_t total_ = 0;                                       // guarded by mu_
  std::unordered_map<asio::ip::address, uint32_t> per_ip_;  // guarded by mu_; no zero counts
};

class Listener {
 public:
  // Binds cfg.address:cfg.port (an IP literal) with SO_REUSEADDR and listens. Errors:
  // kInvalid for a bad address, kIo when binding fails (in use, permission). A
  // proxy_protocol listener accepts like any other: the caller reads the header
  // (read_proxy_header) before anything else.
  static Result<std::unique_ptr<Listener>> open(asio::io_context& ioc, const config::Listener& cfg);

  const config::Listener& config() const { return cfg_; }
  // The bound endpoint, with the actual port when 0 was configured.
  asio::ip::tcp::endpoint local_endpoint() const { return local_; }
  // Accepts the next connection; its socket is bound to `target`, which may be another
  // io_context than the listener's. Errors are transient (EMFILE, aborted handshakes) except
  // operation_aborted after close().
  asio::awaitable<std::tuple<error_code, asio::ip::tcp::socket>> accept(asio::io_context& target);
  // Stops accepting; a pending accept() completes with operation_aborted.
  void close();

  Listener(asio::ip::tcp::acceptor acceptor, config::Listener cfg, asio::ip::tcp::endpoint local)
      : acceptor_(std::move(acceptor)), cfg_(std::move(cfg)), local_(local) {}

 private:
  asio::ip::tcp::acceptor acceptor_;
  config::Listener cfg_;
  asio::ip::tcp::endpoint local_;
};

// Reads one PROXY protocol header (v1 or v2, see net/proxy_protocol.h) from a freshly
// accepted socket, byte-exactly: nothing after the header is consumed, so the client's
// first bytes (a TLS ClientHello, an IMAP command) stay in the socket. The whole header
// must arrive within `timeout`. Returns the client's endpoint from the header, or the
// socket's own peer for LOCAL/UNKNOWN headers. Errors: kInvalid for a malformed or
// oversized header (reason in the message), kIo for EOF, a read error or the timeout.
// `socket` must stay alive and unused by others until this completes; on the socket's
// executor.
asio::awaitable<Result<asio::ip::tcp::endpoint>> read_proxy_header(
    asio::ip::tcp::socket* socket, std::chrono::steady_clock::duration timeout);

}  // namespace tern::net
