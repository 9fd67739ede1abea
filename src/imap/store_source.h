// imap/store_source.h: a MessageSource (imap/message_source.h) over the store's blobs.
//
// bytes() reads the whole blob once (MailStore::read_blob); prefix() opens the blob and reads
// only the first octets (MailStore::open_blob), so header-only FETCH items and SEARCH keys
// do not read attachments. Every call blocks on store I/O: use it on the store executor.
// Thread-safety: none; one source per message being processed. The store must outlive it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "imap/message_source.h"
#include "store/mail_store.h"

namespace tern::imap {

class StoreSource : public MessageSource {
 public:
  StoreSource(store::MailStore& store, store::Id blob_id) : store_(store), blob_id_(blob_id) {}

  Result<std::string_view> bytes() override;
  Result<std::string_view> prefix(std::size_t max) override;

 private:
  store::MailStore& store_;
  store::Id blob_id_;
  std::optional<std::string> bytes_;
  std::optional<std::string> prefix_;
};

// A message that is gone from the store (expunged, not yet told): empty content.
class EmptySource : public MessageSource {
 public:
  Result<std::string_view> bytes() override { return std::string_view(); }
};

}  // namespace tern::imap
