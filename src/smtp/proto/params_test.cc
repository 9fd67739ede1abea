#include "smtp/proto/params.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tern::smtp::proto {
namespace {

struct MailCase {
  std::string arg;
  std::string address;  // Path::address()
  bool null = false;
};

TEST(SmtpParams, MailFromPaths) {
  const std::vector<MailCase> cases = {
      {"FROM:<a@b.example>", "a@b.example"},
      {"from:<a@b.example>", "a@b.example"},
      {"From: <a@b.example>", "a@b.example"},
      {"FROM:   <a@b.example>", "a@b.example"},
      {"FROM:<>", "", true},
      {"FROM:<> SIZE=0", "", true},
      {"FROM:<@r.example:a@b.example>", "a@b.example"},
      {"FROM:<\"a b\"@b.example>", "\"a b\"@b.example"},
      {"FROM:<a@[192.0.2.1]>", "a@[192.0.2.1]"},
      {"FROM:<a@[IPv6:2001:db8::1]>", "a@[IPv6:2001:db8::1]"},
      {"FROM:<j\xc3\xb6rg@b.example> SMTPUTF8", "j\xc3\xb6rg@b.example"},
      {"FROM:<a@\xc3\xa4.example> smtputf8", "a@\xc3\xa4.example"},
  };
  for (const auto& c : cases) {
    auto r = parse_mail_from(c.arg);
    ASSERT_TRUE(r.has_value()) << c.arg << ": " << r.error().line();
    EXPECT_EQ(r->path.address(), c.address) << c.arg;
    EXPECT_EQ(r->path.null, c.null) << c.arg;
  }
}

TEST(SmtpParams, MailFromParameters) {
  auto r = parse_mail_from("FROM:<a@b.example> SIZE=12345 BODY=8BITMIME");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->size, 12345u);
  EXPECT_EQ(r->body, MailFrom::Body::k8BitMime);
  EXPECT_FALSE(r->smtputf8);
  EXPECT_EQ(r->ret, MailFrom::Ret::kDefault);
  EXPECT_EQ(r->envid, "");
  EXPECT_EQ(r->auth, "");

  r = parse_mail_from("FROM:<a@b.example>");
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->size.has_value());
  EXPECT_EQ(r->body, MailFrom::Body::kDefault);

  r = parse_mail_from("FROM:<a@b.example>   size=0  body=7bit ");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->size, 0u);
  EXPECT_EQ(r->body, MailFrom::Body::k7Bit);

  r = parse_mail_from("FROM:<a@b.example> SIZE=18446744073709551615");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->size, 18446744073709551615u);

  r = parse_mail_from("FROM:<a@b.example> SIZE=000100");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->size, 100u);

  r = parse_mail_from("FROM:<a@b.example> SMTPUTF8 RET=FULL ENVID=QQ314159");
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->smtputf8);
  EXPECT_EQ(r->ret, MailFrom::Ret::kFull);
  EXPECT_EQ(r->envid, "QQ314159");

  r = parse_mail_from("FROM:<> ret=hdrs envid=a+2Bb+3dc+20d");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->ret, MailFrom::Ret::kHdrs);
  EXPECT_EQ(r->envid, "a+b=c d");

  r = parse_mail_from("FROM:<a@b.example> ENVID=" + std::string(100, 'x'));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->envid.size(), 100u);

  r = parse_mail_from("FROM:<a@b.example> AUTH=<>");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->auth, "<>");

  r = parse_mail_from("FROM:<a@b.example> AUTH=e+3Dmc2@example.com");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->auth, "e=mc2@example.com");
}

struct Bad {
  std::string arg;
  int code;
  std::string enhanced;
};

void expect_rejected(const tl::expected<MailFrom, Reply>& r, const Bad& c) {
  ASSERT_FALSE(r.has_value()) << c.arg;
  EXPECT_EQ(r.error().code, c.code) << c.arg << ": " << r.error().line();
  EXPECT_EQ(r.error().enhanced, c.enhanced) << c.arg << ": " << r.error().line();
  EXPECT_FALSE(r.error().text.empty()) << c.arg;
}

