// imap/store_source.cc: MessageSource over MailStore blobs.
#include "imap/store_source.h"

#include <utility>

namespace tern::imap {

Result<std::string_view> StoreSource::bytes() {
  if (!bytes_) {
    auto read = store_.read_blob(blob_id_);
    if (!read) return tl::unexpected(read.error());
    bytes_ = std::move(*read);
  }
  return std::string_view(*bytes_);
}

Result<std::string_view> StoreSource::prefix(std::size_t max) {
  if (bytes_) return std::string_view(*bytes_).substr(0, max);
  if (!prefix_ || prefix_->size() < max) {
    auto reader = store_.open_blob(blob_id_);
    if (!reader) return tl::unexpected(reader.error());
    std::string out;
    uint64_t want = std::min<uint64_t>(max, (*reader)->size());
    while (out.size() < want) {
      auto chunk = (*reader)->read(out.size(), want - out.size());
      if (!chunk) return tl::unexpected(chunk.error());
      if (chunk->empty()) break;
      out += *chunk;
    }
    prefix_ = std::move(out);
  }
  return std::string_view(*prefix_).substr(0, max);
}

}  // namespace tern::imap
