// store/mail_store_test.cc: the address helpers.
#include "store/mail_store.h"

#include <gtest/gtest.h>

namespace tern::store {
namespace {

TEST(Address, NormalizeLowerCases) {
  EXPECT_EQ(normalize_address("Alice.Smith@Example.ORG"), "alice.smith@example.org");
}

TEST(Address, Split) {
  auto p = split_address("a@b.example");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->first, "a");
  EXPECT_EQ(p->second, "b.example");
  auto quoted = split_address("\"x@y\"@host");  // the last '@' separates the domain
  ASSERT_TRUE(quoted);
  EXPECT_EQ(quoted->second, "host");
  EXPECT_FALSE(split_address("nodomain"));
  EXPECT_FALSE(split_address("@host"));
  EXPECT_FALSE(split_address("local@"));
}

}  // namespace
}  // namespace tern::store
