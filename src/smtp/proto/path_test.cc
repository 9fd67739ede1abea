#include "smtp/proto/path.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tern::smtp::proto {
namespace {

constexpr PathSyntax kForward{.allow_null = false, .allow_postmaster = true};
constexpr PathSyntax kReverse{.allow_null = true, .allow_postmaster = false};

struct GoodPath {
  std::string in;
  std::string local_raw;
  std::string local;
  std::string domain;
  std::size_t consumed;
  bool utf8 = false;
};

TEST(SmtpPath, ParsesValidPaths) {
  const std::vector<GoodPath> cases = {
      {"<a@b.example>", "a", "a", "b.example", 13},
      {"<a@b.example> SIZE=1", "a", "a", "b.example", 13},
      {"<first.last+tag@sub.b-c.example>", "first.last+tag", "first.last+tag", "sub.b-c.example", 32},
      {"<!#$%&'*+-/=?^_`{|}~@x.example>", "!#$%&'*+-/=?^_`{|}~", "!#$%&'*+-/=?^_`{|}~", "x.example", 31},
      {"<\"john doe\"@b.example>", "\"john doe\"", "john doe", "b.example", 22},
      {"<\"a\\\"b\"@b.example>", "\"a\\\"b\"", "a\"b", "b.example", 18},
      {"<\"a>b\"@b.example>", "\"a>b\"", "a>b", "b.example", 17},
      {"<\"\"@b.example>", "\"\"", "", "b.example", 14},
      {"<a@[192.0.2.1]>", "a", "a", "[192.0.2.1]", 15},
      {"<a@[IPv6:2001:db8::1]>", "a", "a", "[IPv6:2001:db8::1]", 22},
      {"<a@[ipv6:::ffff:192.0.2.1]>", "a", "a", "[ipv6:::ffff:192.0.2.1]", 27},
      {"<@r1.example,@r2.example:a@b.example>", "a", "a", "b.example", 37},
      {"<@r1.example:a@b.example>", "a", "a", "b.example", 25},
      {"<Postmaster>", "Postmaster", "Postmaster", "", 12},
      {"<pOsTmAsTeR>", "pOsTmAsTeR", "pOsTmAsTeR", "", 12},
      {"<postmaster@b.example>", "postmaster", "postmaster", "b.example", 22},
      {"<A1@B2>", "A1", "A1", "B2", 7},
      {"<j\xc3\xb6rg@\xc3\xa4.example>", "j\xc3\xb6rg", "j\xc3\xb6rg", "\xc3\xa4.example", 18, true},
      {"<\"\xe2\x82\xac\"@b.example>", "\"\xe2\x82\xac\"", "\xe2\x82\xac", "b.example", 17, true},
  };
  for (const auto& c : cases) {
    auto r = parse_path(c.in, kForward);
    ASSERT_TRUE(r.has_value()) << c.in;
    EXPECT_EQ(r->path.local_raw, c.local_raw) << c.in;
    EXPECT_EQ(r->path.local, c.local) << c.in;
    EXPECT_EQ(r->path.domain, c.domain) << c.in;
    EXPECT_FALSE(r->path.null) << c.in;
    EXPECT_EQ(r->consumed, c.consumed) << c.in;
    EXPECT_EQ(r->utf8, c.utf8) << c.in;
  }
}

struct BadPath {
  std::string in;
  PathError error;
};

TEST(SmtpPath, RejectsInvalidPaths) {
  const std::string local64(64, 'l');
  const std::string label63(63, 'd');
  // 4 labels of 63 + 3 dots = 255; one more octet is 256.
  const std::string domain255 = label63 + "." + label63 + "." + label63 + "." + label63;
  const std::vector<BadPath> cases = {
      {"", PathError::kSyntax},
      {"a@b.example", PathError::kSyntax},  // no brackets, not allowed here
      {"<>", PathError::kSyntax},           // null: reverse-path only
      {"<", PathError::kSyntax},
      {"<a@b.example", PathError::kSyntax},
      {"<a@b.example x>", PathError::kSyntax},
      {"<a>", PathError::kSyntax},
      {"<@b.example>", PathError::kSyntax},
      {"<a@>", PathError::kSyntax},
      {"<a@@b.example>", PathError::kSyntax},
      {"<a@b@c.example>", PathError::kSyntax},
      {"<.a@b.example>", PathError::kSyntax},
      {"<a.@b.example>", PathError::kSyntax},
      {"<a..b@b.example>", PathError::kSyntax},
      {"<a b@b.example>", PathError::kSyntax},
      {"<a(b)@b.example>", PathError::kSyntax},
      {"<a,b@b.example>", PathError::kSyntax},
      {"<a@b..example>", PathError::kSyntax},
      {"<a@.b.example>", PathError::kSyntax},
      {"<a@b.example.>", PathError::kSyntax},
      {"<a@-b.example>", PathError::kSyntax},
      {"<a@b-.example>", PathError::kSyntax},
      {"<a@b_c.example>", PathError::kSyntax},
      {"<a@" + std::string(64, 'd') + ".example>", PathError::kSyntax},  // label over 63
      {"<\"unterminated@b.example>", PathError::kSyntax},
      {"<\"a\x01\"@b.example>", PathError::kSyntax},
      {"<\"a\\\x01\"@b.example>", PathError::kSyntax},
      {"<\"a\"b@b.example>", PathError::kSyntax},
      {"<a@[192.0.2.256]>", PathError::kSyntax},
      {"<a@[192.0.2]>", PathError::kSyntax},
      {"<a@[192.0.2.1.5]>", PathError::kSyntax},
      {"<a@[1920.0.2.1]>", PathError::kSyntax},
      {"<a@[192.0.2.1>", PathError::kSyntax},
      {"<a@[]>", PathError::kSyntax},
      {"<a@[IPv6:]>", PathError::kSyntax},
      {"<a@[IPv6:12345::]>", PathError::kSyntax},
      {"<a@[IPv6:1::2::3]>", PathError::kSyntax},
      {"<a@[IPv6:fe80::1%eth0]>", PathError::kSyntax},
      {"<a@[x-tag:whatever]>", PathError::kSyntax},
      {"<a@[192.0.2.1]x>", PathError::kSyntax},
      {"<@r1.example:Postmaster>", PathError::kSyntax},
      {"<\"Postmaster\">", PathError::kSyntax},
      {"<@:a@b.example>", PathError::kSyntax},
      {"<@r1.example,a@b.example>", PathError::kSyntax},
      {"<@r1..example:a@b.example>", PathError::kSyntax},
      {"<j\xc3@b.example>", PathError::kSyntax},              // truncated UTF-8
      {"<j\xc0\xb6rg@b.example>", PathError::kSyntax},        // overlong
      {"<a@\xed\xa0\x80.example>", PathError::kSyntax},       // surrogate
      {"<a@\xf4\x90\x80\x80.example>", PathError::kSyntax},   // above U+10FFFF
      {"<" + local64 + "l@b.example>", PathError::kLocalTooLong},
      {"<a@" + domain255 + "d>", PathError::kDomainTooLong},
      {"<" + local64 + "@" + label63 + "." + label63 + "." + label63 + "." + "dd>",
       PathError::kPathTooLong},
  };
  for (const auto& c : cases) {
    auto r = parse_path(c.in, kForward);
    ASSERT_FALSE(r.has_value()) << c.in;
    EXPECT_EQ(r.error(), c.error) << c.in;
  }
}

TEST(SmtpPath, LimitsAreInclusive) {
  const std::string local64(64, 'l');
  const std::string label63(63, 'd');
  // "<" 64 "@" 189 ">" = 256 octets.
  std::string domain = label63 + "." + label63 + "." + std::string(61, 'd');
  ASSERT_EQ(domain.size(), 189u);
  auto r = parse_path("<" + local64 + "@" + domain + ">", kForward);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->consumed, 256u);
  r = parse_path("<" + local64 + "@" + domain + "d>", kForward);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), PathError::kPathTooLong);
}

