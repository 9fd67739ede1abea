#include "pop3/proto/dot_stuffer.h"

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "pop3/proto/dot_stuffer_model.h"

namespace tern::pop3::proto {
namespace {

std::string encode(std::string_view message, std::optional<uint32_t> top = std::nullopt,
                   std::size_t chunk = std::string_view::npos) {
  DotStuffer s = top ? DotStuffer::top(*top) : DotStuffer();
  std::string out;
  for (std::size_t pos = 0; pos < message.size(); pos += chunk) {
    if (!s.feed(message.substr(pos, chunk), out)) break;
  }
  s.finish(out);
  return out;
}

struct Case {
  std::string message;
  std::optional<uint32_t> top;
  std::string wire;
};

TEST(DotStuffer, EncodesTable) {
  const std::vector<Case> cases = {
      {"", {}, ".\r\n"},
      {"a\r\n", {}, "a\r\n.\r\n"},
      {"a", {}, "a\r\n.\r\n"},
      {".\r\n", {}, "..\r\n.\r\n"},
      {"Subject: x\r\n\r\n.hidden\r\n..two\r\nend.\r\n.", {},
       "Subject: x\r\n\r\n..hidden\r\n...two\r\nend.\r\n..\r\n.\r\n"},
      // A bare LF is a line end: it becomes CRLF, and a dot after it is stuffed.
      {"a\n.\nb", {}, "a\r\n..\r\nb\r\n.\r\n"},
      // A bare CR is not a line end.
      {"a\r.b\r\n", {}, "a\r.b\r\n.\r\n"},
      {"a\r", {}, "a\r\n.\r\n"},
      {"\r\n\r\n", {}, "\r\n\r\n.\r\n"},
      // TOP: header, blank line, n body lines.
      {"H: 1\r\nH: 2\r\n\r\nb1\r\n.b2\r\nb3\r\n", 0u, "H: 1\r\nH: 2\r\n\r\n.\r\n"},
      {"H: 1\r\nH: 2\r\n\r\nb1\r\n.b2\r\nb3\r\n", 2u, "H: 1\r\nH: 2\r\n\r\nb1\r\n..b2\r\n.\r\n"},
      {"H: 1\r\n\r\nb1\r\nb2", 5u, "H: 1\r\n\r\nb1\r\nb2\r\n.\r\n"},
      {"H: 1\r\nH: 2", 0u, "H: 1\r\nH: 2\r\n.\r\n"},      // no body: all header
      {"H: 1\n\nb1\nb2\n", 1u, "H: 1\r\n\r\nb1\r\n.\r\n"},  // bare LFs
      {"\r\nbody\r\n", 0u, "\r\n.\r\n"},                    // empty header
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.message);
    EXPECT_EQ(encode(c.message, c.top), c.wire);
    EXPECT_EQ(model::encode(c.message, c.top), c.wire);
    for (std::size_t chunk : {1u, 2u, 3u, 5u}) EXPECT_EQ(encode(c.message, c.top, chunk), c.wire) << chunk;
  }
}

TEST(DotStuffer, StopsAskingForInputOnceTopIsComplete) {
  DotStuffer s = DotStuffer::top(1);
  std::string out;
  EXPECT_TRUE(s.feed("H: 1\r\n\r\n", out));
  EXPECT_FALSE(s.feed("b1\r\nb2\r\n", out));
  EXPECT_FALSE(s.feed("b3\r\n", out));
  s.finish(out);
  EXPECT_EQ(out, "H: 1\r\n\r\nb1\r\n.\r\n");
}

TEST(DotStuffer, LongLinesAndManyDotsRoundTrip) {
  std::string message = "Subject: dots\r\n\r\n";
  message += std::string(100000, 'x') + "\r\n";
  for (int i = 0; i < 50; ++i) message += std::string(static_cast<std::size_t>(i % 4), '.') + "line\r\n";
  message += ".\r\n..\r\n.";
  const std::string wire = encode(message, std::nullopt, 4096);
  EXPECT_EQ(wire, model::encode(message, std::nullopt));
  auto back = model::decode(wire);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, message + "\r\n");
}

TEST(DotStufferModel, DecodeRefusesMalformedResponses) {
  EXPECT_FALSE(model::decode("a\r\n"));
  EXPECT_FALSE(model::decode("a\r\n.\r\nb\r\n.\r\n"));
  EXPECT_EQ(model::decode("..\r\n.\r\n"), std::optional<std::string>(".\r\n"));
}

}  // namespace
}  // namespace tern::pop3::proto
