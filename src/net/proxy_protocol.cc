#include "net/proxy_protocol.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "base/strings.h"

namespace tern::net::proxy {

namespace {

constexpr std::string_view kV1Prefix = "PROXY ";
// The shortest valid v1 header; reading this much at once never passes a valid header's end.
constexpr std::size_t kMinV1Size = std::string_view("PROXY UNKNOWN\r\n").size();
constexpr std::array<uint8_t, 12> kV2Signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                  0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::size_t kV2FixedSize = 16;

Error fail(std::string reason) { return Error{std::move(reason)}; }

// Decimal port, no sign, no leading zeros (spec: "0" itself is accepted).
std::optional<uint16_t> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0')) {
    return std::nullopt;
  }
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(v);
}

// Strict address of one family (no zone ids, no hostnames).
std::optional<asio::ip::address> parse_address(std::string_view s, bool v6) {
  boost::system::error_code ec;
  std::string text(s);
  if (v6) {
    if (text.find('%') != std::string::npos) {
      return std::nullopt;
    }
    auto a = asio::ip::make_address_v6(text, ec);
    if (ec) return std::nullopt;
    return asio::ip::address(a);
  }
  auto a = asio::ip::make_address_v4(text, ec);
  if (ec) return std::nullopt;
  return asio::ip::address(a);
}

ParseResult parse_v1_line(std::string_view line, std::size_t consumed) {
  // line excludes CRLF and starts with "PROXY ".
  std::string_view rest = line.substr(kV1Prefix.size());
  if (rest == "UNKNOWN" || rest.starts_with("UNKNOWN ")) {
    return Parsed{consumed, std::nullopt};
  }
  std::vector<std::string_view> f = split(rest, ' ');
  if (f.size() != 5) {
    return fail("v1: expected protocol, two addresses and two ports");
  }
  bool v6 = false;
  if (f[0] == "TCP6") {
    v6 = true;
  } else if (f[0] != "TCP4") {
    return fail("v1: unknown protocol");
  }
  auto src = parse_address(f[1], v6);
  auto dst = parse_address(f[2], v6);
  if (!src || !dst) {
    return fail("v1: bad address");
  }
  auto sport = parse_port(f[3]);
  auto dport = parse_port(f[4]);
  if (!sport || !dport) {
    return fail("v1: bad port");
  }
  return Parsed{consumed, asio::ip::tcp::endpoint(*src, *sport)};
}

ParseResult parse_v1(std::span<const uint8_t> data) {
  std::string_view s(reinterpret_cast<const char*>(data.data()),
                     std::min(data.size(), kMaxV1Size));
  std::size_t prefix = std::min(s.size(), kV1Prefix.size());
  if (s.substr(0, prefix) != kV1Prefix.substr(0, prefix)) {
    return fail("v1: bad signature");
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\n') {
      return fail("v1: bare LF");
    }
    if (c == '\r') {
      if (i + 1 == s.size()) {
        break;  // the LF may follow
      }
      if (s[i + 1] != '\n') {
        return fail("v1: bare CR");
      }
      if (i < kV1Prefix.size()) {
        return fail("v1: bad signature");
      }
      return parse_v1_line(s.substr(0, i), i + 2);
    }
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) {
      return fail("v1: control or non-ASCII byte");
    }
  }
  if (s.size() >= kMaxV1Size) {
    return fail("v1: header longer than 107 bytes");
  }
  return NeedMore{std::max(s.size() + 1, kMinV1Size)};
}

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

