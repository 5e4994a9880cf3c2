// Ordinary tools writing through a real s3mount mount over moto_server (issue #4): cp -a,
// rsync -a, tar, git, unzip, sed -i and vim, sqlite3 and shell redirections. Each scenario
// runs the identical shell command once in a local directory and once on the mount, then the
// two trees are compared with tree_compare (contents, modes, symlink targets, file mtimes,
// user xattrs) and, where it matters, the objects are checked through the S3 API.
//
// Every command runs through sh with $1 = the side's root (local dir or mountpoint) and
// $2 = a local scratch directory holding the prepared sources (src/, tree.tar, tree.zip,
// repo/). Directory and symlink mtimes are not compared (tools differ in whether they set
// them, and a directory's mtime moves when entries are added).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "s3mount/s3/curl_object_store.h"
#include "s3mount/s3/object_sinks.h"
#include "tests/support/moto_fixture.h"
#include "tests/support/s3_client_factory.h"
#include "tests/support/s3mount_process.h"
#include "tests/support/test_data.h"
#include "tests/support/tree_compare.h"

namespace s3mount {
namespace {

using testing::RandomBytes;
using testing::ReadFile;

using testing::CommandResult;
using testing::RunCommand;
using testing::S3mountProcess;
using testing::TempDir;

constexpr std::chrono::seconds kCommandTimeout{90};
constexpr size_t kMiB = size_t{1} << 20;

void WriteFile(const std::string& path, std::string_view data, mode_t mode) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  ASSERT_TRUE(out.good()) << "cannot write " << path;
  ASSERT_EQ(chmod(path.c_str(), mode), 0) << path << ": " << std::strerror(errno);
}

void SetMtime(const std::string& path, time_t sec, long nsec) {
  const timespec times[2] = {{sec, nsec}, {sec, nsec}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0)
      << path << ": " << std::strerror(errno);
}

// The source tree of the copy scenarios: nested directories, an empty file, 3 MiB and
// 20 MiB files, modes 0600/0755/0640, a symlink, an xattr, set mtimes (one with nanoseconds).
void BuildSourceTree(const std::string& src) {
  for (const char* dir : {"", "/nested", "/nested/deeper", "/nested/deeper/deepest", "/emptydir"}) {
    ASSERT_EQ(mkdir((src + dir).c_str(), 0755), 0) << src << dir;
  }
  ASSERT_NO_FATAL_FAILURE(WriteFile(src + "/top.txt", "top level file\n", 0644));
  ASSERT_NO_FATAL_FAILURE(WriteFile(src + "/empty", "", 0644));
  ASSERT_NO_FATAL_FAILURE(WriteFile(src + "/secret.txt", "private\n", 0600));
  ASSERT_NO_FATAL_FAILURE(WriteFile(src + "/run.sh", "#!/bin/sh\necho hi\n", 0755));
  ASSERT_NO_FATAL_FAILURE(WriteFile(src + "/group.txt", "group readable\n", 0640));
  ASSERT_NO_FATAL_FAILURE(WriteFile(src + "/big3.bin", RandomBytes(3 * kMiB, 3), 0644));
  ASSERT_NO_FATAL_FAILURE(WriteFile(src + "/nested/big20.bin", RandomBytes(20 * kMiB, 20), 0644));
  ASSERT_NO_FATAL_FAILURE(WriteFile(src + "/nested/deeper/deepest/leaf.txt", "leaf\n", 0644));
  ASSERT_NO_FATAL_FAILURE(WriteFile(src + "/dated.txt", "old news\n", 0644));
  ASSERT_EQ(symlink("../top.txt", (src + "/nested/link").c_str()), 0);
  const std::string tag = "blue";
  ASSERT_EQ(setxattr((src + "/top.txt").c_str(), "user.color", tag.data(), tag.size(), 0), 0)
      << std::strerror(errno);
  time_t sec = 1600000000;
  for (const char* file : {"/top.txt", "/empty", "/secret.txt", "/run.sh", "/group.txt",
                           "/big3.bin", "/nested/big20.bin", "/nested/deeper/deepest/leaf.txt"}) {
    ASSERT_NO_FATAL_FAILURE(SetMtime(src + file, sec += 1000, 0));
  }
  ASSERT_NO_FATAL_FAILURE(SetMtime(src + "/dated.txt", 1500000000, 123456789));
}

// `tar tvf` lines with the date and time of directory lines masked.
std::string MaskDirectoryTimes(const std::string& listing) {
  std::istringstream in(listing);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] != 'd') {
      out += line + "\n";
      continue;
    }
    std::istringstream fields(line);
    std::string mode, owner, size, date, time, name;
    fields >> mode >> owner >> size >> date >> time;
    std::getline(fields, name);
    out += mode + " " + owner + " " + size + " <time>" + name + "\n";
  }
  return out;
}

