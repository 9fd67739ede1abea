#include "auth/password.h"

#include <gtest/gtest.h>

namespace tern::auth {
namespace {

TEST(PasswordTest, HashIsYescryptAndVerifies) {
  auto h = hash_password("correct horse");
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->rfind("$y$", 0), 0u) << *h;
  EXPECT_TRUE(verify_password("correct horse", *h));
  EXPECT_FALSE(verify_password("correct horsE", *h));
  EXPECT_FALSE(verify_password("", *h));
}

TEST(PasswordTest, SaltsDiffer) {
  auto a = hash_password("same");
  auto b = hash_password("same");
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(verify_password("same", *b));
}

TEST(PasswordTest, MalformedHashNeverMatches) {
  EXPECT_FALSE(verify_password("x", ""));
  EXPECT_FALSE(verify_password("x", "*0"));
  EXPECT_FALSE(verify_password("x", "*1"));
  EXPECT_FALSE(verify_password("x", "$y$"));
  EXPECT_FALSE(verify_password("x", "$y$garbage"));
  EXPECT_FALSE(verify_password("", "!"));
  EXPECT_FALSE(verify_password("x", "$unknown$abc$def"));
}

TEST(PasswordTest, RejectsNulAndOverlongPasswords) {
  EXPECT_FALSE(hash_password(std::string("a\0b", 3)));
  EXPECT_FALSE(hash_password(std::string(2000, 'a')));
  auto h = hash_password("a");
  ASSERT_TRUE(h);
  // A NUL must not truncate the password into a match.
  EXPECT_FALSE(verify_password(std::string("a\0b", 3), *h));
}

}  // namespace
}  // namespace tern::auth
