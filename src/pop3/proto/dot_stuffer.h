// pop3/proto/dot_stuffer.h: a message as the body of a POP3 multi-line response (RFC 1939 3).
//
// Pure and incremental: message bytes go in as chunks split anywhere, wire bytes come out,
// and the output does not depend on where the chunks were split. Every line that begins
// with "." gets one more; every line ends in CRLF (a bare LF becomes CRLF, so no client
// that splits lines on LF alone can be made to see a line "." inside a message); a last
// line without a line end gets one; finish() adds the ".\r\n" terminator. For TOP
// (RFC 1939 7) it passes the header, the blank line and the first n body lines only.
// Thread-safety: none; one per response.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tern::pop3::proto {

class DotStuffer {
 public:
  // The whole message (RETR).
  DotStuffer() = default;
  // TOP: the header, the blank line after it and `body_lines` lines of the body. A message
  // without a blank line is all header.
  static DotStuffer top(uint32_t body_lines);

  // Appends the encoding of `chunk` to `out`. Returns false once TOP has all its lines
  // (the rest of the message need not be read); true while more input is wanted.
  bool feed(std::string_view chunk, std::string& out);
  // Appends a line end when the output stopped inside a line, then ".\r\n".
  void finish(std::string& out);

 private:
  bool limited_ = false;       // TOP
  bool done_ = false;          // TOP has all its lines
  bool in_header_ = true;      // TOP: the blank line has not been seen yet
  uint32_t body_left_ = 0;     // TOP: body lines still to send
  bool line_start_ = true;     // the next byte begins a line
  bool last_cr_ = false;       // the last byte of the current line was CR
  std::size_t line_len_ = 0;   // bytes of the current line so far (a CR included)
};

}  // namespace tern::pop3::proto
