// Tests for FaultProxy: every fault does what it says, seen from a real HTTP client (libcurl's
// easy API) talking through the proxy to moto; keep-alive, request and response framing,
// fault matching and counters; and shutdown while a transfer is stalled.
#include "tests/support/fault_proxy.h"

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "s3mount/aws/http_client.h"
#include "tests/support/free_port.h"
#include "tests/support/moto_fixture.h"

namespace s3mount {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using testing::Fault;
using testing::FaultProxy;
using testing::MotoTest;

constexpr std::size_t kObjectSize = std::size_t{256} * 1024;
constexpr char kObjectKey[] = "object.bin";
// moto refuses anonymous reads of private objects; without signature checks any
// Authorization header makes the request authenticated.
constexpr char kDummyAuthorization[] =
    "Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, "
    "SignedHeaders=host, Signature=0000";

struct CurlReply {
  CURLcode code = CURLE_OK;
  long status = 0;
  long new_connections = 0;
  std::string body;
  milliseconds elapsed{0};
};

// One easy handle: libcurl keeps its connection between Perform calls (keep-alive).
class CurlClient {
 public:
  using Tweak = std::function<void(CURL*)>;

  CurlClient() : curl_(curl_easy_init()) {}

  CurlReply Perform(const std::string& method, const std::string& url, const std::string& body = "",
                    const Tweak& tweak = {}) {
    CURL* h = curl_.get();
    curl_easy_reset(h);
    CurlReply reply;
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr,
                                                                        &curl_slist_free_all);
    for (const char* header :
         {kDummyAuthorization, "Content-Type: application/octet-stream", "Expect:"}) {
      headers.reset(curl_slist_append(headers.release(), header));
    }
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    if (method == "HEAD") curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (method == "PUT" && !body.empty()) {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Append);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply.body);
    if (tweak) tweak(h);
    auto start = steady_clock::now();
    reply.code = curl_easy_perform(h);
    reply.elapsed = std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply.status);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &reply.new_connections);
    return reply;
  }

 private:
  static size_t Append(char* data, size_t size, size_t count, void* user) {
    static_cast<std::string*>(user)->append(data, size * count);
    return size * count;
  }

  struct Deleter {
    void operator()(CURL* h) const { curl_easy_cleanup(h); }
  };
  std::unique_ptr<CURL, Deleter> curl_;
};

std::string Describe(const CurlReply& reply) {
  return std::string("curl: ") + curl_easy_strerror(reply.code) + " (" +
         std::to_string(reply.code) + "), HTTP " + std::to_string(reply.status) + ", " +
         std::to_string(reply.body.size()) + " body bytes, " +
         std::to_string(reply.elapsed.count()) + " ms";
}

