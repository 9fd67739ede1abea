// Tests for mime/header.h and mime/charset.h: RFC 2047 section 8, RFC 2231 section 3-4
// examples, address lists, folding, transfer decoders, charsets.
#include "mime/header.h"

#include <gtest/gtest.h>

#include "mime/charset.h"

namespace tern::mime {
namespace {

struct WordCase {
  const char* encoded;
  const char* decoded;
};

TEST(DecodeWords, Rfc2047Section8Examples) {
  const WordCase cases[] = {
      {"(=?ISO-8859-1?Q?a?=)", "(a)"},
      {"(=?ISO-8859-1?Q?a?= b)", "(a b)"},
      {"(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)"},
      {"(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", "(ab)"},
      {"(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", "(ab)"},
      {"(=?ISO-8859-1?Q?a_b?=)", "(a b)"},
      {"(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a b)"},
      {"=?US-ASCII?Q?Keith_Moore?=", "Keith Moore"},
      {"=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=", "Keld J\xC3\xB8rn Simonsen"},
      {"=?ISO-8859-1?Q?Andr=E9?= Pirard", "Andr\xC3\xA9 Pirard"},
      {"=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?= "
       "=?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=",
       "If you can read this you understand the example."},
      {"=?US-ASCII*EN?Q?Keith_Moore?=", "Keith Moore"},  // RFC 2231 section 5
      {"plain text", "plain text"},
      {"=?bogus", "=?bogus"},
      {"=?utf-8?x?abc?=", "=?utf-8?x?abc?="},
      // A multi-byte character split across two words still decodes.
      {"=?UTF-8?B?w6k=?= =?UTF-8?Q?=C3?= =?UTF-8?Q?=A9?=", "\xC3\xA9\xC3\xA9"},
      {"Gr\xC3\xBC\xC3\x9F"
       "e",
       "Gr\xC3\xBC\xC3\x9F"
       "e"},                       // RFC 6532 raw UTF-8
      {"caf\xE9", "caf\xC3\xA9"},  // 8-bit junk: windows-1252
  };
  for (const auto& c : cases) EXPECT_EQ(decode_words(c.encoded), c.decoded) << c.encoded;
}

TEST(Params, Rfc2231Examples) {
  auto pv = parse_param_value(
      "message/external-body; access-type=URL; URL*0=\"ftp://\"; "
      "URL*1=\"cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar\"");
  EXPECT_EQ(pv.value, "message/external-body");
  ASSERT_EQ(pv.params.size(), 2u);
  EXPECT_EQ(pv.params[0].name, "access-type");
  EXPECT_EQ(pv.params[0].value, "URL");
  EXPECT_EQ(pv.params[1].name, "url");
  EXPECT_EQ(pv.params[1].value, "ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar");

  pv = parse_param_value("application/x-stuff; title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A");
  ASSERT_EQ(pv.params.size(), 1u);
  EXPECT_EQ(pv.params[0].value, "This is ***fun***");

  pv = parse_param_value(
      "application/x-stuff; title*0*=us-ascii'en'This%20is%20even%20more%20; "
      "title*1*=%2A%2A%2Afun%2A%2A%2A%20; "
      "title*2=\"isn't it!\"");
  ASSERT_EQ(pv.params.size(), 1u);
  EXPECT_EQ(pv.params[0].value, "This is even more ***fun*** isn't it!");

  pv = parse_param_value("attachment; filename*=iso-8859-1''caf%E9.txt");
  EXPECT_EQ(pv.value, "attachment");
  EXPECT_EQ(pv.params[0].value, "caf\xC3\xA9.txt");
  // Segments out of order are reassembled by number.
  pv = parse_param_value("text/plain; name*1=\"b\"; name*0=\"a\"");
  EXPECT_EQ(pv.params[0].value, "ab");
}

TEST(Params, QuotedValuesCommentsAndEncodedWords) {
  auto pv =
      parse_param_value("Text/PLAIN (a comment); Charset=\"utf-8\";format=flowed ;  name=\"a \\\"b\\\";c\"");
  EXPECT_EQ(pv.value, "text/plain");
  ASSERT_EQ(pv.params.size(), 3u);
  EXPECT_EQ(pv.params[0].name, "charset");
  EXPECT_EQ(pv.params[0].value, "utf-8");
  EXPECT_EQ(pv.params[1].value, "flowed");
  EXPECT_EQ(pv.params[2].value, "a \"b\";c");
  pv = parse_param_value("attachment; filename=\"=?UTF-8?Q?r=C3=A9sum=C3=A9.pdf?=\"");
  EXPECT_EQ(pv.params[0].value, "r\xC3\xA9sum\xC3\xA9.pdf");
  pv = parse_param_value(";;; =x; novalue; a=");
  EXPECT_EQ(pv.value, "");
  ASSERT_EQ(pv.params.size(), 1u);
  EXPECT_EQ(pv.params[0].name, "a");
}

struct AddrCase {
  const char* input;
  std::vector<Address> expected;
};

TEST(Addresses, Rfc5322Forms) {
  using K = Address::Kind;
  const AddrCase cases[] = {
      {"John Doe <jdoe@machine.example>", {{K::kMailbox, "John Doe", "", "jdoe", "machine.example"}}},
      {"Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
       {{K::kMailbox, "Mary Smith", "", "mary", "x.test"},
        {K::kMailbox, "", "", "jdoe", "example.org"},
        {K::kMailbox, "Who?", "", "one", "y.test"}}},
      {"\"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
       {{K::kMailbox, "Giant; \"Big\" Box", "", "sysservices", "example.net"}}},
      {"A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
       {{K::kGroupStart, "", "", "A Group", ""},
        {K::kMailbox, "Ed Jones", "", "c", "a.test"},
        {K::kMailbox, "", "", "joe", "where.test"},
        {K::kMailbox, "John", "", "jdoe", "one.test"},
        {K::kGroupEnd, "", "", "", ""}}},
      {"Undisclosed recipients:;",
       {{K::kGroupStart, "", "", "Undisclosed recipients", ""}, {K::kGroupEnd, "", "", "", ""}}},
      {"Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
       {{K::kMailbox, "Pete", "", "pete", "silly.test"}}},
      {"\"john doe\"@example.com", {{K::kMailbox, "", "", "john doe", "example.com"}}},
      {"<@route.a,@route.b:user@host.c>", {{K::kMailbox, "", "@route.a,@route.b", "user", "host.c"}}},
      {"John Q. Public <jqp@x.test>", {{K::kMailbox, "John Q. Public", "", "jqp", "x.test"}}},
      {"=?UTF-8?Q?Zo=C3=AB?= <zoe@x.test>", {{K::kMailbox, "=?UTF-8?Q?Zo=C3=AB?=", "", "zoe", "x.test"}}},
      {"J\xC3\xBCrgen <j\xC3\xBC@b\xC3\xBC.test>",
       {{K::kMailbox, "J\xC3\xBCrgen", "", "j\xC3\xBC", "b\xC3\xBC.test"}}},
      {"<>", {{K::kMailbox, "", "", "", ""}}},
      {"a)b@c.test)", {{K::kMailbox, "", "", "ab", "c.test"}}},
      {"just-a-name", {{K::kMailbox, "", "", "just-a-name", ""}}},
      {"", {}},
  };
  for (const auto& c : cases) {
    const auto got = parse_address_list(c.input);
    ASSERT_EQ(got.size(), c.expected.size()) << c.input;
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].kind, c.expected[i].kind) << c.input;
      EXPECT_EQ(got[i].name, c.expected[i].name) << c.input;
      EXPECT_EQ(got[i].route, c.expected[i].route) << c.input;
      EXPECT_EQ(got[i].mailbox, c.expected[i].mailbox) << c.input;
      EXPECT_EQ(got[i].host, c.expected[i].host) << c.input;
    }
  }
}

