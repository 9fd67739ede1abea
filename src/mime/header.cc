// mime/header.cc: header fields, encoded words, parameters (see header.h).
#include "mime/header.h"

#include <algorithm>
#include <map>

#include "base/strings.h"
#include "mime/charset.h"

namespace tern::mime {
namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// RFC 2047 caps encoded words at 75 octets; real mail exceeds that, so allow more, but a
// bound keeps the scan linear on hostile input.
constexpr std::size_t kMaxEncodedWord = 1024;

std::string_view strip_eol(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Text outside encoded words: UTF-8 when valid (RFC 6532), else windows-1252.
void append_raw_text(std::string& out, std::string_view text) { out += to_utf8(text, ""); }

// One encoded word "=?charset?enc?text?=" at the start of s; false if s does not start
// with a well-formed one.
bool parse_encoded_word(std::string_view s, std::size_t& len, std::string& charset, std::string& bytes) {
  if (s.size() < 8 || s[0] != '=' || s[1] != '?') return false;
  s = s.substr(0, std::min<std::size_t>(s.size(), kMaxEncodedWord));  // keeps decoding linear
  const auto q1 = s.find('?', 2);
  if (q1 == std::string_view::npos || q1 == 2 || q1 + 3 >= s.size() || s[q1 + 2] != '?') return false;
  const char enc = s[q1 + 1];
  const auto end = s.find("?=", q1 + 3);
  if (end == std::string_view::npos) return false;
  const std::string_view text = s.substr(q1 + 3, end - q1 - 3);
  for (char c : text)
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') return false;
  charset = std::string(s.substr(2, q1 - 2));
  if (const auto star = charset.find('*'); star != std::string::npos) charset.resize(star);
  bytes.clear();
  if (enc == 'B' || enc == 'b') {
    bytes = decode_base64(text);
  } else if (enc == 'Q' || enc == 'q') {
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '_') {
        bytes.push_back(' ');
      } else if (text[i] == '=' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
                 hex_value(text[i + 2]) >= 0) {
        bytes.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
        i += 2;
      } else {
        bytes.push_back(text[i]);
      }
    }
  } else {
    return false;
  }
  len = end + 2;
  return true;
}

}  // namespace

HeaderBlock parse_header_block(std::string_view bytes, std::size_t max_fields) {
  HeaderBlock block;
  std::size_t pos = 0;
  bool have_field = false;
  bool skipping = false;  // past max_fields: continuation lines of a skipped field
  const std::size_t n = bytes.size();
  while (pos < n) {
    const auto nl = bytes.find('\n', pos);
    const std::size_t line_end = nl == std::string_view::npos ? n : nl + 1;
    const std::string_view line = bytes.substr(pos, line_end - pos);
    const std::string_view content = strip_eol(line);
    if (content.empty()) {
      block.body_offset = line_end;
      return block;
    }
    if (is_wsp(content[0])) {
      if (have_field && !skipping) {
        auto& f = block.fields.back();
        f.raw =
            std::string_view(f.raw.data(), line_end - static_cast<std::size_t>(f.raw.data() - bytes.data()));
        f.value = std::string_view(
            f.value.data(), static_cast<std::size_t>(content.data() + content.size() - f.value.data()));
      }
      pos = line_end;
      continue;
    }
    if (pos == 0 && content.substr(0, 5) == "From ") {
      pos = line_end;
      continue;
    }
    const auto colon = content.find(':');
    bool valid = colon != std::string_view::npos;
    std::string_view name;
    if (valid) {
      name = content.substr(0, colon);
      while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
      for (char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 33 || u > 126) {
          valid = false;
          break;
        }
      }
    }
    if (!valid) {
      block.body_offset = pos;
      return block;
    }
    if (block.fields.size() >= max_fields) {
      skipping = true;
    } else {
      skipping = false;
      block.fields.push_back(HeaderField{name, content.substr(colon + 1), line});
      have_field = true;
    }
    pos = line_end;
  }
  block.body_offset = n;
  return block;
}

const HeaderField* find_field(const std::vector<HeaderField>& fields, std::string_view name) {
  for (const auto& f : fields)
    if (iequals(f.name, name)) return &f;
  return nullptr;
}

std::string unfold(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value)
    if (c != '\r' && c != '\n') out.push_back(c);
  return std::string(trim(out));
}

std::string decode_words(std::string_view text) {
  std::string out;
  std::string pending_charset, pending;  // adjacent words of one charset decode together
  std::string charset, bytes;
  std::size_t i = 0;
  std::size_t plain_start = 0;
  bool last_was_word = false;
  auto flush = [&] {
    if (!pending.empty()) out += to_utf8(pending, pending_charset);
    pending.clear();
    pending_charset.clear();
  };
  while (i < text.size()) {
    std::size_t len = 0;
    if (text[i] == '=' && parse_encoded_word(text.substr(i), len, charset, bytes)) {
      std::string_view between = text.substr(plain_start, i - plain_start);
      const bool only_ws = std::all_of(between.begin(), between.end(),
                                       [](char c) { return is_wsp(c) || c == '\r' || c == '\n'; });
      if (!(last_was_word && only_ws)) {
        flush();
        append_raw_text(out, between);
      }
      if (!iequals(charset, pending_charset)) flush();
      pending_charset = charset;
      pending += bytes;
      i += len;
      plain_start = i;
      last_was_word = true;
      continue;
    }
    if (last_was_word && !is_wsp(text[i]) && text[i] != '\r' && text[i] != '\n') last_was_word = false;
    ++i;
  }
  flush();
  append_raw_text(out, text.substr(plain_start));
  return out;
}

std::string decode_base64(std::string_view in) {
  std::string out;
  out.reserve(in.size() / 4 * 3 + 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const int v = b64_value(c);
    if (v < 0) continue;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::string decode_quoted_printable(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  std::size_t pos = 0;
  while (pos < in.size()) {
    auto nl = in.find('\n', pos);
    const bool has_eol = nl != std::string_view::npos;
    std::size_t end = has_eol ? nl : in.size();
    std::size_t eol_start = end;
    if (has_eol && eol_start > pos && in[eol_start - 1] == '\r') --eol_start;
    std::size_t content_end = eol_start;
    while (content_end > pos && is_wsp(in[content_end - 1])) --content_end;  // RFC 2045 6.7 (3)
    bool soft = false;
    for (std::size_t i = pos; i < content_end; ++i) {
      if (in[i] != '=') {
        out.push_back(in[i]);
        continue;
      }
      if (i + 1 == content_end) {
        soft = true;
        break;
      }
      if (i + 2 < content_end && hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0) {
        out.push_back(static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2])));
        i += 2;
      } else {
        out.push_back('=');  // bad escape: kept as is (RFC 2045 6.7 note 1)
      }
    }
    if (!has_eol) {
      if (!soft && content_end < eol_start) out.append(in.substr(content_end, eol_start - content_end));
      break;
    }
    if (!soft) out.append(in.substr(eol_start, nl + 1 - eol_start));
    pos = nl + 1;
  }
  return out;
}

}  // namespace tern::mime
