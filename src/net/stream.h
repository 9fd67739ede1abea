// net/stream.h: one client connection: plain TCP, TLS from the first byte, or plain then
// upgraded by STARTTLS.
//
// TLS is driven by OpenSSL reading and writing the socket itself (SSL_set_fd) while Asio
// only waits for readiness; with SSL_MODE_RELEASE_BUFFERS an idle TLS connection costs
// ~20 KB instead of the ~70 KB of asio::ssl::stream's fixed buffers.
//
// The first start_tls() sets SIGPIPE to be ignored process-wide (OpenSSL writes with
// write(2), which would otherwise kill the process when a peer disappears).
//
// Every read and write is bounded by the stream's current timeout (set_timeout); when it
// expires the operation fails with asio::error::timed_out and the session should end.
// Thread-safety: none; a Stream belongs to one session coroutine on one io_context
// thread. One read and one write may be outstanding at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <tuple>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace tern::tls {
class ServerContext;
}

namespace tern::net {

namespace asio = boost::asio;
using boost::system::error_code;

class Stream {
 public:
  // Takes ownership of a connected socket. `tls` may be null when TLS is not configured.
  Stream(asio::ip::tcp::socket socket, std::shared_ptr<tls::ServerContext> tls);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Reads at least one byte into `buf`. Returns (error, bytes read); EOF is asio::error::eof.
  asio::awaitable<std::tuple<error_code, std::size_t>> read_some(std::span<char> buf);
  // Writes all of `data` (the caller keeps it alive until this completes).
  asio::awaitable<error_code> write(std::string_view data);
  // Server-side TLS handshake on this connection: at once for implicit TLS, or after the
  // protocol's STARTTLS reply. Fails if already TLS or no TLS context is configured.
  asio::awaitable<error_code> start_tls();
  // Sends a TLS close_notify if TLS is up (bounded by the timeout), then closes the socket.
  asio::awaitable<void> shutdown();
  void close();  // abrupt close; pending operations complete with an error
  // Ends a pending read, and every later one, with asio::error::operation_aborted; writes
  // still work, so the session can say goodbye (the server does this at shutdown).
  void interrupt();
  bool interrupted() const;

  void set_timeout(std::chrono::steady_clock::duration timeout);
  bool is_tls() const;
  bool tls_available() const;       // a TLS context exists, so STARTTLS may be offered
  std::string tls_version() const;  // "TLSv1.3" or "" when not TLS
  std::string tls_cipher() const;   // "TLS_AES_256_GCM_SHA384" or ""
  const asio::ip::tcp::endpoint& remote() const;
  const asio::ip::tcp::endpoint& local() const;
  // The client address as the session should see it (PROXY protocol may replace it).
  void set_remote(const asio::ip::tcp::endpoint& ep);
  asio::any_io_executor get_executor();

  // A weak reference that can close the stream later, from its own thread, if it still
  // exists (the server closes lingering connections at shutdown this way).
  class Handle {
   public:
    Handle() = default;
    void close() const;      // no-op once the Stream is destroyed
    void interrupt() const;  // likewise

   private:
    friend class Stream;
    std::weak_ptr<void> alive_;
    Stream* stream_ = nullptr;
  };
  Handle handle();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tern::net
