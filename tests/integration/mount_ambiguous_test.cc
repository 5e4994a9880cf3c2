// Integration tests of ambiguous outcomes through a real FUSE mount of the built s3mount on
// moto_server behind the fault proxy: a CompleteMultipartUpload that moto applies and whose
// answer is then lost (a 500, a reset, a stall past the low-speed limit, a garbled or
// <Error> body under a 200), and 200 replies whose body cannot be parsed (garbage, HTML,
// empty) to CreateMultipartUpload, CopyObject (rename) and ListObjectsV2. Each asserts what
// docs/SEMANTICS.md promises: a close that returned 0 left the whole new file in S3, a close
// that failed left the previous object untouched, no close or rename fails with ESTALE for
// our own write, and no multipart upload is left open.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "s3mount/s3/object_sinks.h"
#include "s3mount/s3/retrying_object_store.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/file_writes.h"
#include "tests/support/mount_client_fixture.h"
#include "tests/support/s3mount_process.h"
#include "tests/support/test_data.h"

namespace s3mount {
namespace {

using testing::Fault;
using testing::FaultProxy;
using testing::RandomBytes;
using testing::S3mountProcess;
using testing::SameBytes;
using testing::WriteAndClose;

constexpr size_t kMultipartSize = (size_t{17} << 20) + 12345;  // two 8 MiB parts and a tail
const std::vector<std::string> kUnparseable = {
    "\x01\x02 not XML at all <<<", "<html><body><h1>502 Bad Gateway</h1></body></html>", ""};

class MountAmbiguousTest : public testing::MountClientTest {
 protected:
  void SetUp() override {
    MountClientTest::SetUp();
    if (HasFatalFailure()) return;
    auto proxy = FaultProxy::Start("127.0.0.1", server().port());
    ASSERT_TRUE(proxy.ok()) << proxy.error().ToString();
    proxy_ = std::move(proxy).value();
    mount_ = Mount({"endpoint=" + proxy_->endpoint(), "low_speed_time=3"});
    ASSERT_NE(mount_, nullptr);
  }
  void TearDown() override {
    ExpectCleanUnmount(mount_);
    MountClientTest::TearDown();
  }

  // Puts a previous version of `key`, writes `data` over it through the mount with `fault`
  // scripted, and checks the promises. Returns close()'s result.
  int OverwriteUnder(const std::string& key, const std::string& data, Fault fault) {
    const std::string previous = "previous version of " + key;
    EXPECT_TRUE(client_.store->PutObject({.key = key, .body = previous}).ok());
    proxy_->AddFault(std::move(fault));
    const auto [rc, error] = WriteAndClose(mount_->Path(key), data);
    EXPECT_EQ(proxy_->PendingFaults(), 0u) << key << ": the fault never fired";
    EXPECT_NE(error, ESTALE) << key << ": ESTALE for our own write\n" << mount_->LogTail();
    if (rc == 0) {
      EXPECT_TRUE(SameBytes(Body(key), data)) << key << ": close returned 0";
    } else {
      EXPECT_EQ(Body(key), previous) << key << ": a failed close touched the object";
    }
    ExpectNoUploadOpen(key);
    return rc;
  }
  void ExpectNoUploadOpen(const std::string& context) {
    auto uploads = server().MultipartUploads(bucket());
    ASSERT_TRUE(uploads.ok()) << uploads.error().ToString();
    EXPECT_TRUE(uploads->empty()) << context << ": " << uploads->size() << " upload(s) open\n"
                                  << mount_->LogTail();
    // The next case starts from a clean bucket whatever this one left.
    for (const std::string& key : *uploads) {
      auto open = client_.store->ListMultipartUploads({.prefix = key});
      for (const OpenUpload& upload : open.ok() ? open->uploads : std::vector<OpenUpload>{}) {
        (void)client_.store->AbortMultipartUpload(upload.key, upload.upload_id);
      }
    }
  }
  // Requests the proxy saw with this method whose target contains `part`.
  size_t Seen(const std::string& method, const std::string& part) const {
    size_t count = 0;
    for (const auto& request : proxy_->recorded_requests()) {
      count += request.method == method && request.target.find(part) != std::string::npos;
    }
    return count;
  }
  // Parts and Completes sent to an upload after the first Complete of one.
  size_t SentAfterTheFirstComplete() const {
    size_t count = 0;
    bool completed = false;
    for (const auto& request : proxy_->recorded_requests()) {
      if (request.target.find("uploadId=") == std::string::npos) continue;
      if (completed) count += request.method == "PUT" || request.method == "POST";
      completed = completed || request.method == "POST";
    }
    return count;
  }

