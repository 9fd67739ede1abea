// auth/sasl_dialog.h: runs a SaslExchange over a protocol session's own I/O, so the
// SMTP, IMAP and POP3 sessions share one exchange loop and differ only in how they send a
// challenge (their continuation prefix) and read the answer. Header-only; no state.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <boost/asio/awaitable.hpp>

#include "auth/sasl_exchange.h"

namespace tern::auth {

struct SaslOutcome {
  enum class Kind { kOk, kCancelled, kMalformed, kDenied, kTooLong, kClosed, kTimeout };
  Kind kind = Kind::kClosed;
  Credentials creds;  // set for kOk; not yet checked against the store
};

// Drives the exchange to its end. `ask(base64, answer)` sends one challenge and reads the
// client's line into `answer`, returning an awaitable read status: an enum with kOk,
// kTooLong and kTimeout (any other value means the connection is gone).
template <typename Ask>
boost::asio::awaitable<SaslOutcome> run_sasl(Mechanism mech, std::string initial, Ask ask) {
  using Kind = SaslOutcome::Kind;
  auto started = SaslExchange::start(mech, initial);  // no structured bindings: GCC 12
  SaslExchange& exchange = started.first;              // coroutine frames mishandle them
  SaslExchange::Step& step = started.second;
  while (const auto* next = std::get_if<SaslExchange::Challenge>(&step)) {
    std::string answer;
    auto read = co_await ask(std::string_view(next->base64), answer);
    using Read = decltype(read);
    if (read == Read::kTooLong) co_return SaslOutcome{Kind::kTooLong, {}};
    if (read == Read::kTimeout) co_return SaslOutcome{Kind::kTimeout, {}};
    if (read != Read::kOk) co_return SaslOutcome{Kind::kClosed, {}};
    step = exchange.next(answer);
  }
  if (auto* done = std::get_if<SaslExchange::Done>(&step)) {
    co_return SaslOutcome{Kind::kOk, std::move(done->creds)};
  }
  switch (std::get<SaslExchange::Failed>(step).kind) {
    case SaslExchange::Failed::Kind::kCancelled:
      co_return SaslOutcome{Kind::kCancelled, {}};
    case SaslExchange::Failed::Kind::kDenied:
      co_return SaslOutcome{Kind::kDenied, {}};
    case SaslExchange::Failed::Kind::kMalformed:
      break;
  }
  co_return SaslOutcome{Kind::kMalformed, {}};
}

}  // namespace tern::auth
