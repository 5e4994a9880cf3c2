// End-to-end checksums on a real FUSE mount over moto_server, with the fault proxy flipping a
// byte in GET bodies on their way to s3mount:
//  - uploads carry CRC32C checksums (PUT, UploadPart, the whole multipart object) that S3
//    stores and returns, sent UNSIGNED-PAYLOAD instead of hashing the body;
//  - a transient flip (first GET only) of a small or multi-block file is fetched again and
//    the read returns the right bytes;
//  - a persistent flip makes the read fail with EIO and a warning naming the key; no read
//    ever completes with a wrong byte: small files serve nothing before the check, large
//    files (ranged GETs) fail the read that reaches the end, and a re-read is correct.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "s3mount/aws/crc32c.h"
#include "tests/support/fault_proxy.h"
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

constexpr size_t kMiB = size_t{1} << 20;

// Reads a whole file with read(2) in 128 KiB calls: the bytes read and 0, or what was read
// before the failure and its errno.
std::pair<std::string, int> ReadWhole(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return {"", errno};
  std::string data;
  std::string buffer(128 << 10, '\0');
  for (;;) {
    const ssize_t n = read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      const int saved = errno;
      close(fd);
      return {data, saved};
    }
    if (n == 0) break;
    data.append(buffer.data(), static_cast<size_t>(n));
  }
  close(fd);
  return {data, 0};
}

// Writes `data` to a new file in 1 MiB write(2) calls; true when every call and close succeed.
bool WriteWhole(const std::string& path, const std::string& data) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return false;
  bool ok = true;
  for (size_t at = 0; ok && at < data.size(); at += kMiB) {
    const size_t n = std::min(kMiB, data.size() - at);
    ok = write(fd, data.data() + at, n) == static_cast<ssize_t>(n);
  }
  return close(fd) == 0 && ok;
}

class MountChecksumTest : public testing::MountClientTest {
 protected:
  void SetUp() override {
    MountClientTest::SetUp();
    if (HasFatalFailure()) return;
    auto proxy = FaultProxy::Start("127.0.0.1", server().port());
    ASSERT_TRUE(proxy.ok()) << proxy.error().ToString();
    proxy_ = std::move(proxy).value();
  }
  std::unique_ptr<S3mountProcess> MountThroughProxy() {
    return Mount({"endpoint=" + proxy_->endpoint()});
  }
  // Puts `data` at `key` straight to S3 (with its CRC32C), in one PUT.
  void Put(const std::string& key, const std::string& data) {
    auto put = client_.store->PutObject({.key = key, .body = data});
    ASSERT_TRUE(put.ok()) << put.error().ToString();
  }
  // Puts `data` at `key` as a multipart upload of 8 MiB parts.
  void PutMultipart(const std::string& key, const std::string& data) {
    auto id = client_.store->CreateMultipartUpload({.key = key});
    ASSERT_TRUE(id.ok()) << id.error().ToString();
    CompleteMultipartUploadRequest complete{.key = key, .upload_id = *id};
    for (size_t at = 0, n = 1; at < data.size(); at += 8 * kMiB, ++n) {
      const std::string_view part = std::string_view(data).substr(at, 8 * kMiB);
      auto etag = client_.store->UploadPart(
          {.key = key, .upload_id = *id, .part_number = static_cast<int>(n), .body = part});
      ASSERT_TRUE(etag.ok()) << etag.error().ToString();
      complete.parts.push_back({.part_number = static_cast<int>(n), .etag = *etag});
    }
    auto done = client_.store->CompleteMultipartUpload(complete);
    ASSERT_TRUE(done.ok()) << done.error().ToString();
  }
  // The object's path as the proxy sees it in a request target.
  std::string Target(const std::string& key) const { return "/" + bucket() + "/" + key; }

  std::unique_ptr<FaultProxy> proxy_;
};

