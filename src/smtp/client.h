// smtp/client.h: the SMTP client that hands queued mail to another server (RFC 5321), used
// by the outbound queue (queue/).
//
// One call is one SMTP transaction on one new connection: greeting, EHLO (HELO when EHLO is
// refused), MAIL FROM with SIZE / BODY=8BITMIME / SMTPUTF8 / RET / ENVID as offered, one RCPT
// TO per recipient with NOTIFY / ORCPT when the server offers DSN (RFC 3461; ENVID and ORCPT
// re-encoded as xtext), DATA with the message dot-stuffed, QUIT. Commands are pipelined when
// the server offers PIPELINING (RFC 2920). Every step is bounded by the RFC 5321 4.5.3.2
// timeouts in ClientOptions.
//
// Not yet: STARTTLS (the connection stays plain), BDAT, several transactions per connection.
//
// Thread-safety: send() runs on the caller's executor and touches nothing shared; several
// may run at once. The message bytes are given in memory (the caller reads them from the
// store through its blocking pool first).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "smtp/proto/client_reply.h"
#include "store/types.h"

namespace tern::smtp {

// RFC 5321 4.5.3.2 minimums, and a connect limit of our own.
struct ClientOptions {
  std::string helo_name = "localhost";  // our host name for EHLO / HELO
  std::chrono::seconds connect{30};
  std::chrono::seconds greeting{300};   // 4.5.3.2.1
  std::chrono::seconds mail{300};       // 4.5.3.2.2 (and EHLO)
  std::chrono::seconds rcpt{300};       // 4.5.3.2.3
  std::chrono::seconds data_init{120};  // 4.5.3.2.4
  std::chrono::seconds data_block{180}; // 4.5.3.2.5
  std::chrono::seconds data_end{600};   // 4.5.3.2.6
};

// What became of the recipients given to send(), one outcome each, in their order:
// kDelivered (the server took it: 2xx after DATA), kFailed (a 5xx for it, for MAIL, or for
// the data), kQueued (deferred: a 4xx, a timeout, a connection failure, a reply we could not
// read). `reply` is the server's reply (ServerReply::summary) or the local reason.
struct SendReport {
  std::vector<store::RecipientOutcome> outcomes;
  bool connected = false;  // a greeting was read (false: try another host)
};

// Delivers `bytes` minus its first `message.skip` octets from message.sender to the
// recipients of `message` at positions `recipients` (indices into message.recipients; the
// outcomes carry the same indices). Never throws; failures are outcomes.
boost::asio::awaitable<SendReport> send(boost::asio::ip::tcp::endpoint server, ClientOptions options,
                                        const store::OutboundMessage& message,
                                        std::vector<std::size_t> recipients, std::string_view bytes);

// The MAIL FROM and RCPT TO command lines (with CR LF) for `message`, given what the server
// offers. Pure; exposed for tests.
std::string mail_command(const store::OutboundMessage& message, uint64_t size, const proto::Extensions& x);
std::string rcpt_command(const store::OutboundRecipient& recipient, const proto::Extensions& x);

}  // namespace tern::smtp
