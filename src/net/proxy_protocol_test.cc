#include "net/proxy_protocol.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tern::net::proxy {
namespace {

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

const std::string kSig("\r\n\r\n\0\r\nQUIT\n", 12);

std::string v2(uint8_t ver_cmd, uint8_t fam, const std::string& block) {
  std::string h = kSig;
  h += static_cast<char>(ver_cmd);
  h += static_cast<char>(fam);
  h += static_cast<char>(block.size() >> 8);
  h += static_cast<char>(block.size() & 0xff);
  return h + block;
}

const std::string kV4Block("\xcb\x00\x71\x07"   // 203.0.113.7
                           "\x7f\x00\x00\x01"   // 127.0.0.1
                           "\x15\xb3"           // 5555
                           "\x00\x8f",          // 143
                           12);

std::string v6_block() {
  std::string b(16, '\0');
  b[0] = '\x20';
  b[1] = '\x01';
  b[2] = '\x0d';
  b[3] = '\xb8';
  b[15] = '\x07';  // 2001:db8::7
  b += std::string(15, '\0') + "\x01";  // ::1
  b += std::string("\x00\x50\x00\x8f", 4);  // 80, 143
  return b;
}

struct Case {
  std::string name;
  std::string input;
  enum Kind { kNeedMore, kParsed, kError } kind;
  std::size_t n = 0;        // NeedMore total, or Parsed consumed
  std::string source = "";  // "" for nullopt; "addr port" otherwise
};

std::string describe(const std::optional<asio::ip::tcp::endpoint>& ep) {
  if (!ep) return "";
  return ep->address().to_string() + " " + std::to_string(ep->port());
}

TEST(ProxyProtocol, Table) {
  const std::string v1 = "PROXY TCP4 203.0.113.7 127.0.0.1 5555 143\r\n";
  const std::string v1_6 = "PROXY TCP6 2001:db8::7 ::1 65535 143\r\n";
  std::vector<Case> cases = {
      {"empty", "", Case::kNeedMore, 1},
      {"v1 tcp4", v1, Case::kParsed, v1.size(), "203.0.113.7 5555"},
      {"v1 tcp4 + data", v1 + "a001 LOGIN", Case::kParsed, v1.size(), "203.0.113.7 5555"},
      {"v1 tcp6", v1_6, Case::kParsed, v1_6.size(), "2001:db8::7 65535"},
      {"v1 unknown", "PROXY UNKNOWN\r\n", Case::kParsed, 15},
      {"v1 unknown + junk", "PROXY UNKNOWN ffff::1 x 1 2\r\nX", Case::kParsed, 29},
      {"v1 prefix", "P", Case::kNeedMore, 15},
      {"v1 partial", v1.substr(0, 20), Case::kNeedMore, 21},
      {"v1 before LF", v1.substr(0, v1.size() - 1), Case::kNeedMore, v1.size()},
      {"v1 bad sig", "PROXX TCP4", Case::kError},
      {"v1 lower case", "proxy TCP4", Case::kError},
      {"v1 bad proto", "PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n", Case::kError},
      {"v1 family mismatch", "PROXY TCP4 ::1 ::1 1 2\r\n", Case::kError},
      {"v1 v4 in tcp6", "PROXY TCP6 1.2.3.4 1.2.3.4 1 2\r\n", Case::kError},
      {"v1 bad addr", "PROXY TCP4 1.2.3 1.2.3.4 1 2\r\n", Case::kError},
      {"v1 hostname", "PROXY TCP4 localhost 1.2.3.4 1 2\r\n", Case::kError},
      {"v1 port range", "PROXY TCP4 1.2.3.4 1.2.3.4 65536 2\r\n", Case::kError},
      {"v1 port zero pad", "PROXY TCP4 1.2.3.4 1.2.3.4 01 2\r\n", Case::kError},
      {"v1 port sign", "PROXY TCP4 1.2.3.4 1.2.3.4 +1 2\r\n", Case::kError},
      {"v1 missing field", "PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n", Case::kError},
      {"v1 extra field", "PROXY TCP4 1.2.3.4 1.2.3.4 1 2 3\r\n", Case::kError},
      {"v1 double space", "PROXY TCP4  1.2.3.4 1.2.3.4 1 2\r\n", Case::kError},
      {"v1 bare LF", "PROXY TCP4 1.2.3.4 1.2.3.4 1 2\n", Case::kError},
      {"v1 bare CR", "PROXY TCP4 1.2.3.4\r1.2.3.4 1 2\r\n", Case::kError},
      {"v1 NUL", std::string("PROXY TCP4 \0", 12), Case::kError},
      {"v1 early CRLF", "PROXY\r\n", Case::kError},
      {"v1 too long", "PROXY UNKNOWN " + std::string(100, 'x'), Case::kError},
      {"v1 longest", "PROXY UNKNOWN " + std::string(91, 'x') + "\r\n", Case::kParsed, 107},
      {"plain IMAP", "a001 CAPABILITY\r\n", Case::kError},
      {"SMTP EHLO", "EHLO x\r\n", Case::kError},
      {"TLS hello", "\x16\x03\x01", Case::kError},
      {"v2 sig prefix", kSig.substr(0, 5), Case::kNeedMore, 16},
      {"v2 bad sig", kSig.substr(0, 4) + "X", Case::kError},
      {"v2 fixed part", v2(0x21, 0x11, kV4Block).substr(0, 16), Case::kNeedMore, 28},
      {"v2 tcp4", v2(0x21, 0x11, kV4Block), Case::kParsed, 28, "203.0.113.7 5555"},
      {"v2 tcp4 + data", v2(0x21, 0x11, kV4Block) + "\x16\x03", Case::kParsed, 28,
       "203.0.113.7 5555"},
      {"v2 tcp4 tlvs", v2(0x21, 0x11, kV4Block + std::string("\x04\x00\x02xy", 5)),
       Case::kParsed, 33, "203.0.113.7 5555"},
      {"v2 tcp6", v2(0x21, 0x21, v6_block()), Case::kParsed, 52, "2001:db8::7 80"},
      {"v2 local", v2(0x20, 0x00, ""), Case::kParsed, 16},
      {"v2 local with addrs", v2(0x20, 0x11, kV4Block), Case::kParsed, 28},
      {"v2 proxy unspec", v2(0x21, 0x00, ""), Case::kParsed, 16},
      {"v2 version 1", v2(0x11, 0x11, kV4Block), Case::kError},
      {"v2 bad command", v2(0x22, 0x11, kV4Block), Case::kError},
      {"v2 udp", v2(0x21, 0x12, kV4Block), Case::kError},
      {"v2 unix", v2(0x21, 0x31, std::string(216, 'u')), Case::kError},
      {"v2 short v4 block", v2(0x21, 0x11, kV4Block.substr(0, 11)), Case::kError},
      {"v2 short v6 block", v2(0x21, 0x21, v6_block().substr(0, 35)), Case::kError},
      {"v2 largest", v2(0x21, 0x11, kV4Block + std::string(520 - 12, '\0')), Case::kParsed, 536,
       "203.0.113.7 5555"},
      {"v2 too long", v2(0x21, 0x11, kV4Block + std::string(521 - 12, '\0')), Case::kError},
      {"v2 huge length", kSig + std::string("\x21\x11\xff\xff", 4), Case::kError},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ParseResult r = parse(bytes(c.input));
    switch (c.kind) {
      case Case::kNeedMore:
        ASSERT_TRUE(std::holds_alternative<NeedMore>(r));
        EXPECT_EQ(std::get<NeedMore>(r).total, c.n);
        break;
      case Case::kParsed: {
        ASSERT_TRUE(std::holds_alternative<Parsed>(r))
            << (std::holds_alternative<Error>(r) ? std::get<Error>(r).reason : "need more");
        EXPECT_EQ(std::get<Parsed>(r).consumed, c.n);
        EXPECT_EQ(describe(std::get<Parsed>(r).source), c.source);
        break;
      }
      case Case::kError:
        ASSERT_TRUE(std::holds_alternative<Error>(r));
        EXPECT_FALSE(std::get<Error>(r).reason.empty());
        break;
    }
  }
}

// Feeding a valid header exactly as NeedMore asks reaches Parsed without ever asking for a
// byte past the header: what a socket reader relies on not to swallow client data.
TEST(ProxyProtocol, NeedMoreNeverPassesTheHeader) {
  std::vector<std::string> headers = {
      "PROXY TCP4 203.0.113.7 127.0.0.1 5555 143\r\n", "PROXY UNKNOWN\r\n",
      "PROXY TCP6 ::1 ::1 1 2\r\n", v2(0x21, 0x11, kV4Block), v2(0x20, 0x00, ""),
      v2(0x21, 0x21, v6_block() + "tlv")};
  for (const std::string& h : headers) {
    SCOPED_TRACE(h);
    std::string buf;
    for (int steps = 0; steps < 200; ++steps) {
      ParseResult r = parse(bytes(buf));
      if (auto* p = std::get_if<Parsed>(&r)) {
        EXPECT_EQ(p->consumed, h.size());
        break;
      }
      ASSERT_TRUE(std::holds_alternative<NeedMore>(r));
      std::size_t want = std::get<NeedMore>(r).total;
      ASSERT_GT(want, buf.size());
      ASSERT_LE(want, h.size());
      buf = h.substr(0, want);
    }
    EXPECT_EQ(buf, h);
  }
}

TEST(ProxyProtocol, Cidr) {
  auto lan = Cidr::parse("10.1.0.0/16");
  ASSERT_TRUE(lan);
  EXPECT_TRUE(lan->contains(asio::ip::make_address("10.1.255.3")));
  EXPECT_TRUE(lan->contains(asio::ip::make_address("::ffff:10.1.0.9")));
  EXPECT_FALSE(lan->contains(asio::ip::make_address("10.2.0.1")));
  EXPECT_FALSE(lan->contains(asio::ip::make_address("::1")));

  auto host = Cidr::parse("127.0.0.1");
  ASSERT_TRUE(host);
  EXPECT_TRUE(host->contains(asio::ip::make_address("127.0.0.1")));
  EXPECT_FALSE(host->contains(asio::ip::make_address("127.0.0.2")));

  auto odd = Cidr::parse("192.168.1.77/27");  // host bits are ignored
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->contains(asio::ip::make_address("192.168.1.64")));
  EXPECT_TRUE(odd->contains(asio::ip::make_address("192.168.1.95")));
  EXPECT_FALSE(odd->contains(asio::ip::make_address("192.168.1.96")));

  auto v6 = Cidr::parse("2001:db8::/33");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains(asio::ip::make_address("2001:db8:7fff::1")));
  EXPECT_FALSE(v6->contains(asio::ip::make_address("2001:db8:8000::1")));
  EXPECT_FALSE(v6->contains(asio::ip::make_address("10.0.0.1")));

  auto all = Cidr::parse("0.0.0.0/0");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->contains(asio::ip::make_address("203.0.113.7")));
  EXPECT_FALSE(all->contains(asio::ip::make_address("2001:db8::1")));

  for (const char* bad : {"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/08",
                          "10.0.0.0/-1", "10.0.0/8", "host.example/32", "10.0.0.0/8 ",
                          "fe80::1%eth0/64", "10.0.0.0/8/8"}) {
    auto r = Cidr::parse(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalid);
  }
}

}  // namespace
}  // namespace tern::net::proxy
