#include "imap/proto/commands.h"

#include <array>

namespace tern::imap::proto {

bool is_known_command(std::string_view upper) {
  static constexpr std::array<std::string_view, 33> kCommands{
      "CAPABILITY", "NOOP",   "LOGOUT",    "STARTTLS", "AUTHENTICATE", "LOGIN",
      "ENABLE",     "SELECT", "EXAMINE",   "CREATE",   "DELETE",       "RENAME",
      "SUBSCRIBE",  "UNSUBSCRIBE", "LIST", "LSUB",     "NAMESPACE",    "STATUS",
      "APPEND",     "IDLE",   "CHECK",     "CLOSE",    "UNSELECT",     "EXPUNGE",
      "SEARCH",     "FETCH",  "STORE",     "COPY",     "MOVE",         "UID",
      "ID",         "GETQUOTAROOT", "GETQUOTA",
  };
  for (auto name : kCommands) {
    if (name == upper) return true;
  }
  return false;
}

}  // namespace tern::imap::proto
