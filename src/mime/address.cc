// mime/address.cc: parameter lists (RFC 2045, 2231) and address lists (RFC 5322, 6532).
#include <algorithm>
#include <cstdint>

#include "base/strings.h"
#include "mime/charset.h"
#include "mime/header.h"

namespace tern::mime {
namespace {

constexpr std::size_t kMaxParams = 256;  // distinct parameter names kept per header

bool is_wsp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Reads a quoted string starting at s[i] == '"'; returns its content, unescaped.
std::string read_quoted(std::string_view s, std::size_t& i) {
  std::string out;
  ++i;
  while (i < s.size() && s[i] != '"') {
    if (s[i] == '\\' && i + 1 < s.size()) ++i;
    out.push_back(s[i]);
    ++i;
  }
  if (i < s.size()) ++i;  // closing quote
  return out;
}

void skip_comment(std::string_view s, std::size_t& i) {
  int depth = 0;
  while (i < s.size()) {
    if (s[i] == '\\') {
      i += 2;
      continue;
    }
    if (s[i] == '(') ++depth;
    if (s[i] == ')' && --depth == 0) {
      ++i;
      return;
    }
    ++i;
  }
}

struct Segment {
  int index;
  bool extended;
  std::string value;
};

}  // namespace

ParamValue parse_param_value(std::string_view s) {
  ParamValue pv;
  std::size_t i = 0;
  while (i < s.size() && s[i] != ';') {
    if (s[i] == '(') {
      skip_comment(s, i);
      continue;
    }
    if (!is_wsp(s[i])) pv.value.push_back(s[i]);
    ++i;
  }
  pv.value = ascii_lower(pv.value);
  std::vector<std::pair<std::string, std::vector<Segment>>> raw;  // in first-seen order
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ';' || is_wsp(s[i]))) ++i;
    std::size_t name_start = i;
    while (i < s.size() && s[i] != '=' && s[i] != ';') ++i;
    std::string name = ascii_lower(trim(s.substr(name_start, i - name_start)));
    if (i >= s.size() || s[i] != '=') continue;
    ++i;
    while (i < s.size() && is_wsp(s[i])) ++i;
    std::string value;
    bool quoted = false;
    if (i < s.size() && s[i] == '"') {
      value = read_quoted(s, i);
      quoted = true;
      while (i < s.size() && s[i] != ';') ++i;
    } else {
      std::size_t v_start = i;
      while (i < s.size() && s[i] != ';') ++i;
      value = std::string(trim(s.substr(v_start, i - v_start)));
    }
    if (name.empty()) continue;
    Segment seg{-1, false, std::move(value)};
    std::string base = name;
    if (auto star = name.find('*'); star != std::string::npos) {
      base = name.substr(0, star);
      std::string rest = name.substr(star + 1);
      if (!rest.empty() && rest.back() == '*') {
        seg.extended = true;
        rest.pop_back();
      } else if (rest.empty()) {
        seg.extended = true;
      }
      if (!rest.empty()) {
        if (rest.size() > 4 ||
            !std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; })) {
          base = name;  // not RFC 2231 syntax: keep the name as written
          seg.extended = false;
        } else {
          seg.index = std::stoi(rest);
        }
      }
    }
    if (seg.extended && quoted && seg.index <= 0) seg.extended = seg.value.find('\'') != std::string::npos;
    auto it = std::find_if(raw.begin(), raw.end(), [&](const auto& p) { return p.first == base; });
    if (it == raw.end()) {
      if (raw.size() >= kMaxParams) break;
      raw.emplace_back(base, std::vector<Segment>{});
      it = raw.end() - 1;
    }
    if (it->second.size() < 1000) it->second.push_back(std::move(seg));
  }
  for (auto& [name, segs] : raw) {
    std::stable_sort(segs.begin(), segs.end(),
                     [](const Segment& a, const Segment& b) { return a.index < b.index; });
    std::string charset;
    std::string bytes;
    bool any_extended = false;
    for (std::size_t k = 0; k < segs.size(); ++k) {
      if (k > 0 && segs[k].index == segs[k - 1].index) continue;  // duplicate: first wins
      std::string_view v = segs[k].value;
      if (segs[k].extended) {
        if (k == 0) {
          auto q1 = v.find('\'');
          auto q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
          if (q2 != std::string_view::npos) {
            charset = std::string(v.substr(0, q1));
            v = v.substr(q2 + 1);
          }
        }
        any_extended = true;
        bytes += percent_decode(v);
      } else {
        bytes += v;
      }
    }
    std::string value;
    if (any_extended)
      value = to_utf8(bytes, charset.empty() ? "us-ascii" : charset);
    else if (bytes.find("=?") != std::string::npos)
      value = decode_words(bytes);
    else
      value = to_utf8(bytes, "");
    pv.params.push_back(Param{name, std::move(value)});
  }
  return pv;
}

