#include "net/stream.h"

#include <csignal>
#include <cerrno>
#include <cstdint>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "tls/server_context.h"

namespace tern::net {

namespace {

using tcp = asio::ip::tcp;

struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};

error_code ssl_error_code() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) {
    return asio::error::connection_reset;
  }
  return error_code(static_cast<int>(e), asio::error::get_ssl_category());
}

}  // namespace

// One direction's deadline. A timer per operation cancels just that operation (through
// its cancellation slot) when it fires.
struct Deadline {
  explicit Deadline(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  asio::cancellation_signal signal;
  uint64_t generation = 0;  // Invariant: bumped per operation; a stale expiry is ignored
  bool fired = false;
};

struct Stream::Impl {
  Impl(tcp::socket s, std::shared_ptr<tls::ServerContext> t)
      : socket(std::move(s)),
        tls(std::move(t)),
        read_deadline(socket.get_executor()),
        write_deadline(socket.get_executor()) {
    error_code ec;
    remote = socket.remote_endpoint(ec);
    local = socket.local_endpoint(ec);
  }

  tcp::socket socket;
  std::shared_ptr<tls::ServerContext> tls;
  std::unique_ptr<SSL, SslFree> ssl;
  bool broken = false;  // a failed handshake or close(): no further I/O
  bool interrupted = false;  // interrupt(): reads fail, writes go on
  std::chrono::steady_clock::duration timeout{0};
  Deadline read_deadline;
  Deadline write_deadline;
  tcp::endpoint remote;
  tcp::endpoint local;
  // Expiry handlers hold a weak reference: once the Impl is gone they do nothing.
  std::shared_ptr<Impl*> self = std::make_shared<Impl*>(this);

  // Starts the deadline for one operation; ends with disarm().
  void arm(Deadline& d) {
    ++d.generation;
    d.fired = false;
    if (timeout <= std::chrono::steady_clock::duration::zero()) {
      return;
    }
    d.timer.expires_after(timeout);
    std::weak_ptr<Impl*> weak = self;
    d.timer.async_wait([weak, &d, gen = d.generation](error_code ec) {
      if (ec || weak.expired() || d.generation != gen) {
        return;
      }
      d.fired = true;
      d.signal.emit(asio::cancellation_type::terminal);
    });
  }
  // Ends the operation's deadline and maps a cancellation it caused to timed_out.
  error_code disarm(Deadline& d, error_code ec) {
    ++d.generation;
    d.timer.cancel();
    if (d.fired && ec) {
      return asio::error::timed_out;
    }
    return ec;
  }

  // Waits until the socket is ready as OpenSSL asked (after WANT_READ/WANT_WRITE).
  asio::awaitable<error_code> wait_for(int ssl_err, Deadline& d) {
    auto type = ssl_err == SSL_ERROR_WANT_WRITE ? tcp::socket::wait_write : tcp::socket::wait_read;
    auto token = asio::bind_cancellation_slot(d.signal.slot(), asio::as_tuple(asio::use_awaitable));
    auto [ec] = co_await socket.async_wait(type, token);
    co_return ec;
  }

  // Maps an OpenSSL failure to an error_code; nullopt when the caller should wait.
  error_code failure(int ssl_err) {
    switch (ssl_err) {
      case SSL_ERROR_ZERO_RETURN:
        return asio::error::eof;
      case SSL_ERROR_SYSCALL: {
        int err = errno;
        ERR_clear_error();
        return err == 0 ? error_code(asio::error::eof)
                        : error_code(err, boost::system::system_category());
      }
      default:
        return ssl_error_code();
    }
  }
};

Stream::Stream(asio::ip::tcp::socket socket, std::shared_ptr<tls::ServerContext> tls)
    : impl_(std::make_unique<Impl>(std::move(socket), std::move(tls))) {}

Stream::~Stream() = default;

asio::awaitable<std::tuple<error_code, std::size_t>> Stream::read_some(std::span<char> buf) {
  Impl& m = *impl_;
  if (m.broken) {
    co_return std::tuple<error_code, std::size_t>(asio::error::bad_descriptor, 0);
  }
  if (m.interrupted) {
    co_return std::tuple<error_code, std::size_t>(asio::error::operation_aborted, 0);
  }
  if (buf.empty()) {
    co_return std::tuple<error_code, std::size_t>(error_code(), 0);
  }
  m.arm(m.read_deadline);
  if (!m.ssl) {
    auto token = asio::bind_cancellation_slot(m.read_deadline.signal.slot(),
                                              asio::as_tuple(asio::use_awaitable));
    auto buffer = asio::buffer(buf.data(), buf.size());
    auto [ec, n] = co_await m.socket.async_read_some(buffer, token);
    co_return std::tuple<error_code, std::size_t>(m.disarm(m.read_deadline, ec), n);
  }
  for (;;) {
    ERR_clear_error();
    std::size_t n = 0;
    int r = SSL_read_ex(m.ssl.get(), buf.data(), buf.size(), &n);
    if (r == 1) {
      m.disarm(m.read_deadline, {});
      co_return std::tuple<error_code, std::size_t>(error_code(), n);
    }
    int err = SSL_get_error(m.ssl.get(), r);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      m.disarm(m.read_deadline, {});
      co_return std::tuple<error_code, std::size_t>(m.failure(err), 0);
    }
    error_code ec = co_await m.wait_for(err, m.read_deadline);
    if (ec || m.broken) {
      ec = m.disarm(m.read_deadline, ec ? ec : error_code(asio::error::bad_descriptor));
      co_return std::tuple<error_code, std::size_t>(ec, 0);
    }
  }
}

