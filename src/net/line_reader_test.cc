#include "net/line_reader.h"

#include <gtest/gtest.h>

namespace tern::net {
namespace {

std::vector<std::string> drain(LineBuffer& buf) {
  std::vector<std::string> out;
  std::string line;
  for (;;) {
    auto st = buf.next(line);
    if (st == LineStatus::kNeedMore) {
      return out;
    }
    out.push_back(st == LineStatus::kLine ? line : "<too long>");
  }
}

TEST(LineBuffer, SplitsCrlfAndBareLf) {
  LineBuffer buf(100);
  buf.feed("HELO a\r\nNOOP\nQUIT\r\n");
  EXPECT_EQ(drain(buf), (std::vector<std::string>{"HELO a", "NOOP", "QUIT"}));
  EXPECT_EQ(buf.buffered(), 0u);
}

TEST(LineBuffer, LineSplitAcrossFeedsWaitsForItsEnd) {
  LineBuffer buf(100);
  buf.feed("MAIL FR");
  EXPECT_TRUE(drain(buf).empty());
  buf.feed("OM:<a@b>\r");
  EXPECT_TRUE(drain(buf).empty());
  buf.feed("\nRCPT");
  EXPECT_EQ(drain(buf), (std::vector<std::string>{"MAIL FROM:<a@b>"}));
  EXPECT_EQ(buf.buffered(), 4u);
}

TEST(LineBuffer, EmptyLinesAreLines) {
  LineBuffer buf(10);
  buf.feed("\r\n\n");
  EXPECT_EQ(drain(buf), (std::vector<std::string>{"", ""}));
}

TEST(LineBuffer, LineOfExactlyTheLimitIsAccepted) {
  LineBuffer buf(5);
  buf.feed("abcde\r");  // could still be a 5-byte line
  EXPECT_TRUE(drain(buf).empty());
  buf.feed("\nabcdef\r\n");
  EXPECT_EQ(drain(buf), (std::vector<std::string>{"abcde", "<too long>"}));
}

TEST(LineBuffer, OverlongLineIsReportedOnceAndSkipped) {
  LineBuffer buf(4);
  buf.feed("ok\r\n0123456789");
  EXPECT_EQ(drain(buf), (std::vector<std::string>{"ok", "<too long>"}));
  EXPECT_LE(buf.buffered(), 5u);
  buf.feed("more bytes of the same line");
  EXPECT_TRUE(drain(buf).empty());
  EXPECT_EQ(buf.buffered(), 0u);
  buf.feed(" end\r\nnext\r\n");
  EXPECT_EQ(drain(buf), (std::vector<std::string>{"next"}));
}

TEST(LineBuffer, OverlongCompleteLineInOneChunk) {
  LineBuffer buf(3);
  buf.feed("a\r\ntoolong\r\nb\n");
  EXPECT_EQ(drain(buf), (std::vector<std::string>{"a", "<too long>", "b"}));
}

TEST(LineBuffer, TakeReturnsRawBytesThenLinesContinue) {
  LineBuffer buf(100);
  buf.feed("A1 APPEND x {5}\r\nhel");
  std::string line;
  ASSERT_EQ(buf.next(line), LineStatus::kLine);
  EXPECT_EQ(buf.take(5), "hel");
  buf.feed("lo\r\nA2 NOOP\r\n");
  EXPECT_EQ(buf.take(2), "lo");
  EXPECT_EQ(drain(buf), (std::vector<std::string>{"", "A2 NOOP"}));
}

TEST(LineBuffer, ClearForgetsPipelinedBytes) {
  LineBuffer buf(100);
  buf.feed("STARTTLS\r\nEHLO injected\r\n");
  std::string line;
  ASSERT_EQ(buf.next(line), LineStatus::kLine);
  buf.clear();
  EXPECT_EQ(buf.buffered(), 0u);
  EXPECT_EQ(buf.next(line), LineStatus::kNeedMore);
}

}  // namespace
}  // namespace tern::net