TEST(HeaderBlock, FoldsDuplicatesAndRawBytes) {
  const std::string msg =
      "Received: from a\r\n\tby b\r\nSubject: hello\r\n  world\r\nX-A: 1\r\nx-a: 2\r\nObs : "
      "spaced\r\n\r\nbody\r\n";
  const auto hb = parse_header_block(msg);
  ASSERT_EQ(hb.fields.size(), 5u);
  EXPECT_EQ(hb.fields[0].raw, "Received: from a\r\n\tby b\r\n");
  EXPECT_EQ(unfold(hb.fields[1].value), "hello  world");
  EXPECT_EQ(hb.fields[2].name, "X-A");
  EXPECT_EQ(hb.fields[3].name, "x-a");
  EXPECT_EQ(hb.fields[4].name, "Obs");
  EXPECT_EQ(find_field(hb.fields, "X-a")->value, " 1");
  EXPECT_EQ(msg.substr(hb.body_offset), "body\r\n");
}

TEST(HeaderBlock, MalformedInputs) {
  // A line without a colon ends the header and starts the body.
  auto hb = parse_header_block("A: 1\nnot a header\nB: 2\n");
  ASSERT_EQ(hb.fields.size(), 1u);
  EXPECT_EQ(hb.body_offset, 5u);
  // No blank line: everything is header.
  hb = parse_header_block("A: 1\nB: 2");
  EXPECT_EQ(hb.fields.size(), 2u);
  EXPECT_EQ(hb.body_offset, 9u);
  // Leading continuation is ignored; NULs are kept as bytes.
  hb = parse_header_block(std::string(" junk\nA: x\0y\n\nb", 15));
  ASSERT_EQ(hb.fields.size(), 1u);
  EXPECT_EQ(hb.fields[0].value.size(), 4u);
  // A lone CR at the very end is an empty line.
  hb = parse_header_block("A: 1\n\r");
  EXPECT_EQ(hb.fields.size(), 1u);
  EXPECT_EQ(hb.body_offset, 6u);
  // Field count limit.
  std::string many;
  for (int i = 0; i < 10000; ++i) many += "X: y\n";
  many += "\nbody";
  hb = parse_header_block(many);
  EXPECT_EQ(hb.fields.size(), kMaxHeaderFields);
  EXPECT_EQ(many.substr(hb.body_offset), "body");
}

