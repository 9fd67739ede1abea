#include "imap/proto/args.h"

#include <utility>

#include "base/strings.h"
#include "imap/proto/mutf7.h"

namespace tern::imap::proto {
namespace {

bool is_8bit(char c) { return static_cast<unsigned char>(c) >= 0x80; }

// The name a client gave, converted to UTF-8 or refused (with a reason in error).
std::optional<std::string> decode_name(std::string value, bool utf8) {
  if (utf8) {
    if (!is_valid_utf8(value) || value.find('\0') != std::string::npos) return std::nullopt;
    return value;
  }
  return mutf7_decode(value);
}

}  // namespace

bool is_atom_char(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7f) return false;
  switch (c) {
    case '(': case ')': case '{': case '%': case '*': case '"': case '\\': case ']':
      return false;
    default:
      return true;
  }
}

bool is_astring_char(char c) { return is_atom_char(c) || c == ']'; }

bool is_list_char(char c) { return is_atom_char(c) || c == '%' || c == '*' || c == ']'; }

bool is_atom(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_atom_char(c)) return false;
  }
  return true;
}

bool is_header_field_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < 33 || c > 126 || c == ':') return false;
  }
  return true;
}

std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string echo(std::string_view token) {
  std::string out;
  for (char c : token.substr(0, 40)) {
    auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
  }
  if (token.size() > 40) out += "...";
  return out;
}

std::optional<std::uint64_t> parse_decimal(std::string_view s, std::uint64_t max) {
  if (s.empty()) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    auto d = static_cast<std::uint64_t>(c - '0');
    if (n > (max - d) / 10) return std::nullopt;
    n = n * 10 + d;
  }
  return n;
}

bool add_flag(Flags& flags, std::string_view text, std::string& error) {
  if (!text.empty() && text[0] == '\\') {
    static constexpr std::pair<std::string_view, std::uint32_t> kSystem[] = {
        {"\\Seen", kFlagSeen}, {"\\Answered", kFlagAnswered}, {"\\Flagged", kFlagFlagged},
        {"\\Deleted", kFlagDeleted}, {"\\Draft", kFlagDraft}};
    for (const auto& [name, bit] : kSystem) {
      if (iequals(text, name)) {
        flags.system |= bit;
        return true;
      }
    }
    if (iequals(text, "\\Recent")) {
      error = "\\Recent cannot be set by a client";
    } else {
      error = "Invalid system flag " + echo(text);
    }
    return false;
  }
  // flag-keyword = "$MDNSent" / "$Forwarded" / ... / atom
  if (!is_atom(text)) {
    error = "Invalid flag " + echo(text);
    return false;
  }
  for (const auto& k : flags.keywords) {
    if (iequals(k, text)) return true;
  }
  flags.keywords.emplace_back(text);
  return true;
}

bool ArgReader::fail(std::string message) {
  if (error_.empty()) error_ = std::move(message);
  return false;
}

bool ArgReader::peek_atom(std::string_view word) {
  Arg* a = peek();
  return a != nullptr && a->kind == Arg::Kind::kAtom && iequals(a->value, word);
}

bool ArgReader::accept_atom(std::string_view word) {
  if (!peek_atom(word)) return false;
  ++pos_;
  return true;
}

Arg* ArgReader::next(std::string_view what) {
  if (failed()) return nullptr;
  if (pos_ == args_.size()) {
    fail("Missing " + std::string(what));
    return nullptr;
  }
  return &args_[pos_++];
}

void ArgReader::end() {
  if (at_end()) return;
  const Arg& a = args_[pos_];
  if (a.kind == Arg::Kind::kAtom) {
    fail("Unexpected argument " + echo(a.value));
  } else {
    fail("Unexpected extra argument");
  }
}

ArgReader ArgReader::list(std::string_view what) {
  Arg* a = next(what);
  if (a != nullptr && a->kind == Arg::Kind::kList) return ArgReader(a->children, error_);
  if (a != nullptr) fail("Expected a parenthesized " + std::string(what));
  ArgReader none(args_, error_);
  none.pos_ = args_.size();
  return none;
}

std::string ArgReader::atom_upper(std::string_view what) {
  Arg* a = next(what);
  if (a == nullptr) return {};
  if (a->kind != Arg::Kind::kAtom) {
    fail("Expected " + std::string(what));
    return {};
  }
  return ascii_upper(a->value);
}

