#include "imap/proto/fetch_items.h"

#include <utility>

#include "base/strings.h"
#include "imap/proto/writer.h"

namespace tern::imap::proto {
namespace {

using Kind = FetchAttr::Kind;
constexpr std::size_t kMaxPartDepth = 100;

// section-part = nz-number *("." nz-number). Reads from s at pos, stopping before a "."
// that is not followed by a digit. False when a number is invalid.
bool read_part(std::string_view s, std::size_t& pos, std::vector<std::uint32_t>& part) {
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
    std::size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    auto n = parse_decimal(s.substr(start, pos - start), UINT32_MAX);
    if (!n || *n == 0 || part.size() == kMaxPartDepth) return false;
    part.push_back(static_cast<std::uint32_t>(*n));
    if (pos + 1 < s.size() && s[pos] == '.' && s[pos + 1] >= '0' && s[pos + 1] <= '9') {
      ++pos;
    } else {
      break;
    }
  }
  return true;
}

// header-list = "(" header-fld-name *(SP header-fld-name) ")"; names are astrings.
bool read_header_list(std::string_view s, std::vector<std::string>& fields) {
  if (s.size() < 2 || s.front() != '(' || s.back() != ')') return false;
  s = s.substr(1, s.size() - 2);
  std::size_t pos = 0;
  for (;;) {
    std::string name;
    if (pos < s.size() && s[pos] == '"') {
      ++pos;
      for (;;) {
        if (pos == s.size()) return false;
        char c = s[pos++];
        if (c == '"') break;
        if (c == '\\') {
          if (pos == s.size()) return false;
          c = s[pos++];
        }
        name.push_back(c);
      }
    } else {
      std::size_t start = pos;
      while (pos < s.size() && is_astring_char(s[pos])) ++pos;
      name = s.substr(start, pos - start);
    }
    if (!is_header_field_name(name)) return false;
    fields.push_back(std::move(name));
    if (pos == s.size()) return true;
    if (s[pos] != ' ') return false;
    ++pos;
  }
}

// partial = "<" number64 "." nz-number64 ">"
std::optional<Partial> parse_partial(std::string_view s) {
  if (s.size() < 5 || s.front() != '<' || s.back() != '>') return std::nullopt;
  s = s.substr(1, s.size() - 2);
  auto dot = s.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto origin = parse_decimal(s.substr(0, dot), kMaxNumber64);
  auto count = parse_decimal(s.substr(dot + 1), kMaxNumber64);
  if (!origin || !count || *count == 0) return std::nullopt;
  return Partial{*origin, *count};
}

void append_part(std::string& out, const std::vector<std::uint32_t>& part) {
  for (std::size_t i = 0; i < part.size(); ++i) {
    if (i > 0) out.push_back('.');
    out += std::to_string(part[i]);
  }
}

}  // namespace

std::optional<mime::Section> parse_section_spec(std::string_view spec) {
  mime::Section s;
  std::size_t pos = 0;
  if (!read_part(spec, pos, s.part)) return std::nullopt;
  if (pos == spec.size()) return s;
  if (!s.part.empty()) {
    if (spec[pos] != '.') return std::nullopt;
    ++pos;
  }
  std::string_view rest = spec.substr(pos);
  std::string_view word = rest.substr(0, rest.find(' '));
  std::string_view list = word.size() < rest.size() ? rest.substr(word.size() + 1) : std::string_view();
  const bool has_list = word.size() < rest.size();
  if (iequals(word, "HEADER")) {
    s.kind = mime::Section::Kind::kHeader;
  } else if (iequals(word, "TEXT")) {
    s.kind = mime::Section::Kind::kText;
  } else if (iequals(word, "MIME") && !s.part.empty()) {  // section-text only after a part
    s.kind = mime::Section::Kind::kMime;
  } else if (iequals(word, "HEADER.FIELDS")) {
    s.kind = mime::Section::Kind::kHeaderFields;
  } else if (iequals(word, "HEADER.FIELDS.NOT")) {
    s.kind = mime::Section::Kind::kHeaderFieldsNot;
  } else {
    return std::nullopt;
  }
  const bool wants_list =
      s.kind == mime::Section::Kind::kHeaderFields || s.kind == mime::Section::Kind::kHeaderFieldsNot;
  if (wants_list != has_list) return std::nullopt;
  if (wants_list && !read_header_list(list, s.fields)) return std::nullopt;
  return s;
}

