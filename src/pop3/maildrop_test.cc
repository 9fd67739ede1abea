#include "pop3/maildrop.h"

#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tern::pop3 {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

store::Message msg(uint32_t uid, uint64_t size, uint32_t flags = 0) {
  store::Message m;
  m.uid = uid;
  m.size = size;
  m.flags = flags;
  m.blob_id = 100 + uid;
  return m;
}

TEST(Maildrop, NumbersTheSnapshotAndLeavesOutDeletedMessages) {
  Maildrop drop(7, 1234, {msg(3, 10), msg(5, 20, store::kFlagDeleted), msg(9, 30, store::kFlagSeen)});
  EXPECT_EQ(drop.mailbox_id(), 7);
  EXPECT_EQ(drop.count(), 2u);
  EXPECT_EQ(drop.live_count(), 2u);
  EXPECT_EQ(drop.live_size(), 40u);
  ASSERT_NE(drop.find(1), nullptr);
  EXPECT_EQ(drop.find(1)->uid, 3u);
  EXPECT_EQ(drop.find(2)->uid, 9u);
  EXPECT_EQ(drop.find(2)->blob_id, 109);
  EXPECT_EQ(drop.find(0), nullptr);
  EXPECT_EQ(drop.find(3), nullptr);
  EXPECT_EQ(drop.uidl(*drop.find(1)), "1234.3");
  EXPECT_EQ(drop.uidl(*drop.find(2)), "1234.9");
}

TEST(Maildrop, DeleteMarksAndResetUnmarks) {
  Maildrop drop(1, 1, {msg(1, 10), msg(2, 20), msg(3, 30)});
  EXPECT_TRUE(drop.mark_deleted(2));
  EXPECT_FALSE(drop.mark_deleted(2));
  EXPECT_FALSE(drop.mark_deleted(4));
  EXPECT_EQ(drop.find(2), nullptr);
  EXPECT_TRUE(drop.at(2).deleted);
  EXPECT_EQ(drop.count(), 3u);  // numbers stay
  EXPECT_EQ(drop.live_count(), 2u);
  EXPECT_EQ(drop.live_size(), 40u);
  EXPECT_TRUE(drop.mark_deleted(3));
  EXPECT_THAT(drop.deleted_uids(), ElementsAre(2u, 3u));
  drop.unmark_all();
  EXPECT_EQ(drop.live_count(), 3u);
  EXPECT_EQ(drop.live_size(), 60u);
  EXPECT_THAT(drop.deleted_uids(), IsEmpty());
  ASSERT_NE(drop.find(2), nullptr);
}

TEST(Maildrop, SeenAreTheRetrievedMessagesThatStayAndWereUnseen) {
  Maildrop drop(1, 1, {msg(1, 1), msg(2, 1, store::kFlagSeen), msg(3, 1), msg(4, 1)});
  drop.mark_retrieved(1);
  drop.mark_retrieved(2);
  drop.mark_retrieved(3);
  drop.mark_retrieved(9);  // ignored
  drop.mark_deleted(3);
  EXPECT_THAT(drop.seen_uids(), ElementsAre(1u));
}

}  // namespace
}  // namespace tern::pop3