TEST(SmtpPath, NullPathOnlyWhenAllowed) {
  auto r = parse_path("<> SIZE=1", kReverse);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->path.null);
  EXPECT_EQ(r->consumed, 2u);
  EXPECT_EQ(r->path.address(), "");
  EXPECT_FALSE(parse_path("<Postmaster>", kReverse).has_value());
}

TEST(SmtpPath, UnbracketedWhenAllowed) {
  PathSyntax lenient = kForward;
  lenient.allow_unbracketed = true;
  auto r = parse_path("a@b.example SIZE=1", lenient);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->path.address(), "a@b.example");
  EXPECT_EQ(r->consumed, 11u);
  r = parse_path("\"a b\"@b.example", lenient);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->path.local, "a b");
  EXPECT_EQ(r->consumed, 15u);
  EXPECT_TRUE(parse_path("<a@b.example>", lenient).has_value());
  EXPECT_FALSE(parse_path("", lenient).has_value());
  EXPECT_FALSE(parse_path(" a@b.example", lenient).has_value());
  EXPECT_FALSE(parse_path("Postmaster", lenient).has_value());  // only "<Postmaster>"
  EXPECT_FALSE(parse_path("a@b.example>", lenient).has_value());
  // The 256-octet limit counts the brackets the client left out.
  std::string local64(64, 'l');
  std::string label63(63, 'd');
  std::string domain = label63 + "." + label63 + "." + std::string(61, 'd');
  EXPECT_TRUE(parse_path(local64 + "@" + domain, lenient).has_value());
  EXPECT_FALSE(parse_path(local64 + "@" + domain + "d", lenient).has_value());
}

