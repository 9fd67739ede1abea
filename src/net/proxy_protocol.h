// net/proxy_protocol.h: the PROXY protocol header (HAProxy's spec, versions 1 and 2) that a
// load balancer sends before the client's bytes, and the CIDR ranges of the load
// balancers trusted to send it.
//
// parse() is pure: it looks at the bytes received so far and says whether they hold a
// complete header (Parsed: how many bytes it took and the client's address, nullopt for
// LOCAL/UNKNOWN, where the connection's own address stands), need more bytes (NeedMore:
// the total the buffer must reach before parse() can say more; never past the header's
// end, so a reader that reads exactly that many bytes never consumes the client's data),
// or are not a valid header (Error). Headers are bounded: v1 at 107 bytes, v2 at
// kMaxV2Size bytes in total (TLVs are skipped).
// Thread-safety: free functions and value types, safe anywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "base/result.h"

namespace tern::net::proxy {

namespace asio = boost::asio;

constexpr std::size_t kMaxV1Size = 107;  // including CRLF (spec section 2.1)
constexpr std::size_t kMaxV2Size = 536;  // 16-byte fixed part + address block + TLVs

struct NeedMore {
  std::size_t total;  // bytes the buffer must hold (from the start) before calling again
};
struct Parsed {
  std::size_t consumed;                                // header length in bytes
  std::optional<asio::ip::tcp::endpoint> source;       // nullopt: LOCAL / UNKNOWN / UNSPEC
};
struct Error {
  std::string reason;
};
using ParseResult = std::variant<NeedMore, Parsed, Error>;

// Parses the start of `data` as a PROXY v1 or v2 header (see above).
ParseResult parse(std::span<const uint8_t> data);

// An address range: "192.0.2.0/24", "2001:db8::/32", or a bare address (one host).
class Cidr {
 public:
  // kInvalid for anything else (bad address, prefix out of range, stray characters).
  static Result<Cidr> parse(std::string_view text);
  // IPv4-mapped IPv6 addresses match as their IPv4 address.
  bool contains(const asio::ip::address& addr) const;

 private:
  asio::ip::address base_;  // host bits cleared
  unsigned prefix_ = 0;
};

}  // namespace tern::net::proxy
