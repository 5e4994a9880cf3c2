// The fixture of the FakeObjectStore tests (fake_object_store*_test.cc): a store on a fake
// clock with small GET chunks and parts, GET/PUT helpers, and a sink that records how the
// store drove it.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "s3mount/s3/object_sinks.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_object_store.h"

namespace s3mount::testing {

constexpr char kHelloMd5[] = "\"5d41402abc4b2a76b9719d911017c592\"";
constexpr char kEmptyMd5[] = "\"d41d8cd98f00b204e9800998ecf8427e\"";

// Records how the store drove it; can be told to fail at a given call.
class RecordingSink final : public ObjectSink {
 public:
  Status Begin(const GetObjectResponse& response) override {
    ++begins;
    begun_with = response;
    if (fail_begin) return MakeError(ErrorCode::kCancelled, "begin refused");
    return OkStatus();
  }
  Status Append(std::string_view bytes) override {
    EXPECT_EQ(begins, 1) << "Append before Begin";
    chunks.emplace_back(bytes);
    if (fail_on_chunk && chunks.size() == *fail_on_chunk) {
      return MakeError(ErrorCode::kCancelled, "sink is full");
    }
    return OkStatus();
  }
  std::string Body() const {
    std::string out;
    for (const auto& chunk : chunks) out += chunk;
    return out;
  }

  int begins = 0;
  std::optional<GetObjectResponse> begun_with;
  std::vector<std::string> chunks;
  bool fail_begin = false;
  std::optional<size_t> fail_on_chunk;
};

class FakeObjectStoreTest : public ::testing::Test {
 protected:
  FakeObjectStoreTest()
      : store_(clock_, FakeObjectStore::Options{.get_chunk_size = 4, .min_part_size = 5}) {}

  // GETs `key` (optionally a range) and returns the body, or the error.
  Result<std::string> Get(const std::string& key, std::optional<ByteRange> range = {}) {
    GetObjectRequest request;
    request.key = key;
    request.range = range;
    StringSink sink;
    auto response = store_.GetObject(request, sink);
    S3M_RETURN_IF_ERROR(response);
    return sink.Take();
  }

  Status Put(const std::string& key, std::string_view body) {
    PutObjectRequest request;
    request.key = key;
    request.body = body;
    auto response = store_.PutObject(request);
    S3M_RETURN_IF_ERROR(response);
    return OkStatus();
  }

  FakeClock clock_;
  FakeObjectStore store_;
};

}  // namespace s3mount::testing
