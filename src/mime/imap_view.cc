// mime/imap_view.cc: ENVELOPE, BODYSTRUCTURE and sections (see imap_view.h).
#include "mime/imap_view.h"

#include <charconv>

#include "base/strings.h"

namespace tern::mime {
namespace {

bool is_quotable(std::string_view s) {
  if (s.size() > 1024) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) return false;
  }
  return true;
}

std::string params_list(const std::vector<Param>& params) {
  if (params.empty()) return "NIL";
  std::string out = "(";
  bool first = true;
  for (const auto& p : params) {
    if (!first) out += ' ';
    first = false;
    if (is_quotable(p.value)) {
      out += imap_string(p.name) + ' ' + imap_string(p.value);
    } else {
      // RFC 2231 form keeps non-ASCII values 7-bit.
      std::string enc = "utf-8''";
      static constexpr char kHex[] = "0123456789ABCDEF";
      for (char c : p.value) {
        const auto u = static_cast<unsigned char>(c);
        if (u > 0x20 && u < 0x7f && c != '%' && c != '\'' && c != '"' && c != '\\' && c != '*') {
          enc.push_back(c);
        } else {
          enc.push_back('%');
          enc.push_back(kHex[u >> 4]);
          enc.push_back(kHex[u & 15]);
        }
      }
      out += imap_string(p.name + "*") + ' ' + imap_string(enc);
    }
  }
  return out + ")";
}

std::string address_list(const HeaderField* f) {
  if (f == nullptr) return "NIL";
  const auto addrs = parse_address_list(unfold(f->value));
  if (addrs.empty()) return "NIL";
  std::string out = "(";
  for (const auto& a : addrs) {
    switch (a.kind) {
      case Address::Kind::kGroupStart:
        out += "(NIL NIL " + imap_string(a.mailbox) + " NIL)";
        break;
      case Address::Kind::kGroupEnd:
        out += "(NIL NIL NIL NIL)";
        break;
      case Address::Kind::kMailbox:
        out += '(' + imap_nstring(a.name) + ' ' + imap_nstring(a.route) + ' ' + imap_string(a.mailbox) + ' ' +
               imap_string(a.host) + ')';
        break;
    }
  }
  return out + ")";
}

std::string field_nstring(const std::vector<HeaderField>& fields, std::string_view name) {
  const HeaderField* f = find_field(fields, name);
  return f ? imap_nstring(unfold(f->value)) : "NIL";
}

constexpr std::string_view kEmptyEnvelope = "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)";
constexpr std::string_view kEmptyBody =
    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)";

void append_structure(const Message& msg, std::uint32_t index, bool ext, std::string& out) {
  const Part& p = msg.parts[index];
  out += '(';
  if (p.is_multipart()) {
    if (p.children.empty()) out += kEmptyBody;
    for (auto c : p.children) append_structure(msg, c, ext, out);
    out += ' ' + imap_string(p.subtype);
    if (ext) out += ' ' + params_list(p.params);
  } else {
    out += imap_string(p.type) + ' ' + imap_string(p.subtype) + ' ' + params_list(p.params) + ' ' +
           imap_nstring(p.id) + ' ' + imap_nstring(p.description) + ' ' + imap_string(p.encoding) + ' ' +
           std::to_string(p.body_size());
    if (p.type == "text") {
      out += ' ' + std::to_string(p.body_lines);
    } else if (p.type == "message" && (p.subtype == "rfc822" || p.subtype == "global")) {
      if (p.is_message()) {
        const Part& child = msg.parts[p.children[0]];
        out += ' ' + (child.envelope.empty() ? std::string(kEmptyEnvelope) : child.envelope) + ' ';
        append_structure(msg, p.children[0], ext, out);
      } else {
        out += ' ' + std::string(kEmptyEnvelope) + ' ' + std::string(kEmptyBody);
      }
      out += ' ' + std::to_string(p.body_lines);
    }
    if (ext) out += ' ' + imap_nstring(p.md5);
  }
  if (ext) {
    if (p.disposition.empty())
      out += " NIL";
    else
      out += " (" + imap_string(p.disposition) + ' ' + params_list(p.disposition_params) + ')';
    if (p.language.empty()) {
      out += " NIL";
    } else if (p.language.size() == 1) {
      out += ' ' + imap_string(p.language[0]);
    } else {
      out += " (";
      for (std::size_t i = 0; i < p.language.size(); ++i) out += (i ? " " : "") + imap_string(p.language[i]);
      out += ')';
    }
    out += ' ' + imap_nstring(p.location);
  }
  out += ')';
}

Result<std::uint32_t> message_container(const Message& msg, const std::vector<std::uint32_t>& path) {
  if (path.empty()) return 0u;
  auto node = resolve(msg, path);
  if (!node) return node;
  const Part& p = msg.parts[*node];
  if (!p.is_message()) return make_error(ErrorCode::kInvalid, "part is not a message/rfc822");
  return p.children[0];
}

}  // namespace

