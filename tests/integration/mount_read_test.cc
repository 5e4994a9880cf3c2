// Integration tests on a real FUSE mount of the built s3mount over moto_server: ordinary
// tools (ls, find, du, cat, cp, rsync, md5sum, tar) and plain system calls must see exactly
// the objects put through the S3 client, with awkward key names, empty files, a 256 MiB
// object read sequentially and at random offsets, a 10,000-entry directory, prefix mounts,
// filters, read-only refusals, stale handles, symlinks and xattrs.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "s3mount/s3/curl_object_store.h"
#include "tests/support/moto_fixture.h"
#include "tests/support/s3_client_factory.h"
#include "tests/support/s3mount_process.h"
#include "tests/support/test_data.h"

namespace s3mount {
namespace {

using testing::RandomBytes;
using testing::ReadFile;

using testing::RunCommand;
using testing::S3mountProcess;

std::set<std::string> Lines(const std::string& text) {
  std::set<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.insert(line);
  return lines;
}

class MountTest : public testing::MotoTest {
 protected:
  void SetUp() override {
    testing::MotoTest::SetUp();
    if (HasFatalFailure()) return;
    client_ = testing::MakeTestClient(testing::LocalClientOptions(server().endpoint(), bucket()),
                                      {"test", "test", "", std::nullopt}, clock_);
    ASSERT_NE(client_.store, nullptr);
  }
  void Put(const std::string& key, std::string_view body, UserMetadata metadata = {}) {
    auto put = client_.store->PutObject({.key = key, .body = body, .user_metadata = metadata});
    ASSERT_TRUE(put.ok()) << key << ": " << put.error().ToString();
  }
  std::unique_ptr<S3mountProcess> Mount(std::vector<std::string> options = {},
                                        const std::string& prefix = "") {
    auto mount =
        S3mountProcess::Mount(server(), {.source = bucket() + (prefix.empty() ? "" : ":/" + prefix),
                                         .options = std::move(options)});
    EXPECT_TRUE(mount.ok()) << mount.error().ToString();
    return mount.ok() ? std::move(mount).value() : nullptr;
  }
  testing::CommandResult Run(std::vector<std::string> argv) {
    auto result = RunCommand({.argv = std::move(argv), .timeout = std::chrono::seconds(120)});
    EXPECT_TRUE(result.ok()) << result.error().ToString();
    return result.ok() ? *result : testing::CommandResult{};
  }

