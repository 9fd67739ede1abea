// imap/proto/mutf7.h: modified UTF-7 mailbox names (RFC 3501 5.1.3), to and from UTF-8.
//
// Clients that have not enabled UTF8=ACCEPT (RFC 6855) name mailboxes in modified UTF-7:
// printable US-ASCII stands for itself except "&", written "&-"; anything else is UTF-16
// in modified base64 ("+" and "," for "/") between "&" and "-". Tern keeps names in UTF-8
// and converts at the protocol edge.
//
// The decoder is strict so that each name has exactly one spelling: it refuses 8-bit and
// control bytes, a lone "&", an unterminated or empty shift other than "&-", base64 that
// encodes printable US-ASCII, two shifts in a row, nonzero padding bits, unpaired
// surrogates and NUL. encode(decode(s)) == s whenever decode succeeds.
//
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tern::imap::proto {

// UTF-8 to modified UTF-7. Bytes that are not valid UTF-8 are encoded as U+FFFD; NUL is
// encoded like any other control character (decode refuses it, so names must not hold it).
std::string mutf7_encode(std::string_view utf8);

// Modified UTF-7 to UTF-8; nullopt when the text is not canonical modified UTF-7.
std::optional<std::string> mutf7_decode(std::string_view mutf7);

// True when s is well-formed UTF-8 (no overlongs, surrogates or values above U+10FFFF).
bool is_valid_utf8(std::string_view s);

}  // namespace tern::imap::proto
