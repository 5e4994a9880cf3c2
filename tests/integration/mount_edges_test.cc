// Edge cases of issue #21 ("POSIX and freshness") on a real FUSE mount over moto_server: a
// custom endpoint given by host name (path-style by default, and a named host with a hint
// when a forced virtual host does not resolve), ENAMETOOLONG for a path whose key would pass
// S3's 1,024-byte limit, a log file readable while mounted, a directory that only excluded
// keys make is not shown, a rename that moves a derived Content-Type to the new name, and
// system headers (Cache-Control, Content-Encoding...) kept by the copies that rewrite metadata.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/integration/mount_command_support.h"
#include "tests/support/mount_client_fixture.h"
#include "tests/support/s3mount_process.h"
#include "tests/support/test_data.h"

namespace s3mount {
namespace {

using testing::MountpointDir;
using testing::RunTool;
using testing::S3mountProcess;

// The names in a directory, sorted.
std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// errno of a failed call, 0 when it succeeded.
int ErrnoOf(int rc) { return rc == 0 ? 0 : errno; }

class MountEdgesTest : public testing::MountClientTest {
 protected:
  // The server's endpoint with its IP replaced by `host`.
  std::string EndpointWithHost(const std::string& host) const {
    std::string endpoint = server().endpoint();  // http://127.0.0.1:PORT
    endpoint.replace(endpoint.find("127.0.0.1"), 9, host);
    return endpoint;
  }
  void Put(const std::string& key, const std::string& body, const std::string& type = "") {
    auto put = client_.store->PutObject({.key = key, .body = body, .content_type = type});
    ASSERT_TRUE(put.ok()) << put.error().ToString();
  }
};

TEST_F(MountEdgesTest, EndpointGivenByHostNameIsAddressedPathStyle) {
  auto mount = S3mountProcess::Mount(server(), {.source = bucket(),
                                                .options = {"cache_dir=" + cache_->path()},
                                                .endpoint = EndpointWithHost("localhost")});
  ASSERT_TRUE(mount.ok()) << "endpoint=http://localhost:PORT must mount (path-style): "
                          << mount.error().ToString();
  {
    std::ofstream out((*mount)->Path("by-name.txt"));
    out << "reached by host name\n";
  }
  EXPECT_EQ(Body("by-name.txt"), "reached by host name\n");
}

TEST_F(MountEdgesTest, UnresolvableVirtualHostIsNamedWithThePathStyleHint) {
  MountpointDir dir;
  const std::string endpoint = EndpointWithHost("s3mount-test.invalid");
  testing::CommandResult result =
      RunTool({S3mountProcess::Binary(), bucket(), dir.path(), "-o",
               "endpoint=" + endpoint + ",virtual_hosted"},
              {{"AWS_ACCESS_KEY_ID", "test"}, {"AWS_SECRET_ACCESS_KEY", "test"}});
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.stderr_text.find("'" + bucket() + ".s3mount-test.invalid'"), std::string::npos)
      << "the error must name the virtual host that did not resolve: " << result.stderr_text;
  EXPECT_NE(result.stderr_text.find("path_style"), std::string::npos)
      << "the error must suggest path_style: " << result.stderr_text;
  EXPECT_FALSE(testing::IsMounted(dir.path()));
}

// Each component is legal (200 bytes), but four directories and a 250-byte name make a key of
// 1,054 bytes: S3 cannot store it, and POSIX's word for a path too long is ENAMETOOLONG.
TEST_F(MountEdgesTest, PathWhoseKeyPassesS3sLimitIsNameTooLong) {
  auto mount = Mount();
  ASSERT_NE(mount, nullptr);
  std::string deep = mount->mountpoint();
  for (char c : {'a', 'b', 'c', 'd'}) {
    deep += "/" + std::string(200, c);
    ASSERT_EQ(mkdir(deep.c_str(), 0755), 0) << std::strerror(errno);
  }
  const std::string too_long = deep + "/" + std::string(250, 'n');
  const int fd = open(too_long.c_str(), O_WRONLY | O_CREAT, 0644);
  const int create_errno = fd < 0 ? errno : 0;
  if (fd >= 0) close(fd);
  EXPECT_EQ(create_errno, ENAMETOOLONG) << "create: " << std::strerror(create_errno);
  EXPECT_EQ(ErrnoOf(mkdir(too_long.c_str(), 0755)), ENAMETOOLONG) << "mkdir";
  EXPECT_EQ(ErrnoOf(symlink("target", too_long.c_str())), ENAMETOOLONG) << "symlink";
  ASSERT_EQ(ErrnoOf(mkdir(mount->Path("short").c_str(), 0755)), 0);
  EXPECT_EQ(ErrnoOf(rename(mount->Path("short").c_str(), too_long.c_str())), ENAMETOOLONG)
      << "rename";
  struct stat st = {};
  EXPECT_EQ(ErrnoOf(stat(too_long.c_str(), &st)), ENAMETOOLONG) << "stat";
  // A local file system says the same of a component over NAME_MAX.
  auto local = testing::TempDir::Create("s3mount-local");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(ErrnoOf(mkdir((*local)->File(std::string(256, 'x')).c_str(), 0755)), ENAMETOOLONG);
  EXPECT_EQ(CountUnder(std::string(200, 'a') + "/"), 4u) << "only the four directory markers";
}

TEST_F(MountEdgesTest, LogFileHoldsTheMountedLineWhileMounted) {
  const std::string log = cache_->File("s3mount.log");
  auto mount = Mount({"log_file=" + log, "log_level=info"});
  ASSERT_NE(mount, nullptr);
  // The line follows the mount becoming live: polled for, while the mount runs.
  std::string text;
  testing::WaitFor([&] {
    text = testing::ReadFile(log);
    return text.find("mounted on") != std::string::npos;
  });
  EXPECT_NE(text.find("mounted on"), std::string::npos)
      << "each line must reach the file when logged, not at unmount; the file holds:\n"
      << text;
}

TEST_F(MountEdgesTest, DirectoryOfOnlyExcludedKeysIsNotShown) {
  Put("logs/a.log", "a");
  Put("logs/deeper/b.log", "b");
  Put("marked/", "", "application/x-directory");
  Put("marked/c.log", "c");
  Put("mixed/d.log", "d");
  Put("mixed/d.txt", "d");
  auto mount = Mount({"exclude=*.log"});
  ASSERT_NE(mount, nullptr);
  EXPECT_EQ(Names(mount->mountpoint()), (std::vector<std::string>{"marked", "mixed"}))
      << "'logs' holds only excluded keys; 'marked' has its marker object";
  struct stat st = {};
  EXPECT_EQ(ErrnoOf(stat(mount->Path("logs").c_str(), &st)), ENOENT);
  EXPECT_EQ(Names(mount->Path("marked")), std::vector<std::string>{});
  EXPECT_EQ(Names(mount->Path("mixed")), std::vector<std::string>{"d.txt"});
}

TEST_F(MountEdgesTest, RenameMovesADerivedContentTypeAndKeepsAnExplicitOne) {
  Put("custom.txt", "x", "application/x-made-up");
  auto mount = Mount();
  ASSERT_NE(mount, nullptr);
  {
    std::ofstream out(mount->Path("a.txt"));
    out << "picture\n";
  }
  ASSERT_EQ(Head("a.txt")->content_type, "text/plain");
  ASSERT_EQ(ErrnoOf(rename(mount->Path("a.txt").c_str(), mount->Path("a.jpg").c_str())), 0);
  auto moved = Head("a.jpg");
  ASSERT_TRUE(moved.has_value());
  EXPECT_EQ(moved->content_type, "image/jpeg") << "a type derived from the old name follows";
  ASSERT_EQ(ErrnoOf(rename(mount->Path("custom.txt").c_str(), mount->Path("custom.jpg").c_str())),
            0);
  auto kept = Head("custom.jpg");
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->content_type, "application/x-made-up") << "an explicit type is kept";
}

