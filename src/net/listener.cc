#include "net/listener.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

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
  if (cfg.proxy_protocol) {
    return make_error(ErrorCode::kInvalid,
                      "listener {}:{}: proxy_protocol is not supported yet", cfg.address,
                      cfg.port);
  }
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
  co_return std::tuple<error_code, asio::ip::tcp::socket>(ec, std::move(socket));
}

void Listener::close() {
  error_code ec;
  acceptor_.close(ec);
}

}  // namespace tern::net
