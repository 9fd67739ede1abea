// store/keywords.h: how every backend keeps IMAP keywords. Pure functions.
//
// Keywords are stored as one space-separated string (IMAP atoms hold no spaces), sorted by
// lower case and unique ignoring case, the first spelling kept.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tern::store {

std::string join_keywords(const std::vector<std::string>& keywords);
std::vector<std::string> split_keywords(std::string_view stored);
// Drops empty keywords and ones with spaces, CR, LF or NUL; dedups ignoring case; sorts.
std::vector<std::string> normalize_keywords(std::vector<std::string> keywords);
bool contains_keyword(const std::vector<std::string>& list, std::string_view keyword);

}  // namespace tern::store