class MountToolsTest : public testing::MotoTest {
 protected:
  void SetUp() override {
    testing::MotoTest::SetUp();
    if (HasFatalFailure()) return;
    client_ = testing::MakeTestClient(testing::LocalClientOptions(server().endpoint(), bucket()),
                                      {"test", "test", "", std::nullopt}, clock_);
    ASSERT_NE(client_.store, nullptr);
    auto work = TempDir::Create("s3mount-tools");
    ASSERT_TRUE(work.ok()) << work.error().ToString();
    work_ = std::move(work).value();
    local_ = work_->File("local");
    ASSERT_EQ(mkdir(local_.c_str(), 0755), 0);
    auto mount = S3mountProcess::Mount(server(), {.source = bucket()});
    ASSERT_TRUE(mount.ok()) << mount.error().ToString();
    mount_ = std::move(mount).value();
  }
  void TearDown() override {
    if (mount_ == nullptr) return;
    auto unmounted = mount_->Unmount();
    EXPECT_TRUE(unmounted.ok()) << unmounted.error().ToString();
    if (HasFailure()) std::cerr << "s3mount log tail:\n" << mount_->LogTail() << "\n";
  }

  // Runs `script` with sh in `root` ($1) with the scratch directory as $2.
  CommandResult Sh(const std::string& root, const std::string& script,
                   const std::string& stdin_data = "") {
    auto result =
        RunCommand({.argv = {"sh", "-c", "set -e; cd \"$1\"; " + script, "sh", root, work_->path()},
                    .env = {{"HOME", work_->path()},
                            {"GIT_CONFIG_NOSYSTEM", "1"},
                            {"LC_ALL", "C"},
                            {"TZ", "UTC"}},
                    .stdin_data = stdin_data,
                    .timeout = kCommandTimeout});
    EXPECT_TRUE(result.ok()) << "`" << script << "` in " << root << ": "
                             << result.error().ToString();
    return result.ok() ? *result : CommandResult{};
  }

  // Runs `script` on both sides; both must succeed and print the same. The mount's output.
  std::string RunBoth(const std::string& script, const std::string& stdin_data = "") {
    const CommandResult local = Sh(local_, script, stdin_data);
    const CommandResult mounted = Sh(mount_->mountpoint(), script, stdin_data);
    EXPECT_TRUE(local.ok()) << "`" << script << "` failed locally: " << local.Describe();
    EXPECT_TRUE(mounted.ok()) << "`" << script << "` failed on the mount: " << mounted.Describe();
    EXPECT_EQ(mounted.stdout_text, local.stdout_text)
        << "`" << script << "` printed different output on the mount (first) and locally";
    return mounted.stdout_text;
  }

  // The local and mounted copies of `relative` must be the same tree.
  void ExpectSameTrees(const std::string& relative, const std::string& after,
                       const testing::TreeCompareOptions& options = DefaultCompare(),
                       const testing::SnapshotOptions& snapshot = {}) {
    const auto diffs = testing::CompareDirectories(local_ + "/" + relative, mount_->Path(relative),
                                                   options, snapshot);
    EXPECT_TRUE(diffs.empty()) << "after " << after << ", '" << relative
                               << "' differs between the local directory and the mount:\n"
                               << testing::FormatDifferences(diffs, "local", "mount");
  }
  static testing::TreeCompareOptions DefaultCompare() {
    return {.ignore_directory_mtimes = true, .ignore_symlink_mtimes = true};
  }

  void PrepareSource() { ASSERT_NO_FATAL_FAILURE(BuildSourceTree(work_->File("src"))); }

  std::string GetObject(const std::string& key) {
    StringSink sink;
    auto got = client_.store->GetObject({.key = key}, sink);
    EXPECT_TRUE(got.ok()) << "GET " << key << ": " << got.error().ToString();
    return sink.Take();
  }
  ObjectInfo HeadObject(const std::string& key) {
    auto head = client_.store->HeadObject({.key = key});
    EXPECT_TRUE(head.ok()) << "HEAD " << key << ": " << head.error().ToString();
    return head.ok() ? *head : ObjectInfo{};
  }