TEST(SmtpParams, MailFromRejects) {
  const std::vector<Bad> cases = {
      // The command's own syntax.
      {"", 501, "5.5.4"},
      {"FROM", 501, "5.5.4"},
      {"FROM:", 501, "5.5.4"},
      {"FROM: ", 501, "5.5.4"},
      {"FROM :<a@b.example>", 501, "5.5.4"},
      {"FRM:<a@b.example>", 501, "5.5.4"},
      {"TO:<a@b.example>", 501, "5.5.4"},
      {"FROM:a@b.example", 501, "5.5.4"},  // brackets required unless lenient
      // The address.
      {"FROM:<", 501, "5.1.7"},
      {"FROM:<a@b.example", 501, "5.1.7"},
      {"FROM:<a@b.example>x", 501, "5.1.7"},
      {"FROM:<a@b.example>SIZE=1", 501, "5.1.7"},
      {"FROM:<a..b@b.example>", 501, "5.1.7"},
      {"FROM:<a@b_c.example>", 501, "5.1.7"},
      {"FROM:<a@[300.0.0.1]>", 501, "5.1.7"},
      {"FROM:<Postmaster>", 501, "5.1.7"},
      {"FROM:<a@b.example\xff> SMTPUTF8", 501, "5.1.7"},
      {"FROM:<" + std::string(65, 'l') + "@b.example>", 501, "5.1.7"},
      {"FROM:<a@" + std::string(250, 'd') + ".example>", 501, "5.1.7"},
      // UTF-8 without SMTPUTF8 (RFC 6531 3.5).
      {"FROM:<j\xc3\xb6rg@b.example>", 553, "5.6.7"},
      {"FROM:<j\xc3\xb6rg@b.example> SIZE=10", 553, "5.6.7"},
      // Parameters.
      {"FROM:<a@b.example> FOO=bar", 555, "5.5.4"},
      {"FROM:<a@b.example> X-FOO", 555, "5.5.4"},
      {"FROM:<a@b.example> NOTIFY=NEVER", 555, "5.5.4"},  // a RCPT parameter
      {"FROM:<a@b.example> BODY=BINARYMIME", 555, "5.5.4"},
      {"FROM:<a@b.example> =1", 501, "5.5.4"},
      {"FROM:<a@b.example> -X=1", 501, "5.5.4"},
      {"FROM:<a@b.example> S_ZE=1", 501, "5.5.4"},
      {"FROM:<a@b.example> SIZE=1=2", 501, "5.5.4"},
      {"FROM:<a@b.example> SIZE", 501, "5.5.4"},
      {"FROM:<a@b.example> SIZE=", 501, "5.5.4"},
      {"FROM:<a@b.example> SIZE=abc", 501, "5.5.4"},
      {"FROM:<a@b.example> SIZE=-1", 501, "5.5.4"},
      {"FROM:<a@b.example> SIZE=+1", 501, "5.5.4"},
      {"FROM:<a@b.example> SIZE=1 SIZE=1", 501, "5.5.4"},
      {"FROM:<a@b.example> SIZE=18446744073709551616", 552, "5.3.4"},
      {"FROM:<a@b.example> SIZE=99999999999999999999999999", 552, "5.3.4"},
      {"FROM:<a@b.example> BODY", 501, "5.5.4"},
      {"FROM:<a@b.example> BODY=8BIT", 501, "5.5.4"},
      {"FROM:<a@b.example> BODY=7BIT BODY=7BIT", 501, "5.5.4"},
      {"FROM:<a@b.example> SMTPUTF8=YES", 501, "5.5.4"},
      {"FROM:<a@b.example> SMTPUTF8 SMTPUTF8", 501, "5.5.4"},
      {"FROM:<a@b.example> RET", 501, "5.5.4"},
      {"FROM:<a@b.example> RET=ALL", 501, "5.5.4"},
      {"FROM:<a@b.example> RET=FULL RET=HDRS", 501, "5.5.4"},
      {"FROM:<a@b.example> ENVID", 501, "5.5.4"},
      {"FROM:<a@b.example> ENVID=a+zz", 501, "5.5.4"},
      {"FROM:<a@b.example> ENVID=a+4", 501, "5.5.4"},
      {"FROM:<a@b.example> ENVID=a+0Db", 501, "5.5.4"},  // control octets
      {"FROM:<a@b.example> ENVID=" + std::string(101, 'x'), 501, "5.5.4"},
      {"FROM:<a@b.example> ENVID=a ENVID=a", 501, "5.5.4"},
      {"FROM:<a@b.example> ENVID=\xc3\xa4", 501, "5.5.4"},
      {"FROM:<a@b.example> AUTH", 501, "5.5.4"},
      {"FROM:<a@b.example> AUTH=+", 501, "5.5.4"},
      {"FROM:<a@b.example> AUTH=a+00b", 501, "5.5.4"},
      {"FROM:<a@b.example> AUTH=<> AUTH=<>", 501, "5.5.4"},
  };
  for (const auto& c : cases) expect_rejected(parse_mail_from(c.arg), c);
}

