// store/mail_store.cc: the address helpers declared in mail_store.h.
#include "store/mail_store.h"

#include "base/strings.h"

namespace tern::store {

std::string normalize_address(std::string_view address) { return ascii_lower(address); }

std::optional<std::pair<std::string_view, std::string_view>> split_address(std::string_view address) {
  auto at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) return std::nullopt;
  return std::make_pair(address.substr(0, at), address.substr(at + 1));
}

}  // namespace tern::store
