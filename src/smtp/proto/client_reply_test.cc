#include "smtp/proto/client_reply.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tern::smtp::proto {
namespace {

using Status = ReplyParse::Status;

struct Case {
  const char* name;
  std::string in;
  Status status;
  int code = 0;
  std::vector<std::string> lines = {};
  std::size_t consumed = 0;
};

TEST(ParseReply, Table) {
  const std::vector<Case> cases = {
      {"single", "220 mx.test ESMTP\r\n", Status::kReply, 220, {"mx.test ESMTP"}, 19},
      {"multi", "250-mx.test\r\n250-SIZE 100\r\n250 DSN\r\n", Status::kReply, 250,
       {"mx.test", "SIZE 100", "DSN"}, 36},
      {"code only", "250\r\n", Status::kReply, 250, {""}, 5},
      {"bare lf", "354 go ahead\n", Status::kReply, 354, {"go ahead"}, 13},
      {"stops after the reply", "250 ok\r\n250 next\r\n", Status::kReply, 250, {"ok"}, 8},
      {"empty", "", Status::kNeedMore},
      {"partial line", "250 o", Status::kNeedMore},
      {"partial multi", "250-a\r\n250 b", Status::kNeedMore},
      {"no code", "hello\r\n", Status::kError},
      {"short code", "25\r\n", Status::kError},
      {"code 1xx", "150 x\r\n", Status::kError},
      {"code 6xx", "650 x\r\n", Status::kError},
      {"bad separator", "250_x\r\n", Status::kError},
      {"codes differ", "250-a\r\n251 b\r\n", Status::kError},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ReplyParse p = parse_reply(c.in);
    EXPECT_EQ(p.status, c.status);
    if (c.status != Status::kReply) continue;
    EXPECT_EQ(p.reply.code, c.code);
    EXPECT_EQ(p.reply.lines, c.lines);
    EXPECT_EQ(p.consumed, c.consumed);
  }
}

TEST(ParseReply, Limits) {
  ReplyLimits limits;
  limits.max_line = 10;
  limits.max_lines = 2;
  EXPECT_EQ(parse_reply("250 0123456789ab", limits).status, Status::kError);  // before its end
  EXPECT_EQ(parse_reply("250 012345\r\n", limits).status, Status::kReply);
  EXPECT_EQ(parse_reply("250-a\r\n250-b\r\n250 c\r\n", limits).status, Status::kError);
  EXPECT_EQ(parse_reply("250-a\r\n250 b\r\n", limits).status, Status::kReply);
}

TEST(ParseReply, SummaryHidesControls) {
  ServerReply r{451, {"4.7.1 try\x01 later", "bye"}};
  EXPECT_EQ(r.summary(), "451 4.7.1 try? later; bye");
  EXPECT_TRUE(r.transient());
  EXPECT_FALSE(r.positive());
}

TEST(ParseExtensions, Keywords) {
  ServerReply ehlo{250, {"mx.test greets you", "PIPELINING", "size 35882577", "8BITMIME", "SMTPUTF8", "DSN",
                         "STARTTLS", "CHUNKING", "X-UNKNOWN foo"}};
  Extensions x = parse_extensions(ehlo);
  EXPECT_TRUE(x.pipelining);
  EXPECT_TRUE(x.size);
  EXPECT_EQ(x.max_size, 35882577u);
  EXPECT_TRUE(x.eightbitmime);
  EXPECT_TRUE(x.smtputf8);
  EXPECT_TRUE(x.dsn);
  EXPECT_TRUE(x.starttls);
  EXPECT_TRUE(x.chunking);
  // The greeting line is not a keyword; SIZE without a number has no limit.
  Extensions y = parse_extensions(ServerReply{250, {"DSN", "SIZE"}});
  EXPECT_FALSE(y.dsn);
  EXPECT_TRUE(y.size);
  EXPECT_EQ(y.max_size, 0u);
}

std::string stuff(const std::vector<std::string>& pieces) {
  DotStuffer s;
  std::string out;
  for (const auto& p : pieces) s.feed(p, out);
  s.finish(out);
  return out;
}

TEST(DotStuffer, DoublesLeadingDotsAcrossPieces) {
  EXPECT_EQ(stuff({".hidden\r\nx.y\r\n.\r\n"}), "..hidden\r\nx.y\r\n..\r\n.\r\n");
  EXPECT_EQ(stuff({"a\r", "\n", ".b\r\n"}), "a\r\n..b\r\n.\r\n");
  EXPECT_EQ(stuff({"a\r\n", ".", ".b\r\n"}), "a\r\n...b\r\n.\r\n");
}

TEST(DotStuffer, EndsTheLastLine) {
  EXPECT_EQ(stuff({}), ".\r\n");
  EXPECT_EQ(stuff({"no end"}), "no end\r\n.\r\n");
  EXPECT_EQ(stuff({"half\r"}), "half\r\n.\r\n");
}

}  // namespace
}  // namespace tern::smtp::proto
