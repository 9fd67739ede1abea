// mime/message.cc: building the MIME tree (see message.h).
#include "mime/message.h"

#include <algorithm>
#include <cstring>

#include "base/strings.h"
#include "mime/imap_view.h"

namespace tern::mime {
namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

struct Parser {
  std::string_view bytes_;
  Message& msg_;

  // Parses the entity at [begin, end) and returns its index.
  std::uint32_t entity(std::size_t begin, std::size_t end, std::size_t depth, bool digest_child,
                       bool is_message_header) {
    const auto index = static_cast<std::uint32_t>(msg_.parts.size());
    msg_.parts.emplace_back();
    const std::string_view span = bytes_.substr(begin, end - begin);
    const HeaderBlock hb = parse_header_block(span);
    Part part;
    part.header_begin = begin;
    part.body_begin = begin + hb.body_offset;
    part.body_end = end;
    part.body_lines = count_lines(span.substr(hb.body_offset));
    if (digest_child) {
      part.type = "message";
      part.subtype = "rfc822";
    }
    bool explicit_type = false;
    if (const HeaderField* f = find_field(hb.fields, "Content-Type")) {
      ParamValue pv = parse_param_value(unfold(f->value));
      const auto slash = pv.value.find('/');
      if (slash != std::string::npos && slash > 0 && slash + 1 < pv.value.size() &&
          pv.value.find('/', slash + 1) == std::string::npos) {
        part.type = pv.value.substr(0, slash);
        part.subtype = pv.value.substr(slash + 1);
        part.params = std::move(pv.params);
        explicit_type = true;
      } else {
        // RFC 2045 5.2: an invalid Content-Type means text/plain; charset=us-ascii.
        part.type = "text";
        part.subtype = "plain";
      }
    }
    if (!explicit_type && part.type == "text") part.params = {Param{"charset", "us-ascii"}};
    if (const HeaderField* f = find_field(hb.fields, "Content-Transfer-Encoding")) {
      std::string enc = ascii_lower(unfold(f->value));
      if (!enc.empty()) part.encoding = std::move(enc);
    }
    if (const HeaderField* f = find_field(hb.fields, "Content-ID")) part.id = unfold(f->value);
    if (const HeaderField* f = find_field(hb.fields, "Content-Description"))
      part.description = unfold(f->value);
    if (const HeaderField* f = find_field(hb.fields, "Content-MD5")) part.md5 = unfold(f->value);
    if (const HeaderField* f = find_field(hb.fields, "Content-Location")) part.location = unfold(f->value);
    if (const HeaderField* f = find_field(hb.fields, "Content-Disposition")) {
      ParamValue pv = parse_param_value(unfold(f->value));
      part.disposition = std::move(pv.value);
      part.disposition_params = std::move(pv.params);
    }
    if (const HeaderField* f = find_field(hb.fields, "Content-Language")) {
      const std::string tags = unfold(f->value);
      for (auto tag : split(tags, ',')) {
        auto t = trim(tag);
        if (!t.empty()) part.language.emplace_back(t);
      }
    }
    if (is_message_header) part.envelope = build_envelope(hb.fields);
    const bool can_nest = depth + 1 < kMaxDepth && msg_.parts.size() < kMaxParts;
    const std::size_t body_begin = static_cast<std::size_t>(part.body_begin);
    if (part.type == "multipart" && can_nest) {
      const Param* boundary = part.param("boundary");
      if (boundary != nullptr && !boundary->value.empty()) {
        const bool digest = part.subtype == "digest";
        const std::string delim = "--" + boundary->value;
        msg_.parts[index] = std::move(part);
        split_multipart(index, delim, body_begin, end, depth, digest);
        return index;
      }
    } else if (part.type == "message" && (part.subtype == "rfc822" || part.subtype == "global") && can_nest &&
               part.encoding != "base64" && part.encoding != "quoted-printable") {
      msg_.parts[index] = std::move(part);
      const std::uint32_t child = entity(body_begin, end, depth + 1, false, true);
      msg_.parts[index].children.push_back(child);
      return index;
    }
    msg_.parts[index] = std::move(part);
    return index;
  }

  // RFC 2046 5.1.1: the line break before a delimiter belongs to the delimiter.
  std::size_t before_break(std::size_t line_start, std::size_t floor) const {
    std::size_t e = line_start;
    if (e > floor && bytes_[e - 1] == '\n') --e;
    if (e > floor && bytes_[e - 1] == '\r') --e;
    return e;
  }

  void split_multipart(std::uint32_t index, std::string_view delim, std::size_t begin, std::size_t end,
                       std::size_t depth, bool digest) {
    std::vector<std::pair<std::size_t, std::size_t>> ranges;
    std::size_t part_start = std::string_view::npos;
    bool closed = false;
    std::size_t pos = begin;
    while (pos < end) {
      const void* hit = std::memchr(bytes_.data() + pos, '\n', end - pos);
      const std::size_t nl =
          hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - bytes_.data()) : end;
      const std::size_t line_end = hit ? nl + 1 : end;
      std::string_view content = bytes_.substr(pos, nl - pos);
      if (!content.empty() && content.back() == '\r') content.remove_suffix(1);
      if (content.size() >= delim.size() && content.compare(0, delim.size(), delim) == 0) {
        std::string_view rest = content.substr(delim.size());
        const bool is_close = rest.size() >= 2 && rest[0] == '-' && rest[1] == '-';
        if (is_close) rest.remove_prefix(2);
        if (std::all_of(rest.begin(), rest.end(), is_wsp)) {
          if (part_start != std::string_view::npos)
            ranges.emplace_back(part_start, before_break(pos, part_start));
          if (is_close) {
            closed = true;
            break;
          }
          part_start = line_end;
          if (ranges.size() >= kMaxParts) break;
        }
      }
      pos = line_end;
    }
    if (!closed && part_start != std::string_view::npos) {
      // Unterminated: the last part runs to the end of the multipart. At the end of the
      // whole message its final line break is dropped (as the break before a delimiter
      // would be), which is what Python's email does too.
      const std::size_t b = std::min(part_start, end);
      ranges.emplace_back(b, end == bytes_.size() ? before_break(end, b) : end);
    }
    for (const auto& [b, e] : ranges) {
      if (msg_.parts.size() >= kMaxParts) break;
      const std::uint32_t child = entity(b, e, depth + 1, digest, false);
      msg_.parts[index].children.push_back(child);
    }
  }
};

}  // namespace

const Param* Part::param(std::string_view name) const {
  for (const auto& p : params)
    if (p.name == name) return &p;
  return nullptr;
}

std::uint64_t count_lines(std::string_view body) {
  std::uint64_t n = static_cast<std::uint64_t>(std::count(body.begin(), body.end(), '\n'));
  if (!body.empty() && body.back() != '\n') ++n;
  return n;
}

Message parse(std::string_view bytes) {
  Message msg;
  msg.size = bytes.size();
  Parser p{bytes, msg};
  p.entity(0, bytes.size(), 0, false, true);
  return msg;
}

}  // namespace tern::mime
