#include "pop3/proto/parser.h"

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tern::pop3::proto {
namespace {

struct Good {
  std::string line;
  Verb verb;
  std::string arg;
  std::string arg2;
  std::optional<uint32_t> msg;
  uint32_t lines;
};

TEST(Pop3Parser, ParsesValidCommands) {
  const std::vector<Good> cases = {
      {"USER alice@example.com", Verb::kUser, "alice@example.com", "", {}, 0},
      {"user bob", Verb::kUser, "bob", "", {}, 0},
      {"PASS secret", Verb::kPass, "secret", "", {}, 0},
      {"PASS  two words ", Verb::kPass, " two words ", "", {}, 0},
      {"APOP mrose c4c9334bac560ecc979e58001b3e22fb", Verb::kApop, "mrose",
       "c4c9334bac560ecc979e58001b3e22fb", {}, 0},
      {"AUTH", Verb::kAuth, "", "", {}, 0},
      {"AUTH plain", Verb::kAuth, "PLAIN", "", {}, 0},
      {"AUTH PLAIN AGFsaWNlAHNlY3JldA==", Verb::kAuth, "PLAIN", "AGFsaWNlAHNlY3JldA==", {}, 0},
      {"AUTH PLAIN =", Verb::kAuth, "PLAIN", "=", {}, 0},
      {"STLS", Verb::kStls, "", "", {}, 0},
      {"CAPA", Verb::kCapa, "", "", {}, 0},
      {"capa", Verb::kCapa, "", "", {}, 0},
      {"QUIT", Verb::kQuit, "", "", {}, 0},
      {"STAT", Verb::kStat, "", "", {}, 0},
      {"LIST", Verb::kList, "", "", {}, 0},
      {"LIST 3", Verb::kList, "", "", 3u, 0},
      {"RETR 1", Verb::kRetr, "", "", 1u, 0},
      {"DELE 4294967295", Verb::kDele, "", "", 4294967295u, 0},
      {"NOOP", Verb::kNoop, "", "", {}, 0},
      {"RSET", Verb::kRset, "", "", {}, 0},
      {"TOP 2 0", Verb::kTop, "", "", 2u, 0},
      {"TOP 2 10", Verb::kTop, "", "", 2u, 10},
      {"UIDL", Verb::kUidl, "", "", {}, 0},
      {"UIDL 7", Verb::kUidl, "", "", 7u, 0},
      {"QUIT ", Verb::kQuit, "", "", {}, 0},
  };
  for (const auto& c : cases) {
    auto r = parse_command(c.line);
    ASSERT_TRUE(r.has_value()) << c.line << ": " << r.error().message;
    EXPECT_EQ(r->verb, c.verb) << c.line;
    EXPECT_EQ(r->arg, c.arg) << c.line;
    EXPECT_EQ(r->arg2, c.arg2) << c.line;
    EXPECT_EQ(r->msg, c.msg) << c.line;
    EXPECT_EQ(r->lines, c.lines) << c.line;
  }
}

struct Bad {
  std::string line;
  ParseError::Kind kind;
};

TEST(Pop3Parser, RejectsInvalidCommands) {
  const std::vector<Bad> cases = {
      {"", ParseError::Kind::kUnknown},
      {"HELO x", ParseError::Kind::kUnknown},
      {"RETRIEVE 1", ParseError::Kind::kUnknown},
      {" USER a", ParseError::Kind::kUnknown},
      {"USER", ParseError::Kind::kSyntax},
      {"USER a b", ParseError::Kind::kSyntax},
      {"PASS", ParseError::Kind::kSyntax},
      {"PASS ", ParseError::Kind::kSyntax},
      {"APOP a", ParseError::Kind::kSyntax},
      {"AUTH PLAIN a b", ParseError::Kind::kSyntax},
      {"STLS now", ParseError::Kind::kSyntax},
      {"STAT 1", ParseError::Kind::kSyntax},
      {"RETR", ParseError::Kind::kSyntax},
      {"RETR 0", ParseError::Kind::kSyntax},
      {"RETR -1", ParseError::Kind::kSyntax},
      {"RETR x", ParseError::Kind::kSyntax},
      {"RETR 4294967296", ParseError::Kind::kSyntax},
      {"RETR 1 2", ParseError::Kind::kSyntax},
      {"LIST 1 2", ParseError::Kind::kSyntax},
      {"TOP 1", ParseError::Kind::kSyntax},
      {"TOP 1 x", ParseError::Kind::kSyntax},
      {std::string("USER a\0b", 8), ParseError::Kind::kSyntax},
  };
  for (const auto& c : cases) {
    auto r = parse_command(c.line);
    ASSERT_FALSE(r.has_value()) << c.line;
    EXPECT_EQ(r.error().kind, c.kind) << c.line;
    EXPECT_FALSE(r.error().message.empty()) << c.line;
  }
}

}  // namespace
}  // namespace tern::pop3::proto
