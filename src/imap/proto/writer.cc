#include "imap/proto/writer.h"

#include "base/assert.h"
#include "base/strings.h"
#include "imap/proto/args.h"
#include "imap/proto/datetime.h"
#include "imap/proto/mutf7.h"

namespace tern::imap::proto {
namespace {

void append_literal_prefix(std::string& out, std::uint64_t size, bool binary) {
  if (binary) out.push_back('~');
  out.push_back('{');
  out += std::to_string(size);
  out += "}\r\n";
}

}  // namespace

bool is_quotable(std::string_view s, bool utf8) {
  if (s.size() > kMaxQuoted) return false;
  bool eight_bit = false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      eight_bit = true;
    } else if (u < 0x20 || u == 0x7f) {
      return false;
    }
  }
  return !eight_bit || (utf8 && is_valid_utf8(s));
}

void append_quoted(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

void append_literal(std::string& out, std::string_view s) {
  append_literal_prefix(out, s.size(), false);
  out += s;
}

void append_literal8(std::string& out, std::string_view s) {
  append_literal_prefix(out, s.size(), true);
  out += s;
}

void append_string(std::string& out, std::string_view s, bool utf8) {
  if (is_quotable(s, utf8)) {
    append_quoted(out, s);
  } else {
    append_literal(out, s);
  }
}

void append_astring(std::string& out, std::string_view s, bool utf8) {
  // "[" is an ATOM-CHAR, but receivers (ours, and clients' response parsers) read a
  // bracketed part specially ("BODY[...]", "[ALERT]"): quote it.
  bool atom = !s.empty() && !iequals(s, "NIL");
  for (char c : s) atom = atom && is_astring_char(c) && c != '[';
  if (atom) {
    out += s;
  } else {
    append_string(out, s, utf8);
  }
}

void append_nstring(std::string& out, std::optional<std::string_view> s, bool utf8) {
  if (!s) {
    out += "NIL";
  } else {
    append_string(out, *s, utf8);
  }
}

void append_mailbox(std::string& out, std::string_view name, bool utf8) {
  if (utf8) {
    append_string(out, name, true);
  } else {
    append_string(out, mutf7_encode(name), false);
  }
}

void append_flags(std::string& out, std::uint32_t system, const std::vector<std::string>& keywords, bool recent) {
  static constexpr std::pair<std::uint32_t, std::string_view> kSystem[] = {
      {kFlagSeen, "\\Seen"}, {kFlagAnswered, "\\Answered"}, {kFlagFlagged, "\\Flagged"},
      {kFlagDeleted, "\\Deleted"}, {kFlagDraft, "\\Draft"}};
  out.push_back('(');
  bool first = true;
  auto add = [&](std::string_view flag) {
    if (!first) out.push_back(' ');
    first = false;
    out += flag;
  };
  for (const auto& [bit, name] : kSystem) {
    if (system & bit) add(name);
  }
  if (recent) add("\\Recent");
  for (const auto& k : keywords) add(k);
  out.push_back(')');
}

void append_date_time(std::string& out, std::int64_t unix_time, int zone_minutes) {
  out.push_back('"');
  out += format_date_time(unix_time, zone_minutes);
  out.push_back('"');
}

void append_list(std::string& out, const std::vector<std::string>& items) {
  out.push_back('(');
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back(' ');
    out += items[i];
  }
  out.push_back(')');
}

FetchResponse::FetchResponse(std::uint32_t seq) {
  out_ = "* ";
  out_ += std::to_string(seq);
  out_ += " FETCH (";
}

void FetchResponse::item(std::string_view name) {
  TERN_ASSERT(!finished_);
  if (!first_) out_.push_back(' ');
  first_ = false;
  out_ += name;
  out_.push_back(' ');
}

void FetchResponse::add(std::string_view name, std::string_view value) {
  item(name);
  out_ += value;
}

void FetchResponse::add_number(std::string_view name, std::uint64_t value) {
  item(name);
  out_ += std::to_string(value);
}

void FetchResponse::add_modseq(std::uint64_t modseq) {
  item("MODSEQ");
  out_.push_back('(');
  out_ += std::to_string(modseq);
  out_.push_back(')');
}

void FetchResponse::add_flags(std::uint32_t system, const std::vector<std::string>& keywords, bool recent) {
  item("FLAGS");
  append_flags(out_, system, keywords, recent);
}

void FetchResponse::add_internal_date(std::int64_t unix_time, int zone_minutes) {
  item("INTERNALDATE");
  append_date_time(out_, unix_time, zone_minutes);
}

void FetchResponse::add_data(std::string_view name, std::string_view data, bool binary) {
  item(name);
  if (binary && data.find('\0') != std::string_view::npos) {
    append_literal8(out_, data);
  } else {
    append_string(out_, data);
  }
}

void FetchResponse::add_nil(std::string_view name) {
  item(name);
  out_ += "NIL";
}

void FetchResponse::add_literal_header(std::string_view name, std::uint64_t size, bool binary) {
  item(name);
  append_literal_prefix(out_, size, binary);
}

void FetchResponse::finish() {
  TERN_ASSERT(!finished_);
  out_ += ")\r\n";
  finished_ = true;
}

std::string FetchResponse::take() {
  std::string s = std::move(out_);
  out_.clear();
  return s;
}

}  // namespace tern::imap::proto
