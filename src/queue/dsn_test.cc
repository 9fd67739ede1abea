#include "queue/dsn.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "base/strings.h"
#include "mime/header.h"
#include "mime/message.h"

namespace tern::queue {
namespace {

constexpr int64_t kArrival = 1795000000;
constexpr int64_t kNow = 1795003600;
const std::string kReturnPath = "Return-Path: <alice@a.test>\r\n";
const std::string kOriginal = "Subject: hello\r\nFrom: Alice <alice@a.test>\r\nTo: bob@b.test\r\n\r\nthe body\r\n";

store::OutboundMessage message() {
  store::OutboundMessage m;
  m.sender = "alice@a.test";
  m.envid = "env-42";
  m.skip = kReturnPath.size();
  m.recipients.push_back({"bob@b.test", 0, "rfc822;Bob@B.test", store::QueueState::kQueued, ""});
  m.recipients.push_back({"carol@c.test", 0, "", store::QueueState::kQueued, ""});
  return m;
}

DsnOptions options() {
  DsnOptions o;
  o.hostname = "mx.a.test";
  return o;
}

// One group of "Name: value" fields of a delivery-status body, unfolded, by lower-case name.
using Fields = std::map<std::string, std::string>;

// The groups of a message/delivery-status body (RFC 3464 2.1): per-message, then per-recipient.
std::vector<Fields> status_groups(std::string_view body) {
  std::vector<Fields> groups;
  while (!body.empty()) {
    mime::HeaderBlock block = mime::parse_header_block(body);
    Fields f;
    for (const mime::HeaderField& field : block.fields) {
      f[ascii_lower(field.name)] = std::string(trim(mime::unfold(field.value)));
    }
    if (!f.empty()) groups.push_back(std::move(f));
    if (block.body_offset == 0 || block.body_offset >= body.size()) break;
    body.remove_prefix(block.body_offset);
  }
  return groups;
}

struct Parsed {
  std::string bytes;
  mime::Message tree;
  std::string_view part_body(std::size_t child) const {
    const mime::Part& p = tree.parts[tree.parts[0].children.at(child)];
    return std::string_view(bytes).substr(p.body_begin, p.body_end - p.body_begin);
  }
  const mime::Part& part(std::size_t child) const { return tree.parts[tree.parts[0].children.at(child)]; }
  std::string header(std::string_view name) const {
    mime::HeaderBlock block = mime::parse_header_block(bytes);
    const mime::HeaderField* f = mime::find_field(block.fields, name);
    return f ? std::string(trim(mime::unfold(f->value))) : std::string("<absent>");
  }
};

Parsed parse(const Bounce& b) {
  Parsed p;
  p.bytes = b.bytes;
  p.tree = mime::parse(p.bytes);
  return p;
}

// Every line ends in CR LF and none is longer than RFC 5322 2.1.1 allows.
void expect_clean_lines(const std::string& bytes) {
  std::size_t start = 0;
  while (start < bytes.size()) {
    const std::size_t lf = bytes.find('\n', start);
    ASSERT_NE(lf, std::string::npos) << "the last line has no line end";
    ASSERT_GT(lf, start) << "bare LF at " << lf;
    EXPECT_EQ(bytes[lf - 1], '\r') << "bare LF at " << lf;
    EXPECT_LE(lf + 1 - start, 1000u);
    start = lf + 1;
  }
}

TEST(Dsn, ReportsTheFailedRecipientInAllThreeParts) {
  const std::string stored = kReturnPath + kOriginal;
  std::vector<FailedRecipient> failed{{0, "550 5.1.1 <bob@b.test>: no such user here", false, "mx.b.test"}};
  auto b = build_bounce(options(), message(), failed, stored, kArrival, kNow, 0x1234);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->reported, std::vector<std::size_t>{0});
  EXPECT_FALSE(b->eightbit);
  EXPECT_FALSE(b->smtputf8);
  expect_clean_lines(b->bytes);
  Parsed p = parse(*b);

  EXPECT_EQ(p.header("From"), "Mail Delivery System <MAILER-DAEMON@mx.a.test>");
  EXPECT_EQ(p.header("To"), "<alice@a.test>");
  EXPECT_EQ(p.header("Subject"), "Undelivered Mail Returned to Sender");
  EXPECT_EQ(p.header("Auto-Submitted"), "auto-replied");
  EXPECT_EQ(p.header("Date"), rfc5322_date(kNow));
  EXPECT_EQ(p.header("Message-ID"), "<0000000000001234.1795003600.dsn@mx.a.test>");
  EXPECT_EQ(p.header("MIME-Version"), "1.0");

