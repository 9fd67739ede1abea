// auth/sasl_exchange.h: the server side of a SASL PLAIN or LOGIN exchange (RFC 4422) as a
// pure state machine. No I/O: the protocol session sends each Challenge behind its own
// continuation ("334 " in SMTP, "+ " in IMAP and POP3), reads one line, and feeds it to
// next() until the exchange is Done or Failed. Not thread-safe; one per exchange.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "auth/sasl.h"

namespace tern::auth {

class SaslExchange {
 public:
  // Send this base64 text after the protocol's continuation prefix, then call next().
  struct Challenge {
    std::string base64;
  };
  // The exchange is over; the credentials are decoded but not yet checked.
  struct Done {
    Credentials creds;
  };
  struct Failed {
    enum class Kind {
      kCancelled,  // the client answered "*" (RFC 4954 4, RFC 9051 6.2.2, RFC 5034 4)
      kMalformed,  // bad base64, missing fields, over-long values
      kDenied,     // PLAIN with an authzid other than the authcid (acting as another user)
    };
    Kind kind;
  };
  using Step = std::variant<Challenge, Done, Failed>;

  // Starts an exchange. `initial_response` is the client's SASL-IR (RFC 4954 4, RFC 4959,
  // RFC 5034 4); nullopt, "" and "=" (the empty initial response) all ask for a challenge.
  static std::pair<SaslExchange, Step> start(Mechanism mech,
                                             std::optional<std::string_view> initial_response);

  // Feeds the client's answer to the last Challenge. Calling it after Done or Failed is a bug.
  Step next(std::string_view client_line);

 private:
  enum class State { kPlain, kLoginUser, kLoginPassword, kFinished };
  explicit SaslExchange(State state) : state_(state) {}

  Step plain(std::string_view response);
  Step login_user(std::string_view response);

  State state_;
  std::string user_;  // LOGIN: the decoded user name, while waiting for the password
};

}  // namespace tern::auth
