#include "imap/message_source.h"

#include <utility>

#include "mime/cache.h"

namespace tern::imap {

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

}  // namespace tern::imap
