// mime/mime_fuzz.cc: libFuzzer target. Parses arbitrary bytes as a message, builds every
// view, round-trips the cache, extracts every section of every part, and feeds the bytes
// to the header-level decoders and the cache reader.
#include <cstddef>
#include <cstdint>
#include <string>

#include "mime/cache.h"
#include "mime/charset.h"
#include "mime/header.h"
#include "mime/imap_view.h"
#include "mime/message.h"
#include "mime/search_text.h"

namespace {

using namespace tern::mime;

void visit(const Message& msg, std::string_view bytes, std::vector<std::uint32_t>& path, std::size_t budget) {
  for (const char* text :
       {"", "MIME", "HEADER", "TEXT", "HEADER.FIELDS (Subject From)", "HEADER.FIELDS.NOT (To)"}) {
    std::string spec;
    for (auto n : path) spec += std::to_string(n) + ".";
    spec += text;
    if (!spec.empty() && spec.back() == '.') spec.pop_back();
    auto s = parse_section(spec);
    if (s) {
      auto got = extract(msg, bytes, *s);
      if (got) (void)partial(*got, 1, 3);
    }
  }
  (void)binary(msg, bytes, path);
  if (path.size() > 6) return;
  for (std::uint32_t n = 1; n <= 4 && budget > 0; ++n, --budget) {
    path.push_back(n);
    if (resolve(msg, path)) visit(msg, bytes, path, budget / 2);
    path.pop_back();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const Message msg = parse(bytes);
  (void)envelope(msg);
  (void)body_structure(msg, false);
  (void)body_structure(msg, true);
  (void)search_text(msg, bytes);
  // Structural invariants: offsets ordered and inside the bytes, children inside their
  // parent's body and after it in preorder.
  if (msg.parts.empty() || msg.size != size) __builtin_trap();
  for (std::size_t i = 0; i < msg.parts.size(); ++i) {
    const Part& p = msg.parts[i];
    if (p.header_begin > p.body_begin || p.body_begin > p.body_end || p.body_end > size) __builtin_trap();
    for (auto c : p.children) {
      const Part& ch = msg.parts[c];
      if (c <= i || ch.header_begin < p.body_begin || ch.body_end > p.body_end) __builtin_trap();
    }
  }
  const std::string blob = serialize(msg);
  auto back = deserialize(blob);
  if (!back || !(*back == msg)) __builtin_trap();
  std::vector<std::uint32_t> path;
  visit(msg, bytes, path, 64);
  // The same bytes as header values and as a cache blob.
  (void)decode_words(bytes);
  (void)parse_param_value(bytes);
  (void)parse_address_list(bytes);
  (void)decode_quoted_printable(bytes);
  (void)html_to_text(bytes);
  if (auto m2 = deserialize(bytes)) {
    (void)body_structure(*m2, true);
    std::vector<std::uint32_t> p2;
    visit(*m2, bytes, p2, 16);
  }
  return 0;
}
