// smtp/proto/reply.h: an SMTP reply as the pure parsers hand it back (RFC 5321 4.2,
// enhanced status codes RFC 3463).
//
// A plain value; safe to copy and to use from any thread. The text never contains CR or LF,
// so line() can be written to the wire as one reply line (after adding CRLF).
#pragma once

#include <string>

namespace tern::smtp::proto {

struct Reply {
  int code = 0;          // e.g. 501
  std::string enhanced;  // e.g. "5.5.4" (RFC 3463)
  std::string text;      // human-readable, safe to show the client

  // "501 5.5.4 text", without CRLF.
  std::string line() const { return std::to_string(code) + ' ' + enhanced + ' ' + text; }

  friend bool operator==(const Reply&, const Reply&) = default;
};

}  // namespace tern::smtp::proto