std::string MakeObject() {
  std::string data(kObjectSize, '\0');
  for (std::size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<char>((i * 7 + i / 251) & 0xff);
  return data;
}

class FaultProxyTest : public MotoTest {
 protected:
  void SetUp() override {
    MotoTest::SetUp();
    if (HasFatalFailure()) return;
    object_ = MakeObject();
    // Straight to moto (not through the proxy) so the proxy's counters start at zero.
    CurlReply put = CurlClient().Perform("PUT", DirectUrl(kObjectKey), object_);
    ASSERT_EQ(put.code, CURLE_OK) << Describe(put);
    ASSERT_EQ(put.status, 200) << put.body;
    auto proxy = FaultProxy::Start("127.0.0.1", server().port());
    ASSERT_TRUE(proxy.ok()) << proxy.error().ToString();
    proxy_ = std::move(*proxy);
  }

  std::string DirectUrl(const std::string& key) const {
    return server().endpoint() + "/" + bucket() + "/" + key;
  }
  std::string ProxyUrl(const std::string& key) const {
    return proxy_->endpoint() + "/" + bucket() + "/" + key;
  }
  // Whether moto itself holds `key` (asked directly, bypassing the proxy).
  bool ExistsUpstream(const std::string& key) const {
    return CurlClient().Perform("HEAD", DirectUrl(key)).status == 200;
  }

  std::string object_;
  std::unique_ptr<FaultProxy> proxy_;
};

// ---- Plain forwarding and keep-alive --------------------------------------------------------

TEST_F(FaultProxyTest, ForwardsRequestsAndKeepsTheClientConnectionAlive) {
  CurlClient client;
  CurlReply get = client.Perform("GET", ProxyUrl(kObjectKey));
  ASSERT_EQ(get.code, CURLE_OK) << Describe(get);
  EXPECT_EQ(get.status, 200);
  EXPECT_TRUE(get.body == object_) << "body differs from the object";
  EXPECT_EQ(get.new_connections, 1);

  CurlReply head = client.Perform("HEAD", ProxyUrl(kObjectKey));
  EXPECT_EQ(head.code, CURLE_OK) << Describe(head);
  EXPECT_EQ(head.status, 200);
  CurlReply put = client.Perform("PUT", ProxyUrl("written"), "new contents");
  EXPECT_EQ(put.code, CURLE_OK) << Describe(put);
  EXPECT_EQ(put.status, 200) << put.body;
  CurlReply missing = client.Perform("GET", ProxyUrl("missing"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("<Code>NoSuchKey</Code>"), std::string::npos) << missing.body;
  CurlReply again = client.Perform("GET", ProxyUrl("written"));
  EXPECT_EQ(again.body, "new contents");
  EXPECT_EQ(again.new_connections, 0) << "the client connection was not reused";

  EXPECT_EQ(proxy_->connections_accepted(), 1u);
  EXPECT_EQ(proxy_->requests_seen(), 5u);
  EXPECT_EQ(proxy_->requests_seen("GET"), 3u);
  EXPECT_EQ(proxy_->requests_seen("HEAD"), 1u);
  EXPECT_EQ(proxy_->requests_seen("PUT"), 1u);
  EXPECT_EQ(proxy_->requests_seen("DELETE"), 0u);
  auto cross_check = server().GetObject(bucket(), "written");
  ASSERT_TRUE(cross_check.ok()) << cross_check.error().ToString();
  EXPECT_EQ(*cross_check, "new contents");
}

TEST_F(FaultProxyTest, ForwardsChunkedRequestBodies) {
  std::string data(std::size_t{100} * 1000, 'c');
  std::size_t offset = 0;
  auto read = +[](char* buffer, size_t size, size_t count, void* user) -> size_t {
    auto* state = static_cast<std::pair<std::string*, std::size_t*>*>(user);
    std::size_t n = std::min(size * count, state->first->size() - *state->second);
    std::copy_n(state->first->data() + *state->second, n, buffer);
    *state->second += n;
    return n;
  };
  std::pair<std::string*, std::size_t*> state(&data, &offset);
  CurlReply put = CurlClient().Perform("PUT", ProxyUrl("chunked"), "", [&](CURL* h) {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);  // no size given: Transfer-Encoding: chunked
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read);
    curl_easy_setopt(h, CURLOPT_READDATA, &state);
  });
  ASSERT_EQ(put.code, CURLE_OK) << Describe(put);
  EXPECT_EQ(put.status, 200) << put.body;
  auto stored = server().GetObject(bucket(), "chunked");
  ASSERT_TRUE(stored.ok()) << stored.error().ToString();
  EXPECT_TRUE(*stored == data) << "stored " << stored->size() << " bytes";
}

// ---- Canned replies -------------------------------------------------------------------------

