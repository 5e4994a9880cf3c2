// Secrets never reach a log: with every logger at trace level, a session of signed requests
// with a session token, retries, a redirect and a failed signature check must log neither
// the secret key, nor the token, nor any signature that went on the wire.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "s3mount/s3/curl_object_store.h"
#include "s3mount/s3/object_sinks.h"
#include "s3mount/s3/retrying_object_store.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/moto_fixture.h"
#include "tests/support/s3_client_factory.h"
#include "tests/support/s3mount_process.h"
#include "tests/support/test_data.h"

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

// A whole mount at trace level whose credentials come from an STS AssumeRole (a profile with
// role_arn + source_profile): the log must hold neither the source profile's secret nor the
// session token or any signature the mount sent.
TEST(SecretLoggingTest, MountWithAnAssumedRoleLogsNoSecretAtTraceLevel) {
  auto server = testing::MotoServer::Start();
  ASSERT_TRUE(server.ok()) << server.error().ToString();
  ASSERT_TRUE((*server)->CreateBucket("secrets").ok());
  auto proxy = testing::FaultProxy::Start("127.0.0.1", (*server)->port());
  ASSERT_TRUE(proxy.ok()) << proxy.error().ToString();
  auto dir = testing::TempDir::Create("s3mount-secret-log");
  ASSERT_TRUE(dir.ok());
  std::ofstream((*dir)->File("config"))
      << "[profile mount]\nrole_arn = arn:aws:iam::123456789012:role/reader\n"
         "source_profile = base\n";
  std::ofstream((*dir)->File("credentials"))
      << "[base]\naws_access_key_id = AKIABASEEXAMPLE\naws_secret_access_key = " << kSecret << "\n";
  const std::string log_file = (*dir)->File("mount.log");
  {
    auto mount = testing::S3mountProcess::Mount(
        **server, {.source = "secrets",
                   .options = {"endpoint=" + (*proxy)->endpoint(), "profile=mount",
                               "log_level=trace", "log_file=" + log_file},
                   .env = {{"AWS_CONFIG_FILE", (*dir)->File("config")},
                           {"AWS_SHARED_CREDENTIALS_FILE", (*dir)->File("credentials")},
                           {"AWS_EC2_METADATA_DISABLED", "true"}}});
    ASSERT_TRUE(mount.ok()) << mount.error().ToString();
    { std::ofstream((*mount)->Path("file")) << "some bytes"; }
    EXPECT_EQ(testing::ReadFile((*mount)->Path("file")), "some bytes");
    ASSERT_TRUE((*mount)->Unmount().ok());
  }
  const std::string logs = testing::ReadFile(log_file);
  ASSERT_NE(logs.find("credentials: profile 'mount': role arn:aws:iam::123456789012:role/reader "
                      "assumed with the static keys of profile 'base'"),
            std::string::npos)
      << "the mount did not log its credentials source, so this test proves nothing:\n"
      << logs;
  EXPECT_EQ(logs.find(kSecret), std::string::npos) << "the source profile's secret was logged";
  int signed_requests = 0;
  for (const auto& request : (*proxy)->recorded_requests()) {
    const std::string token = request.Header("x-amz-security-token");
    if (!token.empty()) {
      EXPECT_EQ(logs.find(token), std::string::npos) << "a session token was logged";
    }
    const std::string authorization = request.Header("authorization");
    const size_t at = authorization.find("Signature=");
    if (at == std::string::npos) continue;
    ++signed_requests;
    EXPECT_EQ(logs.find(authorization.substr(at + 10)), std::string::npos)
        << "a signature was logged";
  }
  EXPECT_GE(signed_requests, 4) << "AssumeRole, the startup check, the PUT and its lookups";
}

}  // namespace
}  // namespace s3mount
