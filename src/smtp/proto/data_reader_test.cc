#include "smtp/proto/data_reader.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "smtp/proto/data_reader_model.h"

namespace tern::smtp::proto {
namespace {

constexpr std::uint64_t kBig = 1 << 20;

DataLimits normalize(std::uint64_t max_size = kBig, std::size_t max_line = 65536) {
  return DataLimits{max_size, max_line, BareLf::kNormalize};
}

DataLimits reject(std::uint64_t max_size = kBig, std::size_t max_line = 65536) {
  return DataLimits{max_size, max_line, BareLf::kReject};
}

struct Outcome {
  bool done = false;
  std::size_t consumed = 0;
  DataError error = DataError::kNone;
  std::string message;
  bool eight_bit = false;

  friend bool operator==(const Outcome&, const Outcome&) = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << "{done=" << o.done << " consumed=" << o.consumed
            << " error=" << static_cast<int>(o.error) << " message=" << testing::PrintToString(o.message)
            << " eight_bit=" << o.eight_bit << "}";
}

// Feeds `in` cut at `cuts` (ascending offsets), the way a session does: each feed gets
// what arrived, and stops being fed once done.
Outcome run(std::string_view in, const DataLimits& limits, const std::vector<std::size_t>& cuts = {}) {
  DataReader reader(limits);
  Outcome o;
  std::size_t start = 0;
  std::vector<std::size_t> ends = cuts;
  ends.push_back(in.size());
  for (std::size_t end : ends) {
    if (reader.done()) break;
    std::string_view piece = in.substr(start, end - start);
    std::size_t used = reader.feed(piece);
    EXPECT_LE(used, piece.size());
    if (!reader.done()) {
      EXPECT_EQ(used, piece.size());
    }
    o.consumed += used;
    start = end;
  }
  o.done = reader.done();
  o.error = reader.error();
  o.message = reader.message();
  o.eight_bit = reader.eight_bit();
  return o;
}

Outcome model_of(std::string_view in, const DataLimits& limits) {
  auto m = model::decode(in, limits);
  return Outcome{m.done, m.consumed, m.error, m.message, m.eight_bit};
}

// Every single cut, every pair of cuts around the interesting bytes, and byte by byte all
// give the result of one feed.
void expect_split_invariant(const std::string& in, const DataLimits& limits) {
  Outcome whole = run(in, limits);
  for (std::size_t cut = 0; cut <= in.size(); ++cut) {
    ASSERT_EQ(run(in, limits, {cut}), whole) << testing::PrintToString(in) << " cut at " << cut;
  }
  for (std::size_t a = 0; a <= in.size(); ++a) {
    for (std::size_t b = a; b <= in.size() && b < a + 8; ++b) {
      ASSERT_EQ(run(in, limits, {a, b}), whole) << testing::PrintToString(in) << " cuts " << a << "," << b;
    }
  }
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < in.size(); ++i) every.push_back(i);
  ASSERT_EQ(run(in, limits, every), whole) << testing::PrintToString(in) << " byte by byte";
}

struct Case {
  std::string name;
  std::string in;
  DataLimits limits;
  Outcome want;
};

TEST(DataReader, Table) {
  const std::vector<Case> cases = {
      {"empty message", ".\r\n", normalize(), {true, 3, DataError::kNone, "", false}},
      {"empty message then a command", ".\r\nQUIT\r\n", normalize(),
       {true, 3, DataError::kNone, "", false}},
      {"one empty line", "\r\n.\r\n", normalize(), {true, 5, DataError::kNone, "\r\n", false}},
      {"one line", "Hello\r\n.\r\n", normalize(), {true, 10, DataError::kNone, "Hello\r\n", false}},
      {"pipelined bytes are left", "Hello\r\n.\r\nMAIL FROM:<a@b>\r\n", normalize(),
       {true, 10, DataError::kNone, "Hello\r\n", false}},
      {"not finished", "Hello\r\nworld", normalize(),
       {false, 12, DataError::kNone, "Hello\r\nworld", false}},
      {"not finished after the dot", "Hello\r\n.", normalize(),
       {false, 8, DataError::kNone, "Hello\r\n", false}},
      {"not finished after dot CR", "Hello\r\n.\r", normalize(),
       {false, 9, DataError::kNone, "Hello\r\n", false}},
      {"stuffed dot", "..foo\r\n.\r\n", normalize(), {true, 10, DataError::kNone, ".foo\r\n", false}},
      {"stuffed lone dot", "a\r\n..\r\n.\r\n", normalize(),
       {true, 10, DataError::kNone, "a\r\n.\r\n", false}},
      {"leading dot removed", "a\r\n.b\r\n.\r\n", normalize(),
       {true, 10, DataError::kNone, "a\r\nb\r\n", false}},
      {"dot inside a line kept", "a.b\r\n.\r\n", normalize(),
       {true, 8, DataError::kNone, "a.b\r\n", false}},
      {"three dots", "...\r\n.\r\n", normalize(), {true, 8, DataError::kNone, "..\r\n", false}},
      {"dot then space is not the end", "a\r\n. \r\n.\r\n", normalize(),
       {true, 10, DataError::kNone, "a\r\n \r\n", false}},
      {"8-bit", "caf\xc3\xa9\r\n.\r\n", normalize(),
       {true, 10, DataError::kNone, "caf\xc3\xa9\r\n", true}},
      {"8-bit after the end is not ours", "a\r\n.\r\n\xff", normalize(),
       {true, 6, DataError::kNone, "a\r\n", false}},
      // Bare LF.
      {"bare LF normalised", "a\nb\r\n.\r\n", normalize(),
       {true, 8, DataError::kNone, "a\r\nb\r\n", false}},
      {"bare LF rejected", "a\nb\r\n.\r\n", reject(), {true, 8, DataError::kBareLf, "", false}},
      {"bare LF unstuffs the next line", "a\n..b\r\n.\r\n", normalize(),
       {true, 10, DataError::kNone, "a\r\n.b\r\n", false}},
      {"bare LF only lines", "a\nb\n", normalize(), {false, 4, DataError::kNone, "a\r\nb\r\n", false}},
      // The smuggling sequences never end the data.
      {"LF . LF", "a\n.\nb\r\n.\r\n", normalize(),
       {true, 10, DataError::kNone, "a\r\n\r\nb\r\n", false}},
      {"LF . LF rejected", "a\n.\nb\r\n.\r\n", reject(), {true, 10, DataError::kBareLf, "", false}},
      {"LF . CRLF", "a\n.\r\nb\r\n.\r\n", normalize(),
       {true, 11, DataError::kNone, "a\r\n\r\nb\r\n", false}},
      {"CRLF . LF", "a\r\n.\nb\r\n.\r\n", normalize(),
       {true, 11, DataError::kNone, "a\r\n\r\nb\r\n", false}},
      {"CR . CR", "a\r.\rb\r\n.\r\n", normalize(), {true, 10, DataError::kBareCr, "", false}},
      {"CRLF . CR", "a\r\n.\rb\r\n.\r\n", normalize(), {true, 11, DataError::kBareCr, "", false}},
      {"CR . CRLF", "a\r.\r\nb\r\n.\r\n", normalize(), {true, 11, DataError::kBareCr, "", false}},
      {"LF . CR", "a\n.\rb\r\n.\r\n", normalize(), {true, 10, DataError::kBareCr, "", false}},
      {"start . LF", ".\nb\r\n.\r\n", normalize(), {true, 8, DataError::kNone, "\r\nb\r\n", false}},
      {"start LF . CRLF", "\n.\r\n", normalize(), {false, 4, DataError::kNone, "\r\n\r\n", false}},
      {"start CR . CRLF", "\r.\r\n", normalize(), {false, 4, DataError::kBareCr, "", false}},
      // Bare CR and NUL.
      {"bare CR", "a\rb\r\n.\r\n", normalize(), {true, 8, DataError::kBareCr, "", false}},
      {"CR CR LF", "a\r\r\n.\r\n", normalize(), {true, 7, DataError::kBareCr, "", false}},
      {"bare CR then the end at once", "a\r\r\n.\r\nX", reject(),
       {true, 7, DataError::kBareCr, "", false}},
      {"NUL", std::string("a\0b\r\n.\r\n", 8), normalize(), {true, 8, DataError::kNul, "", false}},
      {"first error wins", std::string("a\0\rb\nc\r\n.\r\n", 11), reject(), {true, 11, DataError::kNul, "", false}},
      // Size.
      {"exactly max size", "123\r\n.\r\n", normalize(5), {true, 8, DataError::kNone, "123\r\n", false}},
      {"one over max size", "1234\r\n.\r\nNEXT", normalize(5), {true, 9, DataError::kTooBig, "", false}},
      {"too big, long", std::string(1000, 'x') + "\r\n" + std::string(1000, 'y') + "\r\n.\r\nQUIT\r\n",
       normalize(100), {true, 2007, DataError::kTooBig, "", false}},
      {"zero max size, empty message", ".\r\n", normalize(0), {true, 3, DataError::kNone, "", false}},
      {"zero max size", "\r\n.\r\n", normalize(0), {true, 5, DataError::kTooBig, "", false}},
      {"stuffing dots do not count", "..\r\n.\r\n", normalize(3), {true, 7, DataError::kNone, ".\r\n", false}},
      // Line length.
      {"line at max", "1234\r\n.\r\n", normalize(kBig, 4), {true, 9, DataError::kNone, "1234\r\n", false}},
      {"line over max", "12345\r\n.\r\n", normalize(kBig, 4), {true, 10, DataError::kLineTooLong, "", false}},
      {"stuffing dot not counted", "..234\r\n.\r\n", normalize(kBig, 4),
       {true, 10, DataError::kNone, ".234\r\n", false}},
      {"line and size cross together", "12345\r\n.\r\n", normalize(4, 4),
       {true, 10, DataError::kTooBig, "", false}},
      {"line crosses first", "12345\r\n.\r\n", normalize(6, 3),
       {true, 10, DataError::kLineTooLong, "", false}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Outcome got = run(c.in, c.limits);
    EXPECT_EQ(got, c.want);
    EXPECT_EQ(model_of(c.in, c.limits), c.want) << "the model disagrees";
    expect_split_invariant(c.in, c.limits);
  }
}

TEST(DataReader, SmugglingSequencesAtEveryOffset) {
  // None of these ends the data; only the real CR LF . CR LF afterwards does, and the
  // command pipelined behind it is left unconsumed.
  const std::vector<std::string> sequences = {
      "\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n", "\r\n.\r", "\r.\n", "\r.\r\n",
      "\n.\r", ".\n", ".\r", "\r\n.\r\r\n", "\r\n.\n\r\n", "\r\n. \r\n",
      std::string("\r\n.\0\r\n", 6),
  };
  const std::string tail = "\r\nMAIL FROM:<x@y>\r\n";
  for (const std::string& seq : sequences) {
    for (BareLf policy : {BareLf::kNormalize, BareLf::kReject}) {
      DataLimits limits{kBig, 65536, policy};
      std::string in = "Subject: x\r\n\r\nbody" + seq + "more\r\n.\r\n";
      std::size_t end = in.size();
      in += tail.substr(2);
      SCOPED_TRACE(testing::PrintToString(seq));
      Outcome whole = run(in, limits);
      EXPECT_TRUE(whole.done);
      EXPECT_EQ(whole.consumed, end);
      EXPECT_EQ(whole, model_of(in, limits));
      if (whole.error == DataError::kNone) {
        EXPECT_NE(whole.message.find("more\r\n"), std::string::npos);
      }
      expect_split_invariant(in, limits);
      // Without the real end, the data is not over.
      std::string open = "Subject: x\r\n\r\nbody" + seq + "more";
      Outcome partial = run(open, limits);
      EXPECT_FALSE(partial.done);
      EXPECT_EQ(partial.consumed, open.size());
      expect_split_invariant(open, limits);
    }
  }
}

TEST(DataReader, FeedAfterDoneTakesNothing) {
  DataReader r(normalize());
  EXPECT_EQ(r.feed("a\r\n.\r\nRSET\r\n"), 6u);
  EXPECT_TRUE(r.done());
  EXPECT_EQ(r.feed("more"), 0u);
  EXPECT_EQ(r.feed(""), 0u);
  EXPECT_EQ(r.message(), "a\r\n");
  EXPECT_EQ(r.size(), 3u);
}

TEST(DataReader, EmptyFeedsChangeNothing) {
  DataReader r(normalize());
  EXPECT_EQ(r.feed(""), 0u);
  EXPECT_EQ(r.feed("a\r"), 2u);
  EXPECT_EQ(r.feed(""), 0u);
  EXPECT_EQ(r.feed("\n."), 2u);
  EXPECT_EQ(r.feed(""), 0u);
  EXPECT_EQ(r.feed("\r"), 1u);
  EXPECT_FALSE(r.done());
  EXPECT_EQ(r.feed("\nX"), 1u);
  EXPECT_TRUE(r.done());
  EXPECT_EQ(r.message(), "a\r\n");
}

TEST(DataReader, TooBigKeepsConsumingWithBoundedMemory) {
  DataReader r(normalize(1000));
  std::string line(998, 'x');
  line += "\r\n";
  std::size_t consumed = 0;
  for (int i = 0; i < 1000; ++i) {
    consumed += r.feed(line);
    EXPECT_LE(r.message().capacity(), 1000u);
  }
  EXPECT_EQ(consumed, 1000u * 1000u);
  EXPECT_FALSE(r.done());
  EXPECT_EQ(r.error(), DataError::kTooBig);
  EXPECT_EQ(r.feed(".\r\nQUIT\r\n"), 3u);
  EXPECT_TRUE(r.done());
  EXPECT_EQ(r.message(), "");
}

TEST(DataReader, CapacityNeverPassesMaxSize) {
  for (std::uint64_t max : {0u, 1u, 31u, 100u, 1000u, 4097u, 65536u}) {
    DataReader r(normalize(max));
    std::string chunk(37, 'z');
    chunk += "\r\n";
    while (r.error() == DataError::kNone) {
      r.feed(chunk);
      EXPECT_LE(r.message().capacity(), std::max<std::uint64_t>(max, 30)) << max;
    }
  }
}

TEST(DataReader, TakeStreamsTheMessage) {
  DataReader r(normalize(20));
  r.feed("0123456789\r\n");
  std::string first = r.take();
  EXPECT_EQ(first, "0123456789\r\n");
  EXPECT_EQ(r.message(), "");
  r.feed("abcdef\r\n");  // 20 in all
  EXPECT_EQ(r.take(), "abcdef\r\n");
  EXPECT_EQ(r.error(), DataError::kNone);
  r.feed("g");  // 21: over, although only one byte is held
  EXPECT_EQ(r.error(), DataError::kTooBig);
}

TEST(DataReader, MatchesTheModelOnRandomInput) {
  std::mt19937 rng(12345);
  const std::string alphabet = std::string("ab.\r\n\r\n.\r\n\0\x80", 12);
  for (int iteration = 0; iteration < 3000; ++iteration) {
    std::size_t len = rng() % 40;
    std::string in;
    for (std::size_t i = 0; i < len; ++i) in.push_back(alphabet[rng() % alphabet.size()]);
    if (rng() % 2) in += "\r\n.\r\n";
    DataLimits limits{rng() % 4 == 0 ? rng() % 30 : kBig, rng() % 4 == 0 ? rng() % 8 : 65536,
                      rng() % 2 ? BareLf::kNormalize : BareLf::kReject};
    std::vector<std::size_t> cuts;
    for (std::size_t i = 0; i <= in.size(); ++i) {
      if (rng() % 4 == 0) cuts.push_back(i);
    }
    Outcome want = model_of(in, limits);
    ASSERT_EQ(run(in, limits), want) << testing::PrintToString(in);
    ASSERT_EQ(run(in, limits, cuts), want) << testing::PrintToString(in);
  }
}

TEST(DataReader, LargeMessageInOddChunks) {
  std::string body;
  std::string want;
  for (int i = 0; i < 5000; ++i) {
    std::string line = (i % 7 == 0 ? "." : "") + std::string(static_cast<std::size_t>(i % 90), 'a' + i % 26);
    body += (i % 7 == 0 ? "." : "") + line + "\r\n";
    want += line + "\r\n";
  }
  body += ".\r\n";
  DataReader r(normalize());
  std::size_t at = 0;
  std::size_t step = 1;
  while (at < body.size() && !r.done()) {
    std::size_t n = std::min(step, body.size() - at);
    at += r.feed(std::string_view(body).substr(at, n));
    step = step * 7 % 4093 + 1;
  }
  EXPECT_TRUE(r.done());
  EXPECT_EQ(at, body.size());
  EXPECT_EQ(r.error(), DataError::kNone);
  EXPECT_EQ(r.message(), want);
  EXPECT_EQ(r.size(), want.size());
}

TEST(DataReader, ErrorReplies) {
  EXPECT_EQ(error_reply(DataError::kTooBig).line(),
            "552 5.3.4 Message size exceeds fixed maximum message size");
  EXPECT_EQ(error_reply(DataError::kBareCr).code, 550);
  EXPECT_EQ(error_reply(DataError::kBareCr).enhanced, "5.6.0");
  EXPECT_EQ(error_reply(DataError::kBareLf).code, 550);
  EXPECT_EQ(error_reply(DataError::kBareLf).enhanced, "5.6.0");
  EXPECT_EQ(error_reply(DataError::kNul).code, 550);
  EXPECT_EQ(error_reply(DataError::kNul).enhanced, "5.6.0");
  EXPECT_EQ(error_reply(DataError::kLineTooLong).code, 552);
  EXPECT_EQ(error_reply(DataError::kLineTooLong).enhanced, "5.6.0");
  EXPECT_EQ(error_reply(DataError::kNone).code, 250);
  for (auto e : {DataError::kTooBig, DataError::kBareCr, DataError::kBareLf, DataError::kNul,
                 DataError::kLineTooLong}) {
    std::string line = error_reply(e).line();
    EXPECT_EQ(line.find_first_of("\r\n"), std::string::npos);
  }
}

// BDAT chunks.

struct ChunkOutcome {
  DataError error;
  std::string message;
  bool eight_bit;
  friend bool operator==(const ChunkOutcome&, const ChunkOutcome&) = default;
};

ChunkOutcome chunks(const std::vector<std::string>& parts, const DataLimits& limits) {
  ChunkFilter f(limits);
  for (const auto& p : parts) f.feed(p);
  f.finish();
  return {f.error(), f.message(), f.eight_bit()};
}

TEST(ChunkFilter, Table) {
  struct ChunkCase {
    std::string name;
    std::string in;
    DataLimits limits;
    ChunkOutcome want;
  };
  const std::vector<ChunkCase> cases = {
      {"empty", "", normalize(), {DataError::kNone, "", false}},
      {"plain", "a\r\nb\r\n", normalize(), {DataError::kNone, "a\r\nb\r\n", false}},
      {"no dot unstuffing, no end", "..a\r\n.\r\nb\r\n", normalize(),
       {DataError::kNone, "..a\r\n.\r\nb\r\n", false}},
      {"last line without CRLF", "a\r\nb", normalize(), {DataError::kNone, "a\r\nb", false}},
      {"bare LF normalised", "a\nb\n", normalize(), {DataError::kNone, "a\r\nb\r\n", false}},
      {"bare LF rejected", "a\nb\n", reject(), {DataError::kBareLf, "", false}},
      {"bare CR", "a\rb", normalize(), {DataError::kBareCr, "", false}},
      {"trailing CR", "a\r\nb\r", normalize(), {DataError::kBareCr, "", false}},
      {"NUL", std::string("a\0", 2), normalize(), {DataError::kNul, "", false}},
      {"8-bit", "\xc3\xa9\r\n", normalize(), {DataError::kNone, "\xc3\xa9\r\n", true}},
      {"max size", "abc\r\n", normalize(5), {DataError::kNone, "abc\r\n", false}},
      {"over max size", "abcd\r\n", normalize(5), {DataError::kTooBig, "", false}},
      {"bare LF grows the size", "abc\n", normalize(4), {DataError::kTooBig, "", false}},
      {"line too long", "abcde\r\n", normalize(kBig, 4), {DataError::kLineTooLong, "", false}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ChunkOutcome whole = chunks({c.in}, c.limits);
    EXPECT_EQ(whole, c.want);
    for (std::size_t cut = 0; cut <= c.in.size(); ++cut) {
      EXPECT_EQ(chunks({c.in.substr(0, cut), c.in.substr(cut)}, c.limits), whole) << cut;
    }
    std::vector<std::string> bytes;
    for (char ch : c.in) bytes.emplace_back(1, ch);
    EXPECT_EQ(chunks(bytes, c.limits), whole);
  }
}

TEST(ChunkFilter, CrLfAcrossChunks) {
  ChunkFilter f(normalize());
  f.feed("line one\r");
  EXPECT_EQ(f.error(), DataError::kNone);
  f.feed("\nline two\r");
  f.feed("\n");
  f.finish();
  EXPECT_EQ(f.error(), DataError::kNone);
  EXPECT_EQ(f.message(), "line one\r\nline two\r\n");
  EXPECT_EQ(f.take(), "line one\r\nline two\r\n");
  EXPECT_EQ(f.message(), "");
}

}  // namespace
}  // namespace tern::smtp::proto
