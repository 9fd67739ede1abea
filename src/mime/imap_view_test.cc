// Tests for mime/imap_view.h: ENVELOPE and BODYSTRUCTURE (RFC 3501/9051 7.5.2 examples),
// sections, partials, BINARY.
#include "mime/imap_view.h"

#include <gtest/gtest.h>

#include "mime/search_text.h"

namespace tern::mime {
namespace {

TEST(Envelope, Rfc3501Example) {
  const std::string m =
      "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"
      "From: Terry Gray <gray@cac.washington.edu>\r\n"
      "Subject: IMAP4rev1 WG mtg summary and minutes\r\n"
      "To: imap@cac.washington.edu\r\n"
      "cc: minutes@CNRI.Reston.VA.US,\r\n John Klensin <KLENSIN@MIT.EDU>\r\n"
      "Message-Id: <B27397-0100000@cac.washington.edu>\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
      "\r\n"
      "hello\r\n";
  const Message msg = parse(m);
  EXPECT_EQ(envelope(msg),
            "(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" "
            "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
            "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
            "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
            "((NIL NIL \"imap\" \"cac.washington.edu\")) "
            "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) "
            "NIL NIL \"<B27397-0100000@cac.washington.edu>\")");
  // The RFC's example writes types upper-case; we keep the lower-cased type and the
  // parameter value as written (clients compare case-insensitively).
  EXPECT_EQ(body_structure(msg, false),
            "(\"text\" \"plain\" (\"charset\" \"US-ASCII\") NIL NIL \"7bit\" 7 1)");
  EXPECT_EQ(body_structure(msg, true),
            "(\"text\" \"plain\" (\"charset\" \"US-ASCII\") NIL NIL \"7bit\" 7 1 NIL NIL NIL NIL)");
  EXPECT_EQ(rfc822_size(msg), m.size());
}

TEST(Envelope, GroupsLiteralsAndDefaults) {
  const std::string m =
      "From: \"Zo\xC3\xAB\" <z@x.test>\nSender: s@x.test\nTo: Friends: a@x.test;\nBcc: undisclosed:;\n"
      "Subject: say \"hi\"\n\n";
  const Message msg = parse(m);
  EXPECT_EQ(envelope(msg),
            "(NIL \"say \\\"hi\\\"\" (({4}\r\nZo\xC3\xAB NIL \"z\" \"x.test\")) ((NIL NIL \"s\" \"x.test\")) "
            "(({4}\r\nZo\xC3\xAB NIL \"z\" \"x.test\")) "
            "((NIL NIL \"Friends\" NIL)(NIL NIL \"a\" \"x.test\")(NIL NIL NIL NIL)) NIL "
            "((NIL NIL \"undisclosed\" NIL)(NIL NIL NIL NIL)) NIL NIL)");
  EXPECT_EQ(envelope(parse("")), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
}

const char kMixed[] =
    "Subject: mixed\r\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
    "\r\n"
    "--b1\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "Content-Language: en, fr\r\n"
    "\r\n"
    "caf=C3=A9\r\n"
    "--b1\r\n"
    "Content-Type: application/octet-stream; name=\"a.bin\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "Content-Disposition: attachment; filename=\"a.bin\"\r\n"
    "Content-ID: <id1@x>\r\n"
    "Content-Description: some bytes\r\n"
    "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n"
    "Content-Location: http://x.test/a\r\n"
    "\r\n"
    "aGVsbG8=\r\n"
    "--b1\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Subject: inner\r\n"
    "From: i@x.test\r\n"
    "Content-Type: multipart/alternative; boundary=b2\r\n"
    "\r\n"
    "--b2\r\n"
    "\r\n"
    "inner text\r\n"
    "--b2\r\n"
    "Content-Type: text/html\r\n"
    "\r\n"
    "<p>inner &amp; html</p>\r\n"
    "--b2--\r\n"
    "--b1--\r\n";

TEST(BodyStructure, ExtensionDataAndNesting) {
  const Message msg = parse(kMixed);
  const std::string inner_env =
      "(NIL \"inner\" ((NIL NIL \"i\" \"x.test\")) ((NIL NIL \"i\" \"x.test\")) "
      "((NIL NIL \"i\" \"x.test\")) NIL NIL NIL NIL NIL)";
  EXPECT_EQ(body_structure(msg, true),
            "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 9 1 NIL NIL (\"en\" "
            "\"fr\") NIL)"
            "(\"application\" \"octet-stream\" (\"name\" \"a.bin\") \"<id1@x>\" \"some bytes\" \"base64\" 8 "
            "\"Q2hlY2sgSW50ZWdyaXR5IQ==\" (\"attachment\" (\"filename\" \"a.bin\")) NIL \"http://x.test/a\")"
            "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 168 " +
                inner_env +
                " ((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 1 NIL NIL NIL NIL)"
                "(\"text\" \"html\" NIL NIL NIL \"7bit\" 23 1 NIL NIL NIL NIL) \"alternative\" (\"boundary\" "
                "\"b2\") NIL NIL NIL)"
                " 12 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"b1\") NIL NIL NIL)");
  EXPECT_EQ(body_structure(msg, false),
            "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 9 1)"
            "(\"application\" \"octet-stream\" (\"name\" \"a.bin\") \"<id1@x>\" \"some bytes\" \"base64\" 8)"
            "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 168 " +
                inner_env +
                " ((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 1)"
                "(\"text\" \"html\" NIL NIL NIL \"7bit\" 23 1) \"alternative\") 12) \"mixed\")");
}

TEST(BodyStructure, NonAsciiParameterUsesRfc2231Form) {
  const Message msg = parse("Content-Type: text/plain; name*=utf-8''caf%C3%A9\n\nx");
  EXPECT_EQ(body_structure(msg, false),
            "(\"text\" \"plain\" (\"name*\" \"utf-8''caf%C3%A9\") NIL NIL \"7bit\" 1 1)");
  // A multipart without parts still yields a valid BODYSTRUCTURE.
  EXPECT_EQ(body_structure(parse("Content-Type: multipart/mixed\n\nx"), false),
            "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0) \"mixed\")");
}

TEST(BodyStructure, MessageGlobalAndEncodedRfc822) {
  // RFC 9051: message/global is reported like message/rfc822, with envelope and body.
  const Message g = parse("Content-Type: message/global\n\nSubject: \xC3\xA9\n\nx\n");
  EXPECT_EQ(
      body_structure(g, false),
      "(\"message\" \"global\" NIL NIL NIL \"7bit\" 15 (NIL {2}\r\n\xC3\xA9 NIL NIL NIL NIL NIL NIL NIL NIL) "
      "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 2 1) 3)");
  // A base64 message/rfc822 is not parsed inside; the response stays well-formed.
  const Message b =
      parse("Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdDogeA==\n");
  EXPECT_EQ(b.parts.size(), 1u);
  EXPECT_EQ(body_structure(b, false),
            "(\"message\" \"rfc822\" NIL NIL NIL \"base64\" 17 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) "
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0) 1)");
}

TEST(ImapString, QuotedLiteralAndNil) {
  EXPECT_EQ(imap_string(""), "\"\"");
  EXPECT_EQ(imap_nstring(""), "NIL");
  EXPECT_EQ(imap_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(imap_string("\xC3\xA9"), "{2}\r\n\xC3\xA9");
  EXPECT_EQ(imap_string("a\r\nb"), "{4}\r\na\r\nb");
  EXPECT_EQ(imap_string(std::string("a\0b", 3)), "{2}\r\nab");
}

struct SectionCase {
  const char* spec;
  const char* expected;
};

TEST(Sections, ExtractAtAnyDepth) {
  const std::string m = kMixed;
  const Message msg = parse(m);
  const SectionCase cases[] = {
      {"1", "caf=C3=A9"},
      {"1.MIME",
       "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n"
       "Content-Language: en, fr\r\n\r\n"},
      {"2", "aGVsbG8="},
      {"3.HEADER",
       "Subject: inner\r\nFrom: i@x.test\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n"},
      {"3.1", "inner text"},
      {"3.2", "<p>inner &amp; html</p>"},
      {"3.2.MIME", "Content-Type: text/html\r\n\r\n"},
      {"3.HEADER.FIELDS (subject FROM)", "Subject: inner\r\nFrom: i@x.test\r\n\r\n"},
      {"3.header.fields.not (Subject)",
       "From: i@x.test\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n"},
      {"HEADER", "Subject: mixed\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"},
      {"HEADER.FIELDS (X-None)", "\r\n"},
  };
  for (const auto& c : cases) {
    auto s = parse_section(c.spec);
    ASSERT_TRUE(s) << c.spec;
    auto got = extract(msg, m, *s);
    ASSERT_TRUE(got) << c.spec << ": " << got.error().message;
    EXPECT_EQ(*got, c.expected) << c.spec;
  }
  auto text = extract(msg, m, *parse_section("TEXT"));
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, m.substr(m.find("\r\n\r\n") + 4));
  auto whole = extract(msg, m, *parse_section(""));
  EXPECT_EQ(*whole, m);
  const auto three_text = extract(msg, m, *parse_section("3.TEXT"));
  ASSERT_TRUE(three_text);
  EXPECT_EQ(three_text->substr(0, 6), "--b2\r\n");
}

TEST(Sections, Errors) {
  const std::string m = kMixed;
  const Message msg = parse(m);
  for (const char* bad :
       {"0", "1.", "MIME", "1.BOGUS", "HEADER.FIELDS", "HEADER.FIELDS ()", "1x", "TEXT junk"})
    EXPECT_FALSE(parse_section(bad)) << bad;
  EXPECT_EQ(extract(msg, m, *parse_section("4")).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(extract(msg, m, *parse_section("1.1")).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(extract(msg, m, *parse_section("3.3")).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(extract(msg, m, *parse_section("1.HEADER")).error().code, ErrorCode::kInvalid);
  // A single-part message has part 1 (its body) but no part 2.
  const std::string plain = "Subject: x\r\n\r\nbody";
  const Message pm = parse(plain);
  EXPECT_EQ(*extract(pm, plain, *parse_section("1")), "body");
  EXPECT_FALSE(extract(pm, plain, *parse_section("2")));
}

TEST(Sections, Partial) {
  EXPECT_EQ(partial("0123456789", 2, 3), "234");
  EXPECT_EQ(partial("0123456789", 8, 100), "89");
  EXPECT_EQ(partial("0123456789", 10, 1), "");
  EXPECT_EQ(partial("0123456789", 3, std::nullopt), "3456789");
}

TEST(Binary, DecodesTransferEncodings) {
  const std::string m = kMixed;
  const Message msg = parse(m);
  EXPECT_EQ(*binary(msg, m, {1}), "caf\xC3\xA9");
  EXPECT_EQ(*binary(msg, m, {2}), "hello");
  EXPECT_EQ(*binary(msg, m, {3, 1}), "inner text");
  EXPECT_EQ(*binary_size(msg, m, {2}), 5u);
  EXPECT_EQ(binary_size(msg, m, {9}).error().code, ErrorCode::kNotFound);
  const std::string odd = "Content-Transfer-Encoding: x-uuencode\n\nbegin";
  EXPECT_EQ(binary(parse(odd), odd, {1}).error().code, ErrorCode::kInvalid);
}

TEST(SearchText, DecodedHeadersAndBodies) {
  const std::string m = kMixed;
  const SearchText st = search_text(parse(m), m);
  EXPECT_NE(st.headers.find("Subject: mixed\n"), std::string::npos);
  EXPECT_NE(st.body.find("caf\xC3\xA9"), std::string::npos);
  EXPECT_NE(st.body.find("inner & html"), std::string::npos);
  EXPECT_NE(st.body.find("Subject: inner"), std::string::npos);
  EXPECT_EQ(st.body.find("aGVsbG8"), std::string::npos);  // attachments are not text
  EXPECT_EQ(
      html_to_text(
          "<html><head><style>p{}</style></head><body>a&lt;b<br>c&#233;&#x41;<script>x</script></body>"),
      "a<b\nc\xC3\xA9"
      "A");
}

TEST(Sections, HeaderFieldsKeepRawFoldsAndDuplicates) {
  const std::string m = "Received: a\r\n\tb\r\nSubject: s\r\nreceived: c\r\n\r\nbody";
  const Message msg = parse(m);
  EXPECT_EQ(*extract(msg, m, *parse_section("HEADER.FIELDS (RECEIVED)")),
            "Received: a\r\n\tb\r\nreceived: c\r\n\r\n");
  EXPECT_EQ(*extract(msg, m, *parse_section("HEADER.FIELDS.NOT (Received)")), "Subject: s\r\n\r\n");
}

TEST(SearchText, CharsetsAndEncodedHeaders) {
  const std::string m =
      "Subject: =?iso-8859-1?q?Gr=FC=DFe?=\n"
      "Content-Type: multipart/alternative; boundary=b\n\n"
      "--b\nContent-Type: text/plain; charset=latin1\nContent-Transfer-Encoding: quoted-printable\n\n"
      "M=FCnchen\n"
      "--b\nContent-Type: text/plain; charset=unknown-8bit\nContent-Transfer-Encoding: base64\n\n"
      "WvxyaWNo\n"
      "--b\nContent-Type: text/plain; charset=koi8-r\n\n\xF0\xD2\xC9\n--b--\n";
  const SearchText st = search_text(parse(m), m);
  EXPECT_EQ(st.headers,
            "Subject: Gr\xC3\xBC\xC3\x9F"
            "e\nContent-Type: multipart/alternative; boundary=b\n");
  EXPECT_EQ(st.body, "M\xC3\xBCnchen\nZ\xC3\xBCrich\n\xD0\x9F\xD1\x80\xD0\xB8\n");
}

}  // namespace
}  // namespace tern::mime
