#include "store/keywords.h"

#include <algorithm>

#include "base/strings.h"

namespace tern::store {

std::string join_keywords(const std::vector<std::string>& keywords) {
  std::string out;
  for (const auto& k : keywords) {
    if (!out.empty()) out += ' ';
    out += k;
  }
  return out;
}

std::vector<std::string> split_keywords(std::string_view stored) {
  std::vector<std::string> out;
  for (auto part : split(stored, ' ')) {
    if (!part.empty()) out.emplace_back(part);
  }
  return out;
}

bool contains_keyword(const std::vector<std::string>& list, std::string_view keyword) {
  return std::any_of(list.begin(), list.end(), [&](const std::string& x) { return iequals(x, keyword); });
}

std::vector<std::string> normalize_keywords(std::vector<std::string> keywords) {
  std::vector<std::string> out;
  for (auto& k : keywords) {
    if (k.empty() || k.find_first_of(std::string_view(" \r\n\0", 4)) != std::string::npos) continue;
    if (!contains_keyword(out, k)) out.push_back(std::move(k));
  }
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    return ascii_lower(a) < ascii_lower(b);
  });
  return out;
}

}  // namespace tern::store
