#include "imap/proto/mutf7.h"

#include <cstdint>
#include <vector>

namespace tern::imap::proto {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == ',') return 63;
  return -1;
}

bool is_printable_ascii(std::uint32_t c) { return c >= 0x20 && c <= 0x7e; }

// Decodes one UTF-8 sequence at s[pos]; advances pos. Returns false (and advances one
// byte) on an invalid sequence.
bool next_code_point(std::string_view s, std::size_t& pos, std::uint32_t& cp) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char b0 = byte(pos);
  std::size_t len;
  std::uint32_t min;
  if (b0 < 0x80) {
    cp = b0;
    ++pos;
    return true;
  } else if (b0 >= 0xc2 && b0 <= 0xdf) {
    len = 2, min = 0x80, cp = b0 & 0x1f;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3, min = 0x800, cp = b0 & 0x0f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4, min = 0x10000, cp = b0 & 0x07;
  } else {
    ++pos;
    return false;
  }
  if (pos + len > s.size()) {
    ++pos;
    return false;
  }
  for (std::size_t i = 1; i < len; ++i) {
    unsigned char b = byte(pos + i);
    if ((b & 0xc0) != 0x80) {
      ++pos;
      return false;
    }
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    ++pos;
    return false;
  }
  pos += len;
  return true;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// Writes UTF-16 units as one "&...-" shift.
void flush_shift(std::string& out, std::vector<std::uint16_t>& units) {
  if (units.empty()) return;
  out.push_back('&');
  std::uint32_t bits = 0;
  int nbits = 0;
  for (std::uint16_t u : units) {
    bits = (bits << 16) | u;
    nbits += 16;
    while (nbits >= 6) {
      nbits -= 6;
      out.push_back(kAlphabet[(bits >> nbits) & 0x3f]);
    }
  }
  if (nbits > 0) out.push_back(kAlphabet[(bits << (6 - nbits)) & 0x3f]);
  out.push_back('-');
  units.clear();
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  std::size_t pos = 0;
  std::uint32_t cp;
  while (pos < s.size()) {
    if (!next_code_point(s, pos, cp)) return false;
  }
  return true;
}

std::string mutf7_encode(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size() + 8);
  std::vector<std::uint16_t> units;
  std::size_t pos = 0;
  while (pos < utf8.size()) {
    std::uint32_t cp;
    if (!next_code_point(utf8, pos, cp)) cp = 0xfffd;
    if (is_printable_ascii(cp)) {
      flush_shift(out, units);
      out.push_back(static_cast<char>(cp));
      if (cp == '&') out.push_back('-');
    } else if (cp >= 0x10000) {
      cp -= 0x10000;
      units.push_back(static_cast<std::uint16_t>(0xd800 + (cp >> 10)));
      units.push_back(static_cast<std::uint16_t>(0xdc00 + (cp & 0x3ff)));
    } else {
      units.push_back(static_cast<std::uint16_t>(cp));
    }
  }
  flush_shift(out, units);
  return out;
}

std::optional<std::string> mutf7_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  bool after_shift = false;  // the last thing read was a base64 shift
  std::size_t i = 0;
  while (i < in.size()) {
    char c = in[i];
    if (!is_printable_ascii(static_cast<unsigned char>(c))) return std::nullopt;
    if (c != '&') {
      out.push_back(c);
      after_shift = false;
      ++i;
      continue;
    }
    if (i + 1 < in.size() && in[i + 1] == '-') {
      out.push_back('&');
      after_shift = false;
      i += 2;
      continue;
    }
    // Two shifts in a row would be one in canonical form.
    if (after_shift) return std::nullopt;
    ++i;
    std::uint32_t bits = 0;
    int nbits = 0;
    std::uint32_t high = 0;  // a pending high surrogate
    bool any = false;
    for (;;) {
      if (i == in.size()) return std::nullopt;  // unterminated
      char b = in[i++];
      if (b == '-') break;
      int v = base64_value(b);
      if (v < 0) return std::nullopt;
      bits = (bits << 6) | static_cast<std::uint32_t>(v);
      nbits += 6;
      if (nbits < 16) continue;
      nbits -= 16;
      auto unit = static_cast<std::uint16_t>(bits >> nbits);
      bits &= (1u << nbits) - 1;
      any = true;
      if (high != 0) {
        if (unit < 0xdc00 || unit > 0xdfff) return std::nullopt;
        append_utf8(out, 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00));
        high = 0;
      } else if (unit >= 0xd800 && unit <= 0xdbff) {
        high = unit;
      } else if (unit >= 0xdc00 && unit <= 0xdfff) {
        return std::nullopt;
      } else if (unit == 0 || is_printable_ascii(unit)) {
        return std::nullopt;
      } else {
        append_utf8(out, unit);
      }
    }
    // Canonical padding: fewer than 6 leftover bits, all zero.
    if (!any || high != 0 || nbits >= 6 || bits != 0) return std::nullopt;
    after_shift = true;
  }
  return out;
}

}  // namespace tern::imap::proto