  SystemClock clock_;
  testing::TestClient client_;
  std::unique_ptr<TempDir> work_;
  std::string local_;
  std::unique_ptr<S3mountProcess> mount_;
};

TEST_F(MountToolsTest, CpArchiveCopiesContentsModesLinksAndTimes) {
  ASSERT_NO_FATAL_FAILURE(PrepareSource());
  RunBoth("cp -a \"$2/src\" tree");
  ExpectSameTrees("tree", "cp -a");
  const auto from_local =
      testing::CompareDirectories(work_->File("src"), local_ + "/tree", DefaultCompare());
  EXPECT_TRUE(from_local.empty()) << "cp -a itself is not faithful locally:\n"
                                  << testing::FormatDifferences(from_local, "src", "local");

  const std::string big = GetObject("tree/nested/big20.bin");
  EXPECT_EQ(big.size(), 20 * kMiB) << "the 20 MiB object's size";
  EXPECT_TRUE(big == ReadFile(work_->File("src/nested/big20.bin")))
      << "the 20 MiB object's bytes differ from the source file";
  const ObjectInfo group = HeadObject("tree/group.txt");
  EXPECT_EQ(group.user_metadata.count("mode") ? group.user_metadata.at("mode") : "<missing>",
            "33184")
      << "x-amz-meta-mode of the 0640 file (0100640 in decimal)";
  const ObjectInfo marker = HeadObject("tree/nested/");
  EXPECT_EQ(marker.content_type, "application/x-directory") << "the tree/nested/ marker";
  EXPECT_EQ(marker.size, 0u) << "the tree/nested/ marker";
  const ObjectInfo empty_dir = HeadObject("tree/emptydir/");
  EXPECT_EQ(empty_dir.content_type, "application/x-directory") << "the tree/emptydir/ marker";
}

TEST_F(MountToolsTest, RsyncArchiveCopiesAndPropagatesChanges) {
  ASSERT_NO_FATAL_FAILURE(PrepareSource());
  RunBoth("rsync -a \"$2/src/\" tree/");
  ExpectSameTrees("tree", "the first rsync -a");

  // Change two files: one keeps its size (only the mtime tells rsync), one grows.
  const std::string src = work_->File("src");
  ASSERT_NO_FATAL_FAILURE(WriteFile(src + "/top.txt", "TOP LEVEL FILE\n", 0644));
  ASSERT_NO_FATAL_FAILURE(SetMtime(src + "/top.txt", 1700000000, 5));
  ASSERT_NO_FATAL_FAILURE(
      WriteFile(src + "/big3.bin", RandomBytes(3 * kMiB, 3) + "appended tail", 0600));
  RunBoth("rsync -a \"$2/src/\" tree/");
  ExpectSameTrees("tree", "the second rsync -a");
  EXPECT_EQ(ReadFile(mount_->Path("tree/top.txt")), "TOP LEVEL FILE\n")
      << "rsync did not propagate the same-size change to the mount";
  EXPECT_EQ(GetObject("tree/big3.bin").size(), 3 * kMiB + 13)
      << "the grown file's object after the second rsync";
}

TEST_F(MountToolsTest, TarExtractsAndArchivesTheSameTree) {
  ASSERT_NO_FATAL_FAILURE(PrepareSource());
  const CommandResult made = Sh(work_->path(), "tar cf tree.tar -C src .");
  ASSERT_TRUE(made.ok()) << made.Describe();
  RunBoth("mkdir x; tar xf \"$2/tree.tar\" -C x");
  ExpectSameTrees("x", "tar x");
  const CommandResult local = Sh(local_, "tar c --sort=name -f - -C x . | tar tvf -");
  const CommandResult mounted =
      Sh(mount_->mountpoint(), "tar c --sort=name -f - -C x . | tar tvf -");
  ASSERT_TRUE(local.ok()) << local.Describe();
  ASSERT_TRUE(mounted.ok()) << "tar c from the mount: " << mounted.Describe();
  EXPECT_EQ(MaskDirectoryTimes(mounted.stdout_text), MaskDirectoryTimes(local.stdout_text))
      << "`tar tvf` of an archive made from the mount (first) and from the local copy";
  EXPECT_NE(mounted.stdout_text.find("./nested/link -> ../top.txt"), std::string::npos)
      << mounted.stdout_text;
}

