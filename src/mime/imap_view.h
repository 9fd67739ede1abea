// mime/imap_view.h: what IMAP FETCH returns of a parsed message (RFC 9051/3501 7.5.2 and
// 6.4.5, RFC 3516 BINARY).
//
// Contract: pure functions of a Message (mime/message.h) and, where content is returned,
// the same message bytes it was parsed from. ENVELOPE, BODY and BODYSTRUCTURE need no
// bytes (they come from the parsed or cached tree). Strings are IMAP wire syntax: quoted
// strings when safe, literals ({n}CRLF...) otherwise, NIL for absent values. Failures are
// kInvalid (bad section syntax) or kNotFound (no such part). Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "mime/header.h"
#include "mime/message.h"

namespace tern::mime {

// IMAP string of s: a quoted string when s is 7-bit printable, else a literal. NUL bytes
// are dropped (not representable outside literal8).
std::string imap_string(std::string_view s);
// As imap_string, but NIL when s is empty.
std::string imap_nstring(std::string_view s);

// ENVELOPE of a header block (used by parse(); callers use envelope()).
std::string build_envelope(const std::vector<HeaderField>& fields);

// ENVELOPE of the message: "(date subject from sender reply-to to cc bcc in-reply-to message-id)".
std::string envelope(const Message& msg);
// BODY (extended = false) or BODYSTRUCTURE (extended = true).
std::string body_structure(const Message& msg, bool extended);

struct Section {
  enum class Kind { kAll, kHeader, kHeaderFields, kHeaderFieldsNot, kText, kMime };
  std::vector<std::uint32_t> part;  // part numbers, 1-based; empty: the whole message
  Kind kind = Kind::kAll;
  std::vector<std::string> fields;  // for HEADER.FIELDS[.NOT]
};

// Parses the text between the brackets of BODY[...]: "", "1.2", "HEADER", "1.TEXT",
// "2.MIME", "HEADER.FIELDS (From To)" (case-insensitive).
Result<Section> parse_section(std::string_view spec);

// The section's octets. kNotFound when the part does not exist; kInvalid for MIME on the
// whole message or HEADER/TEXT on a part that is not a message/rfc822.
Result<std::string> extract(const Message& msg, std::string_view bytes, const Section& section);

// <origin.count> partial of a section's octets (RFC 9051 6.4.5): empty past the end.
std::string_view partial(std::string_view data, std::uint64_t origin, std::optional<std::uint64_t> count);

// BINARY[part] (RFC 3516): the part's body with base64 / quoted-printable removed.
// kInvalid ("UNKNOWN-CTE") for other encodings than 7bit/8bit/binary/base64/qp.
Result<std::string> binary(const Message& msg, std::string_view bytes,
                           const std::vector<std::uint32_t>& part);

// BINARY.SIZE[part] (RFC 3516): the size of what binary() returns.
Result<std::uint64_t> binary_size(const Message& msg, std::string_view bytes,
                                  const std::vector<std::uint32_t>& part);

// Resolves part numbers to an index in msg.parts (the index of the part whose body the
// number names); kNotFound if absent. An empty path names the root.
Result<std::uint32_t> resolve(const Message& msg, const std::vector<std::uint32_t>& part);

// Body of a part with its transfer encoding removed.
std::string decoded_body(const Part& part, std::string_view bytes);

inline std::uint64_t rfc822_size(const Message& msg) { return msg.size; }

}  // namespace tern::mime