  const mime::Part& root = p.tree.parts[0];
  EXPECT_EQ(root.type, "multipart");
  EXPECT_EQ(root.subtype, "report");
  ASSERT_NE(root.param("report-type"), nullptr);
  EXPECT_EQ(root.param("report-type")->value, "delivery-status");
  ASSERT_EQ(root.children.size(), 3u);

  EXPECT_EQ(p.part(0).type + "/" + p.part(0).subtype, "text/plain");
  const std::string_view text = p.part_body(0);
  EXPECT_NE(text.find("<bob@b.test>"), std::string_view::npos) << text;
  EXPECT_NE(text.find("550 5.1.1 <bob@b.test>: no such user here"), std::string_view::npos) << text;
  EXPECT_EQ(text.find("carol"), std::string_view::npos) << text;

  EXPECT_EQ(p.part(1).type + "/" + p.part(1).subtype, "message/delivery-status");
  std::vector<Fields> groups = status_groups(p.part_body(1));
  ASSERT_EQ(groups.size(), 2u) << p.part_body(1);
  EXPECT_EQ(groups[0]["reporting-mta"], "dns; mx.a.test");
  EXPECT_EQ(groups[0]["original-envelope-id"], "env-42");
  EXPECT_EQ(groups[0]["arrival-date"], rfc5322_date(kArrival));
  EXPECT_EQ(groups[1]["original-recipient"], "rfc822;Bob@B.test");
  EXPECT_EQ(groups[1]["final-recipient"], "rfc822; bob@b.test");
  EXPECT_EQ(groups[1]["action"], "failed");
  EXPECT_EQ(groups[1]["status"], "5.1.1");
  EXPECT_EQ(groups[1]["remote-mta"], "dns; mx.b.test");
  EXPECT_EQ(groups[1]["diagnostic-code"], "smtp; 550 5.1.1 <bob@b.test>: no such user here");
  EXPECT_EQ(groups[1]["last-attempt-date"], rfc5322_date(kNow));

  // RET absent and a small message: all of it comes back, without the Return-Path line.
  EXPECT_EQ(p.part(2).type + "/" + p.part(2).subtype, "message/rfc822");
  EXPECT_EQ(p.part_body(2), kOriginal);
}

TEST(Dsn, RetHdrsReturnsTheHeaderOnly) {
  store::OutboundMessage m = message();
  m.ret = store::DsnRet::kHdrs;
  const std::string stored = kReturnPath + kOriginal;
  std::vector<FailedRecipient> failed{{1, "554 5.7.1 rejected", false, ""}};
  auto b = build_bounce(options(), m, failed, stored, kArrival, kNow, 1);
  ASSERT_TRUE(b);
  Parsed p = parse(*b);
  ASSERT_EQ(p.tree.parts[0].children.size(), 3u);
  EXPECT_EQ(p.part(2).type + "/" + p.part(2).subtype, "text/rfc822-headers");
  EXPECT_EQ(p.part_body(2), "Subject: hello\r\nFrom: Alice <alice@a.test>\r\nTo: bob@b.test\r\n");
  EXPECT_EQ(b->bytes.find("the body"), std::string::npos);
  EXPECT_EQ(b->bytes.find("Return-Path"), std::string::npos);
  // Without ORCPT there is no Original-Recipient, without a known host no Remote-MTA.
  std::vector<Fields> groups = status_groups(p.part_body(1));
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[1].count("original-recipient"), 0u);
  EXPECT_EQ(groups[1].count("remote-mta"), 0u);
  EXPECT_EQ(groups[1]["final-recipient"], "rfc822; carol@c.test");
}

TEST(Dsn, RetDefaultReturnsTheWholeMessageUpToTheLimit) {
  DsnOptions o = options();
  o.full_limit = 200;
  std::string big = "Subject: big\r\n\r\n" + std::string(300, 'x') + "\r\n";
  std::vector<FailedRecipient> failed{{1, "550 no", false, ""}};
  store::OutboundMessage m = message();
  m.skip = 0;

  auto headers_only = build_bounce(o, m, failed, big, kArrival, kNow, 1);
  ASSERT_TRUE(headers_only);
  Parsed p = parse(*headers_only);
  EXPECT_EQ(p.part(2).subtype, "rfc822-headers");
  EXPECT_EQ(p.part_body(2), "Subject: big\r\n");

  m.ret = store::DsnRet::kFull;
  auto full = build_bounce(o, m, failed, big, kArrival, kNow, 1);
  ASSERT_TRUE(full);
  Parsed f = parse(*full);
  EXPECT_EQ(f.part(2).subtype, "rfc822");
  EXPECT_EQ(f.part_body(2), big);

  m.ret = store::DsnRet::kDefault;
  o.full_limit = big.size();
  auto at_limit = build_bounce(o, m, failed, big, kArrival, kNow, 1);
  ASSERT_TRUE(at_limit);
  EXPECT_EQ(parse(*at_limit).part(2).subtype, "rfc822");
}

