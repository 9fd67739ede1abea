#include "imap/message_source.h"

#include <utility>

#include "mime/cache.h"
#include "mime/header.h"

namespace tern::imap {

Result<std::string_view> MessageSource::prefix(std::size_t max) {
  auto b = bytes();
  if (!b) return b;
  return b->substr(0, max);
}

Result<std::string_view> LoadedMessage::bytes() {
  if (!bytes_) {
    auto b = source_.bytes();
    if (!b) return tl::unexpected(std::move(b.error()));
    bytes_ = *b;
  }
  return *bytes_;
}

Result<const mime::Message*> LoadedMessage::parsed() {
  if (parsed_) return &*parsed_;
  if (!bytes_) {
    auto cache = source_.parse_cache();
    if (!cache) return tl::unexpected(std::move(cache.error()));
    if (!cache->empty()) {
      auto msg = mime::deserialize(*cache);
      // A cache from other bytes (or damaged beyond what deserialize detects) would give
      // offsets that do not fit: fall back to parsing.
      if (msg && msg->size == size_ && !msg->parts.empty() && msg->parts[0].body_end <= size_) {
        parsed_ = std::move(*msg);
        from_cache_ = true;
        return &*parsed_;
      }
    }
  }
  auto b = bytes();
  if (!b) return tl::unexpected(std::move(b.error()));
  parsed_ = mime::parse(*b);
  return &*parsed_;
}

Result<std::string_view> LoadedMessage::header() {
  if (header_) return *header_;
  auto from_bytes = [&]() -> Result<std::string_view> {
    auto b = bytes();
    if (!b) return b;
    header_ = b->substr(0, mime::parse_header_block(*b).body_offset);
    return *header_;
  };
  if (bytes_) return from_bytes();
  if (parsed_) {  // from the cache: the header's size is known
    const auto n = static_cast<std::size_t>(parsed_->parts[0].body_begin);
    auto p = source_.prefix(n);
    if (!p) return p;
    if (p->size() >= n) {
      prefix_ = *p;
      header_ = p->substr(0, n);
      return *header_;
    }
    return from_bytes();
  }
  auto p = source_.prefix(kHeaderProbe);
  if (!p) return p;
  prefix_ = *p;
  if (p->size() >= size_ || p->size() < kHeaderProbe) {  // the whole message
    bytes_ = *p;
    header_ = p->substr(0, mime::parse_header_block(*p).body_offset);
    return *header_;
  }
  // Whole lines only: parse_header_block decides line by line, so a block that ends
  // before the last complete line of the prefix ends there in the whole message too.
  const std::size_t nl = p->rfind('\n');
  if (nl != std::string_view::npos) {
    const std::string_view lines = p->substr(0, nl + 1);
    const std::size_t end = mime::parse_header_block(lines).body_offset;
    // The block ends inside the lines, or with the last line when that is the empty line
    // (a body without line breaks leaves no complete line after it in the prefix).
    std::string_view last = lines.substr(0, lines.size() - 1);
    if (!last.empty() && last.back() == '\r') last.remove_suffix(1);
    const bool ends_blank = last.empty() || last.back() == '\n';
    if (end < lines.size() || ends_blank) {
      header_ = lines.substr(0, end);
      return *header_;
    }
  }
  return from_bytes();
}

std::optional<std::string_view> LoadedMessage::in_memory(std::uint64_t offset, std::uint64_t length) const {
  const std::optional<std::string_view>& have = bytes_ ? bytes_ : prefix_;
  if (!have || offset > have->size() || length > have->size() - offset) return std::nullopt;
  return have->substr(static_cast<std::size_t>(offset), static_cast<std::size_t>(length));
}

}  // namespace tern::imap
