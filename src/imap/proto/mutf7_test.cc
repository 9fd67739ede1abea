#include "imap/proto/mutf7.h"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tern::imap::proto {
namespace {

struct Pair {
  std::string utf8;
  std::string mutf7;
};

TEST(Mutf7, EncodesAndDecodes) {
  const std::vector<Pair> cases = {
      {"", ""},
      {"INBOX", "INBOX"},
      {"Sent Items", "Sent Items"},
      {"&", "&-"},
      {"a&b&&", "a&-b&-&-"},
      {"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
       "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},  // RFC 3501 5.1.3
      {"Entw\xc3\xbcrfe", "Entw&APw-rfe"},
      {"\xc3\xa4\xc3\xb6\xc3\xbc", "&AOQA9gD8-"},
      {"\xc3\xa4&", "&AOQ-&-"},
      {"caf\xc3\xa9!", "caf&AOk-!"},
      {"\xf0\x9f\x93\xa7 Mail", "&2D3c5w- Mail"},  // U+1F4E7, a surrogate pair
      {"a\tb", "a&AAk-b"},                           // controls are encoded too
      {"\xe2\x82\xac", "&IKw-"},                     // U+20AC: 16 bits, 3 chars, 2 zero bits
      {"\xd0\x9f\xd1\x80\xd0\xb8", "&BB8EQAQ4-"},    // Cyrillic
  };
  for (const auto& c : cases) {
    EXPECT_EQ(mutf7_encode(c.utf8), c.mutf7) << c.utf8;
    auto decoded = mutf7_decode(c.mutf7);
    ASSERT_TRUE(decoded) << c.mutf7;
    EXPECT_EQ(*decoded, c.utf8) << c.mutf7;
  }
}

TEST(Mutf7, RejectsNonCanonicalOrInvalidText) {
  const std::vector<std::string> cases = {
      "&",              // lone &
      "a&b",            // unterminated shift
      "&AOQ",           // unterminated shift
      "&AOQ-&APw-",     // two shifts in a row (canonical: &AOQA,A-)
      "&AGE-",          // "a" must stand for itself
      "&ACA-",          // so must SP
      "&ACY-",          // and "&"
      "&AOR-",          // nonzero padding bits
      "&AOQA-",         // a leftover sextet (>= 6 spare bits)
      "&A-",            // too short for one unit
      "&2D0-",          // unpaired high surrogate
      "&3+c-",          // unpaired low surrogate
      "&2D3YPQ-",       // high surrogate followed by high surrogate
      "&AAA-",          // NUL
      "&AOQ/-",         // "/" is not modified base64
      "&AOQ=-",         // no "=" padding
      "\xc3\xa4",       // raw 8-bit
      "a\tb",           // raw control
      std::string("a\0b", 3),
  };
  for (const auto& c : cases) EXPECT_FALSE(mutf7_decode(c)) << c;
}

TEST(Mutf7, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(mutf7_encode("a\xff" "b"), "a&,,0-b");
  EXPECT_EQ(*mutf7_decode("a&,,0-b"), "a\xef\xbf\xbd" "b");
  EXPECT_EQ(mutf7_encode("\xc0\xaf"), "&,,3,,Q-");  // an overlong "/" is two bad bytes
}

TEST(Mutf7, ValidatesUtf8) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("abc \xc3\xa4 \xe2\x82\xac \xf0\x9f\x93\xa7"));
  EXPECT_FALSE(is_valid_utf8("\xc3"));
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\x80"));
}

// Every valid UTF-8 string without NUL survives encode then decode, and the encoding of a
// decoded name is the name.
TEST(Mutf7, RandomRoundTrips) {
  std::mt19937 rng(7);
  const std::vector<std::string> pieces = {"a", "&", "-", " ", "/", ".", "\x01", "\x7f", "\xc3\xa4",
                                           "\xe2\x82\xac", "\xef\xbf\xbd", "\xf0\x9f\x93\xa7", "Z", "~"};
  for (int i = 0; i < 2000; ++i) {
    std::string s;
    int n = static_cast<int>(rng() % 12);
    for (int j = 0; j < n; ++j) s += pieces[rng() % pieces.size()];
    std::string enc = mutf7_encode(s);
    auto dec = mutf7_decode(enc);
    ASSERT_TRUE(dec) << enc;
    EXPECT_EQ(*dec, s);
    EXPECT_EQ(mutf7_encode(*dec), enc);
  }
}

}  // namespace
}  // namespace tern::imap::proto
