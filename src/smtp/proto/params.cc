#include "smtp/proto/params.h"

#include <limits>

#include "base/strings.h"

namespace tern::smtp::proto {
namespace {

constexpr std::size_t kMaxEnvid = 100;  // RFC 3461 4.4
// RFC 3461 4: NOTIFY and ORCPT may lengthen a RCPT line by 500 characters.
constexpr std::size_t kMaxOrcpt = 500;
constexpr std::size_t kMaxShownKeyword = 32;

tl::unexpected<Reply> reply(int code, std::string_view enhanced, std::string text) {
  return tl::unexpected<Reply>(Reply{code, std::string(enhanced), std::move(text)});
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Printable US-ASCII, space included: what RFC 3461 4.2/4.4 allow in a decoded ORCPT or
// ENVID. Keeps CR, LF and other controls out of anything later written into a DSN.
bool is_printable(std::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// Decimal digits into a uint64_t; nullopt when empty, not all digits, or too large.
std::optional<std::uint64_t> parse_u64(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (kMax - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// RFC 5321 4.1.2 esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
bool is_keyword(std::string_view s) {
  if (s.empty() || s.front() == '-') return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
  }
  return true;
}

// RFC 5321 4.1.2 esmtp-value = 1*(%d33-60 / %d62-126), and UTF8-non-ascii (RFC 6531 3.3;
// only the parameters that take UTF-8 look further).
bool is_value(std::string_view s) {
  if (s.empty()) return false;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 33 || c == '=' || c == 127) return false;
  }
  return true;
}

struct Param {
  std::string keyword;    // upper case
  std::string_view value;  // as sent
  bool has_value = false;
};

// Splits "KEY[=VALUE] KEY[=VALUE]..." into parameters. Calls `each` for every one in
// order; stops at the first reply it returns.
template <typename F>
std::optional<Reply> for_each_param(std::string_view params, F&& each) {
  for (std::string_view token : split(params, ' ')) {
    if (token.empty()) continue;  // several spaces between parameters
    Param p;
    auto eq = token.find('=');
    std::string_view key = token.substr(0, eq);
    if (eq != std::string_view::npos) {
      p.value = token.substr(eq + 1);
      p.has_value = true;
    }
    if (!is_keyword(key) || (p.has_value && !is_value(p.value))) {
      return Reply{501, "5.5.4", "Malformed parameter"};
    }
    p.keyword = upper(key);
    if (auto r = each(p)) return r;
  }
  return std::nullopt;
}

Reply unsupported(const Param& p) {
  std::string shown = p.keyword.substr(0, kMaxShownKeyword);
  return Reply{555, "5.5.4", "Unsupported parameter " + shown};
}

Reply duplicate(const Param& p) { return Reply{501, "5.5.4", "Duplicate " + p.keyword + " parameter"}; }

Reply bad_value(const Param& p) { return Reply{501, "5.5.4", "Bad " + p.keyword + " parameter"}; }

// Splits "FROM:<path> params" after the prefix; spaces after the colon are tolerated.
std::optional<std::string_view> after_prefix(std::string_view arg, std::string_view prefix) {
  if (!istarts_with(arg, prefix)) return std::nullopt;
  arg.remove_prefix(prefix.size());
  while (!arg.empty() && arg.front() == ' ') arg.remove_prefix(1);
  if (arg.empty()) return std::nullopt;
  return arg;
}

struct Who {
  std::string_view usage;     // command syntax reply text
  std::string_view enhanced;  // 5.1.7 sender / 5.1.3 recipient (RFC 3463 3.2)
  std::string_view noun;      // "sender" / "recipient"
};

constexpr Who kSender{"Syntax: MAIL FROM:<address>", "5.1.7", "sender"};
constexpr Who kRecipient{"Syntax: RCPT TO:<address>", "5.1.3", "recipient"};

Reply path_error(PathError e, const Who& who) {
  std::string noun(who.noun);
  std::string text;
  switch (e) {
    case PathError::kSyntax:
      text = "Bad " + noun + " address syntax";
      break;
    case PathError::kLocalTooLong:
      text = "Local part of " + noun + " address too long";
      break;
    case PathError::kDomainTooLong:
      text = "Domain of " + noun + " address too long";
      break;
    case PathError::kPathTooLong:
      text = "Path too long";  // RFC 5321 4.5.3.1.10
      break;
  }
  return Reply{501, std::string(who.enhanced), std::move(text)};
}

// Parses the path at the start of `rest` and returns it with what follows (the
// parameters, without their leading spaces).
tl::expected<std::pair<ParsedPath, std::string_view>, Reply> path_and_params(
    std::string_view rest, const PathSyntax& syntax, const Who& who) {
  if (rest.front() != '<' && !syntax.allow_unbracketed) {
    return tl::unexpected<Reply>(Reply{501, "5.5.4", std::string(who.usage)});
  }
  auto parsed = parse_path(rest, syntax);
  if (!parsed) return tl::unexpected<Reply>(path_error(parsed.error(), who));
  std::string_view params = rest.substr(parsed->consumed);
  if (!params.empty() && params.front() != ' ') {
    return tl::unexpected<Reply>(path_error(PathError::kSyntax, who));
  }
  return std::pair<ParsedPath, std::string_view>{std::move(*parsed), params};
}

Reply non_ascii_address() {
  // RFC 6531 3.5 / RFC 5248: X.6.7 "Non-ASCII addresses not permitted for that
  // sender/recipient", with 553 "mailbox name not allowed".
  return Reply{553, "5.6.7", "Non-ASCII address requires SMTPUTF8"};
}

// RFC 6533 3 utf-8-addr-xtext (QCHAR and "\x{HEX}"), or with SMTPUTF8 also
// utf-8-addr-unitext (which adds raw UTF-8). Only the character repertoire is checked.
bool is_utf8_addr(std::string_view s, bool smtputf8) {
  if (s.empty()) return false;
  bool raw_utf8 = false;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) {
      raw_utf8 = true;
    } else if (c < 0x21 || c > 0x7e || c == '+' || c == '=') {
      return false;
    }
  }
  if (raw_utf8) return smtputf8 && is_valid_utf8(s);
  return true;
}

std::optional<Reply> parse_orcpt(const Param& p, bool smtputf8, RcptTo& out) {
  // RFC 3461 4.2: orcpt-parameter = "ORCPT=" addr-type ";" xtext; addr-type = atom
  std::string_view v = p.value;
  auto semi = v.find(';');
  if (v.size() > kMaxOrcpt || semi == std::string_view::npos || semi == 0) return bad_value(p);
  std::string_view type = v.substr(0, semi);
  std::string_view addr = v.substr(semi + 1);
  for (char c : type) {
    bool atext = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
    if (!atext) return bad_value(p);
  }
  std::string decoded;
  if (iequals(type, "utf-8")) {
    if (!is_utf8_addr(addr, smtputf8)) return bad_value(p);
    decoded = std::string(addr);
  } else {
    auto d = xtext_decode(addr);
    if (!d || d->empty() || !is_printable(*d)) return bad_value(p);
    decoded = std::move(*d);
  }
  out.orcpt.reserve(type.size() + 1 + decoded.size());
  out.orcpt.append(type).append(1, ';').append(decoded);
  return std::nullopt;
}

std::optional<Reply> parse_notify(const Param& p, RcptTo& out) {
  // RFC 3461 4.1: "NEVER" alone, or a comma list of SUCCESS, FAILURE, DELAY.
  std::uint8_t bits = 0;
  for (std::string_view item : split(p.value, ',')) {
    if (iequals(item, "NEVER")) {
      bits |= kNotifyNever;
    } else if (iequals(item, "SUCCESS")) {
      bits |= kNotifySuccess;
    } else if (iequals(item, "FAILURE")) {
      bits |= kNotifyFailure;
    } else if (iequals(item, "DELAY")) {
      bits |= kNotifyDelay;
    } else {
      return bad_value(p);
    }
  }
  if ((bits & kNotifyNever) != 0 && bits != kNotifyNever) return bad_value(p);
  out.notify = bits;
  return std::nullopt;
}

}  // namespace

