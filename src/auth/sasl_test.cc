#include "auth/sasl.h"

#include <gtest/gtest.h>

#include <string>

#include "base/limits.h"
#include "base/strings.h"

namespace tern::auth {
namespace {

std::string b64(std::string_view raw) { return base64_encode(raw); }
using namespace std::string_literals;

TEST(SaslTest, ParseMechanism) {
  EXPECT_EQ(parse_mechanism("PLAIN").value(), Mechanism::kPlain);
  EXPECT_EQ(parse_mechanism("plain").value(), Mechanism::kPlain);
  EXPECT_EQ(parse_mechanism("Login").value(), Mechanism::kLogin);
  auto bad = parse_mechanism("CRAM-MD5");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(parse_mechanism(""));
  EXPECT_FALSE(parse_mechanism("PLAINX"));
}

TEST(SaslTest, PlainWithoutAuthzid) {
  auto c = decode_plain(b64("\0alice@example.org\0s3cret"s));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->authzid, "");
  EXPECT_EQ(c->authcid, "alice@example.org");
  EXPECT_EQ(c->password, "s3cret");
}

TEST(SaslTest, PlainWithSameAuthzid) {
  auto c = decode_plain(b64("Alice@example.org\0alice@example.org\0pw with spaces"s));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->authcid, "alice@example.org");
  EXPECT_EQ(c->password, "pw with spaces");
}

TEST(SaslTest, PlainRejectsOtherAuthzid) {
  auto c = decode_plain(b64("root@example.org\0alice@example.org\0pw"s));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kDenied);
}

TEST(SaslTest, PlainRejectsMalformed) {
  for (std::string raw : {"alice\0pw"s, "alicepw"s, "\0\0pw"s, "\0alice\0"s, "\0alice\0p\0w"s,
                          ""s}) {
    auto c = decode_plain(b64(raw));
    ASSERT_FALSE(c) << raw;
    EXPECT_EQ(c.error().code, ErrorCode::kInvalid);
  }
  EXPECT_FALSE(decode_plain("="));
  EXPECT_FALSE(decode_plain("not base64!"));
  EXPECT_FALSE(decode_plain("AGFsaWNlAHB3"s + "="));  // bad padding
}

TEST(SaslTest, PlainRejectsOverlongInput) {
  std::string pw(limits::kMaxSaslLength, 'x');
  std::string enc = b64("\0alice\0"s + pw);
  ASSERT_GT(enc.size(), limits::kMaxSaslLength);
  auto c = decode_plain(enc);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kInvalid);
}

TEST(SaslTest, LoginSteps) {
  EXPECT_EQ(decode_login_step(b64("alice@example.org")).value(), "alice@example.org");
  EXPECT_EQ(decode_login_step("cGFzc3dvcmQ=").value(), "password");
  EXPECT_FALSE(decode_login_step("cGFzc3dvcmQ"));  // missing padding
  EXPECT_FALSE(decode_login_step(""));
  EXPECT_FALSE(decode_login_step(b64("a\0b"s)));
  EXPECT_FALSE(decode_login_step(std::string(limits::kMaxSaslLength + 4, 'A')));
}

TEST(SaslTest, Cancel) {
  EXPECT_TRUE(is_cancel("*"));
  EXPECT_TRUE(is_cancel("*\r\n"));
  EXPECT_FALSE(is_cancel("**"));
  EXPECT_FALSE(is_cancel(""));
  EXPECT_FALSE(is_cancel(b64("*")));
}

}  // namespace
}  // namespace tern::auth
