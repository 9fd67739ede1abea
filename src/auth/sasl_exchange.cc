// auth/sasl_exchange.cc: the SASL PLAIN / LOGIN state machine (see sasl_exchange.h).
#include "auth/sasl_exchange.h"

#include <utility>

#include "base/assert.h"

namespace tern::auth {
namespace {

// LOGIN's prompts (draft-murchison-sasl-login): "Username:" and "Password:" in base64.
constexpr std::string_view kUserPrompt = "VXNlcm5hbWU6";
constexpr std::string_view kPasswordPrompt = "UGFzc3dvcmQ6";

SaslExchange::Failed failed(SaslExchange::Failed::Kind kind) { return SaslExchange::Failed{kind}; }

}  // namespace

std::pair<SaslExchange, SaslExchange::Step> SaslExchange::start(
    Mechanism mech, std::optional<std::string_view> initial_response) {
  std::string_view initial = initial_response.value_or("");
  if (initial == "=") initial = {};
  if (mech == Mechanism::kPlain) {
    SaslExchange ex(State::kPlain);
    if (initial.empty()) return {std::move(ex), Challenge{""}};
    Step step = ex.plain(initial);
    return {std::move(ex), std::move(step)};
  }
  SaslExchange ex(State::kLoginUser);
  if (initial.empty()) return {std::move(ex), Challenge{std::string(kUserPrompt)}};
  Step step = ex.login_user(initial);
  return {std::move(ex), std::move(step)};
}

SaslExchange::Step SaslExchange::next(std::string_view client_line) {
  switch (state_) {
    case State::kPlain:
      return plain(client_line);
    case State::kLoginUser:
      return login_user(client_line);
    case State::kLoginPassword: {
      state_ = State::kFinished;
      if (is_cancel(client_line)) return failed(Failed::Kind::kCancelled);
      auto pass = decode_login_step(client_line);
      if (!pass) return failed(Failed::Kind::kMalformed);
      Done done;
      done.creds.authcid = std::move(user_);
      done.creds.password = std::move(*pass);
      return done;
    }
    case State::kFinished:
      break;
  }
  TERN_CHECK(false && "SaslExchange::next after the exchange ended");
  return failed(Failed::Kind::kMalformed);
}

SaslExchange::Step SaslExchange::plain(std::string_view response) {
  state_ = State::kFinished;
  if (is_cancel(response)) return failed(Failed::Kind::kCancelled);
  auto creds = decode_plain(response);
  if (!creds) {
    return failed(creds.error().code == ErrorCode::kDenied ? Failed::Kind::kDenied
                                                           : Failed::Kind::kMalformed);
  }
  return Done{std::move(*creds)};
}

SaslExchange::Step SaslExchange::login_user(std::string_view response) {
  if (is_cancel(response)) {
    state_ = State::kFinished;
    return failed(Failed::Kind::kCancelled);
  }
  auto user = decode_login_step(response);
  if (!user) {
    state_ = State::kFinished;
    return failed(Failed::Kind::kMalformed);
  }
  user_ = std::move(*user);
  state_ = State::kLoginPassword;
  return Challenge{std::string(kPasswordPrompt)};
}

}  // namespace tern::auth
