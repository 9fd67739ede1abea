// Tests for mime/cache.h: round trip and corruption detection.
#include "mime/cache.h"

#include <gtest/gtest.h>

#include "mime/imap_view.h"

namespace tern::mime {
namespace {

const char kMessage[] =
    "Subject: cached\nFrom: a@b.test\nContent-Type: multipart/mixed; boundary=b\n\n"
    "--b\nContent-Type: text/plain; charset=utf-8\nContent-Language: en\n\nhello\n"
    "--b\nContent-Type: message/rfc822\nContent-Disposition: inline; filename*=utf-8''x%C3%A9\n\n"
    "Subject: inner\n\ninner\n--b--\n";

TEST(Cache, RoundTripKeepsEverything) {
  const Message msg = parse(kMessage);
  const std::string blob = serialize(msg);
  auto back = deserialize(blob);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, msg);
  EXPECT_EQ(body_structure(*back, true), body_structure(msg, true));
  EXPECT_EQ(envelope(*back), envelope(msg));
  const std::string m = kMessage;
  EXPECT_EQ(*extract(*back, m, *parse_section("2.HEADER")), "Subject: inner\n\n");
  EXPECT_LT(blob.size(), 600u);
}

TEST(Cache, RejectsCorruption) {
  const std::string blob = serialize(parse(kMessage));
  EXPECT_EQ(deserialize("").error().code, ErrorCode::kCorruption);
  EXPECT_EQ(deserialize("XXXX").error().code, ErrorCode::kCorruption);
  for (std::size_t n = 0; n < blob.size(); ++n) EXPECT_FALSE(deserialize(blob.substr(0, n))) << n;
  EXPECT_FALSE(deserialize(blob + "x"));
  // Every single-byte change is either rejected or still yields a self-consistent tree.
  for (std::size_t i = 4; i < blob.size(); ++i) {
    std::string bad = blob;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    auto r = deserialize(bad);
    if (!r) continue;
    for (const auto& p : r->parts) {
      EXPECT_LE(p.header_begin, p.body_begin);
      EXPECT_LE(p.body_end, r->size);
    }
    (void)body_structure(*r, true);
  }
}

}  // namespace
}  // namespace tern::mime
