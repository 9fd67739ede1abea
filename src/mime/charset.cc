// mime/charset.cc: ICU-backed charset conversion (see charset.h).
#include "mime/charset.h"

#include <unicode/ucnv.h>

#include <memory>

#include "base/strings.h"

namespace tern::mime {
namespace {

struct ConverterCloser {
  void operator()(UConverter* c) const { ucnv_close(c); }
};
using Converter = std::unique_ptr<UConverter, ConverterCloser>;

// Windows-1252 decoding of a single byte (0x80-0x9f differ from latin-1).
void append_cp1252(std::string& out, unsigned char c) {
  static constexpr char16_t kHigh[32] = {0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                         0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
                                         0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                         0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};
  char32_t cp = c;
  if (c >= 0x80 && c < 0xa0) cp = kHigh[c - 0x80];
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string fallback(std::string_view bytes) {
  if (is_valid_utf8(bytes)) return std::string(bytes);
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 2);
  for (char c : bytes) append_cp1252(out, static_cast<unsigned char>(c));
  return out;
}

bool is_ascii(std::string_view bytes) {
  for (char c : bytes)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    char32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else
      return false;
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

std::string to_utf8(std::string_view bytes, std::string_view charset_in) {
  std::string charset = ascii_lower(trim(charset_in));
  if (charset.size() >= 2 && charset.front() == '"' && charset.back() == '"')
    charset = charset.substr(1, charset.size() - 2);
  if (bytes.empty()) return {};
  if (charset.empty() || charset == "unknown-8bit" || charset == "x-unknown" || charset == "unknown" ||
      charset == "default" || charset == "x-user-defined")
    return fallback(bytes);
  if (charset == "us-ascii" || charset == "ascii" || charset == "utf-8" || charset == "utf8") {
    // Mislabelled 8-bit text is common; keep valid UTF-8, else read as windows-1252.
    if (is_ascii(bytes)) return std::string(bytes);
    return fallback(bytes);
  }
  if (charset == "iso-8859-1" || charset == "latin1" || charset == "latin-1") charset = "windows-1252";
  if (charset == "ks_c_5601-1987") charset = "windows-949";
  if (charset.find('\0') != std::string::npos) return fallback(bytes);
  UErrorCode status = U_ZERO_ERROR;
  Converter cnv(ucnv_open(charset.c_str(), &status));
  if (U_FAILURE(status) || !cnv) return fallback(bytes);
  const auto src_len = static_cast<int32_t>(std::min<std::size_t>(bytes.size(), INT32_MAX / 4));
  std::string out(static_cast<std::size_t>(src_len) * 3 + 16, '\0');
  status = U_ZERO_ERROR;
  int32_t n = ucnv_toAlgorithmic(UCNV_UTF8, cnv.get(), out.data(), static_cast<int32_t>(out.size()),
                                 bytes.data(), src_len, &status);
  if (status == U_BUFFER_OVERFLOW_ERROR) {
    out.assign(static_cast<std::size_t>(n) + 1, '\0');
    status = U_ZERO_ERROR;
    ucnv_resetToUnicode(cnv.get());
    n = ucnv_toAlgorithmic(UCNV_UTF8, cnv.get(), out.data(), static_cast<int32_t>(out.size()), bytes.data(),
                           src_len, &status);
  }
  if (U_FAILURE(status) || n < 0) return fallback(bytes);
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace tern::mime
