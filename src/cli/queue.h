// cli/queue.h: `tern queue list|del`, the operator's view of the outbound queue (what
// `postqueue -p` and `postsuper -d` are to Postfix).
//
// Like cli/admin.h, each function works on the store it is given, prints results on stdout
// and errors on stderr, and returns the process exit code (0 success, 1 failure).
#pragma once

#include "store/mail_store.h"

namespace tern::cli {

// Prints every queued message, oldest first: a line with the id, size, creation time (UTC),
// attempts, next attempt and sender, then one indented line per recipient with its state,
// DSN NOTIFY and last error; then a total.
int queue_list(store::MailStore& store);

// Removes one entry without delivering it or sending a bounce. Unknown id: an error and 1.
int queue_del(store::MailStore& store, store::Id id);

}  // namespace tern::cli
