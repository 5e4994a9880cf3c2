// End-to-end checksums on the read side, on the fake store: a whole-object read is one GET
// without Range whose body is checked (CRC32C, else MD5 ETag) before any block is cached or
// served; a corrupted body is fetched again, and served as EIO (kChecksumMismatch) if it
// stays corrupted; a cached block whose bytes changed is dropped and fetched again.
#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fs/block_fetcher.h"
#include "fs/file_reader.h"
#include "s3mount/aws/crc32c.h"
#include "s3mount/cache/block_cache.h"
#include "s3mount/common/thread_pool.h"
#include "s3mount/s3/object_sinks.h"
#include "s3mount/s3/verifying_sink.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_object_store.h"
#include "tests/fakes/forwarding_object_store.h"
#include "tests/support/test_data.h"

namespace s3mount {
namespace {

using testing::FakeClock;
using testing::FakeObjectStore;
using testing::Pattern;

// Passes a body on with the byte at `at` inverted.
class FlippingSink final : public ObjectSink {
 public:
  FlippingSink(ObjectSink& inner, uint64_t at) : inner_(inner), at_(at) {}
  Status Begin(const GetObjectResponse& response) override {
    position_ = response.body_offset;
    return inner_.Begin(response);
  }
  Status Append(std::string_view bytes) override {
    std::string copy(bytes);
    if (at_ >= position_ && at_ < position_ + copy.size()) {
      copy[at_ - position_] = static_cast<char>(~copy[at_ - position_]);
    }
    position_ += copy.size();
    return inner_.Append(copy);
  }

 private:
  ObjectSink& inner_;
  const uint64_t at_;
  uint64_t position_ = 0;
};

// Forwards to the fake store; the first `corrupt_gets` GETs have one body byte flipped, as a
// bad link would. Records every GET request.
class CorruptingStore final : public testing::ForwardingObjectStore {
 public:
  using ForwardingObjectStore::ForwardingObjectStore;
  void CorruptNextGets(int n, uint64_t at) {
    std::lock_guard lock(mu_);
    corrupt_gets_ = n;
    at_ = at;
  }
  std::vector<GetObjectRequest> gets() const {
    std::lock_guard lock(mu_);
    return gets_;
  }
  void Clear() {
    std::lock_guard lock(mu_);
    gets_.clear();
  }
  Result<GetObjectResponse> GetObject(const GetObjectRequest& request, ObjectSink& sink) override {
    bool corrupt = false;
    uint64_t at = 0;
    {
      std::lock_guard lock(mu_);
      gets_.push_back(request);
      corrupt = corrupt_gets_ > 0;
      if (corrupt) --corrupt_gets_;
      at = at_;
    }
    if (!corrupt) return inner_.GetObject(request, sink);
    FlippingSink flipping(sink, at);
    return inner_.GetObject(request, flipping);
  }

 private:
  mutable std::mutex mu_;
  int corrupt_gets_ = 0;                // guarded by mu_
  uint64_t at_ = 0;                     // guarded by mu_
  std::vector<GetObjectRequest> gets_;  // guarded by mu_
};

constexpr size_t kBlock = size_t{64} << 10;
constexpr size_t kStep = size_t{512} << 10;
constexpr size_t kWindow = size_t{4} << 20;
constexpr size_t kFirst = size_t{256} << 10;

class VerifiedReadTest : public ::testing::Test {
 protected:
  // Readahead still running on the pool uses the fetcher: it ends before the fetcher does.
  ~VerifiedReadTest() override { pool_.Shutdown(); }

  ObjectVersion Put(const std::string& key, size_t size) {
    body_ = Pattern(size);
    const std::string etag = store_.PutForTest(key, body_);
    return ObjectVersion{key, etag, size};
  }
  static Result<std::string> ReadAll(FileReader& reader, uint64_t offset, size_t size) {
    auto slices = reader.Read(offset, size);
    if (!slices.ok()) return std::move(slices).error();
    std::string got;
    for (const auto& s : *slices) got.append(s.block->data() + s.offset, s.length);
    return got;
  }
  // A sequential whole read, in kernel-sized reads.
  static Result<std::string> ReadSequentially(FileReader& reader, uint64_t size) {
    std::string all;
    for (uint64_t at = 0; at < size; at += 16384) {
      auto got = ReadAll(reader, at, 16384);
      if (!got.ok()) return got;
      all += *got;
    }
    return all;
  }