TEST_F(MountChecksumTest, UploadsCarryCrc32cThatS3StoresForPutAndMultipart) {
  auto mount = MountThroughProxy();
  ASSERT_NE(mount, nullptr);
  const std::string small = RandomBytes(100 << 10, 1);
  const std::string large = RandomBytes(20 * kMiB + 12345, 2);  // multipart: 8 MiB parts
  ASSERT_TRUE(WriteWhole(mount->Path("small.bin"), small));
  ASSERT_TRUE(WriteWhole(mount->Path("large.bin"), large));
  for (const auto& [key, data] : {std::pair{"small.bin", &small}, std::pair{"large.bin", &large}}) {
    auto head = client_.store->HeadObject({.key = key, .checksum_mode = true});
    ASSERT_TRUE(head.ok()) << head.error().ToString();
    EXPECT_EQ(head->checksum_crc32c, Crc32cBase64(Crc32c(*data)))
        << key << ": S3 should store the whole object's CRC32C";
  }
  int bodies = 0;
  for (const auto& request : proxy_->recorded_requests()) {
    if (request.method != "PUT" || request.target.find(".bin") == std::string::npos) continue;
    ++bodies;
    EXPECT_FALSE(request.Header("x-amz-checksum-crc32c").empty()) << request.target;
    EXPECT_EQ(request.Header("x-amz-sdk-checksum-algorithm"), "CRC32C") << request.target;
    EXPECT_EQ(request.Header("x-amz-content-sha256"), "UNSIGNED-PAYLOAD")
        << request.target << ": a body with a CRC32C needs no SHA-256";
  }
  EXPECT_GE(bodies, 4) << "one PUT and at least three UploadParts";
}

TEST_F(MountChecksumTest, TransientFlipInAGetIsFetchedAgainAndReadsAreCorrect) {
  const std::string small = RandomBytes(100 << 10, 3);
  const std::string blocks = RandomBytes(3 * kMiB + 5, 4);  // one verified GET, 4 blocks
  Put("small.bin", small);
  Put("blocks.bin", blocks);
  auto mount = MountThroughProxy();
  ASSERT_NE(mount, nullptr);
  for (const auto& [key, data] :
       {std::pair{"small.bin", &small}, std::pair{"blocks.bin", &blocks}}) {
    proxy_->AddFault(Fault::FlipByte(1000).OnMethod("GET").OnPath(Target(key)).Times(1));
    const auto [read, error] = ReadWhole(mount->Path(key));
    EXPECT_EQ(error, 0) << key << ": " << strerror(error) << "\n" << mount->LogTail();
    EXPECT_TRUE(SameBytes(read, *data)) << key;
    EXPECT_EQ(proxy_->PendingFaults(), 0u) << key << ": the flip was never applied";
  }
  EXPECT_NE(mount->LogTail().find("small.bin"), std::string::npos)
      << "the mismatch should be logged with the key\n"
      << mount->LogTail();
}

TEST_F(MountChecksumTest, PersistentFlipIsEioAndNoReadCompletesWithAWrongByte) {
  struct File {
    std::string key;
    std::string data;
    bool multipart = false;
  };
  const File files[] = {
      {"small.bin", RandomBytes(100 << 10, 5)},
      {"blocks.bin", RandomBytes(3 * kMiB + 5, 6)},
      {"single.bin", RandomBytes(10 * kMiB + 7, 7)},  // ranged GETs, checked at the end
      {"multipart.bin", RandomBytes(11 * kMiB + 9, 8), true},
  };
  for (const File& file : files) {
    if (file.multipart) {
      PutMultipart(file.key, file.data);
    } else {
      Put(file.key, file.data);
    }
  }
  auto mount = MountThroughProxy();
  ASSERT_NE(mount, nullptr);
  for (const File& file : files) {
    // A byte in the first MiB, flipped in every GET of the object.
    proxy_->AddFault(Fault::FlipByte(4321).OnMethod("GET").OnPath(Target(file.key)).Times(1000));
    const auto [read, error] = ReadWhole(mount->Path(file.key));
    EXPECT_EQ(error, EIO) << file.key << ": a read of corrupted bytes completed (" << read.size()
                          << " bytes)";
    if (file.data.size() <= 4 * kMiB) {
      EXPECT_TRUE(read.empty()) << file.key << ": bytes were served before the check";
    }
    EXPECT_NE(mount->LogTail().find(file.key), std::string::npos)
        << file.key << ": no warning names the key\n"
        << mount->LogTail();
    proxy_->ClearFaults();
    // Once the link is clean, a new read gets the right bytes (nothing bad was kept).
    const auto [again, again_error] = ReadWhole(mount->Path(file.key));
    EXPECT_EQ(again_error, 0) << file.key << ": " << strerror(again_error);
    EXPECT_TRUE(SameBytes(again, file.data)) << file.key << ": wrong bytes after a clean re-read";
  }
}

}  // namespace
}  // namespace s3mount