std::string xtext_encode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (char ch : in) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= '!' && c <= '~' && c != '+' && c != '=') {
      out.push_back(ch);
    } else {
      out.push_back('+');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::optional<std::string> xtext_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    auto c = static_cast<unsigned char>(in[i]);
    if (c == '+') {
      if (in.size() - i < 3) return std::nullopt;
      int hi = hex_value(in[i + 1]);
      int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c >= '!' && c <= '~' && c != '=') {
      out.push_back(static_cast<char>(c));
    } else {
      return std::nullopt;
    }
  }
  return out;
}

tl::expected<MailFrom, Reply> parse_mail_from(std::string_view arg, const PathOptions& options) {
  auto rest = after_prefix(arg, "FROM:");
  if (!rest) return reply(501, "5.5.4", std::string(kSender.usage));
  PathSyntax syntax{.allow_null = true, .allow_postmaster = false,
                    .allow_unbracketed = options.allow_unbracketed};
  auto split_up = path_and_params(*rest, syntax, kSender);
  if (!split_up) return tl::unexpected<Reply>(std::move(split_up.error()));
  auto& [parsed, params] = *split_up;

  MailFrom out;
  out.path = std::move(parsed.path);
  bool seen_size = false, seen_body = false, seen_ret = false, seen_envid = false,
       seen_auth = false;
  auto r = for_each_param(params, [&](const Param& p) -> std::optional<Reply> {
    if (p.keyword == "SIZE") {  // RFC 1870 6
      if (seen_size) return duplicate(p);
      seen_size = true;
      if (!p.has_value || !all_digits(p.value)) return bad_value(p);
      out.size = parse_u64(p.value);
      if (!out.size) {
        return Reply{552, "5.3.4", "Message size exceeds fixed maximum message size"};
      }
    } else if (p.keyword == "BODY") {  // RFC 6152 2
      if (seen_body) return duplicate(p);
      seen_body = true;
      if (!p.has_value) return bad_value(p);
      if (iequals(p.value, "7BIT")) {
        out.body = MailFrom::Body::k7Bit;
      } else if (iequals(p.value, "8BITMIME")) {
        out.body = MailFrom::Body::k8BitMime;
      } else if (iequals(p.value, "BINARYMIME")) {
        // RFC 3030 3: only with BINARYMIME advertised, which we do not.
        return Reply{555, "5.5.4", "BODY=BINARYMIME not supported"};
      } else {
        return bad_value(p);
      }
    } else if (p.keyword == "SMTPUTF8") {  // RFC 6531 3.4
      if (out.smtputf8) return duplicate(p);
      if (p.has_value) return bad_value(p);
      out.smtputf8 = true;
    } else if (p.keyword == "RET") {  // RFC 3461 4.3
      if (seen_ret) return duplicate(p);
      seen_ret = true;
      if (!p.has_value) return bad_value(p);
      if (iequals(p.value, "FULL")) {
        out.ret = MailFrom::Ret::kFull;
      } else if (iequals(p.value, "HDRS")) {
        out.ret = MailFrom::Ret::kHdrs;
      } else {
        return bad_value(p);
      }
    } else if (p.keyword == "ENVID") {  // RFC 3461 4.4
      if (seen_envid) return duplicate(p);
      seen_envid = true;
      if (!p.has_value) return bad_value(p);
      auto decoded = xtext_decode(p.value);
      if (!decoded || decoded->empty() || decoded->size() > kMaxEnvid || !is_printable(*decoded)) {
        return bad_value(p);
      }
      out.envid = std::move(*decoded);
    } else if (p.keyword == "AUTH") {  // RFC 4954 5: accepted, otherwise ignored
      if (seen_auth) return duplicate(p);
      seen_auth = true;
      if (!p.has_value) return bad_value(p);
      auto decoded = xtext_decode(p.value);
      if (!decoded || decoded->empty() || !is_printable(*decoded)) return bad_value(p);
      out.auth = std::move(*decoded);
    } else {
      return unsupported(p);  // RFC 5321 4.1.1.11
    }
    return std::nullopt;
  });
  if (r) return tl::unexpected<Reply>(std::move(*r));
  if (parsed.utf8 && !out.smtputf8) return tl::unexpected<Reply>(non_ascii_address());
  return out;
}

