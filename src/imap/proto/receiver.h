// imap/proto/receiver.h: the IMAP command grammar (RFC 9051 9, RFC 3501 9), as a pure
// incremental receiver.
//
// The session feeds it one line at a time (without CRLF). A line that ends in a literal
// announcement "{n}" or "{n+}" (RFC 7888) makes it answer NeedLiteral; the session then
// reads exactly n bytes (after a "+" continuation for a synchronizing literal), hands them
// to feed_literal(), reads the next line and feeds it: that line continues the same
// command. A complete command comes out as a Request; a malformed one as a ParseError.
// Either way the receiver is then ready for the next command.
//
// Arguments are tokenized, not interpreted (command.h does that): atoms, quoted strings
// (unescaped), literals, literal8 ("~{n}", RFC 3516, for APPEND of binary content) and
// parenthesized lists. An atom may contain a bracketed part with spaces and parentheses
// ("BODY[HEADER.FIELDS (FROM)]"), kept whole. Arguments are separated by exactly one space
// (RFC 9051 9): doubled, leading or trailing spaces are refused with a clear message, as
// is a space after "(" or before ")". Limits bound every buffer: literal size, bytes per
// command, list depth, argument count.
//
// No I/O, no logging, no globals. Thread-safety: none (one receiver per session).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tern::imap::proto {

struct Arg {
  enum class Kind { kAtom, kQuoted, kLiteral, kLiteral8, kList };
  Kind kind = Kind::kAtom;
  std::string value;          // atom text, unescaped quoted string, literal bytes
  std::vector<Arg> children;  // kList only

  // An astring (RFC 9051 9): atom, quoted string or literal (not literal8).
  bool is_string() const { return kind == Kind::kAtom || kind == Kind::kQuoted || kind == Kind::kLiteral; }
};

struct Request {
  std::string tag;
  std::string command;  // upper-cased: "LOGIN", "UID"...
  std::vector<Arg> args;
};

struct NeedLiteral {
  std::size_t size = 0;
  bool synchronizing = true;  // "{n}": send "+ ..." first; "{n+}": the bytes follow at once
  bool binary = false;        // "~{n}" (RFC 3516 literal8): the bytes may hold NUL
};

struct ParseError {
  std::string tag;      // empty when no valid tag was read: answer "* BAD"
  std::string message;  // reply text, safe to show the client
  std::string command;  // upper-cased command name, empty when none was read
  // The client is sending bytes that will not be read (an over-long non-synchronizing
  // literal): the session cannot resynchronize and should close.
  bool fatal = false;
  // A literal announcement over the limits (RFC 7889 / RFC 4469 TOOBIG). For a
  // synchronizing literal nothing of it was sent yet, so the session goes on.
  bool too_big = false;
};

using Step = std::variant<Request, NeedLiteral, ParseError>;

struct ReceiverLimits {
  std::size_t max_literal = 8 * 1024;       // bytes in one literal
  std::size_t max_command = 64 * 1024;      // bytes of lines and literals in one command
  std::size_t max_depth = 8;                // nested parenthesized lists
  std::size_t max_args = 1000;              // tokens in one command
};

class Receiver {
 public:
  explicit Receiver(ReceiverLimits limits = {}) : limits_(limits) {}

  // New limits apply from the next command on (e.g. larger literals after login).
  void set_limits(ReceiverLimits limits) { limits_ = limits; }

  // Feeds one line: the start of a command, or the rest of one after a literal.
  Step feed_line(std::string_view line);
  // Feeds the literal announced by the last NeedLiteral (exactly its size in bytes). The
  // next feed_line() continues the command.
  void feed_literal(std::string bytes);
  // True between a NeedLiteral and the feed_line() that follows its bytes.
  bool in_command() const { return started_; }
  // Forgets a partly received command.
  void reset();

 private:
  Step parse_args(std::string_view line, std::size_t pos);
  ParseError fail(std::string message, bool fatal = false, bool too_big = false);

  ReceiverLimits limits_;
  // Where the parser stands between tokens.
  enum class Gap {
    kAfterToken,  // a token or ")" ended: SP, ")" or end of line must follow
    kAfterSpace,  // one separating SP was read: a token must follow
    kAfterOpen,   // "(" was read: a token or ")" must follow
  };

  bool started_ = false;          // a tag and command were read; waiting for literal/continuation
  bool literal8_ = false;         // the pending literal was announced as "~{n}"
  Gap gap_ = Gap::kAfterToken;
  std::size_t total_ = 0;         // bytes received for this command
  std::size_t tokens_ = 0;
  std::string tag_;
  std::string command_;
  // Invariant: stack_ is non-empty while started_; stack_[0] holds the top-level arguments
  // and each further entry an open list.
  std::vector<std::vector<Arg>> stack_;
};

}  // namespace tern::imap::proto
