// Secrets never reach a log: with every logger at trace level, a session of signed requests
// with a session token, retries, a redirect and a failed signature check must log neither
// the secret key, nor the token, nor any signature that went on the wire.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "s3mount/s3/curl_object_store.h"
#include "s3mount/s3/object_sinks.h"
#include "s3mount/s3/retrying_object_store.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/moto_fixture.h"
#include "tests/support/s3_client_factory.h"

namespace s3mount {
namespace {

constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRETzz";
constexpr char kToken[] = "FwoGZXIvYXdzEXAMPLESESSIONTOKENzz";

TEST(SecretLoggingTest, TraceLogsHoldNoSecretTokenOrSignature) {
  auto server = testing::MotoServer::Start();
  ASSERT_TRUE(server.ok()) << server.error().ToString();
  ASSERT_TRUE((*server)->CreateBucket("secrets").ok());
  auto proxy = testing::FaultProxy::Start("127.0.0.1", (*server)->port());
  ASSERT_TRUE(proxy.ok()) << proxy.error().ToString();

  std::ostringstream captured;
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured));
  logger->set_level(spdlog::level::trace);
  spdlog::set_default_logger(logger);

  SystemClock clock;
  auto client =
      testing::MakeTestClient(testing::LocalClientOptions((*proxy)->endpoint(), "secrets"),
                              {"ASIAEXAMPLEACCESSKEY", kSecret, kToken, std::nullopt}, clock);
  RetryPolicy policy(RetryOptions{.base_delay = std::chrono::milliseconds(1)});
  RetryingObjectStore store(*client.store, policy, clock);
  (*proxy)->AddFault(testing::Fault::Return503SlowDown().Times(2));
  (*proxy)->AddFault(testing::Fault::ReturnStatus(301, "PermanentRedirect")
                         .WithHeader("x-amz-bucket-region", "eu-west-1"));
  (*proxy)->AddFault(testing::Fault::ReturnStatus(403, "SignatureDoesNotMatch"));
  (void)store.PutObject({.key = "a", .body = "x"});
  (void)store.PutObject({.key = "b", .body = "y"});
  StringSink sink;
  (void)store.GetObject({.key = "a"}, sink);
  (void)store.GetObject({.key = "missing"}, sink);
  (void)store.ListObjects({});
  spdlog::set_default_logger(previous);

  const std::string logs = captured.str();
  EXPECT_FALSE(logs.empty()) << "nothing was logged, so this test proves nothing";
  EXPECT_EQ(logs.find(kSecret), std::string::npos) << logs;
  EXPECT_EQ(logs.find(kToken), std::string::npos) << logs;
  int signatures = 0;
  for (const auto& request : (*proxy)->recorded_requests()) {
    const std::string authorization = request.Header("authorization");
    const size_t at = authorization.find("Signature=");
    ASSERT_NE(at, std::string::npos) << authorization;
    const std::string signature = authorization.substr(at + 10);
    ++signatures;
    EXPECT_EQ(logs.find(signature), std::string::npos) << "signature logged: " << signature;
    EXPECT_EQ(request.Header("x-amz-security-token"), kToken);
  }
  EXPECT_GE(signatures, 7);
}

}  // namespace
}  // namespace s3mount