std::string ArgReader::astring(std::string_view what) {
  Arg* a = next(what);
  if (a == nullptr) return {};
  if (!a->is_string()) {
    fail("Expected a string for " + std::string(what));
    return {};
  }
  if (a->kind == Arg::Kind::kAtom) {
    for (char c : a->value) {
      if (!is_astring_char(c) && !is_8bit(c)) {
        fail("Invalid character in " + std::string(what) + " " + echo(a->value));
        return {};
      }
    }
  }
  return std::move(a->value);
}

std::string ArgReader::string(std::string_view what) {
  Arg* a = next(what);
  if (a == nullptr) return {};
  if (a->kind != Arg::Kind::kQuoted && a->kind != Arg::Kind::kLiteral) {
    fail("Expected a quoted string or literal for " + std::string(what));
    return {};
  }
  return std::move(a->value);
}

std::optional<std::string> ArgReader::nstring(std::string_view what) {
  if (accept_atom("NIL")) return std::nullopt;
  return string(what);
}

std::string ArgReader::mailbox(bool utf8) {
  std::string raw = astring("mailbox name");
  if (failed()) return {};
  auto name = decode_name(std::move(raw), utf8);
  if (!name) {
    fail(utf8 ? "Mailbox name is not valid UTF-8" : "Mailbox name is not valid modified UTF-7");
    return {};
  }
  // RFC 9051 5.1: INBOX is case-insensitive.
  if (iequals(*name, "INBOX")) return "INBOX";
  return std::move(*name);
}

std::string ArgReader::list_mailbox(bool utf8, std::string_view what) {
  Arg* a = next(what);
  if (a == nullptr) return {};
  if (!a->is_string()) {
    fail("Expected a string for " + std::string(what));
    return {};
  }
  if (a->kind == Arg::Kind::kAtom) {
    for (char c : a->value) {
      if (!is_list_char(c) && !is_8bit(c)) {
        fail("Invalid character in " + std::string(what) + " " + echo(a->value));
        return {};
      }
    }
  }
  auto name = decode_name(std::move(a->value), utf8);
  if (!name) {
    fail(std::string(what) + (utf8 ? " is not valid UTF-8" : " is not valid modified UTF-7"));
    return {};
  }
  return std::move(*name);
}

std::uint32_t ArgReader::number(std::string_view what) {
  Arg* a = next(what);
  if (a == nullptr) return 0;
  auto n = a->kind == Arg::Kind::kAtom ? parse_decimal(a->value, UINT32_MAX) : std::nullopt;
  if (!n) {
    fail("Invalid " + std::string(what));
    return 0;
  }
  return static_cast<std::uint32_t>(*n);
}

std::uint32_t ArgReader::nz_number(std::string_view what) {
  std::uint32_t n = number(what);
  if (!failed() && n == 0) fail("Invalid " + std::string(what));
  return n;
}

std::uint64_t ArgReader::number64(std::string_view what) {
  Arg* a = next(what);
  if (a == nullptr) return 0;
  auto n = a->kind == Arg::Kind::kAtom ? parse_decimal(a->value, kMaxNumber64) : std::nullopt;
  if (!n) {
    fail("Invalid " + std::string(what));
    return 0;
  }
  return *n;
}

SequenceSet ArgReader::sequence_set() {
  Arg* a = next("sequence set");
  if (a == nullptr) return {};
  if (a->kind != Arg::Kind::kAtom) {
    fail("Invalid sequence set");
    return {};
  }
  auto set = SequenceSet::parse(a->value);
  if (!set) {
    fail(std::move(set.error()));
    return {};
  }
  return std::move(*set);
}

Flags ArgReader::flags(bool allow_bare) {
  Flags out;
  auto add_all = [&](ArgReader& r) {
    while (!r.at_end()) {
      Arg* a = r.next("flag");
      if (a->kind != Arg::Kind::kAtom) {
        fail("Invalid flag");
        return;
      }
      std::string error;
      if (!add_flag(out, a->value, error)) {
        fail(std::move(error));
        return;
      }
    }
  };
  if (peek_list()) {
    ArgReader sub = list("flag list");
    add_all(sub);
  } else if (allow_bare) {
    if (at_end()) fail("Missing flags");
    add_all(*this);
  } else {
    fail("Expected a parenthesized flag list");
  }
  return out;
}

}  // namespace tern::imap::proto
