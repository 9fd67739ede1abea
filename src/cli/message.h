// cli/message.h: `tern message list|show`, an operator's read-only view of stored mail
// (what `doveadm fetch` is to Dovecot). The end-to-end tests read stored messages back
// through them.
//
// Like cli/admin.h, each function works on the store it is given, prints results on stdout
// and errors on stderr, and returns the process exit code (0 success, 1 failure). They only
// read, so they run safely while a server uses the same store.
#pragma once

#include <cstdint>
#include <string>

#include "store/mail_store.h"

namespace tern::cli {

// Prints one line per message of the account's mailbox, in UID order, fields separated by
// a tab: UID, size in octets, flags in parentheses (system flags, then keywords; "()" when
// none), internal date (UTC, RFC 3339). Unknown account or mailbox: an error and 1.
int message_list(store::MailStore& store, const std::string& address, const std::string& mailbox);

// Writes the stored bytes of message `uid` to stdout exactly as stored (binary-safe, read in
// bounded pieces so a large message never sits whole in memory). Unknown account, mailbox or
// UID: an error and 1, with nothing written to stdout.
int message_show(store::MailStore& store, const std::string& address, const std::string& mailbox,
                 uint32_t uid);

}  // namespace tern::cli
