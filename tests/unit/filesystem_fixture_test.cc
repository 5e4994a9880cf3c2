// Tests of FilesystemFixture itself: by default the Filesystem's requests pass through the
// faulty and the gated store (so a test's faults and gates reach it), and a suite that mounts
// on the bare fake store bypasses both.
#include "tests/support/filesystem_fixture.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace s3mount {
namespace {

using testing::Operation;

class FilesystemFixtureTest : public testing::FilesystemFixture {};

TEST_F(FilesystemFixtureTest, RequestsPassThroughTheFaultyAndTheGatedStore) {
  Mount();
  ASSERT_TRUE(WriteAndClose("f", "data").ok());
  EXPECT_EQ(faulty_.attempts().put_object, 1) << "the PUT did not pass the faulty store";
  EXPECT_EQ(gated_.journal(), std::vector<std::string>{"PUT f"})
      << "the PUT did not pass the gated store";
  EXPECT_EQ(store_.BodyOf("f"), "data");
  EXPECT_EQ(ReadAll(Inode("f")), "data");
}

class FilesystemOnTheFakeStoreTest : public testing::FilesystemFixture {
 protected:
  FilesystemOnTheFakeStoreTest() : FilesystemFixture({.mount_on = Layer::kFake}) {}
};

TEST_F(FilesystemOnTheFakeStoreTest, RequestsBypassTheFaultyAndTheGatedStore) {
  Mount();
  faulty_.FailNext(Operation::kPutObject, MakeError(ErrorCode::kAccessDenied, "denied"), 10);
  ASSERT_TRUE(WriteAndClose("f", "data").ok()) << "a fault scripted on the faulty store hit";
  EXPECT_EQ(faulty_.attempts().Total(), 0);
  EXPECT_TRUE(gated_.journal().empty());
  EXPECT_EQ(store_.BodyOf("f"), "data");
}

}  // namespace
}  // namespace s3mount