std::string imap_string(std::string_view s) {
  std::string out;
  if (is_quotable(s)) {
    out.reserve(s.size() + 2);
    out += '"';
    for (char c : s) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
    return out;
  }
  std::string body;
  body.reserve(s.size());
  for (char c : s)
    if (c != '\0') body += c;
  return '{' + std::to_string(body.size()) + "}\r\n" + body;
}

std::string imap_nstring(std::string_view s) { return s.empty() ? std::string("NIL") : imap_string(s); }

std::string build_envelope(const std::vector<HeaderField>& fields) {
  const HeaderField* from = find_field(fields, "From");
  const HeaderField* sender = find_field(fields, "Sender");
  const HeaderField* reply_to = find_field(fields, "Reply-To");
  const std::string from_list = address_list(from);
  std::string sender_list = address_list(sender);
  std::string reply_list = address_list(reply_to);
  if (sender_list == "NIL") sender_list = from_list;  // RFC 9051 7.5.2
  if (reply_list == "NIL") reply_list = from_list;
  return '(' + field_nstring(fields, "Date") + ' ' + field_nstring(fields, "Subject") + ' ' + from_list +
         ' ' + sender_list + ' ' + reply_list + ' ' + address_list(find_field(fields, "To")) + ' ' +
         address_list(find_field(fields, "Cc")) + ' ' + address_list(find_field(fields, "Bcc")) + ' ' +
         field_nstring(fields, "In-Reply-To") + ' ' + field_nstring(fields, "Message-ID") + ')';
}

std::string envelope(const Message& msg) {
  if (msg.parts.empty() || msg.parts[0].envelope.empty()) return std::string(kEmptyEnvelope);
  return msg.parts[0].envelope;
}

std::string body_structure(const Message& msg, bool extended) {
  if (msg.parts.empty()) return std::string(kEmptyBody);
  std::string out;
  append_structure(msg, 0, extended, out);
  return out;
}

Result<std::uint32_t> resolve(const Message& msg, const std::vector<std::uint32_t>& path) {
  if (msg.parts.empty()) return make_error(ErrorCode::kNotFound, "empty message");
  std::int64_t node = -1;  // -1: the virtual message/rfc822 holding the root
  for (std::uint32_t n : path) {
    std::int64_t container = -2;
    if (node == -1)
      container = 0;
    else if (msg.parts[static_cast<std::size_t>(node)].is_message())
      container = msg.parts[static_cast<std::size_t>(node)].children[0];
    const Part& cur = msg.parts[static_cast<std::size_t>(container >= 0 ? container : node)];
    if (n == 0) return make_error(ErrorCode::kInvalid, "part number 0");
    if (cur.is_multipart()) {
      if (n > cur.children.size()) return make_error(ErrorCode::kNotFound, "no such part");
      node = cur.children[n - 1];
    } else if (container >= 0 && n == 1) {
      node = container;
    } else {
      return make_error(ErrorCode::kNotFound, "no such part");
    }
  }
  return static_cast<std::uint32_t>(node < 0 ? 0 : node);
}

Result<Section> parse_section(std::string_view spec) {
  Section s;
  std::size_t i = 0;
  while (i < spec.size() && spec[i] >= '0' && spec[i] <= '9') {
    std::uint32_t n = 0;
    auto [ptr, ec] = std::from_chars(spec.data() + i, spec.data() + spec.size(), n);
    if (ec != std::errc() || n == 0) return make_error(ErrorCode::kInvalid, "bad part number");
    s.part.push_back(n);
    i = static_cast<std::size_t>(ptr - spec.data());
    if (i < spec.size() && spec[i] == '.')
      ++i;
    else
      break;
    if (s.part.size() > kMaxDepth * 2) return make_error(ErrorCode::kInvalid, "section too deep");
  }
  std::string_view rest = spec.substr(i);
  if (!s.part.empty() && i < spec.size() && spec[i - 1] != '.')
    return make_error(ErrorCode::kInvalid, "bad section");
  if (rest.empty()) {
    if (!spec.empty() && spec.back() == '.') return make_error(ErrorCode::kInvalid, "bad section");
    return s;
  }
  auto word = rest;
  auto sp = rest.find(' ');
  if (sp != std::string_view::npos) word = rest.substr(0, sp);
  if (iequals(word, "HEADER"))
    s.kind = Section::Kind::kHeader;
  else if (iequals(word, "TEXT"))
    s.kind = Section::Kind::kText;
  else if (iequals(word, "MIME"))
    s.kind = Section::Kind::kMime;
  else if (iequals(word, "HEADER.FIELDS"))
    s.kind = Section::Kind::kHeaderFields;
  else if (iequals(word, "HEADER.FIELDS.NOT"))
    s.kind = Section::Kind::kHeaderFieldsNot;
  else
    return make_error(ErrorCode::kInvalid, "unknown section text");
  if (s.kind == Section::Kind::kMime && s.part.empty())
    return make_error(ErrorCode::kInvalid, "MIME needs a part");
  const bool wants_list = s.kind == Section::Kind::kHeaderFields || s.kind == Section::Kind::kHeaderFieldsNot;
  if (!wants_list) {
    if (sp != std::string_view::npos) return make_error(ErrorCode::kInvalid, "junk after section");
    return s;
  }
  std::string_view list = sp == std::string_view::npos ? std::string_view() : trim(rest.substr(sp + 1));
  if (list.size() < 2 || list.front() != '(' || list.back() != ')')
    return make_error(ErrorCode::kInvalid, "header list expected");
  for (auto f : split(list.substr(1, list.size() - 2), ' ')) {
    f = trim(f);
    if (f.size() >= 2 && f.front() == '"' && f.back() == '"') f = f.substr(1, f.size() - 2);
    if (!f.empty()) s.fields.emplace_back(f);
  }
  if (s.fields.empty()) return make_error(ErrorCode::kInvalid, "empty header list");
  return s;
}

