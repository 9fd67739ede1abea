// imap/proto/writer.h: building IMAP responses (RFC 9051 7 and 9).
//
// Strings go out as quoted strings when that is safe and short (at most kMaxQuoted octets
// of printable US-ASCII, or of valid UTF-8 once the client ENABLEd UTF8=ACCEPT), else as
// literals "{n}\r\n" followed by the bytes as they are; literal8 "~{n}\r\n" carries
// BINARY[] content (RFC 3516), which may hold NUL. Mailbox names, kept in UTF-8, go out in
// modified UTF-7 unless UTF8=ACCEPT is on.
//
// FetchResponse builds one "* n FETCH (...)" line item by item and can stop before a large
// literal, so a session sends the announcement, then the bytes in pieces from the store,
// then the rest, never holding a whole message in the response buffer.
//
// Appending functions write to a caller's std::string; nothing else is allocated. Pure;
// thread-safety: none for FetchResponse (one per response), the functions are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tern::imap::proto {

inline constexpr std::size_t kMaxQuoted = 1024;

// True when s can be sent as a quoted string: at most kMaxQuoted octets of printable
// US-ASCII (with utf8, also valid UTF-8 sequences); no CR, LF, NUL or other controls.
bool is_quotable(std::string_view s, bool utf8 = false);

// DQUOTE s DQUOTE with "\" and DQUOTE escaped. Precondition: is_quotable(s, utf8) held,
// apart from the length.
void append_quoted(std::string& out, std::string_view s);
// "{n}\r\n" s, and "~{n}\r\n" s.
void append_literal(std::string& out, std::string_view s);
void append_literal8(std::string& out, std::string_view s);
// string: quoted when quotable, else a literal.
void append_string(std::string& out, std::string_view s, bool utf8 = false);
// astring: an atom when s is non-empty ASTRING-CHARs other than "[" and not "NIL" (in any
// case), else as append_string.
void append_astring(std::string& out, std::string_view s, bool utf8 = false);
// nstring: NIL for nullopt, else as append_string.
void append_nstring(std::string& out, std::optional<std::string_view> s, bool utf8 = false);

// A mailbox name (UTF-8) as a quoted string or literal: modified UTF-7 unless utf8.
void append_mailbox(std::string& out, std::string_view name, bool utf8);

// flag-list: "(\Seen \Deleted $Forwarded)". `system` holds SystemFlag bits (args.h);
// \Recent is added when recent. Keywords are written as they are (atoms).
void append_flags(std::string& out, std::uint32_t system, const std::vector<std::string>& keywords,
                  bool recent = false);

// A quoted date-time: "\"01-Feb-1994 21:49:07 +0100\"".
void append_date_time(std::string& out, std::int64_t unix_time, int zone_minutes);

// "(a b c)" from items already in wire syntax.
void append_list(std::string& out, const std::vector<std::string>& items);

// One untagged FETCH response, built incrementally:
//
//   FetchResponse r(seq);
//   r.add_number("UID", uid);
//   r.add_literal_header("BODY[]", size);
//   send(r.take());  send(size bytes);            // the literal's bytes, from the store
//   r.add_flags(...);
//   r.finish();  send(r.take());
class FetchResponse {
 public:
  // Starts "* <seq> FETCH (".
  explicit FetchResponse(std::uint32_t seq);

  // "NAME value": value already in wire syntax (ENVELOPE, BODYSTRUCTURE, a list...).
  void add(std::string_view name, std::string_view value);
  void add_number(std::string_view name, std::uint64_t value);
  // "NAME (value)" for MODSEQ (RFC 7162 3.1.4.1).
  void add_modseq(std::uint64_t modseq);
  void add_flags(std::uint32_t system, const std::vector<std::string>& keywords, bool recent = false);
  void add_internal_date(std::int64_t unix_time, int zone_minutes);
  // "NAME data": a quoted string when quotable, else a literal; with binary (BINARY[]
  // content) a literal8 when data holds NUL (RFC 3516 4.2).
  // For content that is already in memory and small; large content uses the header form.
  void add_data(std::string_view name, std::string_view data, bool binary = false);
  // "NAME NIL" (e.g. a BODY[] section that does not exist).
  void add_nil(std::string_view name);
  // "NAME {size}\r\n" (binary: "~{size}\r\n"). The caller must send take() and then
  // exactly `size` bytes before anything else of this response.
  void add_literal_header(std::string_view name, std::uint64_t size, bool binary = false);
  // Ends the response with ")\r\n". Nothing may be added after.
  void finish();

  // The text built since the last take(), to be sent now.
  std::string take();
  // The same without giving up the buffer's capacity; clear() after sending it.
  const std::string& pending() const { return out_; }
  void clear() { out_.clear(); }
  bool finished() const { return finished_; }

 private:
  void item(std::string_view name);

  std::string out_;
  bool first_ = true;
  bool finished_ = false;
};

}  // namespace tern::imap::proto
