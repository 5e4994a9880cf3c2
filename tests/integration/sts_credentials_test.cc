// Integration tests of StsClient, AssumeRoleProvider and WebIdentityProvider against
// moto_server with SigV4 enforcement on: AssumeRole signed with the IAM user's keys and
// AssumeRoleWithWebIdentity with a token file both return ASIA... credentials that moto then
// accepts for S3 (through CurlObjectStore), and a wrong secret fails with STS's own error.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>

#include "s3mount/auth/assume_role_credentials.h"
#include "s3mount/auth/sts_client.h"
#include "s3mount/aws/http_client.h"
#include "s3mount/aws/http_fetch.h"
#include "s3mount/s3/curl_object_store.h"
#include "tests/support/moto_fixture.h"
#include "tests/support/moto_setup.h"
#include "tests/support/s3_client_factory.h"
#include "tests/support/subprocess.h"

namespace s3mount {
namespace {

using testing::LocalClientOptions;
using testing::MakeTestClient;

constexpr char kRoleArn[] = "arn:aws:iam::123456789012:role/test";

class StsCredentialsTest : public testing::AuthMotoTest {
 protected:
  void SetUp() override {
    testing::AuthMotoTest::SetUp();
    if (HasFatalFailure()) return;
    Status role = testing::CreateAllowAllRole(server(), "test");
    ASSERT_TRUE(role.ok()) << role.error().ToString();
  }

  StsOptions Options() const {
    return {.region = "us-east-1", .endpoint_override = server().endpoint()};
  }
  std::shared_ptr<CredentialsProvider> UserKeys(const std::string& secret = "") const {
    return std::make_shared<StaticCredentialsProvider>(
        Credentials{server().access_key_id(),
                    secret.empty() ? server().secret_access_key() : secret, "", std::nullopt});
  }

  // Temporary credentials as STS hands them out, with a sane expiry.
  void ExpectTemporary(const Credentials& credentials, std::chrono::seconds duration) {
    EXPECT_TRUE(credentials.access_key_id.starts_with("ASIA")) << credentials.access_key_id;
    EXPECT_FALSE(credentials.secret_access_key.empty());
    EXPECT_FALSE(credentials.session_token.empty());
    ASSERT_TRUE(credentials.expiration.has_value());
    auto now = clock_.Now();
    EXPECT_GT(*credentials.expiration, now + duration - std::chrono::minutes(2));
    EXPECT_LT(*credentials.expiration, now + duration + std::chrono::minutes(2));
  }

  // Puts and lists an object signed with `credentials`: moto checks the key, the secret and
  // the session token.
  void ExpectS3Works(const Credentials& credentials) {
    auto client =
        MakeTestClient(LocalClientOptions(server().endpoint(), bucket()), credentials, clock_);
    ASSERT_NE(client.store, nullptr);
    auto put = client.store->PutObject({.key = "from-sts", .body = "assumed"});
    ASSERT_TRUE(put.ok()) << put.error().ToString() << "\nmoto log:\n" << server().LogTail();
    auto list = client.store->ListObjects({});
    ASSERT_TRUE(list.ok()) << list.error().ToString();
    ASSERT_EQ(list->objects.size(), 1u);
    EXPECT_EQ(list->objects[0].key, "from-sts");
    auto stored = server().GetObject(bucket(), "from-sts");
    ASSERT_TRUE(stored.ok()) << stored.error().ToString();
    EXPECT_EQ(*stored, "assumed");
  }

