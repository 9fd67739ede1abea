#include "imap/proto/datetime.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tern::imap::proto {
namespace {

TEST(ImapDate, ParsesSearchDates) {
  struct Case {
    std::string text;
    Date date;
  };
  const std::vector<Case> cases = {
      {"1-Feb-1994", {1994, 2, 1}},
      {"01-Feb-1994", {1994, 2, 1}},
      {"1-feb-1994", {1994, 2, 1}},
      {"31-DEC-1999", {1999, 12, 31}},
      {"29-Feb-2000", {2000, 2, 29}},
      {"29-Feb-2024", {2024, 2, 29}},
      {"1-Jan-0000", {0, 1, 1}},
      {"31-Dec-9999", {9999, 12, 31}},
  };
  for (const auto& c : cases) {
    auto d = parse_date(c.text);
    ASSERT_TRUE(d) << c.text;
    EXPECT_EQ(*d, c.date) << c.text;
  }
}

TEST(ImapDate, RejectsInvalidDates) {
  for (const char* text : {"", "1-Feb-94", "1-Febr-1994", "1 Feb 1994", "0-Feb-1994", "32-Jan-1994",
                           "29-Feb-1900", "30-Feb-2000", "31-Apr-2021", "001-Feb-1994", "1-Feb-19940",
                           "1-Feb-1994 ", " 1-Feb-1994", "1-Xyz-1994", "a-Feb-1994", "1-Feb-199a"}) {
    EXPECT_FALSE(parse_date(text)) << text;
  }
}

TEST(ImapDate, FormatsAndCountsDays) {
  EXPECT_EQ(format_date({1994, 2, 1}), "1-Feb-1994");
  EXPECT_EQ(format_date({2024, 12, 31}), "31-Dec-2024");
  EXPECT_EQ(days_since_epoch({1970, 1, 1}), 0);
  EXPECT_EQ(days_since_epoch({1970, 1, 2}), 1);
  EXPECT_EQ(days_since_epoch({1969, 12, 31}), -1);
  EXPECT_EQ(days_since_epoch({2000, 3, 1}), 11017);
  for (std::int64_t day = -800000; day < 3000000; day += 997) {
    EXPECT_EQ(days_since_epoch(date_from_days(day)), day);
  }
}

TEST(ImapDateTime, ParsesAppendDates) {
  struct Case {
    std::string text;
    std::int64_t unix_time;
    int zone;
  };
  const std::vector<Case> cases = {
      {"01-Feb-1994 21:49:07 +0100", 760135747, 60},
      {" 1-Feb-1994 21:49:07 +0100", 760135747, 60},
      {"1-Feb-1994 21:49:07 +0100", 760135747, 60},
      {"17-Jul-1996 02:44:25 -0700", 837596665, -420},
      {"01-Jan-1970 00:00:00 +0000", 0, 0},
      {"01-jan-1970 05:30:00 +0530", 0, 330},
      {"31-Dec-1969 23:59:59 +0000", -1, 0},
      {"30-Jun-2015 23:59:60 +0000", 1435708800, 0},  // a leap second counts as the next second
      {"01-Jan-2038 00:00:00 -9959", 2145916800 + 99 * 3600 + 59 * 60, -(99 * 60 + 59)},
  };
  for (const auto& c : cases) {
    auto dt = parse_date_time(c.text);
    ASSERT_TRUE(dt) << c.text;
    EXPECT_EQ(dt->unix_time, c.unix_time) << c.text;
    EXPECT_EQ(dt->zone_minutes, c.zone) << c.text;
  }
}

TEST(ImapDateTime, RejectsInvalidDateTimes) {
  for (const char* text : {"", "01-Feb-1994", "01-Feb-1994 21:49:07", "01-Feb-1994 21:49:07 0100",
                           "01-Feb-1994 24:00:00 +0000", "01-Feb-1994 21:60:00 +0000", "01-Feb-1994 21:49:61 +0000",
                           "01-Feb-1994 21:49:07 +0160", "01-Feb-1994 21:49:07 +01", "01-Feb-1994  21:49:07 +0100",
                           "01-Feb-1994 21:49:07 +0100 ", "01-Feb-1994 1:49:07 +0100", "  1-Feb-1994 21:49:07 +0100",
                           "30-Feb-1994 21:49:07 +0100", "01-Feb-1994 21:49:07 GMT", "01-Feb-1994T21:49:07 +0100"}) {
    EXPECT_FALSE(parse_date_time(text)) << text;
  }
}

TEST(ImapDateTime, FormatsInTheGivenZone) {
  EXPECT_EQ(format_date_time(760135747, 60), "01-Feb-1994 21:49:07 +0100");
  EXPECT_EQ(format_date_time(837596665, -420), "17-Jul-1996 02:44:25 -0700");
  EXPECT_EQ(format_date_time(0, 0), "01-Jan-1970 00:00:00 +0000");
  EXPECT_EQ(format_date_time(-1, 0), "31-Dec-1969 23:59:59 +0000");
  EXPECT_EQ(format_date_time(0, -30), "31-Dec-1969 23:30:00 -0030");
  EXPECT_EQ(format_date_time(1709251199, 0), "29-Feb-2024 23:59:59 +0000");
  // Out-of-range instants are clamped, never printed with 5-digit years.
  EXPECT_EQ(format_date_time(INT64_MAX, 0), "31-Dec-9999 23:59:59 +0000");
  EXPECT_EQ(format_date_time(INT64_MIN, 0), "01-Jan-0000 00:00:00 +0000");
  // Round trip at many instants and zones.
  for (std::int64_t t = -2000000000; t < 4000000000; t += 7777777) {
    for (int zone : {0, 60, -420, 330, 845, -(99 * 60 + 59)}) {
      auto dt = parse_date_time(format_date_time(t, zone));
      ASSERT_TRUE(dt) << t;
      EXPECT_EQ(dt->unix_time, t);
      EXPECT_EQ(dt->zone_minutes, zone);
    }
  }
}

}  // namespace
}  // namespace tern::imap::proto