  SystemClock clock_;
  testing::TestClient client_;
};

const std::map<std::string, std::string>& ToolObjects() {
  static const auto* objects = new std::map<std::string, std::string>{
      {"hello.txt", "hello from s3\n"},
      {"empty", ""},
      {"dir one/a b.txt", "spaces in names\n"},
      {"dir one/sub/deep.bin", RandomBytes(1 << 20, 1)},
      {"utf8-\xc3\xa9t\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac.txt", "utf-8\n"},
      {"special +=&$@:*(),;'~.txt", "special characters\n"},
  };
  return *objects;
}

TEST_F(MountTest, OrdinaryToolsSeeTheObjectsExactly) {
  for (const auto& [key, body] : ToolObjects()) Put(key, body);
  auto mount = Mount();
  ASSERT_NE(mount, nullptr);
  const std::string root = mount->mountpoint();

  std::set<std::string> expected_files;
  for (const auto& [key, body] : ToolObjects()) {
    expected_files.insert(root + "/" + key);
    EXPECT_EQ(ReadFile(mount->Path(key)), body) << "cat of '" << key << "' differs";
    struct stat st = {};
    ASSERT_EQ(stat(mount->Path(key).c_str(), &st), 0) << key;
    EXPECT_EQ(static_cast<size_t>(st.st_size), body.size()) << key;
    EXPECT_TRUE(S_ISREG(st.st_mode)) << key;
  }
  EXPECT_EQ(Lines(Run({"find", root, "-type", "f"}).stdout_text), expected_files);
  EXPECT_EQ(Lines(Run({"ls", "-1", root}).stdout_text),
            (std::set<std::string>{"dir one", "empty", "hello.txt", "special +=&$@:*(),;'~.txt",
                                   "utf8-\xc3\xa9t\xc3\xa9"}));
  const auto ls_l = Run({"ls", "-l", root + "/dir one"});
  EXPECT_NE(ls_l.stdout_text.find("a b.txt"), std::string::npos) << ls_l.stdout_text;
  EXPECT_NE(ls_l.stdout_text.find("drwx"), std::string::npos) << ls_l.stdout_text;

  size_t total = 0;
  for (const auto& [key, body] : ToolObjects()) total += body.size();
  const auto du = Run({"du", "-sb", "--apparent-size", root});
  EXPECT_EQ(std::stoull(du.stdout_text), total) << du.stdout_text;

  const auto md5 = Run({"md5sum", mount->Path("dir one/sub/deep.bin")});
  auto local = testing::TempDir::Create("s3mount-copy");
  ASSERT_TRUE(local.ok());
  {
    std::ofstream out((*local)->File("deep.bin"), std::ios::binary);
    out << ToolObjects().at("dir one/sub/deep.bin");
  }
  const auto local_md5 = Run({"md5sum", (*local)->File("deep.bin")});
  EXPECT_EQ(md5.stdout_text.substr(0, 32), local_md5.stdout_text.substr(0, 32));

  const auto cp = Run({"cp", "-r", root, (*local)->File("cp")});
  EXPECT_TRUE(cp.ok()) << cp.Describe();
  const auto diff = Run({"diff", "-r", root, (*local)->File("cp")});
  EXPECT_TRUE(diff.ok()) << "cp -r copy differs: " << diff.Describe();
  const auto rsync = Run({"rsync", "-a", root + "/", (*local)->File("rsync")});
  EXPECT_TRUE(rsync.ok()) << rsync.Describe();
  EXPECT_TRUE(Run({"diff", "-r", root, (*local)->File("rsync")}).ok()) << "rsync copy differs";
  const auto tar = Run({"tar", "cf", (*local)->File("all.tar"), "-C", root, "."});
  EXPECT_TRUE(tar.ok()) << tar.Describe();
  const auto listing = Run({"tar", "tf", (*local)->File("all.tar")});
  EXPECT_NE(listing.stdout_text.find("./dir one/sub/deep.bin"), std::string::npos);
  ASSERT_TRUE(mount->Unmount().ok());
}

TEST_F(MountTest, ReadOnlyRefusesEveryModification) {
  Put("f", "data");
  auto mount = Mount({"ro"});
  ASSERT_NE(mount, nullptr);
  errno = 0;
  EXPECT_EQ(open(mount->Path("new").c_str(), O_WRONLY | O_CREAT, 0644), -1);
  EXPECT_EQ(errno, EROFS);
  EXPECT_EQ(open(mount->Path("f").c_str(), O_WRONLY), -1);
  EXPECT_EQ(errno, EROFS);
  EXPECT_EQ(mkdir(mount->Path("d").c_str(), 0755), -1);
  EXPECT_EQ(errno, EROFS);
  EXPECT_EQ(unlink(mount->Path("f").c_str()), -1);
  EXPECT_EQ(errno, EROFS);
  EXPECT_EQ(rename(mount->Path("f").c_str(), mount->Path("g").c_str()), -1);
  EXPECT_EQ(errno, EROFS);
  EXPECT_EQ(ReadFile(mount->Path("f")), "data");
}

TEST_F(MountTest, PrefixMountShowsOnlyThatPrefix) {
  Put("outside.txt", "x");
  Put("data/2024/a.csv", "a");
  Put("data/2024/b.csv", "b");
  auto mount = Mount({}, "data");
  ASSERT_NE(mount, nullptr);
  EXPECT_EQ(Lines(Run({"ls", "-1", mount->mountpoint()}).stdout_text),
            std::set<std::string>{"2024"});
  EXPECT_EQ(ReadFile(mount->Path("2024/b.csv")), "b");
  struct stat st = {};
  EXPECT_EQ(stat(mount->Path("outside.txt").c_str(), &st), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(MountTest, IncludeAndExcludeFiltersHideKeys) {
  for (const char* key : {"a.txt", "b.log", "logs/c.txt", "keep/d.txt", "keep/e.log"}) {
    Put(key, key);
  }
  auto mount = Mount({"include=*.txt", "exclude=logs"});
  ASSERT_NE(mount, nullptr);
  EXPECT_EQ(Lines(Run({"find", mount->mountpoint(), "-type", "f"}).stdout_text),
            (std::set<std::string>{mount->Path("a.txt"), mount->Path("keep/d.txt")}));
  struct stat st = {};
  EXPECT_EQ(stat(mount->Path("b.log").c_str(), &st), -1);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(stat(mount->Path("logs").c_str(), &st), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(MountTest, ChangedObjectGivesEstaleOnTheOpenHandleThenTheNewVersion) {
  Put("f", RandomBytes(8 << 20, 5));
  auto mount = Mount();
  ASSERT_NE(mount, nullptr);
  const int fd = open(mount->Path("f").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  char buffer[4096];
  ASSERT_EQ(pread(fd, buffer, sizeof buffer, 6 << 20), 4096);
  Put("f", RandomBytes(8 << 20, 6));
  errno = 0;
  EXPECT_EQ(pread(fd, buffer, sizeof buffer, 1 << 20), -1) << "read mixed two versions";
  EXPECT_EQ(errno, ESTALE);
  close(fd);
  EXPECT_TRUE(ReadFile(mount->Path("f")) == RandomBytes(8 << 20, 6))
      << "a fresh open after ESTALE must see the new version";
}

// The whole file through open(2) and read(2) as `cat` does it, or "<strerror>" on failure.
std::string ReadBySyscalls(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return "<open: " + std::string(std::strerror(errno)) + ">";
  std::string data;
  char buffer[128 * 1024];
  for (;;) {
    const ssize_t got = read(fd, buffer, sizeof buffer);
    if (got < 0) {
      data = "<read: " + std::string(std::strerror(errno)) + ">";
      break;
    }
    if (got == 0) break;
    data.append(buffer, static_cast<size_t>(got));
  }
  close(fd);
  return data;
}

TEST_F(MountTest, AFreshOpenAfterAnotherClientsOverwriteReadsTheNewVersion) {
  auto mount = Mount();
  ASSERT_NE(mount, nullptr);
  for (int round = 0; round < 100; ++round) {
    const std::string name = "overwritten-" + std::to_string(round);
    // The new version is longer in even rounds (more than a page), shorter in odd ones: the
    // size the kernel cached must neither cut the new content short nor pad it.
    const std::string small = "version of round " + std::to_string(round) + "\n";
    const std::string large = RandomBytes(5000 + round, static_cast<uint64_t>(round));
    const std::string& old_body = round % 2 == 0 ? small : large;
    const std::string& new_body = round % 2 == 0 ? large : small;
    Put(name, old_body);
    struct stat st = {};
    ASSERT_EQ(stat(mount->Path(name).c_str(), &st), 0) << name;  // `ls -l`: attributes cached
    ASSERT_EQ(static_cast<size_t>(st.st_size), old_body.size());
    Put(name, new_body);
    const std::string got = ReadBySyscalls(mount->Path(name));
    ASSERT_TRUE(got == new_body) << "round " << round << ": read " << got.size()
                                 << " bytes (the new version has " << new_body.size()
                                 << ", the old " << old_body.size() << "): " << got.substr(0, 40)
                                 << "\n"
                                 << mount->LogTail();
  }
}

TEST_F(MountTest, ANameAnotherClientCreatesIsFoundAfterNegativeTtlDespiteACachedListing) {
  Put("dir/old", "x");
  auto mount = Mount({"negative_ttl=1", "list_ttl=600"});
  ASSERT_NE(mount, nullptr);
  ASSERT_EQ(Lines(Run({"ls", mount->Path("dir")}).stdout_text), std::set<std::string>{"old"});
  const auto listed = std::chrono::steady_clock::now();
  Put("dir/new", "created elsewhere");
  // Polled: the first stat may come within negative_ttl of the listing. The deadline is only
  // there to end the test; list_ttl (600 s) is what it must not wait for.
  bool found = false;
  while (!found && std::chrono::steady_clock::now() - listed < std::chrono::seconds(30)) {
    struct stat st = {};
    found = stat(mount->Path("dir/new").c_str(), &st) == 0;
    if (!found) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(found) << "dir/new stayed ENOENT: absence learnt from the cached listing outlived "
                        "negative_ttl\n"
                     << mount->LogTail();
  EXPECT_EQ(ReadFile(mount->Path("dir/new")), "created elsewhere");
  // negative_ttl has passed since the listing: an exact name is asked of S3 at once.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  Put("dir/newer", "also created elsewhere");
  EXPECT_EQ(ReadFile(mount->Path("dir/newer")), "also created elsewhere");
}

TEST_F(MountTest, SymlinksAndExtendedAttributesFromS3fsMetadata) {
  Put("target.txt", "pointed at");
  Put("link", "target.txt", {{"mode", "41471"}});
  Put("tagged", "x", {{"color", "blue"}, {"mode", "33184"}, {"uid", "123"}});
  auto mount = Mount();
  ASSERT_NE(mount, nullptr);
  char target[256] = {};
  ASSERT_GT(readlink(mount->Path("link").c_str(), target, sizeof target - 1), 0);
  EXPECT_STREQ(target, "target.txt");
  EXPECT_EQ(ReadFile(mount->Path("link")), "pointed at");
  struct stat st = {};
  ASSERT_EQ(stat(mount->Path("tagged").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_uid, 123u);
  char value[64] = {};
  ASSERT_EQ(getxattr(mount->Path("tagged").c_str(), "user.color", value, sizeof value), 4);
  EXPECT_STREQ(value, "blue");
  EXPECT_EQ(getxattr(mount->Path("tagged").c_str(), "user.none", value, sizeof value), -1);
  EXPECT_EQ(errno, ENODATA);
}

class MountLargeObjectTest : public MountTest {};

TEST_F(MountLargeObjectTest, A256MibObjectReadsSequentiallyAndAtRandomOffsets) {
  const std::string body = RandomBytes(size_t{256} << 20, 256);
  Put("big", body);
  auto mount = Mount();
  ASSERT_NE(mount, nullptr);
  const int fd = open(mount->Path("big").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  std::mt19937_64 rng(7);
  std::vector<char> buffer(3 << 20);
  for (int i = 0; i < 25; ++i) {
    const size_t length = 1 + rng() % buffer.size();
    const size_t offset = rng() % (body.size() - length);
    ASSERT_EQ(pread(fd, buffer.data(), length, static_cast<off_t>(offset)),
              static_cast<ssize_t>(length));
    EXPECT_TRUE(std::equal(buffer.begin(), buffer.begin() + static_cast<ptrdiff_t>(length),
                           body.begin() + static_cast<ptrdiff_t>(offset)))
        << "bytes at " << offset << " (+" << length << ") differ";
  }
  close(fd);
  EXPECT_TRUE(ReadFile(mount->Path("big")) == body) << "sequential read of 256 MiB differs";
}

class MountLargeDirectoryTest : public MountTest {};

TEST_F(MountLargeDirectoryTest, TenThousandEntriesListCompletely) {
  constexpr int kEntries = 10000;
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      for (int i = t; i < kEntries; i += 8) {
        EXPECT_TRUE(
            client_.store->PutObject({.key = "many/f" + std::to_string(i), .body = "x"}).ok());
      }
    });
  }
  for (auto& writer : writers) writer.join();
  auto mount = Mount({"no_object_metadata"});
  ASSERT_NE(mount, nullptr);
  const auto names = Lines(Run({"ls", "-1", mount->Path("many")}).stdout_text);
  EXPECT_EQ(names.size(), static_cast<size_t>(kEntries));
  EXPECT_EQ(names.count("f9999"), 1u);
  const auto long_listing = Run({"ls", "-l", mount->Path("many")});
  EXPECT_EQ(std::count(long_listing.stdout_text.begin(), long_listing.stdout_text.end(), '\n'),
            kEntries + 1);  // plus the "total" line
}

}  // namespace
}  // namespace s3mount
