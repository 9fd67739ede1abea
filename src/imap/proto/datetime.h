// imap/proto/datetime.h: IMAP dates (RFC 9051 9 "date", for SEARCH) and date-times
// ("date-time", for APPEND and INTERNALDATE).
//
// A date is a calendar day, "1-Feb-1994" (SEARCH BEFORE/ON/SINCE compare days and ignore
// time and zone). A date-time is an instant with the zone it was written in,
// "01-Feb-1994 21:49:07 +0100". Text is given and returned without the surrounding double
// quotes (the receiver removes them, the writer adds them). Proleptic Gregorian calendar,
// years 0000-9999; month names case-insensitive.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tern::imap::proto {

struct Date {
  int year = 1970;  // 0..9999
  int month = 1;    // 1..12
  int day = 1;      // 1..days in that month
  friend bool operator==(const Date&, const Date&) = default;
};

// Days from 1970-01-01 to d (negative before).
std::int64_t days_since_epoch(const Date& d);
// The calendar day of a day number.
Date date_from_days(std::int64_t days);

// date-text = date-day "-" date-month "-" date-year: "1-Feb-1994", "01-feb-1994".
std::optional<Date> parse_date(std::string_view text);
// "1-Feb-1994".
std::string format_date(const Date& d);

struct DateTime {
  std::int64_t unix_time = 0;  // seconds since 1970-01-01T00:00:00Z
  int zone_minutes = 0;        // offset of the written local time east of UTC
  friend bool operator==(const DateTime&, const DateTime&) = default;
};

// date-time without its quotes: date-day-fixed "-" date-month "-" date-year SP time SP
// zone, e.g. "01-Feb-1994 21:49:07 +0100"; " 1-Feb-1994 ..." and "1-Feb-1994 ..." are
// accepted too. Second 60 (a leap second) is accepted and counts as the next second.
std::optional<DateTime> parse_date_time(std::string_view text);
// "01-Feb-1994 21:49:07 +0100" for the instant as seen in that zone. zone_minutes must be
// within +-(99 * 60 + 59).
std::string format_date_time(std::int64_t unix_time, int zone_minutes);
inline std::string format_date_time(const DateTime& dt) {
  return format_date_time(dt.unix_time, dt.zone_minutes);
}

}  // namespace tern::imap::proto
