// Tests of the memory accounting on the fake store (docs/CONFIGURATION.md, "Memory"): the
// block cache's reservations cover blocks on their way, so many readers on a small cache never
// have more bytes stored and in flight than its capacity; streams leave one part of the write
// budget to uploads, so an upload at close waits for room instead of going over the budget,
// and a stream short of memory says so (its file then spills to staging) without completing
// anything early.
#include "fs/memory_budget.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fs/block_fetcher.h"
#include "fs/file_reader.h"
#include "fs/object_uploader.h"
#include "fs/streaming_upload.h"
#include "s3mount/cache/block_cache.h"
#include "s3mount/common/thread_pool.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_object_store.h"
#include "tests/fakes/forwarding_object_store.h"
#include "tests/fakes/gated_object_store.h"
#include "tests/support/test_data.h"

namespace s3mount {
namespace {

using testing::FakeClock;
using testing::FakeObjectStore;
using testing::GatedObjectStore;
using testing::Operation;
using testing::Pattern;
using testing::SameBytes;

constexpr uint64_t kMiB = uint64_t{1} << 20;

// ---- the block cache's reservations ----

BlockCache::Block BlockOf(size_t size) { return std::make_shared<const std::string>(size, 'x'); }

TEST(BlockCacheReservationTest, ReservationsEvictStoredBlocksAndCountAgainstTheCapacity) {
  BlockCache cache{BlockCacheOptions{.capacity_bytes = 4 * kMiB}};
  for (uint64_t i = 0; i < 4; ++i) cache.Insert({"k", "e", i}, BlockOf(kMiB));
  EXPECT_EQ(cache.Reserve(kMiB, 3, /*wait=*/false), 3u) << "room is made by evicting blocks";
  EXPECT_EQ(cache.used_bytes() + cache.reserved_bytes(), 4 * kMiB);
  EXPECT_EQ(cache.Reserve(kMiB, 2, /*wait=*/false), 1u) << "only one more block fits";
  EXPECT_EQ(cache.Reserve(kMiB, 1, /*wait=*/false), 0u) << "reservations fill the capacity";
  cache.InsertReserved({"k", "e", 9}, BlockOf(kMiB), kMiB);
  cache.Unreserve(kMiB);
  EXPECT_EQ(cache.reserved_bytes(), 2 * kMiB);
  EXPECT_NE(cache.Lookup({"k", "e", 9}), nullptr) << "a reserved block is stored";
  EXPECT_LE(cache.stats().peak_charged, 4 * kMiB);
  EXPECT_EQ(cache.Reserve(8 * kMiB, 1, /*wait=*/true), 0u) << "larger than the cache: never";
}

TEST(BlockCacheReservationTest, AWaitingReservationGetsTheRoomOfOneThatEnds) {
  BlockCache cache{BlockCacheOptions{.capacity_bytes = 2 * kMiB}};
  ASSERT_EQ(cache.Reserve(kMiB, 2, /*wait=*/false), 2u);
  std::atomic<size_t> got{0};
  std::thread waiter([&] { got = cache.Reserve(kMiB, 2, /*wait=*/true); });
  while (cache.stats().reserve_waits == 0) std::this_thread::yield();
  EXPECT_EQ(got.load(), 0u) << "it must wait while reservations fill the cache";
  cache.InsertReserved({"k", "e", 0}, BlockOf(kMiB), kMiB);  // a fetch delivered its block
  waiter.join();
  EXPECT_EQ(got.load(), 1u) << "the waiter gets the room the delivered block's reservation held";
  EXPECT_EQ(cache.used_bytes() + cache.reserved_bytes(), 2 * kMiB);
}

// Forwards GETs to the fake store and records the most bytes asked for and not delivered yet,
// at once. Each GET lingers until others join it (up to a few milliseconds: only to make them
// overlap, never a condition of the test) so the readers' requests are in flight together.
class InFlightMeter final : public testing::ForwardingObjectStore {
 public:
  using ForwardingObjectStore::ForwardingObjectStore;
  Result<GetObjectResponse> GetObject(const GetObjectRequest& request, ObjectSink& sink) override {
    // Bytes stop counting as they are delivered (before the fetcher stores them).
    class Counting final : public ObjectSink {
     public:
      Counting(InFlightMeter& meter, ObjectSink& inner) : meter_(meter), inner_(inner) {}
      Status Begin(const GetObjectResponse& response) override { return inner_.Begin(response); }
      Status Append(std::string_view bytes) override {
        delivered += bytes.size();
        meter_.Delivered(bytes.size());
        return inner_.Append(bytes);
      }
      uint64_t delivered = 0;

     private:
      InFlightMeter& meter_;
      ObjectSink& inner_;
    };
    const uint64_t bytes =
        request.range && request.range->last ? *request.range->last - request.range->first + 1 : 0;
    {
      std::unique_lock lock(mu_);
      in_flight_ += bytes;
      most_ = std::max(most_, in_flight_);
      joined_.notify_all();
      const uint64_t before = in_flight_;
      joined_.wait_for(lock, std::chrono::milliseconds(5), [&] { return in_flight_ != before; });
    }
    Counting counting(*this, sink);
    auto got = inner_.GetObject(request, counting);
    Delivered(bytes - std::min(bytes, counting.delivered));
    return got;
  }
  void Delivered(uint64_t bytes) {
    std::lock_guard lock(mu_);
    in_flight_ -= std::min(bytes, in_flight_);
  }
  uint64_t most() const {
    std::lock_guard lock(mu_);
    return most_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable joined_;
  uint64_t in_flight_ = 0;  // guarded by mu_
  uint64_t most_ = 0;       // guarded by mu_
};

TEST(ReadersOnASmallCacheTest, ManyReadersNeverHaveMoreInFlightThanTheCache) {
  // 24 readers, sequential and random, of 2 MiB objects through a cache of 8 blocks of 64 KiB:
  // their first requests alone (256 KiB each) would be 6 MiB in flight without reservations.
  constexpr size_t kBlock = size_t{64} << 10;
  constexpr size_t kCapacity = 8 * kBlock;
  constexpr size_t kSize = 2 * kMiB;
  constexpr int kReaders = 24;
  FakeClock clock;
  FakeObjectStore store{clock};
  InFlightMeter meter{store};
  BlockCache cache{BlockCacheOptions{.capacity_bytes = kCapacity}};
  ThreadPool pool{8};
  BufferPool buffers{size_t{8} << 20};
  BlockFetcher fetcher{meter, cache, pool, buffers, kBlock};
  std::vector<std::string> bodies;
  std::vector<ObjectVersion> objects;
  for (int i = 0; i < kReaders; ++i) {
    bodies.push_back(Pattern(kSize, static_cast<char>('a' + i)));
    const std::string key = "r" + std::to_string(i);
    objects.push_back({key, store.PutForTest(key, bodies.back()), kSize});
  }
  std::vector<std::string> errors(kReaders);
  std::vector<std::thread> threads;
  for (int i = 0; i < kReaders; ++i) {
    threads.emplace_back([&, i] {
      FileReader reader(fetcher, objects[i], kSize, 4 * kBlock, 4 * kBlock);
      const size_t step = i % 3 == 2 ? 3 * kBlock + 4096 : size_t{32} << 10;  // some skip about
      for (uint64_t at = 0; at < kSize; at += step) {
        const size_t length = static_cast<size_t>(std::min<uint64_t>(16 << 10, kSize - at));
        auto slices = reader.Read(at, length);
        if (!slices.ok()) {
          errors[i] = slices.error().ToString();
          return;
        }
        std::string got;
        for (const auto& s : *slices) got.append(s.block->data() + s.offset, s.length);
        if (got != bodies[i].substr(at, length)) {
          errors[i] = "wrong bytes at " + std::to_string(at);
          return;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  pool.Shutdown();
  for (int i = 0; i < kReaders; ++i) EXPECT_EQ(errors[i], "") << "reader " << i;
  EXPECT_LE(meter.most(), kCapacity) << "GETs in flight at once asked for more than the cache";
  EXPECT_LE(cache.stats().peak_charged, kCapacity);
  EXPECT_EQ(cache.reserved_bytes(), 0u) << "every reservation ended with its GET";
}

// ---- the write budget: streams and uploads ----

TEST(MemoryBudgetTest, StreamsLeaveOnePartToUploads) {
  MemoryBudget memory{16 * kMiB, /*upload_reserve=*/8 * kMiB};
  EXPECT_EQ(memory.stream_limit(), 8 * kMiB);
  EXPECT_TRUE(memory.TryAcquire(8 * kMiB, MemoryUse::kStream));
  EXPECT_FALSE(memory.TryAcquire(kMiB, MemoryUse::kStream)) << "streams hold their share";
  EXPECT_TRUE(memory.TryAcquire(8 * kMiB, MemoryUse::kUpload)) << "uploads get the rest";
  EXPECT_FALSE(memory.TryAcquire(1, MemoryUse::kUpload)) << "nobody goes over the capacity";
  memory.Release(8 * kMiB, MemoryUse::kStream);
  EXPECT_EQ(memory.stream_used(), 0u);
  EXPECT_EQ(memory.used(), 8 * kMiB);
  EXPECT_EQ(MemoryBudget(16 * kMiB, 64 * kMiB).stream_limit(), 8 * kMiB)
      << "the reserve is half the budget at most";
}

// A staged file's bytes as the uploader reads them.
class StringSource final : public UploadSource {
 public:
  explicit StringSource(std::string body) : body_(std::move(body)) {}
  uint64_t size() const override { return body_.size(); }
  Status Read(uint64_t offset, size_t size, char* out) override {
    body_.copy(out, size, offset);
    return OkStatus();
  }
  bool Unchanged(uint64_t /*offset*/, uint64_t /*size*/) const override { return false; }

 private:
  std::string body_;
};

class WriteBudgetTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  FakeObjectStore store_{clock_};
  GatedObjectStore gate_{store_};
  ThreadPool pool_{4};
  MemoryBudget memory_{16 * kMiB, /*upload_reserve=*/8 * kMiB};
  ObjectUploader uploader_{gate_, pool_, memory_, UploaderOptions{.part_size = 8 * kMiB}};
};

TEST_F(WriteBudgetTest, AStreamShortOfMemorySpillsAndNothingCompletesEarly) {
  gate_.Close(Operation::kUploadPart);  // parts stay in flight, charged
  StreamingUpload first(gate_, pool_, memory_, uploader_, "a", 8 * kMiB);
  ASSERT_TRUE(first.Append(Pattern(8 * kMiB)).ok());  // one part, held at the gate
  ASSERT_TRUE(gate_.WaitUntilHeld(1, std::chrono::seconds(30)));
  StreamingUpload second(gate_, pool_, memory_, uploader_, "b", 8 * kMiB);
  Status appended = second.Append(Pattern(kMiB));
  ASSERT_FALSE(appended.ok()) << "the streams' share is taken by the part in flight";
  EXPECT_EQ(appended.error().code, ErrorCode::kNoSpace) << "kNoSpace: spill to staging";
  EXPECT_FALSE(second.started());
  EXPECT_LE(memory_.peak_used(), memory_.capacity());
  // An upload at close still has its part's room: it neither waits for the held part nor
  // goes over the budget.
  StringSource staged(Pattern(8 * kMiB, 'q'));
  auto put = uploader_.Upload({.key = "c"}, staged);
  ASSERT_TRUE(put.ok()) << put.error().ToString();
  EXPECT_LE(memory_.peak_used(), memory_.capacity());
  gate_.Open();
  auto done = first.Finish("", {}, true);
  ASSERT_TRUE(done.ok()) << done.error().ToString();
  EXPECT_EQ(store_.counts().complete_multipart, 1) << "only the stream that was closed completes";
  EXPECT_FALSE(store_.BodyOf("b").has_value()) << "a stream short of memory published nothing";
}

TEST_F(WriteBudgetTest, UploadsAtCloseWaitForRoomInsteadOfGoingOverTheBudget) {
  // Streams fill their share and stay open; four files of 24 MiB are uploaded at once.
  ASSERT_TRUE(memory_.TryAcquire(8 * kMiB, MemoryUse::kStream));
  gate_.Close(Operation::kUploadPart);  // the first part takes the rest and is held
  std::vector<std::string> bodies;
  for (int i = 0; i < 4; ++i) bodies.push_back(Pattern(24 * kMiB, static_cast<char>('a' + i)));
  std::vector<std::thread> closers;
  std::vector<std::string> errors(4);
  for (int i = 0; i < 4; ++i) {
    closers.emplace_back([&, i] {
      StringSource source(bodies[i]);
      auto put = uploader_.Upload({.key = "f" + std::to_string(i)}, source);
      if (!put.ok()) errors[i] = put.error().ToString();
    });
  }
  ASSERT_TRUE(gate_.WaitUntilHeld(1, std::chrono::seconds(30)));
  // Long enough for the others to give up waiting for memory, as they did before (200 ms),
  // and send a part anyway: none may.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(gate_.held(), 1) << "a part was sent with the write budget exhausted";
  gate_.Open();
  for (auto& closer : closers) closer.join();
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(errors[i], "") << "upload " << i;
    EXPECT_TRUE(SameBytes(store_.BodyOf("f" + std::to_string(i)), bodies[i])) << "f" << i;
  }
  EXPECT_LE(memory_.peak_used(), memory_.capacity())
      << "an upload went over the write budget (before: one part over it per upload)";
  memory_.Release(8 * kMiB, MemoryUse::kStream);
  EXPECT_EQ(memory_.used(), 0u);
}

}  // namespace
}  // namespace s3mount
