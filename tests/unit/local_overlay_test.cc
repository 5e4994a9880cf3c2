// Tests of LocalOverlay: files created here and not uploaded, and queued DELETEs.
#include "fs/local_overlay.h"

#include <gtest/gtest.h>

namespace s3mount {
namespace {

TEST(LocalOverlayTest, CreatedFilesShowAsChildrenAndDirectoriesOnTheWay) {
  LocalOverlay overlay;
  overlay.AddCreate("a/b/c", 10);
  overlay.AddCreate("a/f", 11);
  overlay.AddCreate("top", 12);
  EXPECT_EQ(overlay.CreatedAt("a/f"), InodeId{11});
  EXPECT_EQ(overlay.CreatedAt("a/b"), std::nullopt);
  EXPECT_TRUE(overlay.HasCreatesBelow("a"));
  EXPECT_TRUE(overlay.HasCreatesBelow(""));
  EXPECT_FALSE(overlay.HasCreatesBelow("a/f"));
  EXPECT_FALSE(overlay.HasCreatesBelow("ab")) << "a sibling sharing a prefix is not below";
  const auto children = overlay.ChildrenOf("a");
  ASSERT_EQ(children.size(), 2u);
  EXPECT_EQ(children.at("b"), PathKind::kDirectory);
  EXPECT_EQ(children.at("f"), PathKind::kFile);
  EXPECT_EQ(overlay.ChildrenOf("").size(), 2u);
}

TEST(LocalOverlayTest, ForgetAndMoveFollowTheInode) {
  LocalOverlay overlay;
  overlay.AddCreate("x", 1);
  overlay.MoveCreate(1, "d/y");
  EXPECT_EQ(overlay.CreatedAt("x"), std::nullopt);
  EXPECT_EQ(overlay.CreatedAt("d/y"), InodeId{1});
  overlay.MoveCreate(2, "z");  // not registered: nothing happens
  EXPECT_EQ(overlay.CreatedAt("z"), std::nullopt);
  overlay.AddCreate("d/y", 3);  // another inode created at the same path replaces it
  overlay.ForgetCreate(1);
  EXPECT_EQ(overlay.CreatedAt("d/y"), InodeId{3}) << "forgetting the old inode keeps the new";
  overlay.ForgetCreate(3);
  EXPECT_FALSE(overlay.HasCreatesBelow(""));
}

TEST(LocalOverlayTest, QueuedDeletesAreCounted) {
  LocalOverlay overlay;
  EXPECT_FALSE(overlay.IsDeleteQueued("k"));
  overlay.DeleteQueued("k");
  overlay.DeleteQueued("k");
  overlay.DeleteDone("k");
  EXPECT_TRUE(overlay.IsDeleteQueued("k")) << "one of two DELETEs is still queued";
  overlay.DeleteDone("k");
  EXPECT_FALSE(overlay.IsDeleteQueued("k"));
  overlay.DeleteDone("k");  // more done than queued is harmless
  EXPECT_FALSE(overlay.IsDeleteQueued("k"));
}

}  // namespace
}  // namespace s3mount