TEST(TransferEncoding, QuotedPrintable) {
  EXPECT_EQ(decode_quoted_printable("caf=C3=A9 =\r\nsoft\r\nline two  \r\n"),
            "caf\xC3\xA9 soft\r\nline two\r\n");
  EXPECT_EQ(decode_quoted_printable("a=3d=3Db\n=ZZ=\n"), "a==b\n=ZZ");
  EXPECT_EQ(decode_quoted_printable("end="), "end");
}

TEST(TransferEncoding, Base64Lenient) {
  EXPECT_EQ(decode_base64("aGVs\r\nbG8=\r\n"), "hello");
  EXPECT_EQ(decode_base64("aGV*sbG8"), "hello");
  EXPECT_EQ(decode_base64(""), "");
}

TEST(Charset, AliasesAndFallbacks) {
  EXPECT_EQ(to_utf8("caf\xE9", "ISO-8859-1"), "caf\xC3\xA9");
  EXPECT_EQ(to_utf8("caf\xE9", "latin1"), "caf\xC3\xA9");
  EXPECT_EQ(to_utf8("\x80", "windows-1252"), "\xE2\x82\xAC");
  EXPECT_EQ(to_utf8("\xA4", "iso-8859-15"), "\xE2\x82\xAC");
  EXPECT_EQ(to_utf8("\xF0\xD2\xC9", "koi8-r"), "\xD0\x9F\xD1\x80\xD0\xB8");
  EXPECT_EQ(to_utf8("\x1b$B$3$s\x1b(B", "iso-2022-jp"), "\xE3\x81\x93\xE3\x82\x93");
  EXPECT_EQ(to_utf8("\xC3\xA9", "unknown-8bit"), "\xC3\xA9");
  EXPECT_EQ(to_utf8("\xE9", "unknown-8bit"), "\xC3\xA9");
  EXPECT_EQ(to_utf8("\xE9", "no-such-charset"), "\xC3\xA9");
  EXPECT_EQ(to_utf8("abc", "\"us-ascii\""), "abc");
  EXPECT_EQ(to_utf8("\xFF\xFE", "utf-8"), "\xC3\xBF\xC3\xBE");  // mislabelled: windows-1252
  EXPECT_TRUE(is_valid_utf8(to_utf8("\x81\x82\x83", "shift_jis")));
}

}  // namespace
}  // namespace tern::mime