ParseResult parse_v2(std::span<const uint8_t> data) {
  std::size_t prefix = std::min(data.size(), kV2Signature.size());
  if (!std::equal(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(prefix),
                  kV2Signature.begin())) {
    return fail("v2: bad signature");
  }
  if (data.size() < kV2FixedSize) {
    return NeedMore{kV2FixedSize};
  }
  const uint8_t ver_cmd = data[12];
  const uint8_t fam = data[13];
  const std::size_t len = be16(&data[14]);
  if ((ver_cmd >> 4) != 2) {
    return fail("v2: unsupported version");
  }
  const uint8_t cmd = ver_cmd & 0x0f;
  if (cmd > 1) {
    return fail("v2: unknown command");
  }
  const std::size_t total = kV2FixedSize + len;
  if (total > kMaxV2Size) {
    return fail("v2: header too long");
  }
  if (data.size() < total) {
    return NeedMore{total};
  }
  if (cmd == 0) {  // LOCAL: the connection's own endpoints stand
    return Parsed{total, std::nullopt};
  }
  const uint8_t* a = &data[kV2FixedSize];
  switch (fam) {
    case 0x00:  // UNSPEC
      return Parsed{total, std::nullopt};
    case 0x11: {  // TCP over IPv4: src(4) dst(4) sport(2) dport(2)
      if (len < 12) {
        return fail("v2: short IPv4 address block");
      }
      asio::ip::address_v4::bytes_type b;
      std::memcpy(b.data(), a, 4);
      return Parsed{total, asio::ip::tcp::endpoint(asio::ip::address_v4(b), be16(a + 8))};
    }
    case 0x21: {  // TCP over IPv6: src(16) dst(16) sport(2) dport(2)
      if (len < 36) {
        return fail("v2: short IPv6 address block");
      }
      asio::ip::address_v6::bytes_type b;
      std::memcpy(b.data(), a, 16);
      return Parsed{total, asio::ip::tcp::endpoint(asio::ip::address_v6(b), be16(a + 32))};
    }
    default:
      return fail("v2: unsupported address family or transport");
  }
}

asio::ip::address normalize(const asio::ip::address& addr) {
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
  }
  return addr;
}

template <std::size_t N>
std::array<unsigned char, N> masked(std::array<unsigned char, N> b, unsigned prefix) {
  for (std::size_t i = 0; i < N; ++i) {
    unsigned bits = prefix >= 8 * (i + 1) ? 8 : (prefix > 8 * i ? prefix - 8 * i : 0);
    b[i] = static_cast<unsigned char>(b[i] & static_cast<unsigned char>(0xff00u >> bits));
  }
  return b;
}

}  // namespace

ParseResult parse(std::span<const uint8_t> data) {
  if (data.empty()) {
    return NeedMore{1};
  }
  if (data[0] == 'P') {
    return parse_v1(data);
  }
  if (data[0] == kV2Signature[0]) {
    return parse_v2(data);
  }
  return fail("not a PROXY protocol header");
}

Result<Cidr> Cidr::parse(std::string_view text) {
  std::string_view addr_text = text;
  std::optional<unsigned> prefix;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    addr_text = text.substr(0, slash);
    std::string_view p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3 || (p.size() > 1 && p[0] == '0')) {
      return make_error(ErrorCode::kInvalid, "bad prefix length in \"{}\"", text);
    }
    unsigned v = 0;
    for (char c : p) {
      if (c < '0' || c > '9') {
        return make_error(ErrorCode::kInvalid, "bad prefix length in \"{}\"", text);
      }
      v = v * 10 + static_cast<unsigned>(c - '0');
    }
    prefix = v;
  }
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(std::string(addr_text), ec);
  if (ec || addr_text.find('%') != std::string_view::npos) {
    return make_error(ErrorCode::kInvalid, "\"{}\" is not an IP address or CIDR range", text);
  }
  addr = normalize(addr);
  const unsigned max = addr.is_v4() ? 32 : 128;
  if (prefix && *prefix > max) {
    return make_error(ErrorCode::kInvalid, "prefix length in \"{}\" exceeds {}", text, max);
  }
  Cidr c;
  c.prefix_ = prefix.value_or(max);
  if (addr.is_v4()) {
    c.base_ = asio::ip::address_v4(masked(addr.to_v4().to_bytes(), c.prefix_));
  } else {
    c.base_ = asio::ip::address_v6(masked(addr.to_v6().to_bytes(), c.prefix_));
  }
  return c;
}

bool Cidr::contains(const asio::ip::address& raw) const {
  asio::ip::address addr = normalize(raw);
  if (addr.is_v4() != base_.is_v4()) {
    return false;
  }
  if (addr.is_v4()) {
    return asio::ip::address_v4(masked(addr.to_v4().to_bytes(), prefix_)) == base_.to_v4();
  }
  return asio::ip::address_v6(masked(addr.to_v6().to_bytes(), prefix_)) == base_.to_v6();
}

}  // namespace tern::net::proxy
