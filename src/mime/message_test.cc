// Tests for mime/message.h: the MIME tree, defaults, malformed structure.
#include "mime/message.h"

#include <gtest/gtest.h>

namespace tern::mime {
namespace {

std::string_view body_of(const Part& p, std::string_view bytes) {
  return bytes.substr(p.body_begin, p.body_end - p.body_begin);
}

TEST(Parse, PlainMessageDefaults) {
  const std::string m = "From: a@b.test\r\nSubject: x\r\n\r\nline 1\r\nline 2\r\n";
  const Message msg = parse(m);
  ASSERT_EQ(msg.parts.size(), 1u);
  const Part& p = msg.parts[0];
  EXPECT_EQ(p.type, "text");
  EXPECT_EQ(p.subtype, "plain");
  ASSERT_EQ(p.params.size(), 1u);
  EXPECT_EQ(p.params[0].value, "us-ascii");
  EXPECT_EQ(p.encoding, "7bit");
  EXPECT_EQ(body_of(p, m), "line 1\r\nline 2\r\n");
  EXPECT_EQ(p.body_lines, 2u);
  EXPECT_EQ(msg.size, m.size());
  EXPECT_FALSE(p.envelope.empty());
}

const char kMultipart[] =
    "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--outer\r\n"
    "\r\n"
    "implicit text\r\n"
    "--outer\r\n"
    "Content-Type: multipart/alternative; boundary=inner\r\n"
    "\r\n"
    "--inner\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "plain\r\n"
    "--inner\r\n"
    "Content-Type: text/html\r\n"
    "\r\n"
    "<p>html</p>\r\n"
    "--inner--\r\n"
    "--outer\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Subject: inner\r\n"
    "\r\n"
    "inner body\r\n"
    "--outer--  \r\n"
    "epilogue\r\n";

TEST(Parse, NestedMultipartAndMessage) {
  const std::string m = kMultipart;
  const Message msg = parse(m);
  ASSERT_EQ(msg.parts.size(), 7u);
  const Part& root = msg.parts[0];
  EXPECT_TRUE(root.is_multipart());
  ASSERT_EQ(root.children.size(), 3u);
  const Part& first = msg.parts[root.children[0]];
  EXPECT_EQ(first.type + "/" + first.subtype, "text/plain");
  EXPECT_EQ(body_of(first, m), "implicit text");
  const Part& alt = msg.parts[root.children[1]];
  EXPECT_EQ(alt.subtype, "alternative");
  ASSERT_EQ(alt.children.size(), 2u);
  EXPECT_EQ(body_of(msg.parts[alt.children[0]], m), "plain");
  EXPECT_EQ(msg.parts[alt.children[1]].subtype, "html");
  const Part& rfc822 = msg.parts[root.children[2]];
  EXPECT_TRUE(rfc822.is_message());
  const Part& inner = msg.parts[rfc822.children[0]];
  EXPECT_EQ(body_of(inner, m), "inner body");
  EXPECT_NE(inner.envelope.find("\"inner\""), std::string::npos);
}

TEST(Parse, DigestChildrenDefaultToRfc822) {
  const std::string m =
      "Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: one\n\nbody one\n--d\nContent-Type: "
      "text/plain\n\nt\n--d--\n";
  const Message msg = parse(m);
  const Part& root = msg.parts[0];
  ASSERT_EQ(root.children.size(), 2u);
  EXPECT_EQ(msg.parts[root.children[0]].type, "message");
  EXPECT_TRUE(msg.parts[root.children[0]].is_message());
  EXPECT_EQ(msg.parts[root.children[1]].type, "text");
}

TEST(Parse, MalformedStructure) {
  // Missing close delimiter: the last part runs to the end (less the final line break).
  std::string m = "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nfirst\n--b\n\nsecond\n";
  Message msg = parse(m);
  ASSERT_EQ(msg.parts[0].children.size(), 2u);
  EXPECT_EQ(body_of(msg.parts[msg.parts[0].children[1]], m), "second");
  // Wrong boundary: no parts at all, never a crash.
  m = "Content-Type: multipart/mixed; boundary=b\n\n--c\n\nx\n--c--\n";
  msg = parse(m);
  EXPECT_TRUE(msg.parts[0].children.empty());
  // No boundary parameter.
  m = "Content-Type: multipart/mixed\n\nx\n";
  msg = parse(m);
  EXPECT_TRUE(msg.parts[0].children.empty());
  // Boundary prefix of a longer line is not a delimiter.
  m = "Content-Type: multipart/mixed; boundary=b\n\n--b\n\n--bb\n--b--\n";
  msg = parse(m);
  ASSERT_EQ(msg.parts[0].children.size(), 1u);
  EXPECT_EQ(body_of(msg.parts[1], m), "--bb");
  // Invalid content type: text/plain.
  m = "Content-Type: garbage\n\nx";
  msg = parse(m);
  EXPECT_EQ(msg.parts[0].type, "text");
  EXPECT_EQ(msg.parts[0].body_lines, 1u);
  // Empty input and header-only input.
  msg = parse("");
  ASSERT_EQ(msg.parts.size(), 1u);
  EXPECT_EQ(msg.parts[0].body_size(), 0u);
  msg = parse("Subject: only a header");
  EXPECT_EQ(msg.parts[0].body_size(), 0u);
  // NULs and 8-bit junk.
  m = std::string("Content-Type: multipart/mixed; boundary=\xff\0\n\n--\xff\0\n\n\x80\x81\n--\xff\0--\n", 40);
  msg = parse(m);
  EXPECT_EQ(msg.size, m.size());
}

TEST(Parse, DepthLimit) {
  std::string m;
  for (int i = 0; i < 200; ++i) m += "Content-Type: message/rfc822\n\n";
  m += "Subject: deepest\n\nbody\n";
  const Message msg = parse(m);
  EXPECT_EQ(msg.parts.size(), kMaxDepth);
  std::string mp;
  for (int i = 0; i < 200; ++i)
    mp += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\n\n--b" + std::to_string(i) +
          "\n";
  const Message msg2 = parse(mp);
  EXPECT_LE(msg2.parts.size(), kMaxDepth);
  const Part& last = msg2.parts.back();
  EXPECT_TRUE(last.children.empty());
}

TEST(Parse, PartCountLimit) {
  std::string m = "Content-Type: multipart/mixed; boundary=b\n\n";
  for (int i = 0; i < 20000; ++i) m += "--b\n\nx\n";
  const Message msg = parse(m);
  EXPECT_EQ(msg.parts.size(), kMaxParts);
}

}  // namespace
}  // namespace tern::mime