  SystemClock clock_;
  HttpClient http_{HttpClientOptions{.connect_timeout = std::chrono::seconds(5),
                                     .request_timeout = std::chrono::seconds(30)}};
};

TEST_F(StsCredentialsTest, AssumeRoleWithUserKeysGivesCredentialsS3Accepts) {
  StsClient sts(FetchWith(http_), clock_, Options());
  AssumeRoleProvider provider(UserKeys(), sts, {.role_arn = kRoleArn, .duration_seconds = 900});
  auto credentials = provider.GetCredentials();
  ASSERT_TRUE(credentials.ok()) << credentials.error().ToString() << "\nmoto log:\n"
                                << server().LogTail();
  ExpectTemporary(*credentials, std::chrono::seconds(900));
  ExpectS3Works(*credentials);
}

TEST_F(StsCredentialsTest, AssumedCredentialsWithoutTheirTokenAreRefused) {
  StsClient sts(FetchWith(http_), clock_, Options());
  auto credentials = AssumeRoleProvider(UserKeys(), sts, {.role_arn = kRoleArn}).GetCredentials();
  ASSERT_TRUE(credentials.ok()) << credentials.error().ToString();
  Credentials tampered = *credentials;
  tampered.session_token = "not-the-token";
  auto client = MakeTestClient(LocalClientOptions(server().endpoint(), bucket()), tampered, clock_);
  ASSERT_NE(client.store, nullptr);
  auto put = client.store->PutObject({.key = "nope", .body = "x"});
  ASSERT_FALSE(put.ok()) << "moto accepted a wrong session token, so the S3 check above "
                            "proves nothing";
}

TEST_F(StsCredentialsTest, WebIdentityTokenFileGivesCredentialsS3Accepts) {
  auto dir = testing::TempDir::Create("s3mount-sts-it");
  ASSERT_TRUE(dir.ok()) << dir.error().ToString();
  const std::string token_file = (*dir)->File("token");
  std::ofstream(token_file) << "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwb2QifQ.c2ln\n";
  StsClient sts(FetchWith(http_), clock_, Options());
  // AssumeRoleWithWebIdentity is unsigned (AWS wants no signature), but moto with signature
  // checking on fails any request without an Authorization header with HTTP 500 (KeyError in
  // its access control). Let exactly one unauthenticated action through; checking resumes
  // after it, so the S3 requests below are still checked.
  auto allowed = testing::SimpleHttpRequest("POST", server().endpoint() + "/moto-api/reset-auth",
                                            "1", "text/plain");
  ASSERT_TRUE(allowed.ok()) << allowed.error().ToString();
  ASSERT_EQ(*allowed, 200);
  WebIdentityProvider provider(
      sts, {.token_file = token_file, .role_arn = kRoleArn, .role_session_name = "pod"});
  auto credentials = provider.GetCredentials();
  ASSERT_TRUE(credentials.ok()) << credentials.error().ToString() << "\nmoto log:\n"
                                << server().LogTail();
  ExpectTemporary(*credentials, std::chrono::hours(1));
  ExpectS3Works(*credentials);
}

TEST_F(StsCredentialsTest, WrongSecretGivesAClearErrorWithoutTheSecret) {
  const std::string wrong_secret = "WrongSecretKeyForThisTest0123456789abcd";
  StsClient sts(FetchWith(http_), clock_, Options());
  auto result =
      AssumeRoleProvider(UserKeys(wrong_secret), sts, {.role_arn = kRoleArn}).GetCredentials();
  ASSERT_FALSE(result.ok()) << "moto issued credentials for a wrong secret";
  const Error& error = result.error();
  EXPECT_EQ(error.code, ErrorCode::kCredentials);
  EXPECT_TRUE(error.message.starts_with(
      "STS AssumeRole of arn:aws:iam::123456789012:role/test failed: SignatureDoesNotMatch"))
      << error.message;
  EXPECT_EQ(error.http_status, 403) << error.ToString();
  EXPECT_EQ(error.ToString().find(wrong_secret), std::string::npos) << error.ToString();
  EXPECT_EQ(error.ToString().find(server().secret_access_key()), std::string::npos);
}

TEST_F(StsCredentialsTest, UnreachableEndpointIsATransportError) {
  StsClient sts(FetchWith(http_), clock_,
                {.region = "us-east-1", .endpoint_override = "http://127.0.0.1:1"});
  auto result =
      sts.AssumeRole({.role_arn = kRoleArn, .role_session_name = "s"},
                     {server().access_key_id(), server().secret_access_key(), "", std::nullopt});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kNetwork) << result.error().ToString();
  EXPECT_TRUE(result.error().message.starts_with("STS AssumeRole of " + std::string(kRoleArn) +
                                                 " failed: "))
      << result.error().message;
}

}  // namespace
}  // namespace s3mount
