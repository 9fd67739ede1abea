// smtp/proto/path.h: the SMTP path grammar (RFC 5321 4.1.2, limits 4.5.3.1; UTF-8 per
// RFC 6531 3.3).
//
// Pure: no I/O, no logging, no globals; safe to call from any thread. Used by the MAIL and
// RCPT argument parsers (params.h); the session may also use it to check configured
// addresses.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace tern::smtp::proto {

// A reverse-path or forward-path, without its source route.
struct Path {
  std::string local_raw;  // the local part as sent, quotes and backslashes kept
  std::string local;      // the local part with the quoting removed
  std::string domain;     // as sent (an address literal keeps its brackets); "" for <Postmaster>
  bool null = false;      // "<>" (MAIL only)

  // local_raw "@" domain; local_raw alone for <Postmaster>; "" for the null path.
  std::string address() const;

  friend bool operator==(const Path&, const Path&) = default;
};

// What a caller accepts beyond "<local@domain>".
struct PathSyntax {
  bool allow_null = false;         // "<>": a reverse-path (RFC 5321 4.1.1.2)
  bool allow_postmaster = false;   // "<Postmaster>": a forward-path (RFC 5321 4.1.1.3)
  bool allow_unbracketed = false;  // "local@domain" without "<>", ended by SP or the end
};

enum class PathError {
  kSyntax,         // not a path, or not well-formed UTF-8
  kLocalTooLong,   // local part over 64 octets (RFC 5321 4.5.3.1.1)
  kDomainTooLong,  // domain over 255 octets (RFC 5321 4.5.3.1.2)
  kPathTooLong,    // path over 256 octets with its brackets (RFC 5321 4.5.3.1.3)
};

struct ParsedPath {
  Path path;
  std::size_t consumed = 0;  // bytes of the input the path took, brackets included
  bool utf8 = false;         // it has non-ASCII octets (only allowed under SMTPUTF8)
};

// Parses the path at the start of `in`; whatever follows it is left to the caller. A
// source route is checked and dropped. Domains are checked as LDH labels (U-labels are
// taken as any well-formed UTF-8; IDNA validity is not checked here); address literals
// must be a dotted-quad IPv4 address or "IPv6:" and an IPv6 address. Non-ASCII octets are
// accepted when they form well-formed UTF-8 and are reported in ParsedPath::utf8: the
// caller decides whether SMTPUTF8 is in effect.
tl::expected<ParsedPath, PathError> parse_path(std::string_view in, const PathSyntax& syntax);

// The same rules on their own: a domain name (LDH or U-labels) and an address literal
// with its brackets. Both take any byte string and never fail for other reasons.
bool is_valid_domain(std::string_view domain);
bool is_valid_address_literal(std::string_view literal);

// RFC 3629 well-formed UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_valid_utf8(std::string_view s);

}  // namespace tern::smtp::proto