TEST_F(FaultProxyTest, Return503SlowDownNeverReachesUpstream) {
  proxy_->AddFault(Fault::Return503SlowDown());
  CurlClient client;
  CurlReply put = client.Perform("PUT", ProxyUrl("throttled"), "data");
  ASSERT_EQ(put.code, CURLE_OK) << Describe(put);
  EXPECT_EQ(put.status, 503);
  EXPECT_NE(put.body.find("<Code>SlowDown</Code>"), std::string::npos) << put.body;
  EXPECT_FALSE(ExistsUpstream("throttled")) << "the throttled PUT reached moto";
  EXPECT_EQ(proxy_->faults_applied(), 1u);
  EXPECT_EQ(proxy_->PendingFaults(), 0u);

  CurlReply retry = client.Perform("PUT", ProxyUrl("throttled"), "data");
  EXPECT_EQ(retry.status, 200) << retry.body;
  EXPECT_EQ(retry.new_connections, 0) << "a canned reply must keep the connection";
  EXPECT_TRUE(ExistsUpstream("throttled"));
}

TEST_F(FaultProxyTest, ReturnStatusWithAnyCodeAndEmptyHeadBody) {
  proxy_->AddFault(Fault::ReturnStatus(500, "InternalError").Times(2));
  CurlClient client;
  CurlReply get = client.Perform("GET", ProxyUrl(kObjectKey));
  EXPECT_EQ(get.status, 500);
  EXPECT_NE(get.body.find("<Code>InternalError</Code>"), std::string::npos) << get.body;
  CurlReply head = client.Perform("HEAD", ProxyUrl(kObjectKey));
  EXPECT_EQ(head.code, CURLE_OK) << Describe(head);
  EXPECT_EQ(head.status, 500);
  CurlReply ok = client.Perform("GET", ProxyUrl(kObjectKey));
  EXPECT_EQ(ok.status, 200) << "fault applied more than Times(2)";
  EXPECT_EQ(proxy_->connections_accepted(), 1u);
}

TEST_F(FaultProxyTest, FaultsMatchMethodAndPath) {
  proxy_->AddFault(Fault::ReturnStatus(403, "AccessDenied").OnMethod("PUT"));
  proxy_->AddFault(Fault::ReturnStatus(404, "NoSuchKey").OnPath("/other-key"));
  CurlClient client;
  EXPECT_EQ(client.Perform("GET", ProxyUrl(kObjectKey)).status, 200);
  EXPECT_EQ(proxy_->PendingFaults(), 2u) << "a non-matching request used up a fault";
  EXPECT_EQ(client.Perform("GET", ProxyUrl("other-key")).status, 404);
  EXPECT_EQ(client.Perform("PUT", ProxyUrl("other"), "x").status, 403);
  EXPECT_EQ(client.Perform("PUT", ProxyUrl("other"), "x").status, 200);
  EXPECT_EQ(proxy_->faults_applied(), 2u);
}

// ---- Faults in the response body ------------------------------------------------------------

TEST_F(FaultProxyTest, ResetMidBodyBreaksTheTransfer) {
  proxy_->AddFault(Fault::ResetMidBody(10000));
  CurlReply get = CurlClient().Perform("GET", ProxyUrl(kObjectKey));
  EXPECT_TRUE(get.code == CURLE_RECV_ERROR || get.code == CURLE_PARTIAL_FILE) << Describe(get);
  EXPECT_EQ(get.status, 200) << "headers should arrive before the reset";
  EXPECT_LE(get.body.size(), 10000u);
  EXPECT_TRUE(get.body == object_.substr(0, get.body.size())) << "received bytes are wrong";
}

TEST_F(FaultProxyTest, TruncateBodyEndsCleanlyShortOfContentLength) {
  proxy_->AddFault(Fault::TruncateBody(12345));
  CurlReply get = CurlClient().Perform("GET", ProxyUrl(kObjectKey));
  EXPECT_EQ(get.code, CURLE_PARTIAL_FILE) << Describe(get);
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body.size(), 12345u);
  EXPECT_TRUE(get.body == object_.substr(0, 12345)) << "received bytes are wrong";
}

