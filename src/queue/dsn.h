// queue/dsn.h: builds the bounce for the recipients a queued message could not reach: a
// delivery status notification (RFC 3464, RFC 3462 multipart/report) to the envelope sender.
//
// The bounce is multipart/report; report-type=delivery-status with three parts: a text/plain
// explanation naming each failed recipient and why, the machine-readable
// message/delivery-status (RFC 3464 2.2, 2.3), and what the sender asked back with RET
// (RFC 3461 4.3): the original's header (text/rfc822-headers) for RET=HDRS, the whole
// original (message/rfc822) for RET=FULL, and for no RET the whole original up to
// DsnOptions::full_limit, its header beyond. It carries Auto-Submitted: auto-replied
// (RFC 3834 5) and is meant to be sent from the null reverse-path, so it never bounces back.
// When the original was sent with SMTPUTF8, or an address is not ASCII, the report uses the
// RFC 6533 types (message/global-delivery-status, message/global, message/global-headers,
// utf-8 address types) and the bounce itself needs SMTPUTF8.
//
// No bounce is due (build_bounce gives nullopt) for the null sender <> (RFC 5321 4.5.5) or
// when no failed recipient asked for one: a NOTIFY parameter without FAILURE, or NOTIFY=NEVER
// (RFC 3461 4.1). No NOTIFY at all means FAILURE.
//
// Pure: no clock, no randomness (times and a token are passed in), no I/O; safe from any
// thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/types.h"

namespace tern::queue {

struct DsnOptions {
  std::string hostname = "localhost";   // Reporting-MTA and the domain of MAILER-DAEMON@
  std::size_t full_limit = 100 * 1024;  // RET absent: a larger original comes back as its header
};

// One recipient that failed for good.
struct FailedRecipient {
  std::size_t index = 0;   // into OutboundMessage::recipients
  std::string reply;       // the remote reply ("550 5.1.1 no such user") or a local reason
  bool expired = false;    // it was deferred until the queue gave up (reply: the last deferral)
  std::string remote_mta;  // the host that gave the reply; "" when unknown
};

struct Bounce {
  std::string bytes;                  // the whole message, CR LF line ends, no Return-Path
  std::vector<std::size_t> reported;  // the recipients it names (indices), in order
  bool eightbit = false;              // it holds 8-bit octets: send with BODY=8BITMIME
  bool smtputf8 = false;              // it uses RFC 6533 / RFC 6532 UTF-8: send with SMTPUTF8
};

// Whether a recipient with these NOTIFY bits (store::DsnNotify) wants a failure report.
bool wants_failure_report(uint8_t notify);

// The bounce for `failed` of `message`, or nullopt when none is due (see above).
// `original` is the stored message (its first message.skip octets are left out), nullopt
// when it could not be read (the third part is then left out). `arrival` and `now` are Unix
// seconds (the entry's creation and the last attempt); `token` makes the Message-ID and the
// MIME boundary unique (the caller passes a random number).
std::optional<Bounce> build_bounce(const DsnOptions& options, const store::OutboundMessage& message,
                                   std::span<const FailedRecipient> failed,
                                   std::optional<std::string_view> original, int64_t arrival, int64_t now,
                                   uint64_t token);

// The RFC 3463 status for a failed recipient: 4.4.7 when it expired, else the enhanced code
// of an SMTP reply ("550 5.1.1 ...") when it has one of class 5, else 5.0.0.
std::string dsn_status(const FailedRecipient& failed);

// RFC 5322 3.3 date-time in UTC: "Mon, 23 Nov 2026 13:09:24 +0000".
std::string rfc5322_date(int64_t unix_time);

}  // namespace tern::queue
