// mime/mime_dump.cc: test tool for tests/mime/test_differential.py. Reads a file of
// length-prefixed messages ("<decimal length>\n<bytes>", repeated) and prints one JSON
// object per message: decoded Subject, From, To and Cc, and the part tree in preorder with
// each part's depth, content type, parameters, and SHA-256 of its decoded body (and of its
// text decoded to UTF-8, for text parts).
#include <openssl/evp.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

#include "mime/charset.h"
#include "mime/header.h"
#include "mime/imap_view.h"
#include "mime/message.h"

namespace {

using namespace tern::mime;

std::string json(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  std::string out;
  char buf[3];
  for (unsigned i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", md[i]);
    out += buf;
  }
  return out;
}

std::string addresses(const std::vector<HeaderField>& fields, std::string_view name) {
  const HeaderField* f = find_field(fields, name);
  std::string out = "[";
  if (f == nullptr) return out + "]";
  bool first = true;
  for (const auto& a : parse_address_list(unfold(f->value))) {
    if (a.kind != Address::Kind::kMailbox) continue;
    if (!first) out += ',';
    first = false;
    std::string addr = decode_words(a.mailbox);
    if (!a.host.empty()) addr += "@" + a.host;
    out += "[" + json(decode_words(a.name)) + "," + json(addr) + "]";
  }
  return out + "]";
}

void dump(std::string_view bytes) {
  const Message msg = parse(bytes);
  const Part& root = msg.parts[0];
  const auto hb = parse_header_block(bytes.substr(0, root.body_begin));
  const HeaderField* subject = find_field(hb.fields, "Subject");
  std::string out = "{\"subject\":" + (subject ? json(decode_words(unfold(subject->value))) : "null");
  out += ",\"from\":" + addresses(hb.fields, "From") + ",\"to\":" + addresses(hb.fields, "To") +
         ",\"cc\":" + addresses(hb.fields, "Cc");
  out += ",\"parts\":[";
  std::vector<std::uint32_t> depth(msg.parts.size(), 0);
  for (std::size_t i = 0; i < msg.parts.size(); ++i) {
    const Part& p = msg.parts[i];
    for (auto c : p.children) depth[c] = depth[i] + 1;
    if (i) out += ',';
    out += "{\"d\":" + std::to_string(depth[i]) + ",\"type\":" + json(p.type + "/" + p.subtype) +
           ",\"params\":[";
    for (std::size_t k = 0; k < p.params.size(); ++k)
      out += (k ? "," : "") + std::string("[") + json(p.params[k].name) + "," + json(p.params[k].value) + "]";
    out += "]";
    if (p.children.empty() && !p.is_multipart()) {
      const std::string body = decoded_body(p, bytes);
      out += ",\"len\":" + std::to_string(body.size()) + ",\"sha\":\"" + sha256(body) + "\"";
      if (p.type == "text") {
        const Param* cs = p.param("charset");
        out += ",\"text_sha\":\"" + sha256(to_utf8(body, cs ? cs->value : "us-ascii")) + "\"";
      }
    }
    out += "}";
  }
  out += "]}\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: tern_mime_dump FILE  (length-prefixed messages)\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t pos = 0;
  while (pos < data.size()) {
    const auto nl = data.find('\n', pos);
    if (nl == std::string::npos) break;
    const std::size_t len = std::stoul(data.substr(pos, nl - pos));
    if (len > data.size() - nl - 1) return 1;
    dump(std::string_view(data).substr(nl + 1, len));
    pos = nl + 1 + len;
  }
  return 0;
}
