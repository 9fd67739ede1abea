#include "smtp/proto/path.h"

#include <arpa/inet.h>

#include <cstring>

#include "base/strings.h"

namespace tern::smtp::proto {
namespace {

constexpr std::size_t kMaxLocal = 64;    // RFC 5321 4.5.3.1.1
constexpr std::size_t kMaxDomain = 255;  // RFC 5321 4.5.3.1.2
constexpr std::size_t kMaxPath = 256;    // RFC 5321 4.5.3.1.3
constexpr std::size_t kMaxLabel = 63;    // RFC 1035 2.3.4

bool is_alpha_digit(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 5322 3.2.3 atext, plus UTF8-non-ascii (RFC 6531 3.3; well-formedness checked later).
bool is_atext(unsigned char c) {
  if (is_alpha_digit(c) || c >= 0x80) return true;
  return std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr && c != 0;
}

// RFC 5321 4.1.2 qtextSMTP, plus UTF8-non-ascii (RFC 6531 3.3).
bool is_qtext(unsigned char c) {
  return (c >= 32 && c <= 126 && c != '"' && c != '\\') || c >= 0x80;
}

bool is_domain_char(unsigned char c) { return is_alpha_digit(c) || c == '-' || c == '.' || c >= 0x80; }

// RFC 5321 4.1.2 Dot-string: atoms separated by single dots.
bool is_dot_string(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '.') {
      if (s[i + 1] == '.') return false;  // safe: s.back() is not '.'
    } else if (!is_atext(c)) {
      return false;
    }
  }
  return true;
}

// RFC 5321 4.1.3 Snum "." Snum "." Snum "." Snum, each 1-3 digits up to 255.
bool is_ipv4(std::string_view s) {
  int parts = 0;
  std::size_t i = 0;
  while (true) {
    std::size_t start = i;
    unsigned value = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 3) {
      value = value * 10 + static_cast<unsigned>(s[i] - '0');
      ++i;
    }
    if (i == start || value > 255) return false;
    ++parts;
    if (i == s.size()) return parts == 4;
    if (s[i] != '.' || parts == 4) return false;
    ++i;
  }
}

bool is_ipv6(std::string_view s) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (s.empty() || s.size() >= sizeof buf) return false;
  for (char c : s) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
              c == ':' || c == '.';
    if (!ok) return false;
  }
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  in6_addr addr;
  return inet_pton(AF_INET6, buf, &addr) == 1;
}

// Scans a quoted string starting at in[i] == '"'. Returns the index after the closing
// quote, or npos. Appends the dequoted text to `out`.
std::size_t scan_quoted(std::string_view in, std::size_t i, std::string& out) {
  for (++i; i < in.size(); ++i) {
    auto c = static_cast<unsigned char>(in[i]);
    if (c == '"') return i + 1;
    if (c == '\\') {
      // RFC 5321 4.1.2 quoted-pairSMTP = %d92 %d32-126
      if (i + 1 == in.size()) return std::string_view::npos;
      auto next = static_cast<unsigned char>(in[i + 1]);
      if (next < 32 || next > 126) return std::string_view::npos;
      out.push_back(static_cast<char>(next));
      ++i;
    } else if (is_qtext(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      return std::string_view::npos;
    }
  }
  return std::string_view::npos;
}

}  // namespace

std::string Path::address() const {
  if (null) return {};
  if (domain.empty()) return local_raw;
  std::string out;
  out.reserve(local_raw.size() + 1 + domain.size());
  out.append(local_raw).append(1, '@').append(domain);
  return out;
}

