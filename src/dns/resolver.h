// dns/resolver.h: asynchronous DNS lookups for the outbound queue, with c-ares driven by the
// caller's Asio executor (no thread of its own, no blocking): MX records, and the A and AAAA
// addresses of a host.
//
// Thread-safety: one Resolver belongs to one single-threaded executor (the queue's
// io_context); every call and every completion runs there. Several lookups may be in flight
// at once. The Resolver must outlive its lookups.
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>

#include "base/result.h"
#include "dns/mx.h"

namespace tern::dns {

struct MxAnswer {
  Answer answer = Answer::kTemporary;
  std::vector<MxRecord> records;
  std::string detail;  // c-ares's words for a failure
};

struct AddressAnswer {
  Answer answer = Answer::kTemporary;
  std::vector<boost::asio::ip::address> addresses;  // IPv6 and IPv4 as the resolver gave them
  std::string detail;
};

struct ResolverOptions {
  // Name servers as "address" or "address:port" ("[v6]:port" for IPv6); empty: the
  // system's (/etc/resolv.conf).
  std::vector<std::string> servers;
  std::chrono::milliseconds timeout{5000};  // per try
  int tries = 3;
};

class Resolver {
 public:
  static Result<std::unique_ptr<Resolver>> create(boost::asio::any_io_executor executor,
                                                  const ResolverOptions& options);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // The MX records of `domain` (no search list: the name is taken as fully qualified).
  boost::asio::awaitable<MxAnswer> mx(std::string domain);
  // The A and AAAA addresses of `host`.
  boost::asio::awaitable<AddressAnswer> addresses(std::string host);

  struct Impl;

 private:
  explicit Resolver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tern::dns
