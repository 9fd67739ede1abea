#include "base/strings.h"

#include <gtest/gtest.h>

#include "base/result.h"

namespace tern {
namespace {

TEST(Strings, CaseHelpers) {
  EXPECT_EQ(ascii_lower("HeLLo@Example.ORG"), "hello@example.org");
  EXPECT_TRUE(iequals("STARTTLS", "starttls"));
  EXPECT_FALSE(iequals("STARTTLS", "starttl"));
  EXPECT_TRUE(istarts_with("AUTH PLAIN", "auth "));
  EXPECT_EQ(trim("  x y \r\n"), "x y");
}

TEST(Strings, Split) {
  auto parts = split("a,,b", ',');
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0], "a");
  EXPECT_EQ(parts[1], "");
  EXPECT_EQ(parts[2], "b");
}

TEST(Strings, Base64RoundTrip) {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\0\xff\x10", 3)}) {
    std::string back;
    ASSERT_TRUE(base64_decode(base64_encode(s), back)) << s;
    EXPECT_EQ(back, s);
  }
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
}

TEST(Strings, Base64RejectsJunk) {
  std::string out;
  EXPECT_FALSE(base64_decode("Zm9", out));
  EXPECT_FALSE(base64_decode("Zm9v!A==", out));
  EXPECT_FALSE(base64_decode("Z===", out));
  EXPECT_FALSE(base64_decode("Zm=v", out));
  EXPECT_FALSE(base64_decode("Zm8=Zm8=", out));
}

TEST(Strings, ConstantTimeEquals) {
  EXPECT_TRUE(constant_time_equals("secret", "secret"));
  EXPECT_FALSE(constant_time_equals("secret", "secreT"));
  EXPECT_FALSE(constant_time_equals("secret", "secret1"));
  EXPECT_FALSE(constant_time_equals("", "x"));
}

TEST(Result, CarriesCodeAndMessage) {
  Result<int> r = make_error(ErrorCode::kNotFound, "no mailbox {}", "Foo");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(r.error().to_string(), "not-found: no mailbox Foo");
}

}  // namespace
}  // namespace tern
