// mime/header.h: RFC 5322 header fields, RFC 2047 encoded words, RFC 2231 parameters and
// address lists.
//
// Contract: pure functions over bytes; nothing here does I/O or keeps state. Any input
// (8-bit junk, NULs, missing colons, obsolete syntax) gives a best-effort result and never
// fails. Views returned point into the caller's bytes and live as long as those bytes.
// Decoded text is UTF-8; undecodable bytes become U+FFFD. Thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tern::mime {

// Most fields kept per header block; later fields are skipped (the block still ends at
// the blank line, so offsets stay exact).
inline constexpr std::size_t kMaxHeaderFields = 4096;

struct HeaderField {
  std::string_view name;   // as written, trailing whitespace before the colon removed
  std::string_view value;  // after the colon, still folded, without the final line break
  std::string_view raw;    // the whole field with every fold and its final line break
};

struct HeaderBlock {
  std::vector<HeaderField> fields;  // in order, duplicates kept
  std::size_t body_offset = 0;      // where the body starts (after the blank line)
};

// Splits `bytes` into header fields. The block ends at the first empty line (its line
// break belongs to the header) or at the first line that is neither a field nor a
// continuation (that line starts the body, as Python's email and most MUAs do).
// A first line starting with "From " (mbox separator) is skipped.
HeaderBlock parse_header_block(std::string_view bytes, std::size_t max_fields = kMaxHeaderFields);

// First field named `name` (ASCII case-insensitive), or nullptr.
const HeaderField* find_field(const std::vector<HeaderField>& fields, std::string_view name);

// Removes line breaks of folds and trims surrounding whitespace.
std::string unfold(std::string_view value);

// Decodes RFC 2047 encoded words (B and Q, charset*language) in unstructured text to
// UTF-8; whitespace between adjacent encoded words is dropped. Text outside encoded words
// is taken as UTF-8 (RFC 6532) or, when invalid, as windows-1252.
std::string decode_words(std::string_view text);

struct Param {
  std::string name;   // lower-case
  std::string value;  // decoded to UTF-8 (RFC 2231 continuations/charsets, RFC 2047 words)
};

// A parameterised header value: "type/subtype; a=b" or "attachment; filename=x".
struct ParamValue {
  std::string value;  // the part before the first ';', lower-case, trimmed
  std::vector<Param> params;
};
ParamValue parse_param_value(std::string_view unfolded);

struct Address {
  enum class Kind { kMailbox, kGroupStart, kGroupEnd };
  Kind kind = Kind::kMailbox;
  std::string name;     // display phrase, quotes removed, encoded words NOT decoded
  std::string route;    // obsolete source route "@a,@b", without the colon
  std::string mailbox;  // local part (quotes removed) or the group name
  std::string host;     // domain; empty when absent
};

// Parses an address list (RFC 5322 3.4 with obsolete forms and RFC 6532 UTF-8).
std::vector<Address> parse_address_list(std::string_view unfolded);

// Lenient transfer decoders (never fail; junk is skipped or kept as RFC 2045 advises).
std::string decode_base64(std::string_view in);
std::string decode_quoted_printable(std::string_view in);

}  // namespace tern::mime