asio::awaitable<error_code> Stream::write(std::string_view data) {
  Impl& m = *impl_;
  if (m.broken) {
    co_return asio::error::bad_descriptor;
  }
  m.arm(m.write_deadline);
  if (!m.ssl) {
    auto token = asio::bind_cancellation_slot(m.write_deadline.signal.slot(),
                                              asio::as_tuple(asio::use_awaitable));
    auto buffer = asio::buffer(data.data(), data.size());
    auto [ec, n] = co_await asio::async_write(m.socket, buffer, token);
    (void)n;
    co_return m.disarm(m.write_deadline, ec);
  }
  std::size_t off = 0;
  while (off < data.size()) {
    ERR_clear_error();
    std::size_t n = 0;
    int r = SSL_write_ex(m.ssl.get(), data.data() + off, data.size() - off, &n);
    if (r == 1) {
      off += n;
      continue;
    }
    int err = SSL_get_error(m.ssl.get(), r);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      m.disarm(m.write_deadline, {});
      co_return m.failure(err);
    }
    error_code ec = co_await m.wait_for(err, m.write_deadline);
    if (ec || m.broken) {
      co_return m.disarm(m.write_deadline, ec ? ec : error_code(asio::error::bad_descriptor));
    }
  }
  m.disarm(m.write_deadline, {});
  co_return error_code();
}

asio::awaitable<error_code> Stream::start_tls() {
  Impl& m = *impl_;
  if (m.broken) {
    co_return asio::error::bad_descriptor;
  }
  if (m.ssl) {
    co_return asio::error::already_connected;
  }
  if (!m.tls) {
    co_return asio::error::operation_not_supported;
  }
  // OpenSSL writes the socket with write(2): a peer that has gone would raise SIGPIPE and
  // kill the process. A server never wants that signal; the write fails with EPIPE instead.
  static const bool sigpipe_ignored = [] {
    std::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)sigpipe_ignored;
  std::shared_ptr<SSL_CTX> ctx = m.tls->current();
  ERR_clear_error();
  m.ssl.reset(SSL_new(ctx.get()));  // the SSL keeps its own reference to ctx
  error_code nb_ec;
  m.socket.native_non_blocking(true, nb_ec);
  if (!m.ssl || nb_ec || SSL_set_fd(m.ssl.get(), m.socket.native_handle()) != 1) {
    m.broken = true;
    co_return nb_ec ? nb_ec : ssl_error_code();
  }
  SSL_set_accept_state(m.ssl.get());
  // The handshake reads and writes; both deadlines would be equal, the read one bounds it.
  m.arm(m.read_deadline);
  for (;;) {
    ERR_clear_error();
    int r = SSL_do_handshake(m.ssl.get());
    if (r == 1) {
      m.disarm(m.read_deadline, {});
      co_return error_code();
    }
    int err = SSL_get_error(m.ssl.get(), r);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      m.disarm(m.read_deadline, {});
      m.broken = true;
      co_return m.failure(err);
    }
    error_code ec = co_await m.wait_for(err, m.read_deadline);
    if (ec || m.broken) {
      m.broken = true;
      co_return m.disarm(m.read_deadline, ec ? ec : error_code(asio::error::bad_descriptor));
    }
  }
}

asio::awaitable<void> Stream::shutdown() {
  Impl& m = *impl_;
  if (m.ssl && !m.broken) {
    // Send our close_notify; waiting for the peer's adds nothing for a server.
    m.arm(m.write_deadline);
    for (int i = 0; i < 4; ++i) {
      ERR_clear_error();
      int r = SSL_shutdown(m.ssl.get());
      if (r >= 0) {
        break;
      }
      int err = SSL_get_error(m.ssl.get(), r);
      if (err != SSL_ERROR_WANT_WRITE) {
        break;
      }
      error_code ec = co_await m.wait_for(err, m.write_deadline);
      if (ec || m.broken) {
        break;
      }
    }
    m.disarm(m.write_deadline, {});
    ERR_clear_error();
  } else if (!m.broken) {
    error_code ec;
    m.socket.shutdown(tcp::socket::shutdown_send, ec);
  }
  close();
}

void Stream::close() {
  impl_->broken = true;
  error_code ec;
  impl_->socket.close(ec);
}

void Stream::set_timeout(std::chrono::steady_clock::duration timeout) {
  impl_->timeout = timeout;
}

bool Stream::is_tls() const { return impl_->ssl != nullptr && !impl_->broken; }

bool Stream::tls_available() const { return impl_->tls != nullptr; }

std::string Stream::tls_version() const {
  return impl_->ssl ? SSL_get_version(impl_->ssl.get()) : "";
}

std::string Stream::tls_cipher() const {
  if (!impl_->ssl) {
    return "";
  }
  const char* name = SSL_get_cipher_name(impl_->ssl.get());
  return name ? name : "";
}

const asio::ip::tcp::endpoint& Stream::remote() const { return impl_->remote; }

const asio::ip::tcp::endpoint& Stream::local() const { return impl_->local; }

void Stream::set_remote(const asio::ip::tcp::endpoint& ep) { impl_->remote = ep; }

asio::any_io_executor Stream::get_executor() { return impl_->socket.get_executor(); }

Stream::Handle Stream::handle() {
  Handle h;
  h.alive_ = impl_->self;
  h.stream_ = this;
  return h;
}

void Stream::Handle::close() const {
  if (!alive_.expired()) {
    stream_->close();
  }
}

void Stream::Handle::interrupt() const {
  if (!alive_.expired()) {
    stream_->interrupt();
  }
}

void Stream::interrupt() {
  impl_->interrupted = true;
  // Cancels a read waiting on the socket; without a deadline having fired, it completes
  // with operation_aborted. A read not yet started sees the flag.
  impl_->read_deadline.signal.emit(asio::cancellation_type::terminal);
}

bool Stream::interrupted() const { return impl_->interrupted; }

}  // namespace tern::net