tl::expected<FetchAttr, std::string> parse_fetch_att(std::string_view atom) {
  auto unknown = [&] { return tl::unexpected("Unknown FETCH attribute " + echo(atom)); };
  FetchAttr a;
  const std::size_t open = atom.find('[');
  const std::string name = ascii_upper(atom.substr(0, open));
  if (open == std::string_view::npos) {
    static constexpr std::pair<std::string_view, Kind> kSimple[] = {
        {"FLAGS", Kind::kFlags},           {"INTERNALDATE", Kind::kInternalDate},
        {"RFC822.SIZE", Kind::kRfc822Size}, {"ENVELOPE", Kind::kEnvelope},
        {"BODY", Kind::kBody},             {"BODYSTRUCTURE", Kind::kBodyStructure},
        {"UID", Kind::kUid},               {"MODSEQ", Kind::kModSeq},
        {"RFC822", Kind::kRfc822},         {"RFC822.HEADER", Kind::kRfc822Header},
        {"RFC822.TEXT", Kind::kRfc822Text},
    };
    for (const auto& [n, k] : kSimple) {
      if (name == n) {
        a.kind = k;
        return a;
      }
    }
    return unknown();
  }
  if (name == "BODY" || name == "BODY.PEEK") {
    a.kind = Kind::kBodySection;
  } else if (name == "BINARY" || name == "BINARY.PEEK") {
    a.kind = Kind::kBinary;
  } else if (name == "BINARY.SIZE") {
    a.kind = Kind::kBinarySize;
  } else {
    return unknown();
  }
  a.peek = name.ends_with(".PEEK");
  const std::size_t close = atom.find(']', open);
  if (close == std::string_view::npos) return tl::unexpected(std::string("Invalid section: missing ]"));
  const std::string_view spec = atom.substr(open + 1, close - open - 1);
  const std::string_view tail = atom.substr(close + 1);
  if (a.kind == Kind::kBodySection) {
    auto section = parse_section_spec(spec);
    if (!section) return tl::unexpected("Invalid section " + echo(spec));
    a.section = std::move(*section);
  } else {
    // section-binary = "[" [section-part] "]"
    std::size_t pos = 0;
    if (!read_part(spec, pos, a.section.part) || pos != spec.size()) {
      return tl::unexpected("Invalid BINARY section " + echo(spec));
    }
  }
  if (!tail.empty()) {
    auto partial = a.kind == Kind::kBinarySize ? std::nullopt : parse_partial(tail);
    if (!partial) return tl::unexpected("Invalid partial " + echo(tail));
    a.partial = *partial;
  }
  return a;
}

std::vector<FetchAttr> read_fetch_atts(ArgReader& r) {
  std::vector<FetchAttr> out;
  auto add = [&](const Arg& arg) {
    if (arg.kind != Arg::Kind::kAtom) return r.fail("Invalid FETCH attribute");
    auto att = parse_fetch_att(arg.value);
    if (!att) return r.fail(std::move(att.error()));
    out.push_back(std::move(*att));
    return true;
  };
  if (r.peek_list()) {
    ArgReader list = r.list("FETCH attributes");
    if (list.at_end() && !r.failed()) r.fail("Empty FETCH attribute list");
    while (!list.at_end()) add(*list.next("FETCH attribute"));
    return out;
  }
  Arg* arg = r.next("FETCH attributes");
  if (arg == nullptr) return out;
  // RFC 9051 6.4.5 macros.
  const bool all = arg->kind == Arg::Kind::kAtom && iequals(arg->value, "ALL");
  const bool fast = arg->kind == Arg::Kind::kAtom && iequals(arg->value, "FAST");
  const bool full = arg->kind == Arg::Kind::kAtom && iequals(arg->value, "FULL");
  if (all || fast || full) {
    for (Kind k : {Kind::kFlags, Kind::kInternalDate, Kind::kRfc822Size}) out.push_back(FetchAttr{k, false, {}, {}});
    if (!fast) out.push_back(FetchAttr{Kind::kEnvelope, false, {}, {}});
    if (full) out.push_back(FetchAttr{Kind::kBody, false, {}, {}});
    return out;
  }
  add(*arg);
  return out;
}

std::string fetch_att_name(const FetchAttr& a) {
  switch (a.kind) {
    case Kind::kFlags: return "FLAGS";
    case Kind::kInternalDate: return "INTERNALDATE";
    case Kind::kRfc822Size: return "RFC822.SIZE";
    case Kind::kEnvelope: return "ENVELOPE";
    case Kind::kBody: return "BODY";
    case Kind::kBodyStructure: return "BODYSTRUCTURE";
    case Kind::kUid: return "UID";
    case Kind::kModSeq: return "MODSEQ";
    case Kind::kRfc822: return "RFC822";
    case Kind::kRfc822Header: return "RFC822.HEADER";
    case Kind::kRfc822Text: return "RFC822.TEXT";
    case Kind::kBodySection:
    case Kind::kBinary:
    case Kind::kBinarySize:
      break;
  }
  std::string out = a.kind == Kind::kBodySection ? "BODY[" : a.kind == Kind::kBinary ? "BINARY[" : "BINARY.SIZE[";
  append_part(out, a.section.part);
  if (a.kind == Kind::kBodySection && a.section.kind != mime::Section::Kind::kAll) {
    if (!a.section.part.empty()) out.push_back('.');
    switch (a.section.kind) {
      case mime::Section::Kind::kAll: break;
      case mime::Section::Kind::kHeader: out += "HEADER"; break;
      case mime::Section::Kind::kHeaderFields: out += "HEADER.FIELDS"; break;
      case mime::Section::Kind::kHeaderFieldsNot: out += "HEADER.FIELDS.NOT"; break;
      case mime::Section::Kind::kText: out += "TEXT"; break;
      case mime::Section::Kind::kMime: out += "MIME"; break;
    }
    if (!a.section.fields.empty()) {
      out += " (";
      for (std::size_t i = 0; i < a.section.fields.size(); ++i) {
        if (i > 0) out.push_back(' ');
        append_astring(out, a.section.fields[i]);
      }
      out.push_back(')');
    }
  }
  out.push_back(']');
  if (a.partial) out += "<" + std::to_string(a.partial->origin) + ">";
  return out;
}

}  // namespace tern::imap::proto
