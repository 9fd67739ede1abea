#include "imap/proto/receiver.h"

#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "imap/proto/commands.h"

namespace tern::imap::proto {
namespace {

// Renders arguments compactly so tables can state the expected tokens:
// atom a, quoted "q", literal {l}, list (...).
std::string render(const std::vector<Arg>& args) {
  std::string out;
  for (const auto& a : args) {
    if (!out.empty()) out += ' ';
    switch (a.kind) {
      case Arg::Kind::kAtom: out += a.value; break;
      case Arg::Kind::kQuoted: out += "\"" + a.value + "\""; break;
      case Arg::Kind::kLiteral: out += "{" + a.value + "}"; break;
      case Arg::Kind::kLiteral8: out += "~{" + a.value + "}"; break;
      case Arg::Kind::kList: out += "(" + render(a.children) + ")"; break;
    }
  }
  return out;
}

struct Good {
  std::string line;
  std::string tag;
  std::string command;
  std::string args;
};

TEST(ImapReceiver, ParsesSingleLineCommands) {
  const std::vector<Good> cases = {
      {"a1 CAPABILITY", "a1", "CAPABILITY", ""},
      {"a1 noop", "a1", "NOOP", ""},
      {"A001 LOGIN alice secret", "A001", "LOGIN", "alice secret"},
      {"x LOGIN \"alice@example.com\" \"p a\\\"s\\\\s\"", "x", "LOGIN",
       "\"alice@example.com\" \"p a\"s\\s\""},
      {"t LOGIN \"\" \"\"", "t", "LOGIN", "\"\" \"\""},
      {"a AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==", "a", "AUTHENTICATE",
       "PLAIN AGFsaWNlAHNlY3JldA=="},
      {"a2 SELECT INBOX", "a2", "SELECT", "INBOX"},
      {"a3 FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.100>)", "a3", "FETCH",
       "1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.100>)"},
      {"a4 STORE 1 +FLAGS (\\Seen \\Deleted)", "a4", "STORE", "1 +FLAGS (\\Seen \\Deleted)"},
      {"a5 LIST \"\" *", "a5", "LIST", "\"\" *"},
      {"a6 UID FETCH 1:2 (UID)", "a6", "UID", "FETCH 1:2 (UID)"},
      {"a7 X () ((a) b)", "a7", "X", "() ((a) b)"},
      {"a8 LIST () \"\" %", "a8", "LIST", "() \"\" %"},
      {"a9 X ~foo a~{1}", "a9", "X", "~foo a~{1}"},
      {"]tag] NOOP", "]tag]", "NOOP", ""},
      {"a10 LOGIN \xc3\xa4lice \"p\xc3\xa4ss\"", "a10", "LOGIN", "\xc3\xa4lice \"p\xc3\xa4ss\""},
  };
  for (const auto& c : cases) {
    Receiver r;
    Step s = r.feed_line(c.line);
    auto* req = std::get_if<Request>(&s);
    ASSERT_NE(req, nullptr) << c.line << ": "
                            << (std::holds_alternative<ParseError>(s)
                                    ? std::get<ParseError>(s).message
                                    : "need literal");
    EXPECT_EQ(req->tag, c.tag) << c.line;
    EXPECT_EQ(req->command, c.command) << c.line;
    EXPECT_EQ(render(req->args), c.args) << c.line;
    EXPECT_FALSE(r.in_command());
  }
}

struct Bad {
  std::string line;
  std::string tag;  // expected tag in the error ("" for untagged)
  bool fatal;
};

TEST(ImapReceiver, RejectsMalformedCommands) {
  const std::vector<Bad> cases = {
      {"", "", false},
      {" a NOOP", "", false},
      {"a", "a", false},
      {"a ", "a", false},
      {"a+b NOOP", "", false},
      {"a*b NOOP", "", false},
      {"a{1} NOOP", "", false},
      {"a NO@OP", "a", false},
      {"a LOGIN \"unterminated", "a", false},
      {"a LOGIN \"bad\\escape\"", "a", false},
      {"a LOGIN \"x\"y", "a", false},
      {"a LOGIN (x", "a", false},
      {"a LOGIN x)", "a", false},
      {"a LOGIN {5", "a", false},
      {"a LOGIN {} x", "a", false},
      {"a LOGIN {5} x", "a", false},
      {"a LOGIN {x}", "a", false},
      {"a FETCH 1 BODY[TEXT", "a", false},
      {std::string("a LOGIN a\0b c", 13), "a", false},
      {"a LOGIN {99999999}", "a", false},
      {"a LOGIN {99999999+}", "a", true},
      {"a LOGIN {999999999999999999999999999999}", "a", false},
      {"a X ((((((((((x))))))))))", "a", false},
      // RFC 9051 9: exactly one SP between arguments; no leading or trailing spaces.
      {"a NOOP ", "a", false},
      {"a  NOOP", "a", false},
      {"a LOGIN  alice secret", "a", false},
      {"a FETCH 1 ( FLAGS)", "a", false},
      {"a FETCH 1 (FLAGS )", "a", false},
      {"a FETCH 1 (FLAGS  UID)", "a", false},
      {"a FETCH 1 (FLAGS)(UID)", "a", false},
      {"a X ~{5", "a", false},
      {"a X ~{99999999+}", "a", true},
  };
  for (const auto& c : cases) {
    Receiver r;
    Step s = r.feed_line(c.line);
    auto* err = std::get_if<ParseError>(&s);
    ASSERT_NE(err, nullptr) << c.line;
    EXPECT_EQ(err->tag, c.tag) << c.line;
    EXPECT_EQ(err->fatal, c.fatal) << c.line;
    EXPECT_FALSE(err->message.empty());
    EXPECT_FALSE(r.in_command());
    // The receiver is ready for the next command.
    Step next = r.feed_line("b NOOP");
    ASSERT_TRUE(std::holds_alternative<Request>(next)) << c.line;
    EXPECT_EQ(std::get<Request>(next).tag, "b");
  }
}

TEST(ImapReceiver, AssemblesLiteralsAcrossLines) {
  Receiver r;
  Step s = r.feed_line("a LOGIN {5}");
  auto* need = std::get_if<NeedLiteral>(&s);
  ASSERT_NE(need, nullptr);
  EXPECT_EQ(need->size, 5u);
  EXPECT_TRUE(need->synchronizing);
  EXPECT_TRUE(r.in_command());
  r.feed_literal("alice");

  s = r.feed_line(" {7+}");
  need = std::get_if<NeedLiteral>(&s);
  ASSERT_NE(need, nullptr);
  EXPECT_EQ(need->size, 7u);
  EXPECT_FALSE(need->synchronizing);
  r.feed_literal("se\"c re");

  s = r.feed_line("");
  auto* req = std::get_if<Request>(&s);
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(req->tag, "a");
  EXPECT_EQ(req->command, "LOGIN");
  ASSERT_EQ(req->args.size(), 2u);
  EXPECT_EQ(req->args[0].kind, Arg::Kind::kLiteral);
  EXPECT_EQ(req->args[0].value, "alice");
  EXPECT_EQ(req->args[1].value, "se\"c re");
  EXPECT_TRUE(req->args[1].is_string());
}

TEST(ImapReceiver, LiteralInsideListAndEmptyLiteral) {
  Receiver r;
  Step s = r.feed_line("a X ({0}");
  ASSERT_TRUE(std::holds_alternative<NeedLiteral>(s));
  r.feed_literal("");
  s = r.feed_line(" b) c");
  auto* req = std::get_if<Request>(&s);
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(render(req->args), "({} b) c");
}

TEST(ImapReceiver, ContinuationMustBeSeparated) {
  Receiver r;
  ASSERT_TRUE(std::holds_alternative<NeedLiteral>(r.feed_line("a LOGIN {1}")));
  r.feed_literal("x");
  Step s = r.feed_line("y");
  auto* err = std::get_if<ParseError>(&s);
  ASSERT_NE(err, nullptr);
  EXPECT_EQ(err->tag, "a");
}

TEST(ImapReceiver, EnforcesLimits) {
  ReceiverLimits limits;
  limits.max_literal = 10;
  limits.max_command = 40;
  limits.max_args = 3;
  Receiver r(limits);
  EXPECT_TRUE(std::holds_alternative<NeedLiteral>(r.feed_line("a LOGIN {10}")));
  r.reset();
  EXPECT_TRUE(std::holds_alternative<ParseError>(r.feed_line("a LOGIN {11}")));
  EXPECT_TRUE(std::holds_alternative<ParseError>(r.feed_line("a X 1 2 3 4")));
  EXPECT_TRUE(std::holds_alternative<Request>(r.feed_line("a X 1 2 3")));
  EXPECT_TRUE(
      std::holds_alternative<ParseError>(r.feed_line("a NOOP xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")));
  // Literal bytes count toward the command size.
  ASSERT_TRUE(std::holds_alternative<NeedLiteral>(r.feed_line("a X {10}")));
  r.feed_literal("0123456789");
  ASSERT_TRUE(std::holds_alternative<NeedLiteral>(r.feed_line(" {10}")));
  r.feed_literal("0123456789");
  EXPECT_TRUE(std::holds_alternative<ParseError>(r.feed_line(" {10}")));
}

struct TooBig {
  std::string line;
  std::string command;  // the command named in the error
  bool too_big;         // refused for its size (TOOBIG), not its syntax
  bool fatal;           // non-synchronizing: its bytes are on their way
};

TEST(ImapReceiver, LiteralsOverTheLimitSayWhichCommandAndWhetherTheyAreOnTheirWay) {
  ReceiverLimits limits;
  limits.max_literal = 100;
  const std::vector<TooBig> cases = {
      {"a APPEND INBOX {101}", "APPEND", true, false},
      {"a APPEND INBOX (\\Seen) {101+}", "APPEND", true, true},
      {"a APPEND INBOX ~{101}", "APPEND", true, false},
      {"a APPEND INBOX ~{101+}", "APPEND", true, true},
      {"a LOGIN {101}", "LOGIN", true, false},
      {"a LOGIN {101+}", "LOGIN", true, true},
      {"a LOGIN {99999999999999999999999+}", "LOGIN", true, true},
      {"a LOGIN {5+", "LOGIN", false, false},
      {"a LOGIN {+}", "LOGIN", false, false},
      {"a LOGIN {5++}", "LOGIN", false, false},
      {"a LOGIN {5+} x", "LOGIN", false, false},
      {"+a LOGIN {101+}", "", false, false},
  };
  for (const auto& c : cases) {
    Receiver r(limits);
    Step s = r.feed_line(c.line);
    auto* err = std::get_if<ParseError>(&s);
    ASSERT_NE(err, nullptr) << c.line;
    EXPECT_EQ(err->command, c.command) << c.line;
    EXPECT_EQ(err->too_big, c.too_big) << c.line;
    EXPECT_EQ(err->fatal, c.fatal) << c.line;
    EXPECT_FALSE(r.in_command()) << c.line;
  }
  // Within the limit, a non-synchronizing literal is asked for like any other.
  Receiver r(limits);
  Step s = r.feed_line("a APPEND INBOX {100+}");
  auto* need = std::get_if<NeedLiteral>(&s);
  ASSERT_NE(need, nullptr);
  EXPECT_FALSE(need->synchronizing);
  EXPECT_EQ(need->size, 100u);
}

TEST(ImapReceiver, ExplainsSpacingErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a NOOP ", "Trailing space after the arguments"},
      {"a  NOOP", "Extra space after the tag"},
      {"a LOGIN  x y", "Extra space between arguments"},
      {"a X ( x)", "Extra space after ("},
      {"a X (x )", "Extra space before )"},
  };
  for (const auto& [line, message] : cases) {
    Receiver r;
    Step s = r.feed_line(line);
    auto* err = std::get_if<ParseError>(&s);
    ASSERT_NE(err, nullptr) << line;
    EXPECT_EQ(err->message, message) << line;
  }
}

TEST(ImapReceiver, Literal8ForBinaryAppend) {
  // RFC 3516 4.4: APPEND may carry literal8, which may hold NUL.
  Receiver r;
  Step s = r.feed_line("a APPEND INBOX ~{3}");
  auto* need = std::get_if<NeedLiteral>(&s);
  ASSERT_NE(need, nullptr);
  EXPECT_TRUE(need->binary);
  EXPECT_TRUE(need->synchronizing);
  r.feed_literal(std::string("a\0b", 3));
  s = r.feed_line(" {1+}");
  need = std::get_if<NeedLiteral>(&s);
  ASSERT_NE(need, nullptr);
  EXPECT_FALSE(need->binary);
  r.feed_literal("x");
  s = r.feed_line("");
  auto* req = std::get_if<Request>(&s);
  ASSERT_NE(req, nullptr);
  ASSERT_EQ(req->args.size(), 3u);
  EXPECT_EQ(req->args[1].kind, Arg::Kind::kLiteral8);
  EXPECT_EQ(req->args[1].value, std::string("a\0b", 3));
  EXPECT_FALSE(req->args[1].is_string());
  EXPECT_EQ(req->args[2].kind, Arg::Kind::kLiteral);
}

TEST(ImapReceiver, HugeLimitsDoNotOverflow) {
  ReceiverLimits limits;
  limits.max_literal = SIZE_MAX;
  limits.max_command = SIZE_MAX;
  Receiver r(limits);
  Step s = r.feed_line("a X {4294967296}");
  auto* need = std::get_if<NeedLiteral>(&s);
  ASSERT_NE(need, nullptr);
  EXPECT_EQ(need->size, 4294967296u);
  r.reset();
  // The line's own bytes count, so SIZE_MAX no longer fits; nothing wraps around.
  s = r.feed_line("a X {18446744073709551615}");
  ASSERT_TRUE(std::holds_alternative<ParseError>(s));
  EXPECT_EQ(std::get<ParseError>(s).message, "Literal too large");
  s = r.feed_line("a X {184467440737095516150}");
  ASSERT_TRUE(std::holds_alternative<ParseError>(s));
  EXPECT_EQ(std::get<ParseError>(s).message, "Literal too large");
}

TEST(ImapCommands, KnowsTheStandardCommands) {
  EXPECT_TRUE(is_known_command("SELECT"));
  EXPECT_TRUE(is_known_command("UID"));
  EXPECT_TRUE(is_known_command("LOGOUT"));
  EXPECT_FALSE(is_known_command("select"));
  EXPECT_FALSE(is_known_command("XYZZY"));
}

}  // namespace
}  // namespace tern::imap::proto
