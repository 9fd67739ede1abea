// Tests for imap/fetch.h: every FETCH attribute on crafted messages, partials, BINARY,
// \Seen rules, item order, and streaming of large literals as byte ranges.
#include "imap/fetch.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/strings.h"
#include "imap/test_support.h"
#include "mime/cache.h"
#include "mime/imap_view.h"

namespace tern::imap {
namespace {

using testing::fetch_items;
using testing::StringSource;

// multipart/mixed: 8-bit text, a base64 attachment holding NUL, a message/rfc822, a part
// in an encoding nobody knows, and a quoted-printable part.
const std::string kMixed =
    "From: Alice <alice@example.com>\r\n"
    "To: Bob <bob@example.org>\r\n"
    "Subject: Hello\r\n"
    "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
    "Message-ID: <m1@example.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--b1\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "Gr\xc3\xbc\xc3\x9f" "e\r\n"
    "--b1\r\n"
    "Content-Type: application/octet-stream; name=\"a.bin\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "Content-Disposition: attachment; filename=\"a.bin\"\r\n"
    "\r\n"
    "AAECAw==\r\n"
    "--b1\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "From: Carol <carol@example.net>\r\n"
    "Subject: Inner\r\n"
    "\r\n"
    "Inner body\r\n"
    "--b1\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Transfer-Encoding: x-uuencode\r\n"
    "\r\n"
    "begin 644 x\r\n"
    "--b1\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "caf=C3=A9 cr=C3=A8me\r\n"
    "--b1--\r\n";

const std::string kPlain =
    "From: Dave <dave@example.com>\r\n"
    "Subject: Plain\r\n"
    "\r\n"
    "0123456789abcdefghij\r\n";

store::Message meta(std::uint64_t size, std::uint32_t uid = 7, std::uint32_t flags = 0) {
  store::Message m;
  m.uid = uid;
  m.modseq = 42;
  m.flags = flags;
  m.keywords = {"$Work"};
  m.internal_date = 1704103200;  // 2024-01-01 10:00:00 UTC
  m.size = size;
  return m;
}

// The whole response as the client sees it: text pieces, and ranges taken from `bytes`.
std::string wire(const FetchOutput& out, std::string_view bytes) {
  std::string s;
  for (const auto& p : out.pieces) {
    if (p.kind == FetchPiece::Kind::kText) {
      s += p.text;
    } else {
      s += bytes.substr(p.range.offset, p.range.length);
    }
  }
  return s;
}

struct Fetched {
  FetchOutput out;
  std::string text;
  int byte_reads = 0;    // the whole message
  int prefix_reads = 0;  // a prefix, for the header
  int cache_reads = 0;
};

Fetched run(const std::string& items, const std::string& bytes, FetchOptions options = {},
        std::uint32_t flags = 0, bool seen_changed = false, std::string cache = "") {
  const store::Message m = meta(bytes.size(), 7, flags);
  StringSource source(bytes, std::move(cache));
  FetchMessage fm{&m, 3, false, seen_changed};
  auto out = fetch_message(fetch_items(items), fm, source, options);
  EXPECT_TRUE(out.has_value());
  Fetched r;
  if (!out) return r;
  r.out = std::move(*out);
  r.text = wire(r.out, bytes);
  r.byte_reads = source.byte_reads;
  r.prefix_reads = source.prefix_reads;
  r.cache_reads = source.cache_reads;
  return r;
}

std::string lit(std::string_view s) { return "{" + std::to_string(s.size()) + "}\r\n" + std::string(s); }

std::string section(const std::string& bytes, const std::string& spec) {
  auto s = mime::parse_section(spec);
  EXPECT_TRUE(s.has_value()) << spec;
  auto data = mime::extract(mime::parse(bytes), bytes, *s);
  EXPECT_TRUE(data.has_value()) << spec;
  return data ? *data : "";
}

TEST(Fetch, MetadataItemsNeverReadTheMessage) {
  Fetched r = run("(FLAGS INTERNALDATE RFC822.SIZE UID MODSEQ)", kPlain, {}, store::kFlagSeen | store::kFlagFlagged);
  EXPECT_EQ(r.text, "* 3 FETCH (FLAGS (\\Seen \\Flagged $Work) INTERNALDATE \"01-Jan-2024 10:00:00 +0000\" "
                    "RFC822.SIZE " + std::to_string(kPlain.size()) + " UID 7 MODSEQ (42))\r\n");
  EXPECT_EQ(r.byte_reads, 0);
  EXPECT_EQ(r.prefix_reads, 0);
  EXPECT_EQ(r.cache_reads, 0);
  EXPECT_FALSE(needs_content(fetch_items("(FLAGS INTERNALDATE RFC822.SIZE UID MODSEQ)")));
  EXPECT_TRUE(needs_content(fetch_items("(FLAGS ENVELOPE)")));
  EXPECT_TRUE(needs_content(fetch_items("BODY.PEEK[]")));
}

TEST(Fetch, InternalDateInTheSessionsZone) {
  FetchOptions o;
  o.zone_minutes = 60;
  EXPECT_EQ(run("INTERNALDATE", kPlain, o).text, "* 3 FETCH (INTERNALDATE \"01-Jan-2024 11:00:00 +0100\")\r\n");
}

TEST(Fetch, RecentIsShownInFlags) {
  const store::Message m = meta(kPlain.size());
  StringSource source(kPlain);
  auto out = fetch_message(fetch_items("FLAGS"), FetchMessage{&m, 1, true, false}, source, {});
  ASSERT_TRUE(out);
  EXPECT_EQ(wire(*out, kPlain), "* 1 FETCH (FLAGS (\\Recent $Work))\r\n");
}

TEST(Fetch, MacrosExpandedByProto) {
  const mime::Message msg = mime::parse(kMixed);
  const std::string head = "* 3 FETCH (FLAGS ($Work) INTERNALDATE \"01-Jan-2024 10:00:00 +0000\" RFC822.SIZE " +
                           std::to_string(kMixed.size());
  EXPECT_EQ(run("FAST", kMixed).text, head + ")\r\n");
  EXPECT_EQ(run("ALL", kMixed).text, head + " ENVELOPE " + mime::envelope(msg) + ")\r\n");
  EXPECT_EQ(run("FULL", kMixed).text,
            head + " ENVELOPE " + mime::envelope(msg) + " BODY " + mime::body_structure(msg, false) + ")\r\n");
}

TEST(Fetch, EnvelopeBodyAndBodyStructureComeFromMime) {
  const mime::Message msg = mime::parse(kMixed);
  Fetched r = run("(ENVELOPE BODY BODYSTRUCTURE)", kMixed);
  EXPECT_EQ(r.text, "* 3 FETCH (ENVELOPE " + mime::envelope(msg) + " BODY " + mime::body_structure(msg, false) +
                        " BODYSTRUCTURE " + mime::body_structure(msg, true) + ")\r\n");
  EXPECT_EQ(r.byte_reads + r.prefix_reads, 1);  // read once, parsed once for the three items
  // A sample of what mime produces, to see the framing is not doubled.
  EXPECT_NE(r.text.find("ENVELOPE (\"Mon, 1 Jan 2024 10:00:00 +0000\" \"Hello\" ((\"Alice\" NIL \"alice\" "
                        "\"example.com\"))"),
            std::string::npos);
  EXPECT_NE(r.text.find(" BODY ((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"8bit\" 7 1)"),
            std::string::npos);
}

TEST(Fetch, ParseCacheAvoidsReadingForStructure) {
  const std::string cache = mime::serialize(mime::parse(kMixed));
  Fetched r = run("(UID BODYSTRUCTURE BODY.PEEK[3.TEXT])", kMixed, {}, 0, false, cache);
  EXPECT_EQ(r.byte_reads, 1);  // only for the small BODY[3.TEXT] content
  EXPECT_EQ(r.cache_reads, 1);
  Fetched s = run("(UID BODYSTRUCTURE)", kMixed, {}, 0, false, cache);
  EXPECT_EQ(s.byte_reads, 0);
  EXPECT_EQ(s.text, "* 3 FETCH (UID 7 BODYSTRUCTURE " + mime::body_structure(mime::parse(kMixed), true) + ")\r\n");
}

TEST(Fetch, DamagedParseCacheFallsBackToParsing) {
  for (const std::string& cache : {std::string("garbage"), mime::serialize(mime::parse(kPlain))}) {
    Fetched r = run("BODYSTRUCTURE", kMixed, {}, 0, false, cache);  // the second: another message's cache
    EXPECT_EQ(r.text, "* 3 FETCH (BODYSTRUCTURE " + mime::body_structure(mime::parse(kMixed), true) + ")\r\n");
    EXPECT_EQ(r.byte_reads, 1);
  }
}

TEST(Fetch, WholeMessageAndRfc822Forms) {
  const std::string header = section(kPlain, "HEADER");
  const std::string text = section(kPlain, "TEXT");
  EXPECT_EQ(run("BODY.PEEK[]", kPlain).text, "* 3 FETCH (BODY[] " + lit(kPlain) + ")\r\n");
  EXPECT_EQ(run("RFC822", kPlain).text, "* 3 FETCH (RFC822 " + lit(kPlain) + ")\r\n");
  EXPECT_EQ(run("RFC822.HEADER", kPlain).text, "* 3 FETCH (RFC822.HEADER " + lit(header) + ")\r\n");
  EXPECT_EQ(run("RFC822.TEXT", kPlain).text, "* 3 FETCH (RFC822.TEXT " + lit(text) + ")\r\n");
  EXPECT_EQ(header, "From: Dave <dave@example.com>\r\nSubject: Plain\r\n\r\n");
  EXPECT_EQ(text, "0123456789abcdefghij\r\n");
}

TEST(Fetch, Sections) {
  struct Case {
    std::string item, name, content;
  };
  const std::vector<Case> cases = {
      {"BODY.PEEK[1]", "BODY[1]", "Gr\xc3\xbc\xc3\x9f" "e"},
      {"BODY.PEEK[2]", "BODY[2]", "AAECAw=="},
      {"BODY.PEEK[1.MIME]", "BODY[1.MIME]",
       "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"},
      {"BODY.PEEK[3]", "BODY[3]", section(kMixed, "3")},
      {"BODY.PEEK[3.HEADER]", "BODY[3.HEADER]", "From: Carol <carol@example.net>\r\nSubject: Inner\r\n\r\n"},
      {"BODY.PEEK[3.TEXT]", "BODY[3.TEXT]", section(kMixed, "3.TEXT")},
      {"BODY.PEEK[3.1]", "BODY[3.1]", section(kMixed, "3.1")},
      {"BODY.PEEK[HEADER.FIELDS (Subject)]", "BODY[HEADER.FIELDS (Subject)]", "Subject: Hello\r\n\r\n"},
      {"BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)]", "BODY[HEADER.FIELDS (SUBJECT FROM)]",
       "From: Alice <alice@example.com>\r\nSubject: Hello\r\n\r\n"},
      {"BODY.PEEK[3.HEADER.FIELDS (subject)]", "BODY[3.HEADER.FIELDS (subject)]", "Subject: Inner\r\n\r\n"},
      {"BODY.PEEK[HEADER.FIELDS.NOT (Content-Type MIME-Version Message-ID Date To)]",
       "BODY[HEADER.FIELDS.NOT (Content-Type MIME-Version Message-ID Date To)]",
       "From: Alice <alice@example.com>\r\nSubject: Hello\r\n\r\n"},
      {"BODY.PEEK[HEADER.FIELDS (X-Absent)]", "BODY[HEADER.FIELDS (X-Absent)]", "\r\n"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(run(c.item, kMixed).text, "* 3 FETCH (" + c.name + " " + lit(c.content) + ")\r\n") << c.item;
  }
  EXPECT_EQ(section(kMixed, "3.1"), "Inner body");
}

TEST(Fetch, MissingSectionsAreEmptyStrings) {
  // RFC 9051 6.4.5: a part that does not exist; HEADER / TEXT of a part that is not a
  // message/rfc822.
  for (const std::string item : {"BODY.PEEK[9]", "BODY.PEEK[1.2]", "BODY.PEEK[9.MIME]", "BODY.PEEK[1.HEADER]",
                                 "BODY.PEEK[1.TEXT]", "BODY.PEEK[2.HEADER.FIELDS (From)]", "BODY.PEEK[9]<0.10>"}) {
    auto items = fetch_items(item);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(run(item, kMixed).text, "* 3 FETCH (" + proto::fetch_att_name(items[0]) + " \"\")\r\n") << item;
  }
}

TEST(Fetch, Partials) {
  // RFC 9051 6.4.5: the response names only the origin.
  EXPECT_EQ(run("BODY.PEEK[]<0.10>", kPlain).text, "* 3 FETCH (BODY[]<0> " + lit(kPlain.substr(0, 10)) + ")\r\n");
  EXPECT_EQ(run("BODY.PEEK[]<5.3>", kPlain).text, "* 3 FETCH (BODY[]<5> " + lit(kPlain.substr(5, 3)) + ")\r\n");
  EXPECT_EQ(run("BODY.PEEK[TEXT]<10.100>", kPlain).text,
            "* 3 FETCH (BODY[TEXT]<10> " + lit("abcdefghij\r\n") + ")\r\n");
  const std::string end = std::to_string(kPlain.size());
  EXPECT_EQ(run("BODY.PEEK[]<" + end + ".10>", kPlain).text, "* 3 FETCH (BODY[]<" + end + "> \"\")\r\n");
  EXPECT_EQ(run("BODY.PEEK[]<99999999999.1>", kPlain).text, "* 3 FETCH (BODY[]<99999999999> \"\")\r\n");
  EXPECT_EQ(run("BODY.PEEK[HEADER.FIELDS (Subject)]<2.5>", kPlain).text,
            "* 3 FETCH (BODY[HEADER.FIELDS (Subject)]<2> " + lit("bject") + ")\r\n");
  // Two partials of one section are two items.
  EXPECT_EQ(run("(BODY.PEEK[]<0.2> BODY.PEEK[]<0.3>)", kPlain).text,
            "* 3 FETCH (BODY[]<0> " + lit("Fr") + " BODY[]<0> " + lit("Fro") + ")\r\n");
  // A count of 0 is not in the grammar (partial = "<" number64 "." nz-number64 ">").
  EXPECT_FALSE(proto::parse_fetch_att("BODY[]<0.0>").has_value());
}

TEST(Fetch, Binary) {
  Fetched r = run("BINARY.PEEK[2]", kMixed);
  EXPECT_EQ(r.text, "* 3 FETCH (BINARY[2] ~{4}\r\n" + std::string("\0\1\2\3", 4) + ")\r\n");  // literal8: NUL
  EXPECT_EQ(run("BINARY.PEEK[1]", kMixed).text, "* 3 FETCH (BINARY[1] " + lit("Gr\xc3\xbc\xc3\x9f" "e") + ")\r\n");
  EXPECT_EQ(run("BINARY.PEEK[5]", kMixed).text,
            "* 3 FETCH (BINARY[5] " + lit("caf\xc3\xa9 cr\xc3\xa8me") + ")\r\n");
  EXPECT_EQ(run("BINARY.PEEK[2]<1.2>", kMixed).text, "* 3 FETCH (BINARY[2]<1> {2}\r\n\1\2)\r\n");
  EXPECT_EQ(run("BINARY.PEEK[2]<9.2>", kMixed).text, "* 3 FETCH (BINARY[2]<9> \"\")\r\n");
  EXPECT_EQ(run("BINARY.PEEK[]", kPlain).text, "* 3 FETCH (BINARY[] " + lit(kPlain) + ")\r\n");
  EXPECT_EQ(run("(BINARY.SIZE[1] BINARY.SIZE[2] BINARY.SIZE[5] BINARY.SIZE[9])", kMixed).text,
            "* 3 FETCH (BINARY.SIZE[1] 7 BINARY.SIZE[2] 4 BINARY.SIZE[5] 12 BINARY.SIZE[9] 0)\r\n");
  EXPECT_EQ(run("BINARY.PEEK[9]", kMixed).text, "* 3 FETCH (BINARY[9] \"\")\r\n");
}

TEST(Fetch, BinaryOfAnUnknownEncodingIsRefused) {
  for (const std::string item : {"BINARY.PEEK[4]", "BINARY[4]", "BINARY.SIZE[4]", "(UID BINARY.PEEK[4]<0.5>)",
                                 "(BODY.PEEK[1] BINARY.PEEK[4] FLAGS)"}) {
    Fetched r = run(item, kMixed);
    EXPECT_EQ(r.out.refusal, FetchRefusal::kUnknownCte) << item;
    EXPECT_TRUE(r.out.pieces.empty()) << item;
  }
  EXPECT_EQ(refusal_text(FetchRefusal::kUnknownCte).substr(0, 13), "[UNKNOWN-CTE]");
  // BODY[4] is fine: it is not decoded.
  EXPECT_EQ(run("BODY.PEEK[4]", kMixed).text, "* 3 FETCH (BODY[4] " + lit("begin 644 x") + ")\r\n");
}

TEST(Fetch, SeenRules) {
  // RFC 9051 6.4.5.
  for (const std::string items : {"BODY[]", "BODY[TEXT]", "BODY[1.MIME]", "BODY[HEADER]", "RFC822", "RFC822.TEXT",
                                  "BINARY[1]", "BINARY[]<0.5>", "(FLAGS BODY[]<0.1>)"}) {
    EXPECT_TRUE(sets_seen(fetch_items(items))) << items;
  }
  for (const std::string items : {"BODY.PEEK[]", "BINARY.PEEK[1]", "BINARY.SIZE[1]", "RFC822.HEADER", "RFC822.SIZE",
                                  "BODY", "BODYSTRUCTURE", "ENVELOPE", "ALL", "FULL", "(UID FLAGS MODSEQ)"}) {
    EXPECT_FALSE(sets_seen(fetch_items(items))) << items;
  }
  const store::Message unseen = meta(10);
  const store::Message seen = meta(10, 7, store::kFlagSeen | store::kFlagAnswered);
  FetchOptions rw, ro;
  ro.read_only = true;
  EXPECT_TRUE(needs_seen(fetch_items("BODY[]"), unseen, rw));
  EXPECT_FALSE(needs_seen(fetch_items("BODY[]"), seen, rw));
  EXPECT_FALSE(needs_seen(fetch_items("BODY[]"), unseen, ro));
  EXPECT_FALSE(needs_seen(fetch_items("BODY.PEEK[]"), unseen, rw));
}

TEST(Fetch, FlagsFollowAnImplicitSeen) {
  // The session stored \Seen first and passes the new flags: FLAGS comes last, once.
  Fetched r = run("(UID BODY[TEXT])", kPlain, {}, store::kFlagSeen, true);
  EXPECT_EQ(r.text, "* 3 FETCH (UID 7 BODY[TEXT] " + lit("0123456789abcdefghij\r\n") + " FLAGS (\\Seen $Work))\r\n");
  Fetched asked = run("(FLAGS BODY[TEXT])", kPlain, {}, store::kFlagSeen, true);
  EXPECT_EQ(asked.text,
            "* 3 FETCH (FLAGS (\\Seen $Work) BODY[TEXT] " + lit("0123456789abcdefghij\r\n") + ")\r\n");
  FetchOptions condstore;
  condstore.condstore = true;
  Fetched cs = run("BODY[TEXT]<0.4>", kPlain, condstore, store::kFlagSeen, true);
  EXPECT_EQ(cs.text, "* 3 FETCH (BODY[TEXT]<0> " + lit("0123") + " MODSEQ (42) FLAGS (\\Seen $Work))\r\n");
}

TEST(Fetch, UidFirstForUidFetchAndEachItemOnce) {
  FetchOptions uid;
  uid.uid = true;
  EXPECT_EQ(run("(FLAGS UID RFC822.SIZE FLAGS)", kPlain, uid).text,
            "* 3 FETCH (UID 7 FLAGS ($Work) RFC822.SIZE " + std::to_string(kPlain.size()) + ")\r\n");
  EXPECT_EQ(run("FLAGS", kPlain, uid).text, "* 3 FETCH (UID 7 FLAGS ($Work))\r\n");
  // BODY[] and BODY.PEEK[] answer with the same name: once.
  EXPECT_EQ(run("(BODY.PEEK[TEXT] BODY[TEXT])", kPlain).text,
            "* 3 FETCH (BODY[TEXT] " + lit("0123456789abcdefghij\r\n") + ")\r\n");
  FetchOptions modseq;
  modseq.modseq = true;
  modseq.uid = true;
  EXPECT_EQ(run("FLAGS", kPlain, modseq).text, "* 3 FETCH (UID 7 FLAGS ($Work) MODSEQ (42))\r\n");
  EXPECT_EQ(run("(MODSEQ FLAGS)", kPlain, modseq).text, "* 3 FETCH (UID 7 MODSEQ (42) FLAGS ($Work))\r\n");
}

TEST(Fetch, SourceErrorsAreReported) {
  const store::Message m = meta(kPlain.size());
  StringSource source(kPlain);
  source.fail = true;
  auto out = fetch_message(fetch_items("(UID ENVELOPE)"), FetchMessage{&m, 1, false, false}, source, {});
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().code, ErrorCode::kIo);
  // Metadata needs no source, so it cannot fail.
  EXPECT_TRUE(fetch_message(fetch_items("(UID FLAGS)"), FetchMessage{&m, 1, false, false}, source, {}));
}

// A 5 MiB message: BODY[] and large sections come out as ranges of the stored bytes.
std::string big_message() {
  std::string m =
      "From: Big <big@example.com>\r\nSubject: big\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\n";
  const std::string line(76, 'x');
  while (m.size() < 5 * 1024 * 1024 - 100) m += line + "\r\n";
  m += "--zz\r\nContent-Type: text/plain\r\n\r\nsmall\r\n--zz--\r\n";
  return m;
}

TEST(Fetch, LargeBodyIsStreamedAsARange) {
  const std::string big = big_message();
  Fetched r = run("(UID BODY.PEEK[])", big);
  ASSERT_EQ(r.out.pieces.size(), 3u);
  EXPECT_EQ(r.out.pieces[0].kind, FetchPiece::Kind::kText);
  EXPECT_EQ(r.out.pieces[0].text, "* 3 FETCH (UID 7 BODY[] {" + std::to_string(big.size()) + "}\r\n");
  EXPECT_EQ(r.out.pieces[1].kind, FetchPiece::Kind::kRange);  // not a copy
  EXPECT_EQ(r.out.pieces[1].range, (ByteRange{0, big.size()}));
  EXPECT_TRUE(r.out.pieces[1].text.empty());
  EXPECT_EQ(r.out.pieces[2].text, ")\r\n");
  EXPECT_EQ(r.byte_reads, 0);  // never read: the session sends the range from the store
  EXPECT_EQ(r.cache_reads, 0);

  Fetched partial = run("BODY.PEEK[]<1000.2000000>", big);
  ASSERT_EQ(partial.out.pieces.size(), 3u);
  EXPECT_EQ(partial.out.pieces[0].text, "* 3 FETCH (BODY[]<1000> {2000000}\r\n");
  EXPECT_EQ(partial.out.pieces[1].range, (ByteRange{1000, 2000000}));
  EXPECT_EQ(partial.byte_reads, 0);
}

TEST(Fetch, LargeSectionFromTheParseCacheIsARange) {
  const std::string big = big_message();
  const mime::Message msg = mime::parse(big);
  const mime::Part& p1 = msg.parts[msg.parts[0].children[0]];
  const mime::Part& p2 = msg.parts[msg.parts[0].children[1]];
  Fetched r = run("(BODY.PEEK[1] BODY.PEEK[2] RFC822.SIZE)", big, {}, 0, false, mime::serialize(msg));
  ASSERT_EQ(r.out.pieces.size(), 5u);
  EXPECT_EQ(r.out.pieces[0].text, "* 3 FETCH (BODY[1] {" + std::to_string(p1.body_size()) + "}\r\n");
  EXPECT_EQ(r.out.pieces[1].range, (ByteRange{p1.body_begin, p1.body_size()}));
  EXPECT_EQ(r.out.pieces[2].text, " BODY[2] {5}\r\n");
  EXPECT_EQ(r.out.pieces[3].kind, FetchPiece::Kind::kRange);  // small, but the message is large
  EXPECT_EQ(r.out.pieces[3].range, (ByteRange{p2.body_begin, 5}));
  EXPECT_EQ(r.out.pieces[4].text, " RFC822.SIZE " + std::to_string(big.size()) + ")\r\n");
  EXPECT_EQ(r.cache_reads, 1);
  EXPECT_EQ(r.byte_reads, 0);  // structure from the cache, content sent from the store
  EXPECT_EQ(r.text, "* 3 FETCH (BODY[1] " + lit(section(big, "1")) + " BODY[2] {5}\r\nsmall RFC822.SIZE " +
                        std::to_string(big.size()) + ")\r\n");
}

TEST(Fetch, SmallPieceOfALargeMessageIsARange) {
  const std::string big = big_message();
  Fetched r = run("BODY.PEEK[]<0.2048>", big);
  ASSERT_EQ(r.out.pieces.size(), 3u);
  EXPECT_EQ(r.out.pieces[0].text, "* 3 FETCH (BODY[]<0> {2048}\r\n");
  EXPECT_EQ(r.out.pieces[1].range, (ByteRange{0, 2048}));
  EXPECT_EQ(r.byte_reads, 0);
  // Once the bytes are in memory anyway (HEADER.FIELDS reads them), small content is inlined.
  Fetched both = run("(BODY.PEEK[HEADER.FIELDS (Subject)] BODY.PEEK[]<0.6>)", big);
  EXPECT_EQ(both.out.pieces.size(), 1u);
  EXPECT_EQ(both.text, "* 3 FETCH (BODY[HEADER.FIELDS (Subject)] " + lit("Subject: big\r\n\r\n") + " BODY[]<0> " +
                           lit("From: ") + ")\r\n");
  EXPECT_EQ(both.byte_reads, 0);
  EXPECT_EQ(both.prefix_reads, 1);
}

TEST(Fetch, HeaderItemsOfALargeMessageReadOnlyItsHead) {
  const std::string big = big_message();
  const mime::Message msg = mime::parse(big);
  const std::uint64_t body = msg.parts[0].body_begin;
  Fetched r = run("(ENVELOPE RFC822.HEADER BODY.PEEK[HEADER.FIELDS (Subject From)] BODY.PEEK[TEXT])", big);
  ASSERT_EQ(r.out.pieces.size(), 3u);
  EXPECT_EQ(r.out.pieces[0].text,
            "* 3 FETCH (ENVELOPE " + mime::envelope(msg) + " RFC822.HEADER " + lit(section(big, "HEADER")) +
                " BODY[HEADER.FIELDS (Subject From)] " + lit("From: Big <big@example.com>\r\nSubject: big\r\n\r\n") +
                " BODY[TEXT] {" + std::to_string(big.size() - body) + "}\r\n");
  EXPECT_EQ(r.out.pieces[1].range, (ByteRange{body, big.size() - body}));
  EXPECT_EQ(r.out.pieces[2].text, ")\r\n");
  EXPECT_EQ(r.byte_reads, 0);
  EXPECT_EQ(r.prefix_reads, 1);
  // With the parse cache, the header's exact size is read.
  Fetched c = run("(BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (Subject)])", big, {}, 0, false, mime::serialize(msg));
  EXPECT_EQ(c.text, "* 3 FETCH (BODYSTRUCTURE " + mime::body_structure(msg, true) +
                        " BODY[HEADER.FIELDS (Subject)] " + lit("Subject: big\r\n\r\n") + ")\r\n");
  EXPECT_EQ(c.byte_reads, 0);
  EXPECT_EQ(c.prefix_reads, 1);
  EXPECT_EQ(c.cache_reads, 1);
}

TEST(Fetch, HeaderLongerThanTheProbe) {
  std::string m = "From: Long <long@example.com>\r\n";
  for (int i = 0; m.size() < kHeaderProbe + 5000; ++i) {
    m += "X-Filler-" + std::to_string(i) + ": " + std::string(60, 'f') + "\r\n";
  }
  m += "Subject: tail\r\n\r\n" + std::string(kHeaderProbe, 'b') + "\r\n";
  Fetched r = run("(BODY.PEEK[HEADER.FIELDS (Subject)] ENVELOPE)", m);
  EXPECT_EQ(r.text, "* 3 FETCH (BODY[HEADER.FIELDS (Subject)] " + lit("Subject: tail\r\n\r\n") + " ENVELOPE " +
                        mime::envelope(mime::parse(m)) + ")\r\n");
  EXPECT_EQ(r.byte_reads, 1);  // the probe found no end of header: the whole message
}

TEST(Fetch, LargeDecodedContentIsAPieceOfItsOwn) {
  std::string m = "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  std::string raw;
  for (int i = 0; i < 3000; ++i) raw += static_cast<char>(i % 251);
  m = "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\n" + m + base64_encode(raw) +
      "\r\n--q--\r\n";
  FetchOptions small;
  small.inline_limit = 1000;
  Fetched r = run("BINARY.PEEK[1]", m, small);
  ASSERT_EQ(r.out.pieces.size(), 3u);
  EXPECT_EQ(r.out.pieces[0].text, "* 3 FETCH (BINARY[1] ~{3000}\r\n");
  EXPECT_EQ(r.out.pieces[1].kind, FetchPiece::Kind::kText);
  EXPECT_EQ(r.out.pieces[1].text, raw);
  EXPECT_EQ(r.out.pieces[2].text, ")\r\n");
  // A large identity-encoded BINARY section is a range, announced as literal8 unseen.
  Fetched body = run("BINARY.PEEK[]", m, small);
  ASSERT_EQ(body.out.pieces.size(), 3u);
  EXPECT_EQ(body.out.pieces[0].text, "* 3 FETCH (BINARY[] ~{" + std::to_string(m.size()) + "}\r\n");
  EXPECT_EQ(body.out.pieces[1].kind, FetchPiece::Kind::kRange);
}

}  // namespace
}  // namespace tern::imap
