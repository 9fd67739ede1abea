#include "smtp/proto/parser.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tern::smtp::proto {
namespace {

struct Good {
  std::string line;
  Verb verb;
  std::string arg;
  std::string arg2;
};

TEST(SmtpParser, ParsesValidCommands) {
  const std::vector<Good> cases = {
      {"EHLO client.example", Verb::kEhlo, "client.example", ""},
      {"ehlo [192.0.2.1]", Verb::kEhlo, "[192.0.2.1]", ""},
      {"HELO x", Verb::kHelo, "x", ""},
      {"MAIL FROM:<a@b.example> SIZE=10", Verb::kMail, "FROM:<a@b.example> SIZE=10", ""},
      {"Rcpt TO:<c@d.example>", Verb::kRcpt, "TO:<c@d.example>", ""},
      {"DATA", Verb::kData, "", ""},
      {"BDAT 100 LAST", Verb::kBdat, "100 LAST", ""},
      {"RSET", Verb::kRset, "", ""},
      {"VRFY postmaster", Verb::kVrfy, "postmaster", ""},
      {"EXPN staff", Verb::kExpn, "staff", ""},
      {"HELP", Verb::kHelp, "", ""},
      {"HELP MAIL", Verb::kHelp, "MAIL", ""},
      {"NOOP", Verb::kNoop, "", ""},
      {"NOOP anything goes", Verb::kNoop, "anything goes", ""},
      {"QUIT", Verb::kQuit, "", ""},
      {"quit ", Verb::kQuit, "", ""},
      {"STARTTLS", Verb::kStartTls, "", ""},
      {"StartTLS\t", Verb::kStartTls, "", ""},
      {"AUTH PLAIN", Verb::kAuth, "PLAIN", ""},
      {"auth plain AGFsaWNlAHNlY3JldA==", Verb::kAuth, "PLAIN", "AGFsaWNlAHNlY3JldA=="},
      {"AUTH PLAIN =", Verb::kAuth, "PLAIN", "="},
      {"AUTH LOGIN YWxpY2U=", Verb::kAuth, "LOGIN", "YWxpY2U="},
      {"AUTH CRAM-MD5", Verb::kAuth, "CRAM-MD5", ""},
  };
  for (const auto& c : cases) {
    auto r = parse_command(c.line);
    ASSERT_TRUE(r.has_value()) << c.line << ": " << r.error().message;
    EXPECT_EQ(r->verb, c.verb) << c.line;
    EXPECT_EQ(r->arg, c.arg) << c.line;
    EXPECT_EQ(r->arg2, c.arg2) << c.line;
  }
}

struct Bad {
  std::string line;
  ParseError::Kind kind;
};

TEST(SmtpParser, RejectsInvalidCommands) {
  const std::vector<Bad> cases = {
      {"", ParseError::Kind::kUnrecognized},
      {"FOO", ParseError::Kind::kUnrecognized},
      {"MAILFROM:<a@b>", ParseError::Kind::kUnrecognized},
      {"EHLOx", ParseError::Kind::kUnrecognized},
      {" EHLO x", ParseError::Kind::kUnrecognized},
      {"GET / HTTP/1.1", ParseError::Kind::kUnrecognized},
      {"EHLO", ParseError::Kind::kSyntax},
      {"EHLO   ", ParseError::Kind::kSyntax},
      {"HELO", ParseError::Kind::kSyntax},
      {"MAIL", ParseError::Kind::kSyntax},
      {"RCPT", ParseError::Kind::kSyntax},
      {"DATA now", ParseError::Kind::kSyntax},
      {"QUIT please", ParseError::Kind::kSyntax},
      {"STARTTLS x", ParseError::Kind::kSyntax},
      {"RSET x", ParseError::Kind::kSyntax},
      {"VRFY", ParseError::Kind::kSyntax},
      {"AUTH", ParseError::Kind::kSyntax},
      {"AUTH PLAIN a b", ParseError::Kind::kSyntax},
      {"AUTH PL@IN", ParseError::Kind::kSyntax},
      {"AUTH PLAIN !!!", ParseError::Kind::kSyntax},
      {"AUTH ABCDEFGHIJKLMNOPQRSTUVWXYZ", ParseError::Kind::kSyntax},
      {std::string("EHLO a\0b", 8), ParseError::Kind::kSyntax},
      {"EHLO a\rb", ParseError::Kind::kSyntax},
  };
  for (const auto& c : cases) {
    auto r = parse_command(c.line);
    ASSERT_FALSE(r.has_value()) << c.line;
    EXPECT_EQ(r.error().kind, c.kind) << c.line;
    EXPECT_FALSE(r.error().message.empty()) << c.line;
  }
}

TEST(SmtpParser, VerbNamesRoundTrip) {
  EXPECT_EQ(to_string(Verb::kStartTls), "STARTTLS");
  EXPECT_EQ(to_string(Verb::kEhlo), "EHLO");
}

}  // namespace
}  // namespace tern::smtp::proto