  FakeClock clock_;
  FakeObjectStore store_{clock_};
  CorruptingStore corrupting_{store_};
  BlockCache cache_{BlockCacheOptions{.capacity_bytes = size_t{64} << 20}};
  ThreadPool pool_{4};
  BufferPool buffers_{size_t{8} << 20};
  BlockFetcher fetcher_{corrupting_, cache_, pool_, buffers_, kBlock};
  std::string body_;
};

TEST_F(VerifiedReadTest, FirstReadOfASmallFileIsOneChecksummedGetWithoutRange) {
  const ObjectVersion object = Put("small", 3 * kBlock + 100);
  FileReader reader(fetcher_, object, kWindow, kStep, kFirst);
  auto got = ReadAll(reader, 0, 4096);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(*got, body_.substr(0, 4096));
  const auto gets = corrupting_.gets();
  ASSERT_EQ(gets.size(), 1u);
  EXPECT_FALSE(gets[0].range.has_value()) << "S3 returns checksums with whole-object GETs only";
  EXPECT_TRUE(gets[0].checksum_mode);
  EXPECT_EQ(gets[0].if_match, object.etag);
}

TEST_F(VerifiedReadTest, TransientCorruptionIsFetchedAgainAndServedCorrect) {
  const ObjectVersion object = Put("flip-once", 2 * kBlock + 7);
  corrupting_.CorruptNextGets(1, kBlock + 3);
  FileReader reader(fetcher_, object, kWindow, kStep, kFirst);
  auto got = ReadAll(reader, 0, object.size);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(*got, body_) << "the corrupted body must never be served";
  EXPECT_EQ(corrupting_.gets().size(), 2u) << "one corrupted GET, then one fresh GET";
}

TEST_F(VerifiedReadTest, PersistentCorruptionIsChecksumMismatchAndNothingIsCached) {
  const ObjectVersion object = Put("flip-always", 2 * kBlock);
  corrupting_.CorruptNextGets(1000, 5);
  FileReader reader(fetcher_, object, kWindow, kStep, kFirst);
  auto got = ReadAll(reader, 0, 4096);
  ASSERT_FALSE(got.ok()) << "corrupted bytes were served";
  EXPECT_EQ(got.error().code, ErrorCode::kChecksumMismatch) << got.error().ToString();
  EXPECT_EQ(corrupting_.gets().size(), static_cast<size_t>(BlockFetcher::kVerifiedReadAttempts));
  EXPECT_EQ(cache_.block_count(), 0u) << "no block of a body that failed its check is cached";
}

TEST_F(VerifiedReadTest, RandomReadOfAWholeSmallObjectIsVerifiedToo) {
  const ObjectVersion object = Put("tiny", 3000);
  corrupting_.CorruptNextGets(1, 10);
  auto block = fetcher_.GetRange(object, 0, object.size);
  ASSERT_TRUE(block.ok()) << block.error().ToString();
  EXPECT_EQ(**block, body_);
  EXPECT_EQ(corrupting_.gets().size(), 2u);
}

TEST_F(VerifiedReadTest, CorruptedCachedBlockIsDroppedAndFetchedAgain) {
  const ObjectVersion object = Put("cached", 3 * kBlock);
  {
    FileReader reader(fetcher_, object, kWindow, kStep, kFirst);
    ASSERT_TRUE(ReadAll(reader, 0, object.size).ok());
  }
  ASSERT_EQ(cache_.block_count(), 3u);
  ASSERT_TRUE(cache_.CorruptForTesting(BlockKey{object.key, object.etag, 1}, 100));
  corrupting_.Clear();
  FileReader again(fetcher_, object, kWindow, kStep, kFirst);
  auto got = ReadAll(again, kBlock, kBlock);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(*got, body_.substr(kBlock, kBlock)) << "the corrupted cached block was served";
  EXPECT_EQ(cache_.stats().corrupted, 1u);
  EXPECT_FALSE(corrupting_.gets().empty()) << "the dropped block should have been fetched again";
}

TEST_F(VerifiedReadTest, LargeSequentialReadIsCheckedBeforeItsEndIsServed) {
  const ObjectVersion object = Put("large", 70 * kBlock + 123);
  FileReader reader(fetcher_, object, kWindow, kStep, kFirst);
  auto got = ReadSequentially(reader, object.size);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(*got, body_);
  EXPECT_EQ(store_.counts().head_object, 1) << "one HEAD for the stored CRC32C";
}

TEST_F(VerifiedReadTest, LargeSequentialReadOfCorruptedBytesFailsAtTheEndAndForgetsThem) {
  const ObjectVersion object = Put("large-bad", 70 * kBlock + 123);
  corrupting_.CorruptNextGets(1000, 5 * kBlock + 17);  // inside a ranged GET's body
  {
    FileReader reader(fetcher_, object, kWindow, kStep, kFirst);
    auto got = ReadSequentially(reader, object.size);
    ASSERT_FALSE(got.ok()) << "a whole read of corrupted bytes completed";
    EXPECT_EQ(got.error().code, ErrorCode::kChecksumMismatch) << got.error().ToString();
  }
  pool_.Shutdown();  // no readahead still landing in the cache
  EXPECT_EQ(cache_.block_count(), 0u) << "the blocks that failed the check must be dropped";
}

TEST_F(VerifiedReadTest, RandomTailReadOfALargeObjectFetchesNothingMore) {
  const ObjectVersion object = Put("footer", 70 * kBlock);
  FileReader reader(fetcher_, object, kWindow, kStep, kFirst);
  auto got = ReadAll(reader, object.size - 8, 8);  // a parquet reader's first read
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(*got, body_.substr(object.size - 8));
  EXPECT_EQ(corrupting_.gets().size(), 1u) << "only the footer's pages";
  EXPECT_EQ(store_.counts().head_object, 0) << "no check for a read that is not whole";
}

// VerifyingSink on its own: what each kind of reply lets it check.
GetObjectResponse Reply(const std::string& body, std::string etag, std::string crc = "") {
  GetObjectResponse response;
  response.object.key = "k";
  response.object.size = body.size();
  response.object.etag = std::move(etag);
  response.object.checksum_crc32c = std::move(crc);
  response.body_length = body.size();
  return response;
}

Status Feed(VerifyingSink& sink, const GetObjectResponse& response, const std::string& body) {
  S3M_RETURN_IF_ERROR(sink.Begin(response));
  S3M_RETURN_IF_ERROR(sink.Append(body.substr(0, body.size() / 2)));
  S3M_RETURN_IF_ERROR(sink.Append(body.substr(body.size() / 2)));
  return sink.Verify();
}

TEST(VerifyingSinkTest, ChecksFullCrc32cThenMd5EtagAndNothingElse) {
  const std::string body = "hello, checksummed world";
  std::string bad = body;
  bad[3] = 'X';
  const std::string crc = Crc32cBase64(Crc32c(body));
  const std::string md5_etag = "\"" + [&] {
    Md5Hasher md5;
    md5.Update(body);
    return md5.FinishHex();
  }() + "\"";
  struct Case {
    const char* what;
    GetObjectResponse reply;
    VerifyingSink::Method method;
  };
  GetObjectResponse kms = Reply(body, md5_etag);
  kms.object.server_side_encryption = "aws:kms";
  GetObjectResponse ranged = Reply(body, md5_etag, crc);
  ranged.object.size = body.size() + 10;
  const std::vector<Case> cases = {
      {"full CRC32C", Reply(body, "\"whatever-2\"", crc), VerifyingSink::Method::kCrc32c},
      {"MD5 ETag", Reply(body, md5_etag), VerifyingSink::Method::kMd5Etag},
      {"composite CRC32C, multipart ETag", Reply(body, "\"0123-2\"", crc + "-2"),
       VerifyingSink::Method::kNone},
      {"SSE-KMS ETag", kms, VerifyingSink::Method::kNone},
      {"ranged reply", ranged, VerifyingSink::Method::kNone},
  };
  for (const Case& c : cases) {
    StringSink good_out;
    VerifyingSink good(good_out);
    EXPECT_TRUE(Feed(good, c.reply, body).ok()) << c.what;
    EXPECT_EQ(good.method(), c.method) << c.what;
    StringSink bad_out;
    VerifyingSink corrupted(bad_out);
    const Status verdict = Feed(corrupted, c.reply, bad);
    if (c.method == VerifyingSink::Method::kNone) {
      EXPECT_TRUE(verdict.ok()) << c.what << ": nothing to check against";
    } else {
      ASSERT_FALSE(verdict.ok()) << c.what << ": a corrupted body passed";
      EXPECT_EQ(verdict.error().code, ErrorCode::kChecksumMismatch);
      EXPECT_NE(verdict.error().message.find("'k'"), std::string::npos) << "names the key";
    }
  }
}

}  // namespace
}  // namespace s3mount