TEST(SmtpParams, UnknownParameterIsNamedInTheReply) {
  auto r = parse_mail_from("FROM:<a@b.example> x-frob=1");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().line(), "555 5.5.4 Unsupported parameter X-FROB");
  r = parse_mail_from("FROM:<a@b.example> " + std::string(200, 'K'));
  ASSERT_FALSE(r.has_value());
  EXPECT_LT(r.error().text.size(), 80u);
}

TEST(SmtpParams, LenientUnbracketedPaths) {
  PathOptions lenient{.allow_unbracketed = true};
  auto m = parse_mail_from("FROM:a@b.example SIZE=10", lenient);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->path.address(), "a@b.example");
  EXPECT_EQ(m->size, 10u);
  m = parse_mail_from("FROM: a@b.example", lenient);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->path.address(), "a@b.example");
  m = parse_mail_from("FROM:<>", lenient);
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(m->path.null);
  EXPECT_FALSE(parse_mail_from("FROM:", lenient).has_value());
  EXPECT_FALSE(parse_mail_from("FROM:a@b.example>", lenient).has_value());
  auto t = parse_rcpt_to("TO:c@d.example NOTIFY=NEVER", false, lenient);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->path.address(), "c@d.example");
  EXPECT_EQ(t->notify, kNotifyNever);
  EXPECT_FALSE(parse_rcpt_to("TO:Postmaster", false, lenient).has_value());
}

struct RcptCase {
  std::string arg;
  bool smtputf8;
  std::string address;
  std::uint8_t notify;
  std::string orcpt;
};

TEST(SmtpParams, RcptTo) {
  const std::vector<RcptCase> cases = {
      {"TO:<c@d.example>", false, "c@d.example", 0, ""},
      {"to:<c@d.example>", false, "c@d.example", 0, ""},
      {"To: <c@d.example>", false, "c@d.example", 0, ""},
      {"TO:<Postmaster>", false, "Postmaster", 0, ""},
      {"TO:<postmaster>", false, "postmaster", 0, ""},
      {"TO:<postmaster@d.example>", false, "postmaster@d.example", 0, ""},
      {"TO:<@r.example:c@d.example>", false, "c@d.example", 0, ""},
      {"TO:<c@d.example> NOTIFY=NEVER", false, "c@d.example", kNotifyNever, ""},
      {"TO:<c@d.example> NOTIFY=SUCCESS", false, "c@d.example", kNotifySuccess, ""},
      {"TO:<c@d.example> notify=failure,delay", false, "c@d.example",
       kNotifyFailure | kNotifyDelay, ""},
      {"TO:<c@d.example> NOTIFY=SUCCESS,FAILURE,DELAY", false, "c@d.example",
       kNotifySuccess | kNotifyFailure | kNotifyDelay, ""},
      {"TO:<c@d.example> NOTIFY=DELAY,DELAY", false, "c@d.example", kNotifyDelay, ""},
      {"TO:<c@d.example> ORCPT=rfc822;c+40d.example", false, "c@d.example", 0,
       "rfc822;c@d.example"},
      {"TO:<c@d.example> ORCPT=rfc822;+22a+20b+22@d.example NOTIFY=FAILURE", false,
       "c@d.example", kNotifyFailure, "rfc822;\"a b\"@d.example"},
      {"TO:<c@d.example> ORCPT=utf-8;j\\x{00F6}rg@d.example", false, "c@d.example", 0,
       "utf-8;j\\x{00F6}rg@d.example"},
      {"TO:<j\xc3\xb6rg@d.example> ORCPT=UTF-8;j\xc3\xb6rg@d.example", true,
       "j\xc3\xb6rg@d.example", 0, "UTF-8;j\xc3\xb6rg@d.example"},
      {"TO:<c@\xc3\xa4.example>", true, "c@\xc3\xa4.example", 0, ""},
  };
  for (const auto& c : cases) {
    auto r = parse_rcpt_to(c.arg, c.smtputf8);
    ASSERT_TRUE(r.has_value()) << c.arg << ": " << r.error().line();
    EXPECT_EQ(r->path.address(), c.address) << c.arg;
    EXPECT_EQ(r->notify, c.notify) << c.arg;
    EXPECT_EQ(r->orcpt, c.orcpt) << c.arg;
  }
  auto r = parse_rcpt_to("TO:<Postmaster>", false);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->path.domain, "");
  EXPECT_EQ(r->path.local, "Postmaster");
}