namespace {

struct Token {
  enum Kind { kWord, kQuoted, kSpecial } kind;
  std::string text;
};

std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < s.size() && out.size() < 100000) {
    const char c = s[i];
    if (is_wsp(c)) {
      ++i;
      continue;
    }
    if (c == '(') {
      skip_comment(s, i);
      continue;
    }
    if (c == ')') {
      ++i;
      continue;
    }  // stray comment end
    if (c == '"') {
      out.push_back({Token::kQuoted, read_quoted(s, i)});
      continue;
    }
    if (c == '[') {
      std::size_t start = i;
      while (i < s.size() && s[i] != ']') i += (s[i] == '\\' && i + 1 < s.size()) ? 2 : 1;
      if (i < s.size()) ++i;
      out.push_back({Token::kWord, std::string(s.substr(start, std::min(i, s.size()) - start))});
      continue;
    }
    if (c == '<' || c == '>' || c == '@' || c == ',' || c == ';' || c == ':' || c == '.') {
      out.push_back({Token::kSpecial, std::string(1, c)});
      ++i;
      continue;
    }
    std::size_t start = i++;  // c is none of the characters handled above
    while (i < s.size() && !is_wsp(s[i]) &&
           std::string_view("()<>@,;:.\"[").find(s[i]) == std::string_view::npos)
      ++i;
    out.push_back({Token::kWord, std::string(s.substr(start, i - start))});
  }
  return out;
}

bool is_special(const Token& t, char c) { return t.kind == Token::kSpecial && t.text[0] == c; }

std::string join_phrase(const std::vector<Token>& t, std::size_t b, std::size_t e) {
  std::string out;
  for (std::size_t k = b; k < e; ++k) {
    if (is_special(t[k], '.')) {
      out += '.';
      continue;
    }
    if (!out.empty()) out += ' ';
    out += t[k].text;
  }
  return out;
}

std::string join_tight(const std::vector<Token>& t, std::size_t b, std::size_t e) {
  std::string out;
  for (std::size_t k = b; k < e; ++k) out += t[k].text;
  return out;
}

}  // namespace

std::vector<Address> parse_address_list(std::string_view s) {
  const std::vector<Token> t = tokenize(s);
  std::vector<Address> out;
  bool in_group = false;
  std::size_t i = 0;
  auto stop = [&](std::size_t k, std::string_view set) {
    return t[k].kind == Token::kSpecial && set.find(t[k].text[0]) != std::string_view::npos;
  };
  while (i < t.size()) {
    if (is_special(t[i], ',')) {
      ++i;
      continue;
    }
    if (is_special(t[i], ';') || is_special(t[i], '>')) {
      if (in_group && is_special(t[i], ';')) {
        out.push_back({Address::Kind::kGroupEnd, {}, {}, {}, {}});
        in_group = false;
      }
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < t.size() && !stop(j, "<:@,;>")) ++j;
    if (j < t.size() && is_special(t[j], ':') && !in_group) {
      out.push_back({Address::Kind::kGroupStart, {}, {}, join_phrase(t, i, j), {}});
      in_group = true;
      i = j + 1;
      continue;
    }
    Address a;
    if (j < t.size() && is_special(t[j], '<')) {
      a.name = join_phrase(t, i, j);
      std::size_t k = j + 1;
      std::size_t close = k;
      while (close < t.size() && !is_special(t[close], '>')) ++close;
      std::size_t colon = k;
      while (colon < close && !is_special(t[colon], ':')) ++colon;
      if (colon < close && k < close && is_special(t[k], '@')) {
        a.route = join_tight(t, k, colon);
        k = colon + 1;
      }
      std::size_t at = close;
      for (std::size_t m = close; m > k; --m)
        if (is_special(t[m - 1], '@')) {
          at = m - 1;
          break;
        }
      a.mailbox = join_tight(t, k, at);
      if (at < close) a.host = join_tight(t, at + 1, close);
      i = close < t.size() ? close + 1 : close;
      while (i < t.size() && !stop(i, ",;")) ++i;  // junk after '>'
      out.push_back(std::move(a));
      continue;
    }
    if (j < t.size() && is_special(t[j], '@')) {
      a.mailbox = join_tight(t, i, j);
      std::size_t k = j + 1;
      while (k < t.size() && !stop(k, "<:,;>")) ++k;
      a.host = join_tight(t, j + 1, k);
      i = k;
      while (i < t.size() && !stop(i, ",;")) ++i;
      out.push_back(std::move(a));
      continue;
    }
    if (j > i) {
      a.mailbox = join_tight(t, i, j);
      out.push_back(std::move(a));
    }
    i = j < t.size() && is_special(t[j], ':') ? j + 1 : j;
  }
  if (in_group) out.push_back({Address::Kind::kGroupEnd, {}, {}, {}, {}});
  return out;
}

}  // namespace tern::mime
