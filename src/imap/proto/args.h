// imap/proto/args.h: typed reading of a Request's tokenized arguments (RFC 9051 9), shared
// by the command, FETCH and SEARCH grammars.
//
// ArgReader walks a vector of Arg and converts tokens to typed values: astrings, numbers,
// mailbox names, sequence sets, flags. It keeps the first error (a BAD text safe to show
// the client): once failed, every read returns an empty value and leaves the error as is,
// so a grammar reads straight through and checks failed() where it must branch or loop.
// String reads move the bytes out of the arguments (an APPEND literal is not copied).
//
// No I/O, no globals. Thread-safety: none (one reader per request).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "imap/proto/receiver.h"
#include "imap/proto/seqset.h"

namespace tern::imap::proto {

// RFC 9051 9 character classes.
bool is_atom_char(char c);     // ATOM-CHAR: CHAR except atom-specials ( ) { SP CTL % * " \ ]
bool is_astring_char(char c);  // ASTRING-CHAR: ATOM-CHAR or "]"
bool is_list_char(char c);     // list-char: ATOM-CHAR, "%", "*" or "]"
bool is_atom(std::string_view s);  // 1*ATOM-CHAR
// A header field name (RFC 5322 3.6.8 ftext): 1*(printable US-ASCII except ":").
bool is_header_field_name(std::string_view s);

// A token quoted into a BAD text: printable US-ASCII only, at most 40 characters.
std::string echo(std::string_view token);
// ASCII upper case (command words, options and keywords are case-insensitive).
std::string ascii_upper(std::string_view s);

// number64 (RFC 9051 9): 0 .. 2^63 - 1; also mod-sequence-valzer (RFC 7162 7).
inline constexpr std::uint64_t kMaxNumber64 = 9223372036854775807ull;

// System flags, the same bits as store::Flag (store/types.h) so conversion is a copy.
enum SystemFlag : std::uint32_t {
  kFlagSeen = 1u << 0,
  kFlagAnswered = 1u << 1,
  kFlagFlagged = 1u << 2,
  kFlagDeleted = 1u << 3,
  kFlagDraft = 1u << 4,
};

// Flags named by a client in STORE or APPEND. \Recent is refused (RFC 9051 2.3.2: the
// server alone sets it), as are unknown system flags.
struct Flags {
  std::uint32_t system = 0;           // SystemFlag bits
  std::vector<std::string> keywords;  // atoms, case as sent, without duplicates (ignoring case)
  friend bool operator==(const Flags&, const Flags&) = default;
};

class ArgReader {
 public:
  // Reads args (which must outlive the reader); errors go to `error`, shared with sub().
  ArgReader(std::vector<Arg>& args, std::string& error) : args_(args), error_(error) {}

  bool failed() const { return !error_.empty(); }
  // Records message unless an error is already recorded. Returns false.
  bool fail(std::string message);

  // True when every argument was read (or the reader failed).
  bool at_end() const { return failed() || pos_ == args_.size(); }
  // The next argument, or nullptr at the end or after a failure.
  Arg* peek() { return at_end() ? nullptr : &args_[pos_]; }
  // True when the next argument is an atom equal to `word` ignoring case.
  bool peek_atom(std::string_view word);
  bool peek_list() { return peek() != nullptr && peek()->kind == Arg::Kind::kList; }
  // Consumes the next argument when it is the atom `word` (ignoring case).
  bool accept_atom(std::string_view word);
  // The next argument; nullptr (and "Missing <what>") at the end.
  Arg* next(std::string_view what);
  // Fails with "Unexpected argument ..." when arguments remain.
  void end();

  // A reader over the children of the next argument, which must be a list.
  ArgReader list(std::string_view what);

  // An atom (as the receiver cut it) converted to upper case.
  std::string atom_upper(std::string_view what);
  // astring (atom, quoted string or literal). Atoms must be ASTRING-CHARs, or 8-bit.
  std::string astring(std::string_view what);
  // string (quoted or literal only).
  std::string string(std::string_view what);
  // nstring: a string or NIL (nullopt).
  std::optional<std::string> nstring(std::string_view what);
  // A mailbox name: astring, decoded from modified UTF-7 (or checked as UTF-8 when the
  // client enabled UTF8=ACCEPT); a name equal to INBOX ignoring case becomes "INBOX".
  std::string mailbox(bool utf8);
  // A LIST / LSUB pattern or reference: like mailbox(), but atoms may hold % and *, and
  // INBOX is not normalized.
  std::string list_mailbox(bool utf8, std::string_view what);
  // Numbers: number (RFC 9051 9: 0..2^32-1), nz-number, number64 (0..2^63-1).
  std::uint32_t number(std::string_view what);
  std::uint32_t nz_number(std::string_view what);
  std::uint64_t number64(std::string_view what);
  // A sequence set atom (`*` allowed; `$` refused).
  SequenceSet sequence_set();
  // A flag list "(\Seen kw)" (flag-list), or with allow_bare also the bare form "\Seen kw"
  // that reads the remaining arguments (RFC 3501 store-att-flags).
  Flags flags(bool allow_bare);

 private:
  std::vector<Arg>& args_;
  std::string& error_;
  std::size_t pos_ = 0;
};

// Adds one flag to `flags`; false with a BAD text in `error` when it is not acceptable.
bool add_flag(Flags& flags, std::string_view text, std::string& error);

// Parses a decimal number without sign or leading "+"; nullopt when empty, not all digits
// or above max.
std::optional<std::uint64_t> parse_decimal(std::string_view s, std::uint64_t max);

}  // namespace tern::imap::proto
