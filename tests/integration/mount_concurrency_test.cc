// Integration test: a file's upload at close does not hold up stat and `ls -l`. `cp` of a
// large file into a real mount on moto, with the CompleteMultipartUpload of its close held
// back by the fault proxy for a while; meanwhile the test stats the file and lists its
// directory with attributes every half second, as a user in another shell would. Before the
// OpenFile's attribute snapshot, each of those waited for the whole upload at close.
//
// The assertion is not a timing bound: the held Complete makes the close last at least
// kHold, and the test checks that stat and `ls -l` kept answering during it (a stat waiting
// for the upload answers once, after the hold). The latencies seen are printed.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <future>
#include <iostream>
#include <thread>

#include "tests/support/fault_proxy.h"
#include "tests/support/mount_client_fixture.h"
#include "tests/support/test_data.h"

namespace s3mount {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using testing::Fault;
using testing::FaultProxy;

// The copy of the report: 400 MiB. Under a sanitizer (scripts/test.sh sets
// ASAN_OPTIONS or TSAN_OPTIONS) the daemon is 5 to 20 times slower, so the copy is 64 MiB:
// what makes the close long is the held Complete, whatever the size.
size_t FileSize() {
  const bool sanitized =
      std::getenv("ASAN_OPTIONS") != nullptr || std::getenv("TSAN_OPTIONS") != nullptr;
  return sanitized ? size_t{64} << 20 : size_t{400} << 20;
}
constexpr auto kHold = std::chrono::seconds(10);
constexpr auto kInterval = milliseconds(500);

class MountConcurrencyTest : public testing::MountClientTest {};

// `ls -l`: every name of `directory` and its lstat; false if any of them failed.
bool ListWithAttributes(const std::string& directory, bool* saw_name, const std::string& name) {
  DIR* dir = opendir(directory.c_str());
  if (dir == nullptr) return false;
  bool ok = true;
  while (dirent* entry = readdir(dir)) {
    const std::string child = entry->d_name;
    if (child == "." || child == "..") continue;
    struct stat st {};
    ok = ok && lstat((directory + "/" + child).c_str(), &st) == 0;
    if (child == name) *saw_name = true;
  }
  closedir(dir);
  return ok;
}

bool CompleteSeen(const FaultProxy& proxy) {
  for (const auto& request : proxy.recorded_requests()) {
    if (request.method == "POST" && request.target.find("uploadId=") != std::string::npos) {
      return true;
    }
  }
  return false;
}

TEST_F(MountConcurrencyTest, StatAndLsAnswerWhileACopyClosesItsUpload) {
  auto proxy = FaultProxy::Start("127.0.0.1", server().port());
  ASSERT_TRUE(proxy.ok()) << proxy.error().ToString();
  auto mount = testing::S3mountProcess::Mount(server(), {.source = bucket(),
                                                         .options = {"cache_dir=" + cache_->path()},
                                                         .endpoint = (*proxy)->endpoint()});
  ASSERT_TRUE(mount.ok()) << mount.error().ToString();
  const std::string directory = (*mount)->Path("dir");
  ASSERT_EQ(mkdir(directory.c_str(), 0755), 0) << std::strerror(errno);
  auto source_dir = testing::TempDir::Create("s3mount-concurrency-src");
  ASSERT_TRUE(source_dir.ok());
  const std::string source = (*source_dir)->File("big");
  const size_t file_size = FileSize();
  {
    const std::string data = testing::Pattern(file_size);
    const int fd = open(source.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
    close(fd);
  }
  // Only the Complete of the copy's multipart upload (POST ...?uploadId=) is held.
  (*proxy)->AddFault(Fault::Delay(kHold).OnMethod("POST").OnPath("uploadId="));
  const std::string target = directory + "/big";
  auto copy = std::async(std::launch::async, [&] {
    return testing::RunCommand({.argv = {"cp", source, target}, .timeout = milliseconds(600000)});
  });

  int answered_during_close = 0;
  bool stat_failed = false;
  bool listing_failed = false;
  milliseconds slowest_stat{0};
  milliseconds slowest_ls{0};
  while (copy.wait_for(kInterval) != std::future_status::ready) {
    const bool closing = CompleteSeen(**proxy);
    const auto start = steady_clock::now();
    struct stat st {};
    const bool stat_ok = stat(target.c_str(), &st) == 0;
    const auto stat_done = steady_clock::now();
    bool listed_target = false;
    const bool listing_ok = ListWithAttributes(directory, &listed_target, "big");
    const auto ls_done = steady_clock::now();
    if (!closing || copy.wait_for(milliseconds(0)) == std::future_status::ready) continue;
    // Answered while the close was still uploading.
    ++answered_during_close;
    stat_failed = stat_failed || !stat_ok || st.st_size != static_cast<off_t>(file_size);
    listing_failed = listing_failed || !listing_ok || !listed_target;
    slowest_stat =
        std::max(slowest_stat, std::chrono::duration_cast<milliseconds>(stat_done - start));
    slowest_ls =
        std::max(slowest_ls, std::chrono::duration_cast<milliseconds>(ls_done - stat_done));
  }
  auto copied = copy.get();
  ASSERT_TRUE(copied.ok()) << copied.error().ToString();
  ASSERT_TRUE(copied->ok()) << copied->Describe() << "\n" << (*mount)->LogTail();
  std::cout << "during the close: " << answered_during_close
            << " stat + ls -l rounds, slowest stat " << slowest_stat.count()
            << " ms, slowest ls -l " << slowest_ls.count() << " ms\n";
  RecordProperty("slowest_stat_ms", static_cast<int>(slowest_stat.count()));
  RecordProperty("slowest_ls_ms", static_cast<int>(slowest_ls.count()));

  ASSERT_TRUE(CompleteSeen(**proxy)) << "the copy's close never sent CompleteMultipartUpload";
  // The close lasted at least kHold (20 intervals): a stat or ls -l that waited for the
  // upload would have answered once in all that time.
  EXPECT_GE(answered_during_close, 5)
      << "stat and ls -l of a file being uploaded at close waited for the upload";
  EXPECT_FALSE(stat_failed) << "stat during the close failed or showed the wrong size";
  EXPECT_FALSE(listing_failed) << "ls -l during the close failed or did not show the file";
  auto head = Head("dir/big");
  ASSERT_TRUE(head.has_value()) << "the copy is in S3";
  EXPECT_EQ(head->size, file_size);
}

}  // namespace
}  // namespace s3mount
