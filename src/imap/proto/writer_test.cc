#include "imap/proto/writer.h"

#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "imap/proto/args.h"
#include "imap/proto/receiver.h"

namespace tern::imap::proto {
namespace {

std::string str(void (*fn)(std::string&, std::string_view, bool), std::string_view s, bool utf8 = false) {
  std::string out;
  fn(out, s, utf8);
  return out;
}

TEST(ImapWriter, ChoosesQuotedOrLiteral) {
  struct Case {
    std::string in;
    bool utf8;
    std::string out;
  };
  const std::vector<Case> cases = {
      {"abc", false, "\"abc\""},
      {"", false, "\"\""},
      {"a \"b\" \\c", false, "\"a \\\"b\\\" \\\\c\""},
      {"a\r\nb", false, "{4}\r\na\r\nb"},
      {"tab\there", false, "{8}\r\ntab\there"},
      {std::string("n\0l", 3), false, std::string("{3}\r\nn\0l", 8)},
      {"caf\xc3\xa9", false, "{5}\r\ncaf\xc3\xa9"},
      {"caf\xc3\xa9", true, "\"caf\xc3\xa9\""},
      {"bad\xff", true, "{4}\r\nbad\xff"},
      {std::string(1024, 'x'), false, "\"" + std::string(1024, 'x') + "\""},
      {std::string(1025, 'x'), false, "{1025}\r\n" + std::string(1025, 'x')},
  };
  for (const auto& c : cases) EXPECT_EQ(str(append_string, c.in, c.utf8), c.out) << c.in;
}

TEST(ImapWriter, AstringUsesAtomsWhenSafe) {
  EXPECT_EQ(str(append_astring, "INBOX"), "INBOX");
  EXPECT_EQ(str(append_astring, "Message-ID"), "Message-ID");
  EXPECT_EQ(str(append_astring, "a]"), "a]");
  EXPECT_EQ(str(append_astring, "a[b"), "\"a[b\"");  // found by imap_command_fuzz
  EXPECT_EQ(str(append_astring, "NIL"), "\"NIL\"");
  EXPECT_EQ(str(append_astring, "nil"), "\"nil\"");
  EXPECT_EQ(str(append_astring, ""), "\"\"");
  EXPECT_EQ(str(append_astring, "a b"), "\"a b\"");
  EXPECT_EQ(str(append_astring, "a%"), "\"a%\"");
  EXPECT_EQ(str(append_astring, "a{1}"), "\"a{1}\"");
  EXPECT_EQ(str(append_astring, "\\Seen"), "\"\\\\Seen\"");
}

TEST(ImapWriter, NstringMailboxFlagsDatesLists) {
  std::string out;
  append_nstring(out, std::nullopt);
  out += ' ';
  append_nstring(out, std::string_view("x"));
  EXPECT_EQ(out, "NIL \"x\"");

  out.clear();
  append_mailbox(out, "Entw\xc3\xbcrfe", false);
  out += ' ';
  append_mailbox(out, "Entw\xc3\xbcrfe", true);
  out += ' ';
  append_mailbox(out, "A&B", false);
  EXPECT_EQ(out, "\"Entw&APw-rfe\" \"Entw\xc3\xbcrfe\" \"A&-B\"");

  out.clear();
  append_flags(out, kFlagSeen | kFlagDeleted | kFlagDraft, {"$Forwarded", "work"}, true);
  EXPECT_EQ(out, "(\\Seen \\Deleted \\Draft \\Recent $Forwarded work)");
  out.clear();
  append_flags(out, 0, {});
  EXPECT_EQ(out, "()");
  out.clear();
  append_flags(out, kFlagSeen | kFlagAnswered | kFlagFlagged | kFlagDeleted | kFlagDraft, {});
  EXPECT_EQ(out, "(\\Seen \\Answered \\Flagged \\Deleted \\Draft)");

  out.clear();
  append_date_time(out, 760135747, 60);
  EXPECT_EQ(out, "\"01-Feb-1994 21:49:07 +0100\"");

  out.clear();
  append_list(out, {"MESSAGES", "3", "UIDNEXT", "4"});
  EXPECT_EQ(out, "(MESSAGES 3 UIDNEXT 4)");
  out.clear();
  append_list(out, {});
  EXPECT_EQ(out, "()");
}

TEST(ImapWriter, FetchResponseStreamsLiterals) {
  FetchResponse r(12);
  r.add_number("UID", 4827313);
  r.add_literal_header("BODY[]", 11);
  std::string wire = r.take();
  EXPECT_EQ(wire, "* 12 FETCH (UID 4827313 BODY[] {11}\r\n");
  EXPECT_EQ(r.pending(), "");
  wire += "hello";  // the body, sent in pieces by the session
  wire += " world";
  r.add_flags(kFlagSeen, {}, false);
  r.add_modseq(624140003);
  r.add_internal_date(760135747, 60);
  r.add_data("BODY[HEADER.FIELDS (Subject)]", "Subject: hi\r\n\r\n");
  r.add_data("BINARY[1]", std::string("a\0b", 3), true);
  r.add_data("BINARY[2]", "plain", true);
  r.add_nil("BODY[3]");
  r.add("ENVELOPE", "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
  EXPECT_FALSE(r.finished());
  r.finish();
  EXPECT_TRUE(r.finished());
  wire += r.take();
  EXPECT_EQ(wire,
            "* 12 FETCH (UID 4827313 BODY[] {11}\r\nhello world FLAGS (\\Seen) MODSEQ (624140003) "
            "INTERNALDATE \"01-Feb-1994 21:49:07 +0100\" BODY[HEADER.FIELDS (Subject)] {15}\r\nSubject: hi\r\n\r\n "
            "BINARY[1] ~{3}\r\n" + std::string("a\0b", 3) +
                " BINARY[2] \"plain\" BODY[3] NIL ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))\r\n");
}

// Feeds wire text (lines ending in CRLF, literals after their announcement) to a receiver
// and returns the one request it makes.
std::vector<Arg> receive(const std::string& wire) {
  Receiver receiver(ReceiverLimits{1 << 20, 1 << 22, 8, 1000});
  std::size_t pos = 0;
  for (;;) {
    std::size_t crlf = wire.find("\r\n", pos);
    if (crlf == std::string::npos) return {};
    Step s = receiver.feed_line(std::string_view(wire).substr(pos, crlf - pos));
    pos = crlf + 2;
    if (auto* need = std::get_if<NeedLiteral>(&s)) {
      receiver.feed_literal(wire.substr(pos, need->size));
      pos += need->size;
      continue;
    }
    if (auto* req = std::get_if<Request>(&s)) return req->args;
    ADD_FAILURE() << std::get<ParseError>(s).message << " in " << wire;
    return {};
  }
}

TEST(ImapWriter, ReceiverReadsBackWhatTheWriterWrites) {
  const std::vector<std::string> samples = {
      "", "x", "NIL", "a b", "\"", "\\", "\\\"\\", "line\r\nbreak", "\r\n", "{5}", "~{5}", "(a)", "a]",
      "caf\xc3\xa9", "\xff\xfe", "A004EY[HEADE", "x[y]z", std::string(5000, 'q'), std::string("nul\0byte", 8), "%*", "}\r\n{1}\r\n",
  };
  for (bool utf8 : {false, true}) {
    for (const auto& s : samples) {
      for (auto fn : {append_string, append_astring}) {
        std::string wire = "t X ";
        fn(wire, s, utf8);
        wire += " (";
        fn(wire, s, utf8);
        wire += ")\r\n";
        auto args = receive(wire);
        ASSERT_EQ(args.size(), 2u) << wire;
        EXPECT_EQ(args[0].value, s) << wire;
        ASSERT_EQ(args[1].children.size(), 1u) << wire;
        EXPECT_EQ(args[1].children[0].value, s) << wire;
      }
    }
  }
}

}  // namespace
}  // namespace tern::imap::proto