TEST(SmtpPath, Address) {
  Path p;
  p.local_raw = "\"a b\"";
  p.local = "a b";
  p.domain = "b.example";
  EXPECT_EQ(p.address(), "\"a b\"@b.example");
  p.domain.clear();
  EXPECT_EQ(p.address(), "\"a b\"");
  p.null = true;
  EXPECT_EQ(p.address(), "");
}

TEST(SmtpPath, DomainsAndLiterals) {
  EXPECT_TRUE(is_valid_domain("example"));
  EXPECT_TRUE(is_valid_domain("xn--bcher-kva.example"));
  EXPECT_TRUE(is_valid_domain("1.2.3.4"));  // syntactically a domain
  EXPECT_FALSE(is_valid_domain(""));
  EXPECT_FALSE(is_valid_domain("."));
  EXPECT_FALSE(is_valid_domain("a..b"));
  EXPECT_FALSE(is_valid_domain(std::string(256, 'a')));
  EXPECT_TRUE(is_valid_address_literal("[0.0.0.0]"));
  EXPECT_TRUE(is_valid_address_literal("[255.255.255.255]"));
  EXPECT_TRUE(is_valid_address_literal("[010.1.1.1]"));  // RFC 5321 Snum allows leading 0
  EXPECT_TRUE(is_valid_address_literal("[IPv6:::]"));
  EXPECT_TRUE(is_valid_address_literal("[IPv6:2001:db8:0:0:0:0:2:1]"));
  EXPECT_FALSE(is_valid_address_literal("192.0.2.1"));
  EXPECT_FALSE(is_valid_address_literal("[192.0.2.1"));
  EXPECT_FALSE(is_valid_address_literal("[-1.0.0.0]"));
  EXPECT_FALSE(is_valid_address_literal("[1.2.3.4.]"));
  EXPECT_FALSE(is_valid_address_literal("[IPv6:1.2.3.4]"));
  EXPECT_FALSE(is_valid_address_literal("[IPv6:" + std::string(60, '1') + "]"));
}

TEST(SmtpPath, Utf8) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("\xc2\x80"));
  EXPECT_TRUE(is_valid_utf8("\xef\xbf\xbf"));
  EXPECT_TRUE(is_valid_utf8("\xf0\x90\x80\x80"));
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));
  EXPECT_FALSE(is_valid_utf8("\x80"));
  EXPECT_FALSE(is_valid_utf8("\xc1\xbf"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xe0\x9f\xbf"));      // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xbf\xbf"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xf0\x8f\xbf\xbf"));  // overlong
  EXPECT_FALSE(is_valid_utf8("\xf5\x80\x80\x80"));
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));
  EXPECT_FALSE(is_valid_utf8("\xe2\x28\xa1"));
}

}  // namespace
}  // namespace tern::smtp::proto
