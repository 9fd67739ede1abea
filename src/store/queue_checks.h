// store/queue_checks.h: the rules a queued message must follow, checked the same way by
// every MailStore (SQLite, PostgreSQL, the test fake) before it writes anything, so invalid
// input gets the same kInvalid everywhere and changes nothing. Pure; thread-safe.
#pragma once

#include <span>
#include <string_view>

#include "base/result.h"
#include "store/types.h"

namespace tern::store {

// deliver()'s arguments (see MailStore::deliver): at least one target or an outbound part;
// an outbound part has recipients, each kQueued without a last_error, addresses that are
// not empty and hold no CR, LF or NUL (nor does the sender), NOTIFY bits within DsnNotify,
// a known RET, and skip <= bytes.size().
Status check_delivery(std::string_view bytes, std::span<const AppendTarget> targets, const OutboundMessage* outbound);

// An imported queue entry (MailStore::import_queue_entry): the message rules above, except
// that recipients may be in any QueueState and carry a last_error.
Status check_queue_entry(const QueueEntry& entry, std::string_view bytes);

}  // namespace tern::store