TEST_F(FaultProxyTest, StallTripsTheLowSpeedTimeout) {
  // Stall right after the headers: libcurl averages speed over ~5 s, so bytes received
  // before a stall would postpone the timeout by that much.
  proxy_->AddFault(Fault::Stall(std::chrono::seconds(20), 0));
  CurlReply get = CurlClient().Perform("GET", ProxyUrl(kObjectKey), "", [](CURL* h) {
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 1L);
  });
  // A stall waited out would have ended in the whole body (CURLE_OK).
  EXPECT_EQ(get.code, CURLE_OPERATION_TIMEDOUT) << Describe(get);
  EXPECT_EQ(get.status, 200) << "headers should arrive before the stall";
  EXPECT_EQ(get.body.size(), 0u);
  // The proxy is still sleeping in the stall: destruction must cut it short (else it waits
  // out the 20 s; DestructorCutsAStalledTransfer checks the cut itself).
  proxy_.reset();
}

// HttpClient's cancel flag (used to end SQS long polls at unmount) cuts a silent request short.
TEST_F(FaultProxyTest, HttpClientCancelFlagEndsAWaitingRequest) {
  proxy_->AddFault(Fault::Delay(std::chrono::seconds(20)));
  HttpClient client(HttpClientOptions{});
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(milliseconds(300));
    cancel = true;
  });
  auto reply =
      client.Perform(HttpRequest{.method = "GET", .url = ProxyUrl(kObjectKey), .cancel = &cancel});
  canceller.join();
  // A request that went on waiting would have had its answer after the 20 s delay.
  ASSERT_FALSE(reply.ok()) << "the cancelled request went on waiting";
  EXPECT_EQ(reply.error().code, ErrorCode::kCancelled) << reply.error().ToString();
  // The handle goes back to the pool: the next request on it must not see the old flag.
  auto next = client.Perform(HttpRequest{.method = "GET", .url = ProxyUrl(kObjectKey)});
  ASSERT_TRUE(next.ok()) << next.error().ToString();
  EXPECT_GT(next->status, 0) << "an answer (unsigned, so moto may refuse it) and no cancel";
}

TEST_F(FaultProxyTest, StallThenResumeDeliversEverything) {
  proxy_->AddFault(Fault::Stall(milliseconds(400), 1000));
  CurlReply get = CurlClient().Perform("GET", ProxyUrl(kObjectKey));
  ASSERT_EQ(get.code, CURLE_OK) << Describe(get);
  EXPECT_TRUE(get.body == object_);
  EXPECT_GE(get.elapsed, milliseconds(400));
}

TEST_F(FaultProxyTest, DelayAddsLatency) {
  CurlClient client;
  proxy_->AddFault(Fault::Delay(milliseconds(500)));
  CurlReply slow = client.Perform("GET", ProxyUrl(kObjectKey));
  ASSERT_EQ(slow.code, CURLE_OK) << Describe(slow);
  EXPECT_TRUE(slow.body == object_);
  EXPECT_GE(slow.elapsed, milliseconds(500));
  EXPECT_EQ(proxy_->faults_applied(), 1u) << "the delay was not applied by the proxy";
}