TEST(Dsn, NotifyDecidesWhichRecipientsAreReported) {
  EXPECT_TRUE(wants_failure_report(0));
  EXPECT_TRUE(wants_failure_report(store::kNotifyFailure));
  EXPECT_TRUE(wants_failure_report(store::kNotifySuccess | store::kNotifyFailure | store::kNotifyDelay));
  EXPECT_FALSE(wants_failure_report(store::kNotifyNever));
  EXPECT_FALSE(wants_failure_report(store::kNotifySuccess));
  EXPECT_FALSE(wants_failure_report(store::kNotifySuccess | store::kNotifyDelay));

  store::OutboundMessage m = message();
  m.recipients[0].notify = store::kNotifyNever;
  std::vector<FailedRecipient> both{{0, "550 5.1.1 no bob", false, ""}, {1, "550 5.1.1 no carol", false, ""}};
  auto b = build_bounce(options(), m, both, kOriginal, kArrival, kNow, 1);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->reported, std::vector<std::size_t>{1});
  EXPECT_EQ(b->bytes.find("bob@b.test>:"), std::string::npos);
  EXPECT_EQ(b->bytes.find("no bob"), std::string::npos);
  EXPECT_NE(b->bytes.find("Final-Recipient: rfc822; carol@c.test"), std::string::npos);

  m.recipients[1].notify = store::kNotifySuccess;
  EXPECT_FALSE(build_bounce(options(), m, both, kOriginal, kArrival, kNow, 1));
}

TEST(Dsn, NeverBouncesTheNullSender) {
  store::OutboundMessage m = message();
  m.sender = "";
  std::vector<FailedRecipient> failed{{0, "550 5.1.1 no", false, ""}};
  EXPECT_FALSE(build_bounce(options(), m, failed, kOriginal, kArrival, kNow, 1));
  EXPECT_FALSE(build_bounce(options(), message(), {}, kOriginal, kArrival, kNow, 1));
}

TEST(Dsn, StatusComesFromTheEnhancedCodeOrTheKindOfFailure) {
  EXPECT_EQ(dsn_status({0, "550 5.7.26 unauthenticated", false, ""}), "5.7.26");
  EXPECT_EQ(dsn_status({0, "552 5.2.2 mailbox full; more text", false, ""}), "5.2.2");
  EXPECT_EQ(dsn_status({0, "550 user unknown", false, ""}), "5.0.0");
  EXPECT_EQ(dsn_status({0, "550 4.1.1 odd class", false, ""}), "5.0.0");
  EXPECT_EQ(dsn_status({0, "550 5.1234.1 too long", false, ""}), "5.0.0");
  EXPECT_EQ(dsn_status({0, "cannot connect to 192.0.2.1:25", false, ""}), "5.0.0");
  EXPECT_EQ(dsn_status({0, "451 4.7.1 greylisted", true, ""}), "4.4.7");
}

TEST(Dsn, ExpiryAndLocalReasons) {
  std::vector<FailedRecipient> failed{{0, "451 4.7.1 greylisted", true, ""},
                                      {1, "cannot connect to 192.0.2.1:25", true, ""}};
  auto b = build_bounce(options(), message(), failed, kOriginal, kArrival, kNow, 1);
  ASSERT_TRUE(b);
  Parsed p = parse(*b);
  std::vector<Fields> groups = status_groups(p.part_body(1));
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[1]["status"], "4.4.7");
  EXPECT_EQ(groups[1]["diagnostic-code"], "smtp; 451 4.7.1 greylisted");
  EXPECT_EQ(groups[2]["status"], "4.4.7");
  EXPECT_EQ(groups[2]["diagnostic-code"], "X-Tern; cannot connect to 192.0.2.1:25");
  EXPECT_NE(p.part_body(0).find("in time"), std::string_view::npos);
}

