// Tests for imap/search_match.h: case folding and Date: parsing.
#include "imap/search_match.h"

#include <string>

#include <gtest/gtest.h>

namespace tern::imap {
namespace {

TEST(SearchMatch, FoldsAsciiAndUnicode) {
  EXPECT_EQ(fold_text("Hello World 123"), "hello world 123");
  EXPECT_EQ(fold_text(""), "");
  // Full case folding: sharp s is "ss", so GRÜSSE and grüße meet.
  EXPECT_EQ(fold_text("GR\xc3\x9c" "SSE"), fold_text("gr\xc3\xbc\xc3\x9f" "e"));
  EXPECT_EQ(fold_text("gr\xc3\xbc\xc3\x9f" "e"), "gr\xc3\xbcsse");
  // Greek and Cyrillic.
  EXPECT_EQ(fold_text("\xce\x94\xce\x9f\xce\x9a\xce\x99\xce\x9c\xce\x89"), fold_text("\xce\xb4\xce\xbf\xce\xba\xce\xb9\xce\xbc\xce\xae"));
  EXPECT_EQ(fold_text("\xd0\x9f\xd0\xa0\xd0\x98\xd0\x92\xd0\x95\xd0\xa2"), "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
  // Composed and decomposed accents compare equal (NFKC).
  EXPECT_EQ(fold_text("Caf\xc3\xa9"), fold_text("CAFE\xcc\x81"));
  // Compatibility forms: the "fi" ligature and full-width letters.
  EXPECT_EQ(fold_text("\xef\xac\x81le"), "file");
  EXPECT_EQ(fold_text("\xef\xbc\xa1\xef\xbc\xa2"), "ab");
  // Invalid UTF-8 becomes U+FFFD rather than breaking the text around it.
  EXPECT_EQ(fold_text("A\xff" "B\xc3\xa9"), "a\xef\xbf\xbd" "b\xc3\xa9");
}

TEST(SearchMatch, FoldsLongTextInChunksLikeAtOnce) {
  std::string s;
  while (s.size() < 600 * 1024) s += "Stra\xc3\x9f" "E CAFE\xcc\x81 \xd0\x9f\xd0\xa0\xd0\x98 ";
  const std::string folded = fold_text(s);
  std::string want;
  while (want.size() < folded.size()) want += "strasse caf\xc3\xa9 \xd0\xbf\xd1\x80\xd0\xb8 ";
  EXPECT_EQ(folded, want);
}

TEST(SearchMatch, Contains) {
  EXPECT_TRUE(folded_contains("Re: Grüße aus München", fold_text("MÜNCHEN")));
  EXPECT_TRUE(folded_contains("anything", ""));
  EXPECT_FALSE(folded_contains("Re: Grüße", fold_text("grüßen")));
}

TEST(SearchMatch, SentDates) {
  using proto::Date;
  const std::vector<std::pair<std::string, std::optional<Date>>> cases = {
      {"Mon, 1 Jan 2024 10:00:00 +0000", Date{2024, 1, 1}},
      {"Sun, 31 Dec 2023 23:30:00 -0500", Date{2023, 12, 31}},   // as written, zone ignored
      {"1 Jan 2024 10:00 +0000", Date{2024, 1, 1}},               // no day name
      {"  Tue,  02 JAN 2024 10:00:00 GMT", Date{2024, 1, 2}},
      {"Wed (midweek), 3 (the third) Jan 2024 10:00 +0100", Date{2024, 1, 3}},
      {"Thu,4 Jan 2024 10:00:00 +0000", Date{2024, 1, 4}},
      {"5 Jan 24 10:00 EST", Date{2024, 1, 5}},                   // RFC 5322 4.3 two-digit years
      {"5 Jan 99 10:00 EST", Date{1999, 1, 5}},
      {"5 Jan 124 10:00 EST", Date{2024, 1, 5}},                  // three digits: + 1900
      {"Friday, 5 January 2024 10:00", Date{2024, 1, 5}},
      {"Mon Jan  8 12:00:00 2024", Date{2024, 1, 8}},             // asctime
      {"29 Feb 2024 00:00 +0000", Date{2024, 2, 29}},
      {"29 Feb 2023 00:00 +0000", std::nullopt},
      {"32 Jan 2024", std::nullopt},
      {"2024-01-05T10:00:00Z", std::nullopt},
      {"yesterday", std::nullopt},
      {"", std::nullopt},
      {"Mon, 1 Foo 2024", std::nullopt},
  };
  for (const auto& [text, want] : cases) EXPECT_EQ(parse_sent_date(text), want) << text;
}

TEST(SearchMatch, UtcDay) {
  EXPECT_EQ(utc_day(0), 0);
  EXPECT_EQ(utc_day(86399), 0);
  EXPECT_EQ(utc_day(86400), 1);
  EXPECT_EQ(utc_day(-1), -1);
  EXPECT_EQ(utc_day(-86400), -1);
  EXPECT_EQ(utc_day(-86401), -2);
  EXPECT_EQ(utc_day(1704067200), proto::days_since_epoch(proto::Date{2024, 1, 1}));
}

}  // namespace
}  // namespace tern::imap