TEST_F(FaultProxyTest, DestructorCutsAStalledTransfer) {
  proxy_->AddFault(Fault::Stall(std::chrono::seconds(60), 100));
  auto transfer = std::async(std::launch::async, [url = ProxyUrl(kObjectKey)] {
    return CurlClient().Perform("GET", url);
  });
  auto deadline = steady_clock::now() + std::chrono::seconds(10);
  while (proxy_->faults_applied() == 0 && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  std::this_thread::sleep_for(milliseconds(100));
  proxy_.reset();
  CurlReply get = transfer.get();
  // Had the destructor waited out the stall, the transfer would have completed (CURLE_OK).
  EXPECT_NE(get.code, CURLE_OK) << "the destructor let the stalled transfer finish: "
                                << Describe(get);
  EXPECT_EQ(get.body.size(), 100u);
}

TEST_F(FaultProxyTest, UnreachableUpstreamIs502) {
  uint16_t dead_port = 0;
  {
    auto listener = testing::ListenOnLoopback(&dead_port);
    ASSERT_TRUE(listener.ok());
  }  // closed: nothing listens there now
  auto proxy = FaultProxy::Start("127.0.0.1", dead_port);
  ASSERT_TRUE(proxy.ok()) << proxy.error().ToString();
  CurlReply get = CurlClient().Perform("GET", (*proxy)->endpoint() + "/b/k");
  EXPECT_EQ(get.status, 502) << Describe(get);
}

// ---- Corrupted bodies and answers lost after the upstream applied the request -------------

TEST_F(FaultProxyTest, FlipByteInvertsExactlyOneByteOfTheBody) {
  proxy_->AddFault(Fault::FlipByte(100'000).OnMethod("GET"));
  CurlReply get = CurlClient().Perform("GET", ProxyUrl(kObjectKey));
  ASSERT_EQ(get.code, CURLE_OK) << Describe(get);
  ASSERT_EQ(get.body.size(), object_.size()) << "the length must not change";
  std::size_t differing = 0;
  for (std::size_t i = 0; i < object_.size(); ++i) differing += get.body[i] != object_[i];
  EXPECT_EQ(differing, 1u) << "exactly one byte should differ";
  EXPECT_EQ(get.body[100'000], static_cast<char>(~object_[100'000])) << "byte 100000 not inverted";
  CurlReply clean = CurlClient().Perform("GET", ProxyUrl(kObjectKey));
  EXPECT_TRUE(clean.body == object_) << "the fault should apply once";
}

TEST_F(FaultProxyTest, ApplyThenReturnStatusStoresTheObjectAndAnswersAnError) {
  proxy_->AddFault(Fault::ApplyThenReturnStatus(500, "InternalError").OnMethod("PUT"));
  CurlReply put = CurlClient().Perform("PUT", ProxyUrl("applied"), "stored anyway");
  ASSERT_EQ(put.code, CURLE_OK) << Describe(put);
  EXPECT_EQ(put.status, 500);
  EXPECT_NE(put.body.find("<Code>InternalError</Code>"), std::string::npos) << put.body;
  auto stored = server().GetObject(bucket(), "applied");
  ASSERT_TRUE(stored.ok()) << "the upstream did not apply the PUT: " << stored.error().ToString();
  EXPECT_EQ(*stored, "stored anyway");
}

TEST_F(FaultProxyTest, ApplyThenResetStoresTheObjectAndCutsTheConnection) {
  proxy_->AddFault(Fault::ApplyThenReset().OnMethod("PUT"));
  CurlReply put = CurlClient().Perform("PUT", ProxyUrl("reset"), "stored, answer lost");
  EXPECT_NE(put.code, CURLE_OK) << "the client should see no answer: " << Describe(put);
  EXPECT_EQ(put.status, 0) << Describe(put);
  auto stored = server().GetObject(bucket(), "reset");
  ASSERT_TRUE(stored.ok()) << "the upstream did not apply the PUT: " << stored.error().ToString();
  EXPECT_EQ(*stored, "stored, answer lost");
}

TEST_F(FaultProxyTest, ApplyThenStallAnswersLateOrTripsTheLowSpeedTimeout) {
  proxy_->AddFault(Fault::ApplyThenStall(milliseconds(300)).OnMethod("PUT"));
  CurlReply late = CurlClient().Perform("PUT", ProxyUrl("late"), "late answer");
  ASSERT_EQ(late.code, CURLE_OK) << Describe(late);
  EXPECT_EQ(late.status, 200) << late.body;
  EXPECT_GE(late.elapsed, milliseconds(300)) << "the answer came without the stall";

  proxy_->AddFault(Fault::ApplyThenStall(std::chrono::seconds(60)).OnMethod("PUT"));
  CurlReply cut =
      CurlClient().Perform("PUT", ProxyUrl("stalled"), "applied, then silence", [](CURL* h) {
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 1L);
      });
  EXPECT_EQ(cut.code, CURLE_OPERATION_TIMEDOUT) << Describe(cut);
  auto stored = server().GetObject(bucket(), "stalled");
  ASSERT_TRUE(stored.ok()) << "the upstream did not apply the PUT: " << stored.error().ToString();
  EXPECT_EQ(*stored, "applied, then silence");
}

TEST_F(FaultProxyTest, ReplaceBodyKeepsTheStatusAndSendsTheReplacement) {
  const std::string garbage = "<html><body>Service Unavailable</body></html>";
  proxy_->AddFault(Fault::ReplaceBody(garbage).OnMethod("GET"));
  CurlReply get = CurlClient().Perform("GET", ProxyUrl(kObjectKey));
  ASSERT_EQ(get.code, CURLE_OK) << Describe(get);
  EXPECT_EQ(get.status, 200) << "the upstream's status should be kept";
  EXPECT_EQ(get.body, garbage);
  proxy_->AddFault(Fault::ReplaceBody("").OnMethod("GET"));
  CurlReply empty = CurlClient().Perform("GET", ProxyUrl(kObjectKey));
  ASSERT_EQ(empty.code, CURLE_OK) << Describe(empty);
  EXPECT_EQ(empty.status, 200);
  EXPECT_TRUE(empty.body.empty()) << empty.body.size() << " bytes instead of none";
}

TEST_F(FaultProxyTest, ReturnBodyAnswersWithoutReachingTheUpstream) {
  const std::string page = "<html><body>Bad Gateway</body></html>";
  proxy_->AddFault(Fault::ReturnBody(200, page).OnMethod("PUT"));
  CurlReply put = CurlClient().Perform("PUT", ProxyUrl("never-stored"), "payload");
  ASSERT_EQ(put.code, CURLE_OK) << Describe(put);
  EXPECT_EQ(put.status, 200);
  EXPECT_EQ(put.body, page);
  EXPECT_FALSE(server().GetObject(bucket(), "never-stored").ok())
      << "the upstream applied a request the proxy answered itself";
}

// ---- Chunked responses (moto never sends them, so a scripted upstream does) -----------------

// Answers every request on every connection with a fixed chunked reply, then closes.
class ChunkedUpstream {
 public:
  ChunkedUpstream() {
    auto listener = testing::ListenOnLoopback(&port_);
    if (listener.ok()) listener_ = std::move(*listener);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ChunkedUpstream() {
    stop_ = true;
    ::shutdown(listener_.get(), SHUT_RDWR);
    thread_.join();
  }
  uint16_t Port() const { return port_; }

 private:
  void Serve() {
    while (!stop_) {
      testing::UniqueFd conn(::accept(listener_.get(), nullptr, nullptr));
      if (!conn.valid()) return;
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(conn.get(), buf, sizeof(buf), 0);
        if (n <= 0) break;
        request.append(buf, static_cast<std::size_t>(n));
      }
      std::string reply =
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
          "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";
      ::send(conn.get(), reply.data(), reply.size(), MSG_NOSIGNAL);
    }
  }

  uint16_t port_ = 0;
  testing::UniqueFd listener_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(FaultProxyChunkedTest, RelaysChunkedRepliesAndKeepsAlive) {
  ChunkedUpstream upstream;
  ASSERT_NE(upstream.Port(), 0);
  auto proxy = FaultProxy::Start("127.0.0.1", upstream.Port());
  ASSERT_TRUE(proxy.ok()) << proxy.error().ToString();
  CurlClient client;
  for (int i = 0; i < 2; ++i) {
    CurlReply get = client.Perform("GET", (*proxy)->endpoint() + "/b/k");
    ASSERT_EQ(get.code, CURLE_OK) << Describe(get);
    EXPECT_EQ(get.body, "hello world");
  }
  EXPECT_EQ((*proxy)->connections_accepted(), 1u);

  (*proxy)->AddFault(Fault::TruncateBody(12));  // inside the second chunk
  CurlReply cut = client.Perform("GET", (*proxy)->endpoint() + "/b/k");
  EXPECT_NE(cut.code, CURLE_OK) << Describe(cut);
  EXPECT_EQ(cut.body, "hello") << "only the first chunk was complete";
}

}  // namespace
}  // namespace s3mount