TEST(Dsn, UnreadableOriginalLeavesTheThirdPartOut) {
  std::vector<FailedRecipient> failed{{0, "550 5.1.1 no", false, ""}};
  auto b = build_bounce(options(), message(), failed, std::nullopt, kArrival, kNow, 1);
  ASSERT_TRUE(b);
  Parsed p = parse(*b);
  EXPECT_EQ(p.tree.parts[0].children.size(), 2u);
  EXPECT_NE(p.part_body(0).find("not attached"), std::string_view::npos);
}

TEST(Dsn, Utf8EnvelopeMakesAGlobalReport) {
  store::OutboundMessage m = message();
  m.sender = "jörg@a.test";
  m.smtputf8 = true;
  m.recipients[0].address = "zoë@b.test";
  m.recipients[0].orcpt = "";
  m.skip = 0;
  const std::string original = "Subject: grüße\r\n\r\nschöne grüße\r\n";
  // A reply with a well-formed and a broken UTF-8 sequence and a control character.
  std::vector<FailedRecipient> failed{{0, "550 5.1.1 unbekannt: zoë \xff\x01 end", false, ""}};
  auto b = build_bounce(options(), m, failed, original, kArrival, kNow, 1);
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->smtputf8);
  EXPECT_TRUE(b->eightbit);
  expect_clean_lines(b->bytes);
  Parsed p = parse(*b);
  EXPECT_EQ(p.header("To"), "<jörg@a.test>");
  EXPECT_EQ(p.header("Content-Transfer-Encoding"), "8bit");
  ASSERT_NE(p.tree.parts[0].param("report-type"), nullptr);
  EXPECT_EQ(p.tree.parts[0].param("report-type")->value, "global-delivery-status");
  EXPECT_EQ(p.part(1).subtype, "global-delivery-status");
  EXPECT_EQ(p.part(2).subtype, "global");
  EXPECT_EQ(p.part_body(2), original);
  std::vector<Fields> groups = status_groups(p.part_body(1));
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[1]["final-recipient"], "utf-8; zoë@b.test");
  EXPECT_EQ(groups[1]["diagnostic-code"], "smtp; 550 5.1.1 unbekannt: zoë ?? end");
}

TEST(Dsn, AsciiReportReplacesEightBitReplyOctets) {
  std::vector<FailedRecipient> failed{{0, "550 5.1.1 caf\xc3\xa9", false, ""}};
  auto b = build_bounce(options(), message(), failed, kReturnPath + kOriginal, kArrival, kNow, 1);
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->smtputf8);
  EXPECT_FALSE(b->eightbit);
  EXPECT_NE(b->bytes.find("smtp; 550 5.1.1 caf??"), std::string::npos);
}

TEST(Dsn, BoundaryAvoidsTheOriginalsContent) {
  const std::string trap = "Subject: x\r\n\r\n--=_tern_dsn_0000000000000007_0\r\n";
  store::OutboundMessage m = message();
  m.skip = 0;
  std::vector<FailedRecipient> failed{{0, "550 5.1.1 no", false, ""}};
  auto b = build_bounce(options(), m, failed, trap, kArrival, kNow, 7);
  ASSERT_TRUE(b);
  Parsed p = parse(*b);
  const mime::Param* boundary = p.tree.parts[0].param("boundary");
  ASSERT_NE(boundary, nullptr);
  EXPECT_NE(boundary->value, "=_tern_dsn_0000000000000007_0");
  EXPECT_EQ(trap.find(boundary->value), std::string::npos);
  ASSERT_EQ(p.tree.parts[0].children.size(), 3u);
  EXPECT_EQ(p.part_body(2), trap);
}

TEST(Dsn, LongRepliesAreFolded) {
  std::string reply = "550 5.7.1";
  for (int i = 0; i < 200; ++i) reply += " word" + std::to_string(i);
  reply += " " + std::string(1500, 'z');
  std::vector<FailedRecipient> failed{{0, reply, false, ""}};
  auto b = build_bounce(options(), message(), failed, kOriginal, kArrival, kNow, 1);
  ASSERT_TRUE(b);
  expect_clean_lines(b->bytes);
  Parsed p = parse(*b);
  std::vector<Fields> groups = status_groups(p.part_body(1));
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_TRUE(groups[1]["diagnostic-code"].starts_with("smtp; 550 5.7.1 word0 word1"));
  EXPECT_NE(groups[1]["diagnostic-code"].find("word199"), std::string::npos);
  EXPECT_EQ(groups[1]["status"], "5.7.1");
}

}  // namespace
}  // namespace tern::queue
