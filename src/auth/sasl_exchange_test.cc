#include "auth/sasl_exchange.h"

#include <gtest/gtest.h>

#include "base/strings.h"

namespace tern::auth {
namespace {

using Ex = SaslExchange;
using FailKind = SaslExchange::Failed::Kind;

std::string b64(std::string_view s) { return base64_encode(s); }

std::string challenge_of(const Ex::Step& step) {
  const auto* c = std::get_if<Ex::Challenge>(&step);
  return c != nullptr ? c->base64 : "<not a challenge>";
}

TEST(SaslExchangeTest, PlainWithInitialResponseIsDoneAtOnce) {
  auto [ex, step] = Ex::start(Mechanism::kPlain, b64(std::string("\0alice\0secret", 13)));
  auto* done = std::get_if<Ex::Done>(&step);
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(done->creds.authcid, "alice");
  EXPECT_EQ(done->creds.password, "secret");
  EXPECT_EQ(done->creds.authzid, "");
}

TEST(SaslExchangeTest, PlainWithoutInitialResponseSendsAnEmptyChallenge) {
  for (std::optional<std::string_view> initial :
       {std::optional<std::string_view>(), std::optional<std::string_view>(""),
        std::optional<std::string_view>("=")}) {
    auto [ex, step] = Ex::start(Mechanism::kPlain, initial);
    EXPECT_EQ(challenge_of(step), "");
    auto next = ex.next(b64(std::string("alice\0alice\0pw", 14)));
    auto* done = std::get_if<Ex::Done>(&next);
    ASSERT_NE(done, nullptr);
    EXPECT_EQ(done->creds.authzid, "alice");
    EXPECT_EQ(done->creds.authcid, "alice");
    EXPECT_EQ(done->creds.password, "pw");
  }
}

TEST(SaslExchangeTest, PlainFailures) {
  struct Case {
    std::string response;
    FailKind want;
  };
  const Case cases[] = {
      {"*", FailKind::kCancelled},
      {" * ", FailKind::kCancelled},
      {"not base64!", FailKind::kMalformed},
      {b64("no nul at all"), FailKind::kMalformed},
      {b64(std::string("\0alice\0", 7)), FailKind::kMalformed},
      {b64(std::string("bob\0alice\0pw", 12)), FailKind::kDenied},
  };
  for (const auto& c : cases) {
    // As the initial response and as the answer to the challenge: the same outcome.
    auto [ex1, first] = Ex::start(Mechanism::kPlain, c.response);
    auto* f1 = std::get_if<Ex::Failed>(&first);
    ASSERT_NE(f1, nullptr) << c.response;
    EXPECT_EQ(f1->kind, c.want) << c.response;

    auto [ex2, challenge] = Ex::start(Mechanism::kPlain, std::nullopt);
    ASSERT_EQ(challenge_of(challenge), "");
    auto second = ex2.next(c.response);
    auto* f2 = std::get_if<Ex::Failed>(&second);
    ASSERT_NE(f2, nullptr) << c.response;
    EXPECT_EQ(f2->kind, c.want) << c.response;
  }
}

TEST(SaslExchangeTest, LoginAsksForUserThenPassword) {
  auto [ex, step] = Ex::start(Mechanism::kLogin, std::nullopt);
  EXPECT_EQ(challenge_of(step), b64("Username:"));
  step = ex.next(b64("alice@example.com"));
  EXPECT_EQ(challenge_of(step), b64("Password:"));
  step = ex.next(b64("secret"));
  auto* done = std::get_if<Ex::Done>(&step);
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(done->creds.authzid, "");
  EXPECT_EQ(done->creds.authcid, "alice@example.com");
  EXPECT_EQ(done->creds.password, "secret");
}

TEST(SaslExchangeTest, LoginInitialResponseIsTheUserName) {
  auto [ex, step] = Ex::start(Mechanism::kLogin, b64("alice"));
  EXPECT_EQ(challenge_of(step), b64("Password:"));
  step = ex.next(b64("pw"));
  auto* done = std::get_if<Ex::Done>(&step);
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(done->creds.authcid, "alice");
  EXPECT_EQ(done->creds.password, "pw");
}

TEST(SaslExchangeTest, LoginCancelOrGarbageAtEitherStep) {
  {
    auto [ex, step] = Ex::start(Mechanism::kLogin, "*");
    ASSERT_TRUE(std::holds_alternative<Ex::Failed>(step));
    EXPECT_EQ(std::get<Ex::Failed>(step).kind, FailKind::kCancelled);
  }
  {
    auto [ex, step] = Ex::start(Mechanism::kLogin, std::nullopt);
    step = ex.next("@@@");
    ASSERT_TRUE(std::holds_alternative<Ex::Failed>(step));
    EXPECT_EQ(std::get<Ex::Failed>(step).kind, FailKind::kMalformed);
  }
  {
    auto [ex, step] = Ex::start(Mechanism::kLogin, std::nullopt);
    step = ex.next(b64("alice"));
    step = ex.next("*");
    ASSERT_TRUE(std::holds_alternative<Ex::Failed>(step));
    EXPECT_EQ(std::get<Ex::Failed>(step).kind, FailKind::kCancelled);
  }
  {
    auto [ex, step] = Ex::start(Mechanism::kLogin, std::nullopt);
    step = ex.next(b64("alice"));
    step = ex.next(b64(std::string("p\0w", 3)));
    ASSERT_TRUE(std::holds_alternative<Ex::Failed>(step));
    EXPECT_EQ(std::get<Ex::Failed>(step).kind, FailKind::kMalformed);
  }
}

}  // namespace
}  // namespace tern::auth