TEST_F(MountToolsTest, GitCloneIsCleanAndConsistent) {
  const std::string make_repo =
      "git init -q repo; cd repo; git config user.email t@example.com; git config user.name T;"
      "echo one > a.txt; mkdir sub; echo two > sub/b.txt; printf '#!/bin/sh\\n' > run.sh;"
      "chmod 755 run.sh; git add -A; git commit -qm first;"
      "echo more >> a.txt; git commit -qam second;"
      "git rm -q sub/b.txt; echo three > c.txt; git add c.txt; git commit -qm third";
  const CommandResult repo = Sh(work_->path(), make_repo);
  ASSERT_TRUE(repo.ok()) << repo.Describe();

  RunBoth("git clone -q --no-hardlinks \"$2/repo\" clone");
  EXPECT_EQ(RunBoth("cd clone; git status --porcelain"), "") << "git status is not clean";
  const std::string log = RunBoth("cd clone; git log --format='%H %s'");
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 3) << log;
  RunBoth("cd clone; git fsck --full --strict 2>&1");
  ExpectSameTrees(
      "clone", "git clone",
      {.ignore_directory_mtimes = true, .ignore_symlink_mtimes = true, .ignore_file_mtimes = true},
      {.exclude = {".git"}});
}

TEST_F(MountToolsTest, UnzipExtractsTheSameTree) {
  ASSERT_NO_FATAL_FAILURE(PrepareSource());
  const CommandResult made = Sh(work_->path(), "cd src; zip -qry -1 ../tree.zip .");
  ASSERT_TRUE(made.ok()) << made.Describe();
  RunBoth("mkdir z; cd z; unzip -q \"$2/tree.zip\"");
  ExpectSameTrees("z", "unzip");
}

TEST_F(MountToolsTest, EditorsSaveThroughTempFilesAndRenames) {
  RunBoth(
      "printf 'banana split\\n' > s.txt; chmod 640 s.txt;"
      "printf 'a cat and a bat\\n' > v.txt; chmod 600 v.txt");
  RunBoth("sed -i 's/an/AN/g' s.txt");
  RunBoth("vim -es -u NONE -i NONE -c '%s/a/b/g' -c 'wq' v.txt");
  EXPECT_EQ(ReadFile(mount_->Path("s.txt")), "bANANa split\n") << "sed -i on the mount";
  EXPECT_EQ(ReadFile(mount_->Path("v.txt")), "b cbt bnd b bbt\n") << "vim on the mount";
  ExpectSameTrees("", "sed -i and vim",
                  {.ignore_directory_mtimes = true, .ignore_file_mtimes = true});
  EXPECT_EQ(GetObject("s.txt"), "bANANa split\n") << "the object after sed -i";
  EXPECT_EQ(GetObject("v.txt"), "b cbt bnd b bbt\n") << "the object after vim";
}

TEST_F(MountToolsTest, Sqlite3DatabaseStaysIntactAndMatchesItsObject) {
  std::string sql = "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);\n";
  for (int batch = 0; batch < 4; ++batch) {
    sql +=
        "BEGIN;\nWITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 250)"
        " INSERT INTO t(v) SELECT printf('row-%d-%0200d', x, x * " +
        std::to_string(batch + 1) + ") FROM c;\nCOMMIT;\n";
  }
  RunBoth("sqlite3 db.sqlite", sql);
  EXPECT_EQ(RunBoth("sqlite3 db.sqlite 'PRAGMA integrity_check;' 'SELECT count(*) FROM t;'"),
            "ok\n1000\n");
  const std::string through_mount = ReadFile(mount_->Path("db.sqlite"));
  EXPECT_GT(through_mount.size(), 200'000u) << "the database file on the mount";
  EXPECT_TRUE(GetObject("db.sqlite") == through_mount)
      << "the db.sqlite object's bytes differ from the file's bytes after sqlite3 exited";
  ExpectSameTrees("", "sqlite3", {.ignore_directory_mtimes = true, .ignore_file_mtimes = true});
}

TEST_F(MountToolsTest, ShellRedirectionsWriteAppendAndTruncate) {
  EXPECT_EQ(RunBoth("echo a > f; echo b >> f; cat f"), "a\nb\n");
  EXPECT_EQ(GetObject("f"), "a\nb\n") << "the object after > and >>";
  EXPECT_EQ(RunBoth(": > f; wc -c < f"), "0\n");
  EXPECT_EQ(GetObject("f"), "") << "the object after `: > f`";
  EXPECT_EQ(RunBoth("echo again >> f; cat f"), "again\n");
  ExpectSameTrees("", "shell redirections",
                  {.ignore_directory_mtimes = true, .ignore_file_mtimes = true});
}

}  // namespace
}  // namespace s3mount
