// imap/search_match.h: the text and date comparisons of SEARCH (RFC 9051 6.4.4).
//
// Strings match as case-insensitive substrings of decoded UTF-8 text. Both sides are
// folded with ICU's NFKC_Casefold: Unicode full case folding ("GRÜSSE" and "grüße" both
// become "grüsse") after compatibility normalization (composed and decomposed accents,
// full-width letters and ligatures compare equal), in the spirit of RFC 5051
// i;unicode-casemap. Pure US-ASCII text takes a fast path (ASCII lower case).
//
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "imap/proto/datetime.h"

namespace tern::imap {

// The folded form of UTF-8 text (invalid sequences become U+FFFD).
std::string fold_text(std::string_view utf8);

// True when `needle` (already folded) occurs in fold_text(haystack).
bool folded_contains(std::string_view haystack, std::string_view folded_needle);

// The calendar day of an RFC 5322 Date: value as written, disregarding time and zone
// (RFC 9051 6.4.4 SENTBEFORE/SENTON/SENTSINCE). Accepts the obsolete forms of RFC 5322
// 4.3 (two- and three-digit years, comments, no day name) and the asctime form
// "Mon Jan  1 12:00:00 2024" some software writes. nullopt when no date can be read.
std::optional<proto::Date> parse_sent_date(std::string_view value);

// The UTC calendar day of a Unix time (floor division: correct before 1970 too).
std::int64_t utc_day(std::int64_t unix_time);

}  // namespace tern::imap
