// store/copy.h: copies one MailStore into another (`tern store copy`), using only the
// MailStore interface, so any backend pair works (SQLite -> PostgreSQL is the use).
//
// What is copied: domains, accounts (password hash, creation time, app passwords with their
// labels, hashes and times), aliases, and every mailbox with its UIDVALIDITY, UIDNEXT,
// HIGHESTMODSEQ, special use, subscription, expunge log and messages (UID, MODSEQ, flags,
// keywords, internal date, bytes), and the outbound queue (every entry, oldest first, with
// its sender, DSN parameters, skip, times, attempts, and recipients with their states and
// last errors, and its bytes). IMAP and POP3 clients see the same mailboxes, UIDs and
// MODSEQs afterwards, so none of them resynchronises, and queued mail goes on being
// delivered. Not copied: deleted mailboxes (gone), the sharing of one stored message between
// mailboxes and the queue (each holder gets its own stored copy), and the source's
// UIDVALIDITY counter itself (the destination's counter is raised past every copied
// UIDVALIDITY, not past those of deleted mailboxes).
//
// Memory is bounded: messages are listed in UID windows and written in batches of at most
// kCopyBatchMessages messages or kCopyBatchBytes bytes (plus one message). The queue is
// listed whole (its fields, not its bytes) and copied one entry at a time, last.
//
// Atomicity (the chosen contract): copy_store first checks that none of the source's domains
// exists in the destination and refuses with kExists naming them, before writing anything.
// If a write fails later, it deletes the queue entries, accounts, aliases and domains it
// created, so the destination is left as it was and the copy can simply be run again. Only
// if the process dies mid-copy do partial domains (or queue entries) remain; a re-run then
// refuses, and the destination (normally a fresh, empty database) should be recreated.
//
// Thread-safety: none of its own; the stores must not be written by anyone else meanwhile
// (run it with the servers stopped).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "base/result.h"
#include "store/mail_store.h"

namespace tern::store {

inline constexpr std::size_t kCopyBatchMessages = 200;
inline constexpr std::size_t kCopyBatchBytes = std::size_t{32} << 20;

struct CopySummary {
  uint64_t domains = 0;
  uint64_t accounts = 0;
  uint64_t aliases = 0;
  uint64_t mailboxes = 0;
  uint64_t messages = 0;
  uint64_t bytes = 0;   // of the messages
  uint64_t queued = 0;  // queue entries
};

// Copies everything from `from` into `to` (see the contract above). `progress`, when set, is
// called with each account address as it starts.
Result<CopySummary> copy_store(MailStore& from, MailStore& to,
                               const std::function<void(std::string_view)>& progress = {});

// Validation shared by the backends' import_mailbox / import_messages: kInvalid with the
// reason when the values break a Mailbox invariant.
Status check_imported_mailbox(const ImportedMailbox& mailbox);
Status check_imported_messages(const Mailbox& mailbox, std::span<const ImportedMessage> messages);

}  // namespace tern::store
