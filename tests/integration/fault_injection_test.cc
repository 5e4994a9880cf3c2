// Integration tests of the S3 client through the fault-injecting proxy in front of
// moto_server: throttling, connections reset mid-body, stalls, truncated bodies, region
// redirects and clock skew, with the real client and retry loop (short backoff). Also what
// goes on the wire: connection reuse, conditional and copy headers, the proxy variables.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <random>
#include <thread>

#include "s3mount/common/time_format.h"
#include "s3mount/s3/curl_object_store.h"
#include "s3mount/s3/object_sinks.h"
#include "s3mount/s3/retrying_object_store.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/moto_fixture.h"
#include "tests/support/s3_client_factory.h"

namespace s3mount {
namespace {

using testing::Fault;
using testing::FaultProxy;

std::string RandomBody(size_t size) {
  std::mt19937_64 rng(size);
  std::string data(size, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  return data;
}

class FaultInjectionTest : public testing::MotoTest {
 protected:
  void SetUp() override {
    testing::MotoTest::SetUp();
    if (HasFatalFailure()) return;
    auto proxy = FaultProxy::Start("127.0.0.1", server().port());
    ASSERT_TRUE(proxy.ok()) << proxy.error().ToString();
    proxy_ = std::move(proxy).value();
    S3ClientOptions options = testing::LocalClientOptions(proxy_->endpoint(), bucket());
    options.http.low_speed_time = std::chrono::seconds(1);
    options.http.low_speed_limit = 1024;
    client_ = testing::MakeTestClient(options, {"test", "test", "", std::nullopt}, clock_);
    ASSERT_NE(client_.store, nullptr);
    retrying_ = std::make_unique<RetryingObjectStore>(*client_.store, policy_, clock_);
  }
  ObjectStore& store() { return *retrying_; }
  void Put(const std::string& key, std::string_view body) {
    auto put = client_.store->PutObject({.key = key, .body = body});
    ASSERT_TRUE(put.ok()) << put.error().ToString();
  }
  std::string Get(const std::string& key, Result<GetObjectResponse>* result = nullptr) {
    StringSink sink;
    auto got = store().GetObject({.key = key}, sink);
    EXPECT_TRUE(got.ok()) << got.error().ToString();
    if (result != nullptr) *result = got;
    return sink.Take();
  }

  SystemClock clock_;
  RetryPolicy policy_{RetryOptions{.max_attempts = 4,
                                   .base_delay = std::chrono::milliseconds(5),
                                   .throttle_base_delay = std::chrono::milliseconds(10),
                                   .max_delay = std::chrono::milliseconds(100)}};
  std::unique_ptr<FaultProxy> proxy_;
  testing::TestClient client_;
  std::unique_ptr<RetryingObjectStore> retrying_;
};

TEST_F(FaultInjectionTest, SlowDownIsRetriedUntilItPasses) {
  Put("k", "value");
  proxy_->ResetCounters();
  proxy_->AddFault(Fault::Return503SlowDown().OnMethod("GET").Times(2));
  EXPECT_EQ(Get("k"), "value");
  EXPECT_EQ(proxy_->requests_seen("GET"), 3u);
}

TEST_F(FaultInjectionTest, PersistentSlowDownGivesUpWithTheS3Error) {
  proxy_->AddFault(Fault::Return503SlowDown().Times(100));
  auto head = store().HeadObject({.key = "k"});
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().code, ErrorCode::kSlowDown);
  EXPECT_EQ(proxy_->requests_seen(), 4u);
  auto list = store().ListObjects({});
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().s3_code, "SlowDown");
  EXPECT_EQ(list.error().http_status, 503);
}

TEST_F(FaultInjectionTest, ConnectionResetMidBodyResumesFromTheRightByte) {
  const std::string body = RandomBody(2 * 1024 * 1024);
  Put("big", body);
  proxy_->ResetCounters();
  proxy_->AddFault(Fault::ResetMidBody(700'000).OnMethod("GET"));
  Result<GetObjectResponse> result = MakeError(ErrorCode::kUnknown, "");
  const std::string back = Get("big", &result);
  EXPECT_TRUE(back == body) << "resumed body differs (" << back.size() << " bytes)";
  const auto requests = proxy_->recorded_requests();
  ASSERT_EQ(requests.size(), 2u);
  // The resume asks only for what is missing, pinned to the version already half read.
  const std::string range = requests[1].Header("range");
  EXPECT_TRUE(range.starts_with("bytes=")) << range;
  EXPECT_NE(range, "bytes=0-");
  EXPECT_EQ(requests[1].Header("if-match"), result->object.etag);
}

TEST_F(FaultInjectionTest, TruncatedBodyIsDetectedAndResumed) {
  const std::string body = RandomBody(512 * 1024);
  Put("t", body);
  proxy_->AddFault(Fault::TruncateBody(100'000).OnMethod("GET"));
  EXPECT_TRUE(Get("t") == body);
  // Without retries, the truncation is an error, never a short read.
  proxy_->AddFault(Fault::TruncateBody(100'000).OnMethod("GET"));
  StringSink sink;
  auto cut = client_.store->GetObject({.key = "t"}, sink);
  ASSERT_FALSE(cut.ok()) << "a truncated body was accepted as complete";
  EXPECT_EQ(cut.error().code, ErrorCode::kTruncatedBody);
}

TEST_F(FaultInjectionTest, StalledTransferTimesOutAndIsRetried) {
  const std::string body = RandomBody(256 * 1024);
  Put("s", body);
  proxy_->ResetCounters();
  proxy_->AddFault(Fault::Stall(std::chrono::seconds(8), 1000).OnMethod("GET"));
  EXPECT_TRUE(Get("s") == body);
  // A stall waited out would have delivered the body on the first GET.
  EXPECT_EQ(proxy_->requests_seen("GET"), 2u)
      << "the stalled GET should have been timed out and sent again";
}

TEST_F(FaultInjectionTest, ConditionalPutAfterA500IsResentOnlyOnceS3ShowsItDidNotApply) {
  // A 500 may follow an applied PUT: HEAD shows the key empty, so the PUT goes again and the
  // server checks If-None-Match anew.
  proxy_->AddFault(Fault::ReturnStatus(500, "InternalError").OnMethod("PUT"));
  auto conditional = store().PutObject({.key = "c", .body = "x", .if_none_match_any = true});
  ASSERT_TRUE(conditional.ok()) << conditional.error().ToString();
  EXPECT_EQ(proxy_->requests_seen("PUT"), 2u);
  EXPECT_EQ(proxy_->requests_seen("HEAD"), 1u) << "resent without asking S3 first";
  proxy_->AddFault(Fault::ReturnStatus(500, "InternalError").OnMethod("PUT"));
  EXPECT_TRUE(store().PutObject({.key = "c", .body = "x"}).ok());
  EXPECT_EQ(proxy_->requests_seen("PUT"), 4u);
}

TEST_F(FaultInjectionTest, RegionRedirectIsFollowedOnceWithTheNewRegion) {
  proxy_->AddFault(Fault::ReturnStatus(301, "PermanentRedirect", "use the right endpoint")
                       .WithHeader("x-amz-bucket-region", "eu-west-3"));
  auto list = client_.store->ListObjects({});
  ASSERT_TRUE(list.ok()) << list.error().ToString();
  EXPECT_EQ(client_.store->region(), "eu-west-3");
  const auto requests = proxy_->recorded_requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_NE(requests[0].Header("authorization").find("/us-east-1/s3/"), std::string::npos);
  EXPECT_NE(requests[1].Header("authorization").find("/eu-west-3/s3/"), std::string::npos);
}

TEST_F(FaultInjectionTest, ClockSkewIsLearntFromTheServerDate) {
  const WallTime server_now = clock_.Now() + std::chrono::hours(2);
  proxy_->AddFault(Fault::ReturnStatus(403, "RequestTimeTooSkewed")
                       .WithHeader("Date", FormatHttpDate(server_now)));
  auto list = client_.store->ListObjects({});
  ASSERT_TRUE(list.ok()) << list.error().ToString();
  const auto skew = client_.store->clock_skew();
  EXPECT_GT(skew, std::chrono::minutes(119));
  EXPECT_LT(skew, std::chrono::minutes(121));
  const auto requests = proxy_->recorded_requests();
  ASSERT_EQ(requests.size(), 2u);
  auto signed_at = [](const testing::RecordedRequest& r) { return r.Header("x-amz-date"); };
  EXPECT_GT(signed_at(requests[1]), signed_at(requests[0]));
}

TEST_F(FaultInjectionTest, ConnectionsAreReusedAcrossRequestsAndThreads) {
  Put("k", "v");  // opens the first connection
  proxy_->ResetCounters();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(store().HeadObject({.key = "k"}).ok());
  EXPECT_EQ(proxy_->connections_accepted(), 0u) << "sequential requests opened new connections";
  EXPECT_EQ(client_.store->connections_opened(), 1);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) EXPECT_TRUE(store().HeadObject({.key = "k"}).ok());
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(proxy_->requests_seen(), 120u);
  EXPECT_LE(proxy_->connections_accepted(), 3u) << "4 threads need at most 4 connections";
  EXPECT_LE(client_.store->connections_opened(), 4);
}

TEST_F(FaultInjectionTest, ConditionalAndCopyHeadersGoOnTheWire) {
  Put("src", "0123456789");
  proxy_->ResetCounters();
  StringSink sink;
  ASSERT_TRUE(store()
                  .GetObject({.key = "src",
                              .range = ByteRange{2, 5},
                              .if_match = "\"e1\"",
                              .if_none_match = "\"e2\""},
                             sink)
                  .error()
                  .code == ErrorCode::kPreconditionFailed);
  (void)store().CopyObject(
      {.source_key = "src", .destination_key = "dst dir/x", .source_if_match = "\"e3\""});
  (void)store().DeleteObjects({"a", "b"});
  const auto requests = proxy_->recorded_requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].Header("range"), "bytes=2-5");
  EXPECT_EQ(requests[0].Header("if-match"), "\"e1\"");
  EXPECT_EQ(requests[0].Header("if-none-match"), "\"e2\"");
  EXPECT_EQ(requests[1].Header("x-amz-copy-source"), bucket() + "/src");
  EXPECT_EQ(requests[1].Header("x-amz-copy-source-if-match"), "\"e3\"");
  EXPECT_EQ(requests[1].Header("x-amz-metadata-directive"), "COPY");
  EXPECT_EQ(requests[1].target, "/" + bucket() + "/dst%20dir/x");
  EXPECT_EQ(requests[2].target, "/" + bucket() + "?delete=");
  EXPECT_FALSE(requests[2].Header("content-md5").empty());
  for (const auto& r : requests) {
    EXPECT_NE(r.Header("authorization").find("SignedHeaders="), std::string::npos);
    EXPECT_EQ(r.Header("expect"), "") << "Expect: 100-continue costs a round trip";
  }
}

TEST_F(FaultInjectionTest, DeleteObjectsSendsBatchesOfAtMostOneThousandKeys) {
  std::vector<std::string> keys;
  for (int i = 0; i < 2001; ++i) keys.push_back("gone/" + std::to_string(i));
  auto deleted = store().DeleteObjects(keys);
  ASSERT_TRUE(deleted.ok()) << deleted.error().ToString();
  EXPECT_TRUE(deleted->failures.empty());
  EXPECT_EQ(proxy_->requests_seen("POST"), 3u);
}

TEST_F(FaultInjectionTest, StandardProxyVariablesAreHonoured) {
  // Talk to moto directly, but with http_proxy pointing at the fault proxy.
  const char* saved_no_proxy = std::getenv("no_proxy");
  const char* saved_no_proxy_upper = std::getenv("NO_PROXY");
  const std::string no_proxy = saved_no_proxy ? saved_no_proxy : "";
  const std::string no_proxy_upper = saved_no_proxy_upper ? saved_no_proxy_upper : "";
  unsetenv("no_proxy");
  unsetenv("NO_PROXY");
  setenv("http_proxy", proxy_->endpoint().c_str(), 1);
  auto direct = testing::MakeTestClient(testing::LocalClientOptions(server().endpoint(), bucket()),
                                        {"test", "test", "", std::nullopt}, clock_);
  proxy_->ResetCounters();
  auto put = direct.store->PutObject({.key = "via-proxy", .body = "p"});
  unsetenv("http_proxy");
  if (saved_no_proxy) setenv("no_proxy", no_proxy.c_str(), 1);
  if (saved_no_proxy_upper) setenv("NO_PROXY", no_proxy_upper.c_str(), 1);
  ASSERT_TRUE(put.ok()) << put.error().ToString();
  EXPECT_EQ(proxy_->requests_seen("PUT"), 1u) << "http_proxy was ignored";
}

}  // namespace
}  // namespace s3mount
