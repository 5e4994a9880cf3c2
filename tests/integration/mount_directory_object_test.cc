// Directory objects other tools make (issue #21): a key without a trailing '/' whose
// Content-Type is application/x-directory, PUT straight into moto with the S3 client as old
// s3fs versions and some consoles store a folder. Through a real mount it must be a directory
// with the mode, owner and mtime of its x-amz-meta-* headers: stat, readdir of its parent and
// of itself, files and directories made inside, chmod on the object itself, and rmdir that
// deletes it; the same operations on a local directory give the same answers.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "tests/support/mount_client_fixture.h"
#include "tests/support/test_data.h"

namespace s3mount {
namespace {

constexpr mode_t kStoredMode = S_IFDIR | 0750;
constexpr uid_t kStoredUid = 4321;
constexpr gid_t kStoredGid = 8765;
constexpr time_t kStoredMtime = 1600000000;

// Each name in `dir` and whether it is a directory (from d_type, or a stat when readdir said
// "unknown").
std::map<std::string, bool> DirectoriesIn(const std::string& dir) {
  std::map<std::string, bool> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    out[entry.path().filename().string()] = entry.is_directory();  // stat if d_type unknown
  }
  return out;
}

class MountDirectoryObjectTest : public testing::MountClientTest {
 protected:
  void PutDirectoryObject(const std::string& key) {
    auto put =
        client_.store->PutObject({.key = key,
                                  .body = "",
                                  .content_type = "application/x-directory",
                                  .user_metadata = {{"mode", std::to_string(kStoredMode)},
                                                    {"uid", std::to_string(kStoredUid)},
                                                    {"gid", std::to_string(kStoredGid)},
                                                    {"mtime", std::to_string(kStoredMtime)}}});
    ASSERT_TRUE(put.ok()) << put.error().ToString();
  }
  void Put(const std::string& key, const std::string& body) {
    auto put = client_.store->PutObject({.key = key, .body = body});
    ASSERT_TRUE(put.ok()) << put.error().ToString();
  }
};

TEST_F(MountDirectoryObjectTest, AnXDirectoryObjectIsADirectoryWithItsHeaders) {
  PutDirectoryObject("top/solo");
  PutDirectoryObject("top/parent");
  Put("top/parent/child.txt", "child\n");
  Put("top/empty.txt", "");
  auto mount = Mount();
  ASSERT_NE(mount, nullptr);

  const std::map<std::string, bool> expected_types = {
      {"solo", true}, {"parent", true}, {"empty.txt", false}};
  EXPECT_EQ(DirectoriesIn(mount->Path("top")), expected_types)
      << "readdir of the parent (then stat) shows the directory objects as files";
  for (const char* name : {"solo", "parent"}) {
    struct stat st = {};
    ASSERT_EQ(::lstat(mount->Path(std::string("top/") + name).c_str(), &st), 0)
        << name << ": " << std::strerror(errno);
    EXPECT_TRUE(S_ISDIR(st.st_mode)) << name << ": mode 0" << std::oct << st.st_mode;
    EXPECT_EQ(st.st_mode, kStoredMode) << name << ": the mode of x-amz-meta-mode";
    EXPECT_EQ(st.st_uid, kStoredUid) << name;
    EXPECT_EQ(st.st_gid, kStoredGid) << name;
    EXPECT_EQ(st.st_mtim.tv_sec, kStoredMtime) << name;
  }
  EXPECT_EQ(DirectoriesIn(mount->Path("top/parent")),
            (std::map<std::string, bool>{{"child.txt", false}}));
  EXPECT_TRUE(DirectoriesIn(mount->Path("top/solo")).empty());
}

TEST_F(MountDirectoryObjectTest, ItWorksLikeALocalDirectoryAndRmdirDeletesTheObject) {
  PutDirectoryObject("d");
  auto mount = Mount();
  ASSERT_NE(mount, nullptr);
  auto local_root = testing::TempDir::Create("xdir-local");
  ASSERT_TRUE(local_root.ok()) << local_root.error().ToString();
  const std::string local = (*local_root)->path() + "/d";
  ASSERT_EQ(::mkdir(local.c_str(), 0750), 0);
  for (const std::string& dir : {mount->Path("d"), local}) {
    SCOPED_TRACE(dir);
    ASSERT_EQ(::mkdir((dir + "/sub").c_str(), 0755), 0) << std::strerror(errno);
    { std::ofstream(dir + "/new.txt") << "new\n"; }
    EXPECT_EQ(::chmod(dir.c_str(), 0700), 0) << std::strerror(errno);
    struct stat st = {};
    ASSERT_EQ(::stat(dir.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode, S_IFDIR | 0700u);
    EXPECT_EQ(DirectoriesIn(dir), (std::map<std::string, bool>{{"new.txt", false}, {"sub", true}}));
    errno = 0;
    EXPECT_EQ(::rmdir(dir.c_str()), -1);
    EXPECT_EQ(errno, ENOTEMPTY) << "rmdir of a directory with entries";
  }
  // chmod rewrote the object itself (no second marker), keeping its Content-Type.
  auto object = Head("d");
  ASSERT_TRUE(object.has_value()) << "the directory object is gone";
  EXPECT_EQ(object->content_type, "application/x-directory");
  EXPECT_EQ(object->user_metadata["mode"], std::to_string(S_IFDIR | 0700));
  EXPECT_FALSE(Head("d/").has_value()) << "chmod wrote a d/ marker beside the directory object";
  EXPECT_EQ(Body("d/new.txt"), "new\n");
  EXPECT_TRUE(Head("d/sub/").has_value());

  for (const std::string& dir : {mount->Path("d"), local}) {
    SCOPED_TRACE(dir);
    ASSERT_EQ(::unlink((dir + "/new.txt").c_str()), 0) << std::strerror(errno);
    ASSERT_EQ(::rmdir((dir + "/sub").c_str()), 0) << std::strerror(errno);
    ASSERT_EQ(::rmdir(dir.c_str()), 0) << std::strerror(errno);
    struct stat st = {};
    errno = 0;
    EXPECT_EQ(::lstat(dir.c_str(), &st), -1);
    EXPECT_EQ(errno, ENOENT);
  }
  EXPECT_FALSE(Head("d").has_value()) << "rmdir left the directory object in S3";
  EXPECT_EQ(CountUnder("d"), 0u);
}

}  // namespace
}  // namespace s3mount
