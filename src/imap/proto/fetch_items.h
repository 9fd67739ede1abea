// imap/proto/fetch_items.h: FETCH attributes (RFC 9051 6.4.5 and 9 "fetch-att", RFC 3516
// BINARY, RFC 7162 MODSEQ) parsed from the client's atoms, and their names in responses.
//
// Sections are mime::Section (mime/imap_view.h), so a session hands attr.section straight
// to mime::extract() / mime::binary(); the partial <origin.count> is kept beside it.
// Section keywords are case-insensitive; HEADER.FIELDS names keep the client's case
// (Apple Mail and Outlook send "From", Thunderbird "FROM"), and are echoed as sent.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "imap/proto/args.h"
#include "mime/imap_view.h"

namespace tern::imap::proto {

// <origin.count> (RFC 9051 6.4.5): count octets from origin.
struct Partial {
  std::uint64_t origin = 0;
  std::uint64_t count = 0;  // >= 1
  friend bool operator==(const Partial&, const Partial&) = default;
};

struct FetchAttr {
  enum class Kind {
    kFlags,
    kInternalDate,
    kRfc822Size,
    kEnvelope,
    kBody,           // BODY without a section: the non-extensible BODYSTRUCTURE
    kBodyStructure,
    kUid,
    kModSeq,         // RFC 7162
    kRfc822,         // the whole message; sets \Seen (like BODY[])
    kRfc822Header,   // like BODY.PEEK[HEADER]
    kRfc822Text,     // like BODY[TEXT]; sets \Seen
    kBodySection,    // BODY[section]<partial> / BODY.PEEK[...]
    kBinary,         // BINARY[part]<partial> / BINARY.PEEK[...] (section.part only)
    kBinarySize,     // BINARY.SIZE[part] (section.part only)
  };
  Kind kind = Kind::kFlags;
  bool peek = false;              // BODY.PEEK / BINARY.PEEK: do not set \Seen
  mime::Section section;          // kBodySection, kBinary, kBinarySize
  std::optional<Partial> partial; // kBodySection, kBinary

  friend bool operator==(const FetchAttr& a, const FetchAttr& b) {
    return a.kind == b.kind && a.peek == b.peek && a.section.part == b.section.part &&
           a.section.kind == b.section.kind && a.section.fields == b.section.fields && a.partial == b.partial;
  }
};

// One fetch-att atom: "FLAGS", "body.peek[1.HEADER.FIELDS (From To)]<0.100>", ... Macros
// (ALL, FAST, FULL) are not attributes. Errors are BAD texts ("Unknown FETCH attribute X",
// "Invalid section ...").
tl::expected<FetchAttr, std::string> parse_fetch_att(std::string_view atom);

// The text between the brackets of BODY[...]: "", "1.2", "HEADER", "1.TEXT", "2.MIME",
// "HEADER.FIELDS (From \"To\")". nullopt when invalid.
std::optional<mime::Section> parse_section_spec(std::string_view spec);

// The FETCH items argument: a macro (ALL, FAST, FULL, expanded), one attribute, or a
// parenthesized list of attributes. Reads one argument.
std::vector<FetchAttr> read_fetch_atts(ArgReader& r);

// The attribute's name in a FETCH response: "FLAGS", "BODY[1.HEADER.FIELDS (From To)]<0>"
// (BODY.PEEK answers as BODY; a partial shows only its origin, RFC 9051 7.5.2),
// "BINARY[1]", "BINARY.SIZE[2.1]", "RFC822.HEADER".
std::string fetch_att_name(const FetchAttr& attr);

}  // namespace tern::imap::proto
