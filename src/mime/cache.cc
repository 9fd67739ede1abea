// mime/cache.cc: Message <-> bytes (see cache.h). Layout: "TMC1", varint part count, then
// per part varints and length-prefixed strings in the order of struct Part.
#include "mime/cache.h"

#include <cstdint>

namespace tern::mime {
namespace {

constexpr std::string_view kMagic = "TMC1";

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_string(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

void put_params(std::string& out, const std::vector<Param>& params) {
  put_varint(out, params.size());
  for (const auto& p : params) {
    put_string(out, p.name);
    put_string(out, p.value);
  }
}

struct Reader {
  std::string_view in_;
  bool ok_ = true;

  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) {
        ok_ = false;
        return 0;
      }
      const auto b = static_cast<unsigned char>(in_.front());
      in_.remove_prefix(1);
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return v;
    }
    ok_ = false;
    return 0;
  }
  std::string string() {
    const std::uint64_t n = varint();
    if (!ok_ || n > in_.size()) {
      ok_ = false;
      return {};
    }
    std::string s(in_.substr(0, static_cast<std::size_t>(n)));
    in_.remove_prefix(static_cast<std::size_t>(n));
    return s;
  }
  // A count of items each taking at least one byte: never more than what is left.
  std::size_t count() {
    const std::uint64_t n = varint();
    if (!ok_ || n > in_.size()) {
      ok_ = false;
      return 0;
    }
    return static_cast<std::size_t>(n);
  }
  std::vector<Param> params() {
    std::vector<Param> out(count());
    for (auto& p : out) {
      p.name = string();
      p.value = string();
    }
    return out;
  }
};

}  // namespace

std::string serialize(const Message& msg) {
  std::string out(kMagic);
  put_varint(out, msg.size);
  put_varint(out, msg.parts.size());
  for (const auto& p : msg.parts) {
    put_varint(out, p.header_begin);
    put_varint(out, p.body_begin - p.header_begin);
    put_varint(out, p.body_end - p.body_begin);
    put_varint(out, p.body_lines);
    put_string(out, p.type);
    put_string(out, p.subtype);
    put_params(out, p.params);
    put_string(out, p.id);
    put_string(out, p.description);
    put_string(out, p.md5);
    put_string(out, p.location);
    put_string(out, p.encoding);
    put_string(out, p.disposition);
    put_params(out, p.disposition_params);
    put_varint(out, p.language.size());
    for (const auto& l : p.language) put_string(out, l);
    put_varint(out, p.children.size());
    for (auto c : p.children) put_varint(out, c);
    put_string(out, p.envelope);
  }
  return out;
}

Result<Message> deserialize(std::string_view data) {
  if (data.substr(0, kMagic.size()) != kMagic)
    return make_error(ErrorCode::kCorruption, "mime cache: bad magic");
  Reader r{data.substr(kMagic.size())};
  Message msg;
  msg.size = r.varint();
  const std::size_t n = r.count();
  if (!r.ok_ || n == 0 || n > kMaxParts + 1)
    return make_error(ErrorCode::kCorruption, "mime cache: bad part count");
  msg.parts.resize(n);
  std::vector<std::uint32_t> depth(n, 0);  // 0: not yet a child of anything
  depth[0] = 1;
  for (std::size_t i = 0; i < n && r.ok_; ++i) {
    Part& p = msg.parts[i];
    if (depth[i] == 0) return make_error(ErrorCode::kCorruption, "mime cache: orphan part");
    p.header_begin = r.varint();
    const std::uint64_t hlen = r.varint();
    const std::uint64_t blen = r.varint();
    if (hlen > msg.size || blen > msg.size || p.header_begin > msg.size - hlen ||
        p.header_begin + hlen > msg.size - blen) {
      return make_error(ErrorCode::kCorruption, "mime cache: offsets out of range");
    }
    p.body_begin = p.header_begin + hlen;
    p.body_end = p.body_begin + blen;
    p.body_lines = r.varint();
    p.type = r.string();
    p.subtype = r.string();
    p.params = r.params();
    p.id = r.string();
    p.description = r.string();
    p.md5 = r.string();
    p.location = r.string();
    p.encoding = r.string();
    p.disposition = r.string();
    p.disposition_params = r.params();
    p.language.resize(r.count());
    for (auto& l : p.language) l = r.string();
    p.children.resize(r.count());
    for (auto& c : p.children) {
      const std::uint64_t v = r.varint();
      if (v <= i || v >= n || depth[v] != 0 || depth[i] > kMaxDepth)
        return make_error(ErrorCode::kCorruption, "mime cache: bad child index");
      c = static_cast<std::uint32_t>(v);
      depth[v] = depth[i] + 1;
    }
    p.envelope = r.string();
  }
  if (!r.ok_) return make_error(ErrorCode::kCorruption, "mime cache: truncated");
  if (!r.in_.empty()) return make_error(ErrorCode::kCorruption, "mime cache: trailing bytes");
  return msg;
}

bool operator==(const Param& a, const Param& b) { return a.name == b.name && a.value == b.value; }

bool operator==(const Part& a, const Part& b) {
  return a.header_begin == b.header_begin && a.body_begin == b.body_begin && a.body_end == b.body_end &&
         a.body_lines == b.body_lines && a.type == b.type && a.subtype == b.subtype && a.params == b.params &&
         a.id == b.id && a.description == b.description && a.md5 == b.md5 && a.location == b.location &&
         a.encoding == b.encoding && a.disposition == b.disposition &&
         a.disposition_params == b.disposition_params && a.language == b.language &&
         a.children == b.children && a.envelope == b.envelope;
}

bool operator==(const Message& a, const Message& b) { return a.size == b.size && a.parts == b.parts; }

}  // namespace tern::mime
