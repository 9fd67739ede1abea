// imap/search_match.cc: folding and Date: parsing for SEARCH (see search_match.h).
#include "imap/search_match.h"

#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include <cstdint>
#include <vector>

#include "base/strings.h"

namespace tern::imap {
namespace {

// Chunks folded at a time: ICU works on int32 lengths, and a chunk bounds the UTF-16
// buffers. Chunks end before an ASCII byte, which always starts a new normalization
// segment, so folding in chunks gives the same text as folding at once.
constexpr std::size_t kChunk = 256 * 1024;

bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

void append_ascii_lower(std::string& out, std::string_view s) {
  for (char c : s) out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
}

// Folds one chunk (< 2^31 bytes) with NFKC_Casefold.
void append_folded(std::string& out, std::string_view s) {
  if (is_ascii(s)) {
    append_ascii_lower(out, s);
    return;
  }
  UErrorCode err = U_ZERO_ERROR;
  const UNormalizer2* norm = unorm2_getNFKCCasefoldInstance(&err);
  if (U_FAILURE(err)) {  // ICU data missing: ASCII folding is the best we can do
    append_ascii_lower(out, s);
    return;
  }
  std::vector<UChar> src(s.size() + 1);
  int32_t src_len = 0;
  u_strFromUTF8WithSub(src.data(), static_cast<int32_t>(src.size()), &src_len, s.data(),
                       static_cast<int32_t>(s.size()), 0xFFFD, nullptr, &err);
  if (U_FAILURE(err)) {
    append_ascii_lower(out, s);
    return;
  }
  // NFKC_Casefold expands by at most a small factor; retry once with the exact size.
  std::vector<UChar> folded(static_cast<std::size_t>(src_len) * 2 + 16);
  int32_t folded_len = unorm2_normalize(norm, src.data(), src_len, folded.data(),
                                        static_cast<int32_t>(folded.size()), &err);
  if (err == U_BUFFER_OVERFLOW_ERROR) {
    err = U_ZERO_ERROR;
    folded.resize(static_cast<std::size_t>(folded_len) + 1);
    folded_len = unorm2_normalize(norm, src.data(), src_len, folded.data(),
                                  static_cast<int32_t>(folded.size()), &err);
  }
  if (U_FAILURE(err)) {
    append_ascii_lower(out, s);
    return;
  }
  int32_t utf8_len = 0;
  u_strToUTF8(nullptr, 0, &utf8_len, folded.data(), folded_len, &err);
  if (err != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(err)) {
    append_ascii_lower(out, s);
    return;
  }
  err = U_ZERO_ERROR;
  const std::size_t at = out.size();
  out.resize(at + static_cast<std::size_t>(utf8_len));
  u_strToUTF8(out.data() + at, utf8_len, nullptr, folded.data(), folded_len, &err);
  if (U_FAILURE(err) && err != U_STRING_NOT_TERMINATED_WARNING) {
    out.resize(at);
    append_ascii_lower(out, s);
  }
}

std::optional<int> month_of(std::string_view word) {
  static constexpr std::string_view kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                 "jul", "aug", "sep", "oct", "nov", "dec"};
  if (word.size() < 3) return std::nullopt;
  for (char c : word)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.')) return std::nullopt;
  for (int i = 0; i < 12; ++i)
    if (iequals(word.substr(0, 3), kMonths[i])) return i + 1;
  return std::nullopt;
}

std::optional<int> number_of(std::string_view word, std::size_t max_digits) {
  if (word.empty() || word.size() > max_digits) return std::nullopt;
  int n = 0;
  for (char c : word) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

// RFC 5322 4.3: two-digit years 00-49 are 20xx, 50-99 are 19xx; three-digit years add 1900.
int full_year(std::string_view digits, int y) {
  if (digits.size() == 2) return y < 50 ? 2000 + y : 1900 + y;
  if (digits.size() == 3) return 1900 + y;
  return y;
}

std::optional<proto::Date> make_date(int year, int month, int day) {
  if (year < 0 || year > 9999 || month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
  proto::Date d{year, month, day};
  if (proto::date_from_days(proto::days_since_epoch(d)) != d) return std::nullopt;  // 31-Feb
  return d;
}

}  // namespace

std::string fold_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    std::size_t n = s.size();
    if (n > kChunk) {
      n = kChunk;
      while (n < s.size() && static_cast<unsigned char>(s[n]) >= 0x80) ++n;
    }
    append_folded(out, s.substr(0, n));
    s.remove_prefix(n);
  }
  return out;
}

bool folded_contains(std::string_view haystack, std::string_view folded_needle) {
  if (folded_needle.empty()) return true;
  return fold_text(haystack).find(folded_needle) != std::string::npos;
}

std::optional<proto::Date> parse_sent_date(std::string_view value) {
  // Words, with comments removed and commas as separators.
  std::vector<std::string_view> words;
  std::size_t i = 0;
  int depth = 0;
  std::size_t start = std::string_view::npos;
  auto end_word = [&](std::size_t at) {
    if (start != std::string_view::npos) words.push_back(value.substr(start, at - start));
    start = std::string_view::npos;
  };
  for (; i < value.size(); ++i) {
    const char c = value[i];
    if (depth > 0) {
      if (c == '\\') {
        ++i;
      } else if (c == '(') {
        ++depth;
      } else if (c == ')') {
        --depth;
      }
      continue;
    }
    if (c == '(') {
      end_word(i);
      depth = 1;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',') {
      end_word(i);
    } else if (start == std::string_view::npos) {
      start = i;
    }
  }
  end_word(value.size());
  if (words.empty()) return std::nullopt;
  std::size_t w = 0;
  // An optional day name ("Mon", "Monday", "Mon.").
  if (!month_of(words[0]) && !number_of(words[0], 2)) w = 1;
  if (words.size() >= w + 3) {
    // RFC 5322: day month year.
    auto day = number_of(words[w], 2);
    auto month = month_of(words[w + 1]);
    auto year = number_of(words[w + 2], 4);
    if (day && month && year && words[w + 2].size() >= 2) {
      return make_date(full_year(words[w + 2], *year), *month, *day);
    }
    // asctime: month day time year.
    if (words.size() >= w + 4) {
      month = month_of(words[w]);
      day = number_of(words[w + 1], 2);
      year = number_of(words[w + 3], 4);
      if (day && month && year && words[w + 3].size() == 4) return make_date(*year, *month, *day);
    }
  }
  return std::nullopt;
}

std::int64_t utc_day(std::int64_t t) {
  std::int64_t d = t / 86400;
  if (t % 86400 < 0) --d;
  return d;
}

}  // namespace tern::imap