  std::unique_ptr<FaultProxy> proxy_;
  std::unique_ptr<S3mountProcess> mount_;
};

Fault OnComplete(Fault fault) { return fault.OnMethod("POST").OnPath("uploadId="); }

TEST_F(MountAmbiguousTest, CompleteAppliedThenAnswered500IsFoundOursAndCloseSucceeds) {
  const std::string data = RandomBytes(kMultipartSize, 1);
  EXPECT_EQ(
      OverwriteUnder("c500", data, OnComplete(Fault::ApplyThenReturnStatus(500, "InternalError"))),
      0)
      << mount_->LogTail();
  EXPECT_EQ(SentAfterTheFirstComplete(), 0u) << "something was sent to a completed upload";
}

TEST_F(MountAmbiguousTest, CompleteAppliedThenResetIsFoundOursAndCloseSucceeds) {
  const std::string data = RandomBytes(kMultipartSize, 2);
  EXPECT_EQ(OverwriteUnder("creset", data, OnComplete(Fault::ApplyThenReset())), 0)
      << mount_->LogTail();
  EXPECT_EQ(SentAfterTheFirstComplete(), 0u) << "something was sent to a completed upload";
}

TEST_F(MountAmbiguousTest, CompleteAnsweredWithGarbageOrAnErrorUnder200IsFoundOurs) {
  std::vector<std::string> bodies = kUnparseable;
  bodies.push_back(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code><Message>We "
      "encountered an internal error. Please try again.</Message></Error>");
  for (size_t i = 0; i < bodies.size(); ++i) {
    const std::string key = "cbody" + std::to_string(i);
    EXPECT_EQ(OverwriteUnder(key, RandomBytes(kMultipartSize, 10 + i),
                             OnComplete(Fault::ReplaceBody(bodies[i]))),
              0)
        << key << "\n"
        << mount_->LogTail();
  }
}

TEST_F(MountAmbiguousTest, CompleteStalledPastTheLowSpeedLimitIsNotCut) {
  // low_speed_time=3 cuts any other transfer stalled for 3 s; S3 may take minutes over a
  // Complete, so it waits (up to its own cap) for the answer.
  const std::string data = RandomBytes(kMultipartSize, 3);
  EXPECT_EQ(OverwriteUnder("cstall", data,
                           OnComplete(Fault::ApplyThenStall(std::chrono::milliseconds(8000)))),
            0)
      << mount_->LogTail();
  EXPECT_EQ(Seen("POST", "uploadId="), 1u);
  EXPECT_EQ(Seen("GET", "uploadId="), 0u) << "the Complete was cut and had to be resolved";
}

TEST_F(MountAmbiguousTest, CreateAnsweredWithAnUnparseable200IsRetried) {
  for (size_t i = 0; i < kUnparseable.size(); ++i) {
    const std::string key = "create" + std::to_string(i);
    EXPECT_EQ(
        OverwriteUnder(
            key, RandomBytes(kMultipartSize, 20 + i),
            Fault::ReturnBody(200, kUnparseable[i]).OnMethod("POST").OnPath(key + "?uploads")),
        0)
        << key << "\n"
        << mount_->LogTail();
  }
}

TEST_F(MountAmbiguousTest, CreateAppliedWhoseAnswerIsLostLeavesNoUploadOpen) {
  // moto opens the upload and the answer is lost: a 500, a reset, a garbled 200. The upload
  // it opened is found by asking S3 and used (or aborted), never left open.
  const std::vector<Fault> faults = {Fault::ApplyThenReturnStatus(500, "InternalError"),
                                     Fault::ApplyThenReset(), Fault::ReplaceBody(kUnparseable[0])};
  for (size_t i = 0; i < faults.size(); ++i) {
    const std::string key = "created" + std::to_string(i);
    EXPECT_EQ(OverwriteUnder(key, RandomBytes(kMultipartSize, 40 + i),
                             Fault(faults[i]).OnMethod("POST").OnPath(key + "?uploads")),
              0)
        << key << "\n"
        << mount_->LogTail();
  }
}

TEST_F(MountAmbiguousTest, ExclusiveCreateWhoseAnswerIsLostSucceedsOnce) {
  // O_EXCL sends a PUT with If-None-Match: *. Applied and then reset (libcurl resends it on a
  // new connection, unseen) or answered 500: the create is ours, not EEXIST.
  const std::vector<Fault> faults = {Fault::ApplyThenReset(),
                                     Fault::ApplyThenReturnStatus(500, "InternalError")};
  for (size_t i = 0; i < faults.size(); ++i) {
    const std::string key = "exclusive" + std::to_string(i);
    struct stat root {};
    ASSERT_EQ(stat(mount_->Path("").c_str(), &root), 0);  // a connection to reuse
    proxy_->AddFault(Fault(faults[i]).OnMethod("PUT").OnPath("/" + key));
    errno = 0;
    const int fd = open(mount_->Path(key).c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    EXPECT_GE(fd, 0) << key << ": " << std::strerror(errno) << "\n" << mount_->LogTail();
    if (fd >= 0) {
      EXPECT_EQ(close(fd), 0) << key;
    }
    EXPECT_EQ(proxy_->PendingFaults(), 0u) << key << ": the fault never fired";
    EXPECT_EQ(Body(key), std::optional<std::string>("")) << key;
    errno = 0;
    EXPECT_LT(open(mount_->Path(key).c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600), 0) << key;
    EXPECT_EQ(errno, EEXIST) << key << ": a second O_EXCL create of it";
  }
}

TEST_F(MountAmbiguousTest, ChmodWhoseInPlaceCopyIsAppliedThenResetSucceeds) {
  const std::string data = RandomBytes(100000, 50);
  ASSERT_EQ(WriteAndClose(mount_->Path("modes"), data).first, 0);
  proxy_->AddFault(Fault::ApplyThenReset().OnMethod("PUT").OnPath("/modes"));
  errno = 0;
  EXPECT_EQ(chmod(mount_->Path("modes").c_str(), 0640), 0) << std::strerror(errno) << "\n"
                                                           << mount_->LogTail();
  EXPECT_EQ(proxy_->PendingFaults(), 0u) << "the fault never fired";
  auto head = client_.store->HeadObject({.key = "modes"});
  ASSERT_TRUE(head.ok()) << head.error().ToString();
  EXPECT_EQ(std::stoul(head->user_metadata["mode"]) & 07777, 0640u);
  EXPECT_TRUE(SameBytes(Body("modes"), data));
}

TEST_F(MountAmbiguousTest, RenameWhoseCopyIsAnsweredWithAnUnparseable200Succeeds) {
  for (size_t i = 0; i < kUnparseable.size(); ++i) {
    const std::string from = "from" + std::to_string(i);
    const std::string to = "renamed" + std::to_string(i);
    const std::string data = RandomBytes(100000, 30 + i);
    ASSERT_EQ(WriteAndClose(mount_->Path(from), data).first, 0);
    // moto copies, the answer is replaced: the copy is sent again or found done.
    proxy_->AddFault(Fault::ReplaceBody(kUnparseable[i]).OnMethod("PUT").OnPath("/" + to));
    errno = 0;
    EXPECT_EQ(rename(mount_->Path(from).c_str(), mount_->Path(to).c_str()), 0)
        << to << ": " << std::strerror(errno) << "\n"
        << mount_->LogTail();
    EXPECT_EQ(proxy_->PendingFaults(), 0u) << to << ": the fault never fired";
    EXPECT_TRUE(SameBytes(Body(to), data)) << to;
    EXPECT_FALSE(Body(from).has_value()) << from << " is still there";
  }
  ExpectNoUploadOpen("rename");
}

TEST_F(MountAmbiguousTest, ListingAnsweredWithAnUnparseable200IsRetried) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(client_.store->PutObject({.key = "dir/f" + std::to_string(i), .body = "x"}).ok());
  }
  for (size_t i = 0; i < kUnparseable.size(); ++i) {
    // A fresh directory name each time: nothing of it is cached.
    const std::string dir = "list" + std::to_string(i);
    for (int f = 0; f < 3; ++f) {
      ASSERT_TRUE(
          client_.store->PutObject({.key = dir + "/f" + std::to_string(f), .body = "x"}).ok());
    }
    proxy_->AddFault(Fault::ReturnBody(200, kUnparseable[i]).OnMethod("GET").OnPath("list-type=2"));
    DIR* stream = opendir(mount_->Path(dir).c_str());
    ASSERT_NE(stream, nullptr) << dir << ": " << std::strerror(errno) << "\n" << mount_->LogTail();
    size_t files = 0;
    errno = 0;
    while (dirent* entry = readdir(stream)) files += entry->d_name[0] != '.';
    EXPECT_EQ(errno, 0) << dir << ": " << std::strerror(errno);
    closedir(stream);
    EXPECT_EQ(files, 3u) << dir;
    EXPECT_EQ(proxy_->PendingFaults(), 0u) << dir << ": the fault never fired";
  }
}

// Without a mount: the client's cap on a Complete's wait, and the resolution after it.
class CompleteTimeoutTest : public testing::MotoTest {};

TEST_F(CompleteTimeoutTest, ACompleteCutByItsCapIsResolvedByAskingS3) {
  auto proxy = FaultProxy::Start("127.0.0.1", server().port());
  ASSERT_TRUE(proxy.ok()) << proxy.error().ToString();
  S3ClientOptions options = testing::LocalClientOptions((*proxy)->endpoint(), bucket());
  options.http.slow_reply_timeout = std::chrono::milliseconds(1000);
  SystemClock clock;
  auto client = testing::MakeTestClient(options, {"test", "test", "", std::nullopt}, clock);
  ASSERT_NE(client.store, nullptr);
  RetryPolicy policy(RetryOptions{.base_delay = std::chrono::milliseconds(5)});
  RetryingObjectStore store(*client.store, policy, clock);
  auto id = store.CreateMultipartUpload({.key = "capped"});
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  const std::string body = RandomBytes(5 << 20, 4);
  auto etag = store.UploadPart({.key = "capped", .upload_id = *id, .part_number = 1, .body = body});
  ASSERT_TRUE(etag.ok()) << etag.error().ToString();
  (*proxy)->AddFault(OnComplete(Fault::ApplyThenStall(std::chrono::milliseconds(4000))));
  auto done = store.CompleteMultipartUpload(
      {.key = "capped", .upload_id = *id, .parts = {{1, *etag, body.size()}}});
  ASSERT_TRUE(done.ok()) << done.error().ToString();
  StringSink sink;
  ASSERT_TRUE(client.store->GetObject({.key = "capped"}, sink).ok());
  EXPECT_TRUE(SameBytes(sink.Take(), body));
  size_t completes = 0;
  size_t list_parts = 0;
  for (const auto& request : (*proxy)->recorded_requests()) {
    const bool on_upload = request.target.find("uploadId=") != std::string::npos;
    completes += on_upload && request.method == "POST";
    list_parts += on_upload && request.method == "GET";
  }
  EXPECT_EQ(completes, 1u) << "a Complete was resent to a completed upload";
  EXPECT_EQ(list_parts, 1u) << "the cut Complete was not resolved with ListParts";
}

}  // namespace
}  // namespace s3mount
