// cli/queue.h: `tern queue list|show|del|hold|release|retry`, the operator's view of the
// outbound queue (what `postqueue -p`, `postcat -q`, `postsuper -d|-h|-H` and `postqueue -i`
// are to Postfix).
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

// Prints one entry in full: its fields one per line ("name: value"), one "recipient:" line
// per recipient (address, state, NOTIFY, ORCPT, last error; tab-separated), then a blank
// line and the message's header as queued. Unknown id: an error and 1.
int queue_show(store::MailStore& store, store::Id id);

// Removes one entry without delivering it or sending a bounce. Unknown id: an error and 1.
int queue_del(store::MailStore& store, store::Id id);

// Holds an entry (the scheduler skips it until released) or releases it. Unknown id: 1.
int queue_hold(store::MailStore& store, store::Id id, bool held);

// Makes an entry due now (the scheduler tries it on its next pass). Unknown id: 1.
int queue_retry(store::MailStore& store, store::Id id);

}  // namespace tern::cli
