// mime/search_text.cc: decoded text for SEARCH (see search_text.h).
#include "mime/search_text.h"

#include <cctype>
#include <cstdint>

#include "base/strings.h"
#include "mime/charset.h"
#include "mime/imap_view.h"

namespace tern::mime {
namespace {

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

void append_headers(std::string& out, std::string_view header) {
  for (const auto& f : parse_header_block(header).fields) {
    out.append(f.name);
    out += ": ";
    out += decode_words(unfold(f.value));
    out += '\n';
  }
}

bool is_block_tag(std::string_view name) {
  static constexpr std::string_view kBlocks[] = {"p",  "br", "div",        "tr",  "li", "h1",
                                                 "h2", "h3", "h4",         "h5",  "h6", "table",
                                                 "ul", "ol", "blockquote", "pre", "hr"};
  for (auto b : kBlocks)
    if (iequals(name, b)) return true;
  return false;
}

}  // namespace

std::string html_to_text(std::string_view h) {
  std::string out;
  out.reserve(h.size() / 2);
  std::size_t i = 0;
  while (i < h.size()) {
    const char c = h[i];
    if (c == '<') {
      if (h.substr(i, 4) == "<!--") {
        auto e = h.find("-->", i + 4);
        i = e == std::string_view::npos ? h.size() : e + 3;
        continue;
      }
      std::size_t j = i + 1;
      const bool closing = j < h.size() && h[j] == '/';
      if (closing) ++j;
      std::size_t name_start = j;
      while (j < h.size() && (std::isalnum(static_cast<unsigned char>(h[j])) != 0)) ++j;
      const std::string name = ascii_lower(h.substr(name_start, j - name_start));
      auto gt = h.find('>', j);
      i = gt == std::string_view::npos ? h.size() : gt + 1;
      if (!closing && (name == "script" || name == "style" || name == "head" || name == "title")) {
        const std::string close = "</" + name;
        std::size_t k = i;
        while (k < h.size()) {
          auto lt = h.find("</", k);
          if (lt == std::string_view::npos) {
            k = h.size();
            break;
          }
          if (istarts_with(h.substr(lt), close)) {
            k = lt;
            break;
          }
          k = lt + 2;
        }
        auto e = h.find('>', k);
        i = e == std::string_view::npos ? h.size() : e + 1;
        continue;
      }
      if (is_block_tag(name) && !out.empty() && out.back() != '\n') out += '\n';
      continue;
    }
    if (c == '&') {
      auto semi = h.substr(i, 12).find(';');
      if (semi != std::string_view::npos) {
        semi += i;
        const std::string_view ent = h.substr(i + 1, semi - i - 1);
        std::uint32_t cp = 0;
        if (ent.size() >= 2 && ent[0] == '#') {
          const bool hex = ent[1] == 'x' || ent[1] == 'X';
          for (std::size_t k = hex ? 2 : 1; k < ent.size(); ++k) {
            const char d = ent[k];
            int v = -1;
            if (d >= '0' && d <= '9')
              v = d - '0';
            else if (hex && d >= 'a' && d <= 'f')
              v = d - 'a' + 10;
            else if (hex && d >= 'A' && d <= 'F')
              v = d - 'A' + 10;
            if (v < 0) {
              cp = 0xFFFD;
              break;
            }
            cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(v);
            if (cp > 0x10FFFF) {
              cp = 0xFFFD;
              break;
            }
          }
        } else if (ent == "amp")
          cp = '&';
        else if (ent == "lt")
          cp = '<';
        else if (ent == "gt")
          cp = '>';
        else if (ent == "quot")
          cp = '"';
        else if (ent == "apos")
          cp = '\'';
        else if (ent == "nbsp")
          cp = ' ';
        if (cp != 0) {
          append_utf8(out, cp);
          i = semi + 1;
          continue;
        }
      }
    }
    out += c;
    ++i;
  }
  return out;
}

std::string part_text(const Part& part, std::string_view bytes) {
  const Param* cs = part.param("charset");
  std::string text = to_utf8(decoded_body(part, bytes), cs ? cs->value : std::string_view("us-ascii"));
  if (part.subtype == "html") return html_to_text(text);
  return text;
}

SearchText search_text(const Message& msg, std::string_view bytes) {
  SearchText st;
  if (msg.parts.empty()) return st;
  const Part& root = msg.parts[0];
  auto slice = [&](std::uint64_t b, std::uint64_t e) {
    b = std::min<std::uint64_t>(b, bytes.size());
    e = std::min<std::uint64_t>(e, bytes.size());
    return bytes.substr(b, e > b ? e - b : 0);
  };
  append_headers(st.headers, slice(root.header_begin, root.body_begin));
  for (std::size_t i = 0; i < msg.parts.size(); ++i) {
    const Part& p = msg.parts[i];
    if (i != 0 && !p.envelope.empty()) append_headers(st.body, slice(p.header_begin, p.body_begin));
    if (p.type == "text" && p.children.empty()) {
      st.body += part_text(p, bytes);
      if (!st.body.empty() && st.body.back() != '\n') st.body += '\n';
    }
  }
  return st;
}

}  // namespace tern::mime
