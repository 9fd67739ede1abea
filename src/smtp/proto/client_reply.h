// smtp/proto/client_reply.h: the client side of the SMTP grammar: reading a server's
// (possibly multi-line) reply (RFC 5321 4.2, 4.2.1), reading its EHLO keywords (RFC 5321
// 4.1.1.1 and the extension RFCs), and dot-stuffing a message for DATA (RFC 5321 4.5.2).
//
// Pure: bytes in, values out; no I/O, no logging, no globals; safe from any thread. The
// server is untrusted: a malformed or oversized reply is a value (ReplyParse::kError), never
// an assertion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tern::smtp::proto {

// One complete reply: the code and the text of each line (after "250-" / "250 "), CR LF removed.
struct ServerReply {
  int code = 0;
  std::vector<std::string> lines;

  bool positive() const { return code >= 200 && code < 400; }
  bool transient() const { return code >= 400 && code < 500; }
  bool permanent() const { return code >= 500; }
  // "451 4.7.1 text" from the lines, joined with "; " (for logs and queue last_error); every
  // byte below 0x20 or 0x7f shown as '?'.
  std::string summary() const;
};

struct ReplyLimits {
  std::size_t max_line = 4096;  // without CR LF; RFC 5321 4.5.3.1.5 says 512, servers exceed it
  std::size_t max_lines = 128;
};

struct ReplyParse {
  enum class Status { kNeedMore, kReply, kError };
  Status status = Status::kNeedMore;
  std::size_t consumed = 0;  // bytes of `in` the reply took (kReply only)
  ServerReply reply;         // kReply only
  std::string error;         // kError only: what was wrong, for the log
};

// Reads the first reply at the start of `in`. kNeedMore when `in` holds only part of it
// (and nothing wrong so far). Each line is three digits (2-5 first), then '-' (more lines
// follow) or ' ' or the line's end, then text, then CR LF (a bare LF is accepted); every
// line of a reply must carry the same code. kError for anything else, for a line longer than
// max_line or more than max_lines lines.
ReplyParse parse_reply(std::string_view in, const ReplyLimits& limits = {});

// What a server's EHLO reply offers (RFC 5321 4.1.1.1: the lines after the first).
struct Extensions {
  bool pipelining = false;    // RFC 2920
  bool starttls = false;      // RFC 3207
  bool eightbitmime = false;  // RFC 6152
  bool smtputf8 = false;      // RFC 6531
  bool dsn = false;           // RFC 3461
  bool chunking = false;      // RFC 3030
  bool size = false;          // RFC 1870
  uint64_t max_size = 0;      // SIZE's limit; 0: none given
};
// Keywords are matched without regard to case; unknown ones are ignored.
Extensions parse_extensions(const ServerReply& ehlo);

// Dot-stuffs a message for DATA in pieces (RFC 5321 4.5.2): a '.' starting a line is doubled.
// Line ends are taken as they are (the store keeps CR LF). finish() ends the last line with
// CR LF if it lacks one and appends the end-of-data line ".\r\n". Not thread-safe.
class DotStuffer {
 public:
  // Appends the stuffed `piece` to `out`.
  void feed(std::string_view piece, std::string& out);
  void finish(std::string& out);

 private:
  bool at_line_start_ = true;
  bool after_cr_ = false;
};

}  // namespace tern::smtp::proto