TEST(SmtpParams, RcptToRejects) {
  struct RcptBad {
    std::string arg;
    bool smtputf8;
    int code;
    std::string enhanced;
  };
  const std::vector<RcptBad> cases = {
      {"", false, 501, "5.5.4"},
      {"TO", false, 501, "5.5.4"},
      {"TO:", false, 501, "5.5.4"},
      {"FROM:<c@d.example>", false, 501, "5.5.4"},
      {"TO:c@d.example", false, 501, "5.5.4"},
      {"TO:<>", false, 501, "5.1.3"},
      {"TO:<", false, 501, "5.1.3"},
      {"TO:<c@d.example", false, 501, "5.1.3"},
      {"TO:<c@>", false, 501, "5.1.3"},
      {"TO:<c>", false, 501, "5.1.3"},
      {"TO:<\"Postmaster\">", false, 501, "5.1.3"},
      {"TO:<@r.example:Postmaster>", false, 501, "5.1.3"},
      {"TO:<c@d.example>x", false, 501, "5.1.3"},
      {"TO:<" + std::string(65, 'l') + "@d.example>", false, 501, "5.1.3"},
      {"TO:<c\xff@d.example>", true, 501, "5.1.3"},
      {"TO:<j\xc3\xb6rg@d.example>", false, 553, "5.6.7"},
      {"TO:<c@\xc3\xa4.example>", false, 553, "5.6.7"},
      {"TO:<c@d.example> SIZE=10", false, 555, "5.5.4"},
      {"TO:<c@d.example> SMTPUTF8", false, 555, "5.5.4"},
      {"TO:<c@d.example> NOTIFY", false, 501, "5.5.4"},
      {"TO:<c@d.example> NOTIFY=", false, 501, "5.5.4"},
      {"TO:<c@d.example> NOTIFY=SOMETIMES", false, 501, "5.5.4"},
      {"TO:<c@d.example> NOTIFY=NEVER,SUCCESS", false, 501, "5.5.4"},
      {"TO:<c@d.example> NOTIFY=DELAY,NEVER", false, 501, "5.5.4"},
      {"TO:<c@d.example> NOTIFY=SUCCESS,,FAILURE", false, 501, "5.5.4"},
      {"TO:<c@d.example> NOTIFY=SUCCESS,", false, 501, "5.5.4"},
      {"TO:<c@d.example> NOTIFY=NEVER NOTIFY=NEVER", false, 501, "5.5.4"},
      {"TO:<c@d.example> ORCPT", false, 501, "5.5.4"},
      {"TO:<c@d.example> ORCPT=rfc822", false, 501, "5.5.4"},
      {"TO:<c@d.example> ORCPT=;c@d.example", false, 501, "5.5.4"},
      {"TO:<c@d.example> ORCPT=rfc822;", false, 501, "5.5.4"},
      {"TO:<c@d.example> ORCPT=rf(c;c@d.example", false, 501, "5.5.4"},
      {"TO:<c@d.example> ORCPT=rfc822;c+0D+0Ax@d.example", false, 501, "5.5.4"},
      {"TO:<c@d.example> ORCPT=rfc822;c+4", false, 501, "5.5.4"},
      {"TO:<c@d.example> ORCPT=rfc822;" + std::string(500, 'c'), false, 501, "5.5.4"},
      {"TO:<c@d.example> ORCPT=utf-8;j\xc3\xb6rg@d.example", false, 501, "5.5.4"},
      {"TO:<c@d.example> ORCPT=utf-8;j\xc3rg@d.example", true, 501, "5.5.4"},
      {"TO:<c@d.example> ORCPT=utf-8;a+b", false, 501, "5.5.4"},
      {"TO:<c@d.example> ORCPT=rfc822;a ORCPT=rfc822;a", false, 501, "5.5.4"},
  };
  for (const auto& c : cases) {
    auto r = parse_rcpt_to(c.arg, c.smtputf8);
    ASSERT_FALSE(r.has_value()) << c.arg;
    EXPECT_EQ(r.error().code, c.code) << c.arg << ": " << r.error().line();
    EXPECT_EQ(r.error().enhanced, c.enhanced) << c.arg << ": " << r.error().line();
  }
}