tl::expected<RcptTo, Reply> parse_rcpt_to(std::string_view arg, bool smtputf8,
                                          const PathOptions& options) {
  auto rest = after_prefix(arg, "TO:");
  if (!rest) return reply(501, "5.5.4", std::string(kRecipient.usage));
  PathSyntax syntax{.allow_null = false, .allow_postmaster = true,
                    .allow_unbracketed = options.allow_unbracketed};
  auto split_up = path_and_params(*rest, syntax, kRecipient);
  if (!split_up) return tl::unexpected<Reply>(std::move(split_up.error()));
  auto& [parsed, params] = *split_up;
  if (parsed.utf8 && !smtputf8) return tl::unexpected<Reply>(non_ascii_address());

  RcptTo out;
  out.path = std::move(parsed.path);
  bool seen_notify = false, seen_orcpt = false;
  auto r = for_each_param(params, [&](const Param& p) -> std::optional<Reply> {
    if (p.keyword == "NOTIFY") {
      if (seen_notify) return duplicate(p);
      seen_notify = true;
      if (!p.has_value) return bad_value(p);
      return parse_notify(p, out);
    }
    if (p.keyword == "ORCPT") {
      if (seen_orcpt) return duplicate(p);
      seen_orcpt = true;
      if (!p.has_value) return bad_value(p);
      return parse_orcpt(p, smtputf8, out);
    }
    return unsupported(p);  // RFC 5321 4.1.1.11
  });
  if (r) return tl::unexpected<Reply>(std::move(*r));
  return out;
}

tl::expected<Bdat, Reply> parse_bdat(std::string_view arg) {
  // RFC 3030 2: bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ]
  std::string_view size_text, marker;
  for (std::string_view token : split(arg, ' ')) {
    if (token.empty()) continue;
    if (size_text.empty()) {
      size_text = token;
    } else if (marker.empty()) {
      marker = token;
    } else {
      return reply(501, "5.5.4", "Syntax: BDAT size [LAST]");
    }
  }
  if (!all_digits(size_text) || (!marker.empty() && !iequals(marker, "LAST"))) {
    return reply(501, "5.5.4", "Syntax: BDAT size [LAST]");
  }
  auto size = parse_u64(size_text);
  if (!size) return reply(501, "5.5.4", "BDAT size out of range");
  return Bdat{*size, !marker.empty()};
}

}  // namespace tern::smtp::proto