bool is_valid_domain(std::string_view domain) {
  if (domain.empty() || domain.size() > kMaxDomain) return false;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = domain.find('.', start);
    std::string_view label =
        domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    // RFC 5321 4.1.2 sub-domain = Let-dig [Ldh-str]; RFC 6531 3.3 adds U-labels.
    if (label.empty() || label.front() == '-' || label.back() == '-') return false;
    bool ascii = true;
    for (char ch : label) {
      auto c = static_cast<unsigned char>(ch);
      if (c >= 0x80) {
        ascii = false;
      } else if (!is_alpha_digit(c) && c != '-') {
        return false;
      }
    }
    // An A-label's length cannot be told from its U-label without IDNA; only ASCII labels
    // are held to the DNS limit here.
    if (ascii && label.size() > kMaxLabel) return false;
    if (!ascii && !is_valid_utf8(label)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool is_valid_address_literal(std::string_view literal) {
  if (literal.size() < 2 || literal.front() != '[' || literal.back() != ']') return false;
  std::string_view inner = literal.substr(1, literal.size() - 2);
  // RFC 5321 4.1.3: "IPv6:" is the only registered Standardized-tag; other general
  // address literals are refused since nothing could route them.
  if (istarts_with(inner, "IPv6:")) return is_ipv6(inner.substr(5));
  return is_ipv4(inner);
}

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte (RFC 3629 4)
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (n - i < len) return false;
    auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c1 < lo || c1 > hi) return false;
    for (std::size_t k = 2; k < len; ++k) {
      auto ck = static_cast<unsigned char>(s[i + k]);
      if (ck < 0x80 || ck > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

tl::expected<ParsedPath, PathError> parse_path(std::string_view in, const PathSyntax& syntax) {
  const auto fail = [](PathError e) { return tl::unexpected<PathError>(e); };
  const bool bracketed = !in.empty() && in.front() == '<';
  if (!bracketed && !syntax.allow_unbracketed) return fail(PathError::kSyntax);
  const std::size_t n = in.size();
  // True when in[j] ends the path: '>' inside brackets, SP or the end without them.
  const auto at_end = [&](std::size_t j) {
    return bracketed ? (j < n && in[j] == '>') : (j == n || in[j] == ' ');
  };

  ParsedPath out;
  std::size_t i = bracketed ? 1 : 0;
  if (at_end(i)) {
    if (!bracketed || !syntax.allow_null) return fail(PathError::kSyntax);
    out.path.null = true;
    out.consumed = 2;
    return out;
  }

  // RFC 5321 4.1.2 A-d-l: "@" Domain *( "," "@" Domain ) ":", obsolete; checked, dropped.
  bool routed = false;
  if (bracketed && i < n && in[i] == '@') {
    routed = true;
    while (true) {
      if (i >= n || in[i] != '@') return fail(PathError::kSyntax);
      std::size_t start = ++i;
      while (i < n && is_domain_char(static_cast<unsigned char>(in[i]))) ++i;
      if (!is_valid_domain(in.substr(start, i - start))) return fail(PathError::kSyntax);
      if (i < n && in[i] == ',') {
        ++i;
      } else if (i < n && in[i] == ':') {
        ++i;
        break;
      } else {
        return fail(PathError::kSyntax);
      }
    }
  }

  // Local-part = Dot-string / Quoted-string
  std::size_t local_start = i;
  if (i < n && in[i] == '"') {
    i = scan_quoted(in, i, out.path.local);
    if (i == std::string_view::npos) return fail(PathError::kSyntax);
    out.path.local_raw = std::string(in.substr(local_start, i - local_start));
  } else {
    while (i < n && (is_atext(static_cast<unsigned char>(in[i])) || in[i] == '.')) ++i;
    std::string_view local = in.substr(local_start, i - local_start);
    if (!is_dot_string(local)) return fail(PathError::kSyntax);
    out.path.local_raw = std::string(local);
    out.path.local = out.path.local_raw;
  }

  if (at_end(i)) {
    // RFC 5321 4.1.1.3: "<Postmaster>" needs no domain.
    if (!bracketed || routed || !syntax.allow_postmaster ||
        !iequals(out.path.local_raw, "postmaster")) {
      return fail(PathError::kSyntax);
    }
  } else {
    if (i >= n || in[i] != '@') return fail(PathError::kSyntax);
    std::size_t domain_start = ++i;
    if (i < n && in[i] == '[') {
      // RFC 5321 4.1.3 dcontent is %d33-90 / %d94-126: no brackets or backslash inside.
      std::size_t close = in.find(']', i);
      if (close == std::string_view::npos) return fail(PathError::kSyntax);
      i = close + 1;
      if (!is_valid_address_literal(in.substr(domain_start, i - domain_start))) {
        return fail(PathError::kSyntax);
      }
    } else {
      while (i < n && is_domain_char(static_cast<unsigned char>(in[i]))) ++i;
      std::string_view domain = in.substr(domain_start, i - domain_start);
      if (domain.size() > kMaxDomain) return fail(PathError::kDomainTooLong);
      if (!is_valid_domain(domain)) return fail(PathError::kSyntax);
    }
    if (!at_end(i)) return fail(PathError::kSyntax);
    out.path.domain = std::string(in.substr(domain_start, i - domain_start));
  }
  out.consumed = bracketed ? i + 1 : i;

  std::string_view whole = in.substr(0, out.consumed);
  for (char c : whole) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      out.utf8 = true;
      break;
    }
  }
  if (out.utf8 && !is_valid_utf8(whole)) return fail(PathError::kSyntax);
  if (out.path.local_raw.size() > kMaxLocal) return fail(PathError::kLocalTooLong);
  if (out.path.domain.size() > kMaxDomain) return fail(PathError::kDomainTooLong);
  if (out.consumed + (bracketed ? 0 : 2) > kMaxPath) return fail(PathError::kPathTooLong);
  return out;
}

}  // namespace tern::smtp::proto
