#include "net/listener.h"

#include <array>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/proxy_protocol.h"

namespace tern::net {

namespace {

asio::ip::address normalize(const asio::ip::address& addr) {
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
  }
  return addr;
}

}  // namespace

std::string format_endpoint(const asio::ip::tcp::endpoint& ep) {
  if (ep.address().is_v6()) {
    return fmt::format("[{}]:{}", ep.address().to_string(), ep.port());
  }
  return fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

ConnectionLimiter::Slot::Slot(Slot&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), addr_(other.addr_) {}

ConnectionLimiter::Slot& ConnectionLimiter::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
    addr_ = other.addr_;
  }
  return *this;
}

ConnectionLimiter::Slot::~Slot() { release(); }

void ConnectionLimiter::Slot::release() {
  if (owner_ != nullptr) {
    std::exchange(owner_, nullptr)->release(addr_);
  }
}

ConnectionLimiter::Slot ConnectionLimiter::try_acquire(const asio::ip::address& raw) {
  auto addr = normalize(raw);
  std::lock_guard lock(mu_);
  if (max_total_ != 0 && total_ >= max_total_) {
    return Slot();
  }
  uint32_t& n = per_ip_[addr];
  if (max_per_ip_ != 0 && n >= max_per_ip_) {
    return Slot();  // n > 0 here, so no zero entry is left behind
  }
  ++n;
  ++total_;
  return Slot(this, addr);
}

void ConnectionLimiter::release(const asio::ip::address& addr) {
  std::lock_guard lock(mu_);
  auto it = per_ip_.find(addr);
  if (it != per_ip_.end() && --it->second == 0) {
    per_ip_.erase(it);
  }
  --total_;
}

uint32_t ConnectionLimiter::total() const {
  std::lock_guard lock(mu_);
  return total_;
}

uint32_t ConnectionLimiter::count(const asio::ip::address& addr) const {
  std::lock_guard lock(mu_);
  auto it = per_ip_.find(normalize(addr));
  return it == per_ip_.end() ? 0 : it->second;
}

Result<std::unique_ptr<Listener>> Listener::open(asio::io_context& ioc,
                                                 const config::Listener& cfg) {
  error_code ec;
  auto addr = asio::ip::make_address(cfg.address, ec);
  if (ec) {
    return make_error(ErrorCode::kInvalid, "listener address \"{}\" is not an IP address",
                      cfg.address);
  }
  asio::ip::tcp::endpoint ep(addr, cfg.port);
  asio::ip::tcp::acceptor acceptor(ioc);
  auto fail = [&](std::string_view what) {
    return make_error(ErrorCode::kIo, "cannot {} {}:{}: {}", what, cfg.address, cfg.port,
                      ec.message());
  };
  acceptor.open(ep.protocol(), ec);
  if (ec) {
    return fail("open");
  }
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  acceptor.bind(ep, ec);
  if (ec) {
    return fail("bind");
  }
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return fail("listen on");
  }
  auto local = acceptor.local_endpoint(ec);
  if (ec) {
    return fail("query");
  }
  return std::make_unique<Listener>(std::move(acceptor), cfg, local);
}

asio::awaitable<std::tuple<error_code, asio::ip::tcp::socket>> Listener::accept(
    asio::io_context& target) {
  auto token = asio::as_tuple(asio::use_awaitable);
  auto [ec, socket] = co_await acceptor_.async_accept(target, token);
  if (!ec) {
    // Sessions write each reply batch in one piece, so Nagle only delays the reply a
    // pipelining-free client waits for (a POP3 RETR loop, an IMAP FETCH round trip).
    error_code ignored;
    socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  }
  co_return std::tuple<error_code, asio::ip::tcp::socket>(ec, std::move(socket));
}

void Listener::close() {
  error_code ec;
  acceptor_.close(ec);
}

asio::awaitable<Result<asio::ip::tcp::endpoint>> read_proxy_header(
    asio::ip::tcp::socket* socket, std::chrono::steady_clock::duration timeout) {
  // The deadline closes the socket; `state` tells a late expiry that this read is over.
  struct State {
    bool done = false;
    bool expired = false;
  };
  auto state = std::make_shared<State>();
  asio::steady_timer timer(socket->get_executor(), timeout);
  timer.async_wait([state, socket](error_code ec) {
    if (!ec && !state->done) {
      state->expired = true;
      error_code ignored;
      socket->close(ignored);
    }
  });
  struct Finish {
    State* state;
    asio::steady_timer* timer;
    ~Finish() {
      state->done = true;
      timer->cancel();
    }
  } finish{state.get(), &timer};

  std::array<uint8_t, proxy::kMaxV2Size> buf{};
  std::size_t have = 0;
  for (;;) {
    proxy::ParseResult r = proxy::parse(std::span<const uint8_t>(buf.data(), have));
    if (auto* parsed = std::get_if<proxy::Parsed>(&r)) {
      if (parsed->source) {
        co_return *parsed->source;
      }
      error_code ec;
      auto peer = socket->remote_endpoint(ec);
      if (ec) {
        co_return make_error(ErrorCode::kIo, "PROXY header: {}", ec.message());
      }
      co_return peer;
    }
    if (auto* err = std::get_if<proxy::Error>(&r)) {
      co_return make_error(ErrorCode::kInvalid, "bad PROXY header: {}", err->reason);
    }
    std::size_t want = std::get<proxy::NeedMore>(r).total;
    if (want > buf.size() || want <= have) {
      co_return make_error(ErrorCode::kInternal, "PROXY header: parser asked for {} bytes", want);
    }
    auto target = asio::buffer(buf.data() + have, want - have);
    auto token = asio::as_tuple(asio::use_awaitable);
    auto [ec, n] = co_await asio::async_read(*socket, target, token);
    have += n;
    if (state->expired) {
      co_return make_error(ErrorCode::kIo, "PROXY header: timed out");
    }
    if (ec) {
      co_return make_error(ErrorCode::kIo, "PROXY header: {}", ec.message());
    }
  }
}

}  // namespace tern::net
