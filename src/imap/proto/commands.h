// imap/proto/commands.h: the IMAP command names Tern knows of. Pure data; thread-safe.
#pragma once

#include <string_view>

namespace tern::imap::proto {

// True for commands defined by RFC 9051 / RFC 3501 and the extensions Tern will serve
// (IDLE, ENABLE, NAMESPACE, ID, MOVE, UNSELECT, ...). `upper` is the upper-cased name, as
// in Request::command. A command not known here is answered "BAD Unknown command".
bool is_known_command(std::string_view upper);

}  // namespace tern::imap::proto
