// queue/bounce.h: sends the outbound queue's bounces: the DSN built by queue/dsn.h goes to
// the message's envelope sender from the null reverse-path (RFC 5321 4.5.5). A sender that
// is local, by the rules SMTP applies to RCPT TO (smtp::RecipientResolver: accounts, +tags,
// aliases, postmaster), gets it in the INBOX of each account it resolves to; a remote sender
// (or an alias's remote targets) gets it through a new queue entry with sender "". Both in
// one MailStore::deliver, so either all of it is durable or none.
//
// The scheduler (queue/scheduler.h) calls send_bounce before it records the attempt that made
// the recipients fail: a crash between the two can send a bounce twice, never lose one.
//
// Blocking (store calls): run it through the store executor. Thread-safe as long as the
// store is.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "queue/dsn.h"
#include "store/mail_store.h"

namespace tern::queue {

struct BounceOptions {
  DsnOptions dsn;
  config::Smtp smtp;  // recipient_delimiter and postmaster, to resolve a local sender as SMTP does
};

// The recipients an attempt failed for good: its kFailed outcomes, the expired ones
// (policy.h: kExpiredPrefix) marked and their reply the last deferral.
std::vector<FailedRecipient> failed_recipients(std::span<const store::RecipientOutcome> outcomes);

// What send_bounce did.
struct BounceSent {
  bool due = false;                   // false: none was due (null sender, NOTIFY), nothing stored
  std::vector<std::size_t> reported;  // the recipients it names
  std::vector<std::string> mailboxes; // local accounts whose INBOX got it
  std::vector<std::string> remote;    // addresses it was queued for
  store::Id queue_id = 0;             // that queue entry; 0 when none
  std::string dropped;                // why it went nowhere (the sender is unknown here), "" else
};

// Builds the bounce for `failed` of `entry` (original: the stored message, nullopt when it
// could not be read) and stores it durably. A bounce for a sender that resolves to nobody
// (an unknown user of a local domain, an address without a domain) is dropped: `dropped`
// says why and nothing is stored. Errors are the store's; nothing was stored then and the
// caller must not consider the recipients bounced. Logs what it did (info; a dropped bounce
// as a warning).
Result<BounceSent> send_bounce(store::MailStore& store, const BounceOptions& options, const store::QueueEntry& entry,
                               std::optional<std::string_view> original, std::span<const FailedRecipient> failed,
                               int64_t now);

// After send_bounce failed: every kFailed outcome becomes kQueued again (its reply noting
// `why`), so the recipient is tried, and bounced, again instead of failing unreported.
void defer_unbounced(std::vector<store::RecipientOutcome>& outcomes, std::string_view why);

}  // namespace tern::queue