TEST(SmtpParams, ReplyTexts) {
  EXPECT_EQ(parse_mail_from("FROM").error().line(), "501 5.5.4 Syntax: MAIL FROM:<address>");
  EXPECT_EQ(parse_rcpt_to("TO", false).error().line(), "501 5.5.4 Syntax: RCPT TO:<address>");
  EXPECT_EQ(parse_mail_from("FROM:<a@@b>").error().line(), "501 5.1.7 Bad sender address syntax");
  EXPECT_EQ(parse_rcpt_to("TO:<a@@b>", false).error().line(),
            "501 5.1.3 Bad recipient address syntax");
  EXPECT_EQ(parse_rcpt_to("TO:<\xc3\xa4@b>", false).error().line(),
            "553 5.6.7 Non-ASCII address requires SMTPUTF8");
  EXPECT_EQ(parse_mail_from("FROM:<a@b> SIZE=1 SIZE=2").error().line(),
            "501 5.5.4 Duplicate SIZE parameter");
  EXPECT_EQ(parse_mail_from("FROM:<a@b> size=x").error().line(), "501 5.5.4 Bad SIZE parameter");
  std::string long_path = "FROM:<" + std::string(64, 'l') + "@" + std::string(63, 'd') + "." +
                          std::string(63, 'd') + "." + std::string(63, 'd') + ".dd>";
  EXPECT_EQ(parse_mail_from(long_path).error().line(), "501 5.1.7 Path too long");
}

TEST(SmtpParams, Bdat) {
  struct BdatCase {
    std::string arg;
    std::uint64_t size;
    bool last;
  };
  const std::vector<BdatCase> good = {
      {"100", 100, false},
      {"0", 0, false},
      {"0 LAST", 0, true},
      {"100 last", 100, true},
      {"100 LaSt", 100, true},
      {"00042  LAST", 42, true},
      {"18446744073709551615 LAST", 18446744073709551615u, true},
  };
  for (const auto& c : good) {
    auto r = parse_bdat(c.arg);
    ASSERT_TRUE(r.has_value()) << c.arg << ": " << r.error().line();
    EXPECT_EQ(r->size, c.size) << c.arg;
    EXPECT_EQ(r->last, c.last) << c.arg;
  }
  const std::vector<std::string> bad = {
      "", "LAST", "-1", "+1", "1e3", "0x10", "10 LAST x", "10 FIRST", "10LAST", "10 LASTX",
      "ten", "18446744073709551616", "99999999999999999999999 LAST",
  };
  for (const auto& arg : bad) {
    auto r = parse_bdat(arg);
    ASSERT_FALSE(r.has_value()) << arg;
    EXPECT_EQ(r.error().code, 501) << arg;
    EXPECT_EQ(r.error().enhanced, "5.5.4") << arg;
  }
  EXPECT_EQ(parse_bdat("x").error().line(), "501 5.5.4 Syntax: BDAT size [LAST]");
}

TEST(SmtpParams, Xtext) {
  EXPECT_EQ(xtext_encode(""), "");
  EXPECT_EQ(xtext_encode("plain@example.com"), "plain@example.com");
  EXPECT_EQ(xtext_encode("a+b=c d"), "a+2Bb+3Dc+20d");
  EXPECT_EQ(xtext_encode(std::string("\0\r\n\x7f\xff", 5)), "+00+0D+0A+7F+FF");
  EXPECT_EQ(xtext_decode("a+2Bb+3Dc+20d"), "a+b=c d");
  EXPECT_EQ(xtext_decode("+2b"), "+");  // lower-case hex taken
  EXPECT_EQ(xtext_decode(""), "");
  EXPECT_FALSE(xtext_decode("a b").has_value());
  EXPECT_FALSE(xtext_decode("a=b").has_value());
  EXPECT_FALSE(xtext_decode("+").has_value());
  EXPECT_FALSE(xtext_decode("+4").has_value());
  EXPECT_FALSE(xtext_decode("+GG").has_value());
  EXPECT_FALSE(xtext_decode("\xc3\xa4").has_value());
  EXPECT_FALSE(xtext_decode(std::string("a\0", 2)).has_value());
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  EXPECT_EQ(xtext_decode(xtext_encode(all)), all);
}

}  // namespace
}  // namespace tern::smtp::proto
