#include "imap/proto/datetime.h"

#include <algorithm>
#include <array>
#include <cstdio>

namespace tern::imap::proto {
namespace {

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// A cursor over the text; every read fails softly past the end.
struct Cursor {
  std::string_view s;
  std::size_t pos = 0;

  bool done() const { return pos == s.size(); }
  bool eat(char c) {
    if (pos < s.size() && s[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  bool digit_at(std::size_t i) const { return i < s.size() && s[i] >= '0' && s[i] <= '9'; }
  // Exactly n digits.
  bool digits(std::size_t n, int& out) {
    out = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (!digit_at(pos)) return false;
      out = out * 10 + (s[pos++] - '0');
    }
    return true;
  }
  // 1 or 2 digits.
  bool day(int& out) {
    if (!digit_at(pos)) return false;
    return digits(digit_at(pos + 1) ? 2 : 1, out);
  }
  bool month(int& out) {
    if (pos + 3 > s.size()) return false;
    for (std::size_t m = 0; m < kMonths.size(); ++m) {
      const auto name = kMonths[m];
      if (lower(s[pos]) == lower(name[0]) && lower(s[pos + 1]) == lower(name[1]) &&
          lower(s[pos + 2]) == lower(name[2])) {
        out = static_cast<int>(m) + 1;
        pos += 3;
        return true;
      }
    }
    return false;
  }
};

// date-day "-" date-month "-" date-year
bool read_date(Cursor& c, Date& d) {
  return c.day(d.day) && c.eat('-') && c.month(d.month) && c.eat('-') && c.digits(4, d.year) &&
         d.day >= 1 && d.day <= days_in_month(d.year, d.month);
}

constexpr std::int64_t kMinTime = -62167219200;  // 0000-01-01T00:00:00Z
constexpr std::int64_t kMaxTime = 253402300799;  // 9999-12-31T23:59:59Z

}  // namespace

std::int64_t days_since_epoch(const Date& d) {
  // H. Hinnant's days_from_civil.
  std::int64_t y = d.year - (d.month <= 2 ? 1 : 0);
  std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  std::int64_t yoe = y - era * 400;
  std::int64_t m = d.month;
  std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d.day - 1;
  std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Date date_from_days(std::int64_t z) {
  z += 719468;
  std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  std::int64_t doe = z - era * 146097;
  std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  std::int64_t mp = (5 * doy + 2) / 153;
  Date d;
  d.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  d.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  d.year = static_cast<int>(yoe + era * 400 + (d.month <= 2 ? 1 : 0));
  return d;
}

std::optional<Date> parse_date(std::string_view text) {
  Cursor c{text};
  Date d;
  if (!read_date(c, d) || !c.done()) return std::nullopt;
  return d;
}

std::string format_date(const Date& d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%d-%s-%04d", d.day, kMonths[static_cast<std::size_t>(d.month - 1)].data(),
                d.year);
  return buf;
}

std::optional<DateTime> parse_date_time(std::string_view text) {
  Cursor c{text};
  c.eat(' ');  // date-day-fixed = (SP DIGIT) / 2DIGIT
  Date d;
  int hh, mm, ss, zh, zm;
  if (!read_date(c, d) || !c.eat(' ') || !c.digits(2, hh) || !c.eat(':') || !c.digits(2, mm) ||
      !c.eat(':') || !c.digits(2, ss) || !c.eat(' ')) {
    return std::nullopt;
  }
  int sign = c.eat('+') ? 1 : c.eat('-') ? -1 : 0;
  if (sign == 0 || !c.digits(2, zh) || !c.digits(2, zm) || !c.done()) return std::nullopt;
  if (hh > 23 || mm > 59 || ss > 60 || zm > 59) return std::nullopt;
  DateTime dt;
  dt.zone_minutes = sign * (zh * 60 + zm);
  dt.unix_time = days_since_epoch(d) * 86400 + hh * 3600 + mm * 60 + ss - dt.zone_minutes * 60;
  return dt;
}

std::string format_date_time(std::int64_t unix_time, int zone_minutes) {
  zone_minutes = std::clamp(zone_minutes, -(99 * 60 + 59), 99 * 60 + 59);
  std::int64_t local = std::clamp(unix_time, kMinTime, kMaxTime) + std::int64_t{zone_minutes} * 60;
  local = std::clamp(local, kMinTime, kMaxTime);
  std::int64_t days = (local >= 0 ? local : local - 86399) / 86400;
  std::int64_t secs = local - days * 86400;
  Date d = date_from_days(days);
  int zone = zone_minutes < 0 ? -zone_minutes : zone_minutes;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02d-%s-%04d %02d:%02d:%02d %c%02d%02d", d.day,
                kMonths[static_cast<std::size_t>(d.month - 1)].data(), d.year, static_cast<int>(secs / 3600),
                static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60), zone_minutes < 0 ? '-' : '+',
                zone / 60, zone % 60);
  return buf;
}

}  // namespace tern::imap::proto
