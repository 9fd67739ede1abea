// store/mail_store.cc: the helpers declared in mail_store.h (addresses, in-memory blob reader).
#include "store/mail_store.h"

#include "base/strings.h"

namespace tern::store {

namespace {

class MemoryBlobReader final : public BlobReader {
 public:
  explicit MemoryBlobReader(std::string bytes) : bytes_(std::move(bytes)) {}
  uint64_t size() const override { return bytes_.size(); }
  Result<std::string> read(uint64_t offset, std::size_t max) override {
    if (offset >= bytes_.size()) return std::string();
    return bytes_.substr(static_cast<std::size_t>(offset), max);
  }

 private:
  std::string bytes_;
};

}  // namespace

std::unique_ptr<BlobReader> memory_blob_reader(std::string bytes) {
  return std::make_unique<MemoryBlobReader>(std::move(bytes));
}

std::string normalize_address(std::string_view address) { return ascii_lower(address); }

std::optional<std::pair<std::string_view, std::string_view>> split_address(std::string_view address) {
  auto at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) return std::nullopt;
  return std::make_pair(address.substr(0, at), address.substr(at + 1));
}

}  // namespace tern::store