TEST_F(MountEdgesTest, RenameChmodAndSetxattrKeepCacheControlAndContentEncoding) {
  // As a web deployment stores a compressed page: system headers a REPLACE copy (which
  // rename, chmod and setxattr send, to write ctime and the mode) must send again.
  Put("page.html", "compressed bytes", "text/html");
  const StoredHeaders headers = {{"Cache-Control", "max-age=60"},
                                 {"Content-Encoding", "gzip"},
                                 {"Content-Disposition", "inline"},
                                 {"Content-Language", "en"}};
  auto given = client_.store->CopyObject({.source_key = "page.html",
                                          .destination_key = "page.html",
                                          .metadata_directive = MetadataDirective::kReplace,
                                          .content_type = "text/html",
                                          .stored_headers = headers});
  ASSERT_TRUE(given.ok()) << given.error().ToString();
  ASSERT_EQ(Head("page.html")->stored_headers, headers) << "the server did not keep them";
  auto mount = Mount();
  ASSERT_NE(mount, nullptr);
  ASSERT_EQ(ErrnoOf(rename(mount->Path("page.html").c_str(), mount->Path("index.html").c_str())),
            0);
  auto renamed = Head("index.html");
  ASSERT_TRUE(renamed.has_value());
  EXPECT_EQ(renamed->stored_headers, headers) << "rename dropped them";
  EXPECT_EQ(renamed->content_type, "text/html");
  ASSERT_EQ(ErrnoOf(chmod(mount->Path("index.html").c_str(), 0600)), 0);
  EXPECT_EQ(Head("index.html")->stored_headers, headers) << "chmod dropped them";
  ASSERT_EQ(ErrnoOf(setxattr(mount->Path("index.html").c_str(), "user.tag", "v", 1, 0)), 0);
  EXPECT_EQ(Head("index.html")->stored_headers, headers) << "setxattr dropped them";
  EXPECT_EQ(Body("index.html"), "compressed bytes");
}

}  // namespace
}  // namespace s3mount