Result<std::string> extract(const Message& msg, std::string_view bytes, const Section& section) {
  auto slice = [&](std::uint64_t b, std::uint64_t e) {
    if (b > bytes.size()) b = bytes.size();
    if (e > bytes.size()) e = bytes.size();
    return std::string(bytes.substr(b, e > b ? e - b : 0));
  };
  switch (section.kind) {
    case Section::Kind::kAll: {
      if (section.part.empty()) return std::string(bytes);
      auto node = resolve(msg, section.part);
      if (!node) return tl::unexpected(node.error());
      return slice(msg.parts[*node].body_begin, msg.parts[*node].body_end);
    }
    case Section::Kind::kMime: {
      auto node = resolve(msg, section.part);
      if (!node) return tl::unexpected(node.error());
      return slice(msg.parts[*node].header_begin, msg.parts[*node].body_begin);
    }
    default:
      break;
  }
  auto c = message_container(msg, section.part);
  if (!c) return tl::unexpected(c.error());
  const Part& p = msg.parts[*c];
  if (section.kind == Section::Kind::kHeader) return slice(p.header_begin, p.body_begin);
  if (section.kind == Section::Kind::kText) return slice(p.body_begin, p.body_end);
  const std::string header = slice(p.header_begin, p.body_begin);
  const HeaderBlock hb = parse_header_block(header);
  const bool keep = section.kind == Section::Kind::kHeaderFields;
  std::string out;
  for (const auto& f : hb.fields) {
    bool listed = false;
    for (const auto& name : section.fields)
      if (iequals(f.name, name)) {
        listed = true;
        break;
      }
    if (listed == keep) {
      out += f.raw;
      if (out.back() != '\n') out += "\r\n";
    }
  }
  out += "\r\n";
  return out;
}

std::string_view partial(std::string_view data, std::uint64_t origin, std::optional<std::uint64_t> count) {
  if (origin >= data.size()) return {};
  data.remove_prefix(static_cast<std::size_t>(origin));
  if (count && *count < data.size()) data = data.substr(0, static_cast<std::size_t>(*count));
  return data;
}

std::string decoded_body(const Part& part, std::string_view bytes) {
  const std::uint64_t b = std::min<std::uint64_t>(part.body_begin, bytes.size());
  const std::uint64_t e = std::min<std::uint64_t>(part.body_end, bytes.size());
  const std::string_view body = bytes.substr(b, e > b ? e - b : 0);
  if (part.encoding == "base64") return decode_base64(body);
  if (part.encoding == "quoted-printable") return decode_quoted_printable(body);
  return std::string(body);
}

Result<std::string> binary(const Message& msg, std::string_view bytes,
                           const std::vector<std::uint32_t>& path) {
  auto node = resolve(msg, path);
  if (!node) return tl::unexpected(node.error());
  const Part& p = msg.parts[*node];
  if (path.empty()) return std::string(bytes);
  const std::string& e = p.encoding;
  if (e != "7bit" && e != "8bit" && e != "binary" && e != "base64" && e != "quoted-printable")
    return make_error(ErrorCode::kInvalid, "UNKNOWN-CTE");
  return decoded_body(p, bytes);
}

Result<std::uint64_t> binary_size(const Message& msg, std::string_view bytes,
                                  const std::vector<std::uint32_t>& part) {
  auto content = binary(msg, bytes, part);
  if (!content) return tl::unexpected(content.error());
  return static_cast<std::uint64_t>(content->size());
}

}  // namespace tern::mime
