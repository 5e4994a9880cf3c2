// Tests for ImdsCredentialsProvider: the IMDSv2 token dance, token caching, the v1 fallback
// rules and the reply parsing, against a scripted metadata service.
#include "s3mount/auth/imds_credentials.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "s3mount/common/time_format.h"
#include "tests/fakes/fake_clock.h"

namespace s3mount {
namespace {

constexpr char kSecret[] = "wJalrXUtnFEMI/IMDSSECRETKEYVALUE";
constexpr char kToken[] = "IQoJIMDSSESSIONTOKEN";
constexpr char kImdsToken[] = "AQAEAIMDSV2TOKEN==";
constexpr char kRolesUrl[] = "http://169.254.169.254/latest/meta-data/iam/security-credentials/";

struct Sent {
  std::string method;
  std::string url;
  HeaderList headers;
  std::optional<std::string> Header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) return value;
    }
    return std::nullopt;
  }
};

// A metadata service: answers by "METHOD URL"; unknown requests get 404.
class ImdsCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Answer("PUT http://169.254.169.254/latest/api/token", 200, kImdsToken);
    Answer(std::string("GET ") + kRolesUrl, 200, "my-role\n");
    Answer(std::string("GET ") + kRolesUrl + "my-role", 200, GoodBody());
  }
  void Answer(const std::string& request, long status, std::string body) {
    replies_[request] = {status, std::move(body)};
  }
  HttpFetch Fetch() {
    return [this](const HttpRequest& request) -> Result<HttpResponse> {
      sent_.push_back({request.method, request.url, request.headers});
      const std::string key = request.method + " " + request.url;
      if (auto it = errors_.find(key); it != errors_.end()) return it->second;
      HttpResponse response;
      response.status = 404;
      if (auto it = replies_.find(key); it != replies_.end()) {
        response.status = it->second.first;
        response.body = it->second.second;
      }
      return response;
    };
  }
  static std::string GoodBody() {
    return std::string(R"({"Code":"Success","LastUpdated":"2030-01-01T00:00:00Z","Type":)"
                       R"("AWS-HMAC","AccessKeyId":"ASIAIMDS","SecretAccessKey":")") +
           kSecret + R"(","Token":")" + kToken + R"(","Expiration":"2030-01-01T06:00:00Z"})";
  }
  static void ExpectNoSecrets(const Error& error) {
    for (const char* secret : {kSecret, kToken, kImdsToken}) {
      EXPECT_EQ(error.message.find(secret), std::string::npos) << error.message;
    }
  }

  s3mount::testing::FakeClock clock_;
  std::map<std::string, std::pair<long, std::string>> replies_;
  std::map<std::string, Error> errors_;
  std::vector<Sent> sent_;
};

TEST_F(ImdsCredentialsTest, TokenThenRoleThenCredentials) {
  ImdsCredentialsProvider provider(Fetch(), ImdsOptions{}, clock_);
  auto credentials = provider.GetCredentials();
  ASSERT_TRUE(credentials.ok()) << credentials.error().ToString();
  EXPECT_EQ(credentials->access_key_id, "ASIAIMDS");
  EXPECT_EQ(credentials->secret_access_key, kSecret);
  EXPECT_EQ(credentials->session_token, kToken);
  ASSERT_TRUE(credentials->expiration.has_value());
  EXPECT_EQ(FormatIso8601(*credentials->expiration), "2030-01-01T06:00:00.000Z");
  ASSERT_EQ(sent_.size(), 3u);
  EXPECT_EQ(sent_[0].method, "PUT");
  EXPECT_EQ(sent_[0].url, "http://169.254.169.254/latest/api/token");
  EXPECT_EQ(sent_[0].Header("x-aws-ec2-metadata-token-ttl-seconds"), "21600");
  EXPECT_EQ(sent_[1].method, "GET");
  EXPECT_EQ(sent_[1].url, kRolesUrl);
  EXPECT_EQ(sent_[1].Header("x-aws-ec2-metadata-token"), kImdsToken);
  EXPECT_EQ(sent_[2].url, std::string(kRolesUrl) + "my-role");
  EXPECT_EQ(sent_[2].Header("x-aws-ec2-metadata-token"), kImdsToken);
}

TEST_F(ImdsCredentialsTest, TokenIsReusedUntilShortlyBeforeItsTtl) {
  ImdsOptions options;
  options.endpoint = "http://127.0.0.1:9999/";  // the trailing slash is dropped
  options.token_ttl = std::chrono::seconds(600);
  Answer("PUT http://127.0.0.1:9999/latest/api/token", 200, kImdsToken);
  Answer("GET http://127.0.0.1:9999/latest/meta-data/iam/security-credentials/", 200, "my-role");
  Answer("GET http://127.0.0.1:9999/latest/meta-data/iam/security-credentials/my-role", 200,
         GoodBody());
  ImdsCredentialsProvider provider(Fetch(), options, clock_);
  auto count_puts = [this] {
    return std::count_if(sent_.begin(), sent_.end(),
                         [](const Sent& sent) { return sent.method == "PUT"; });
  };
  ASSERT_TRUE(provider.GetCredentials().ok());
  EXPECT_EQ(sent_[0].Header("x-aws-ec2-metadata-token-ttl-seconds"), "600");
  clock_.Advance(std::chrono::seconds(530));
  ASSERT_TRUE(provider.GetCredentials().ok());
  EXPECT_EQ(count_puts(), 1);
  clock_.Advance(std::chrono::seconds(20));  // 50 s left: less than the 60 s margin
  ASSERT_TRUE(provider.GetCredentials().ok());
  EXPECT_EQ(count_puts(), 2);
}

TEST_F(ImdsCredentialsTest, RejectedTokenIsReplacedOnce) {
  ImdsCredentialsProvider provider(Fetch(), ImdsOptions{}, clock_);
  ASSERT_TRUE(provider.GetCredentials().ok());
  Answer(std::string("GET ") + kRolesUrl, 401, "");
  sent_.clear();
  auto credentials = provider.GetCredentials();
  ASSERT_FALSE(credentials.ok());
  EXPECT_NE(credentials.error().message.find("HTTP 401"), std::string::npos);
  // GET (401), PUT (new token), GET (401 again): no loop.
  ASSERT_EQ(sent_.size(), 3u);
  EXPECT_EQ(sent_[1].method, "PUT");
  ExpectNoSecrets(credentials.error());
}

TEST_F(ImdsCredentialsTest, FallsBackToV1OnlyWhenAllowedAndTheTokenIsRefused) {
  for (long status : {403L, 404L, 405L}) {
    sent_.clear();
    Answer("PUT http://169.254.169.254/latest/api/token", status, "");
    ImdsOptions options;
    options.allow_v1_fallback = true;
    ImdsCredentialsProvider v1(Fetch(), options, clock_);
    auto credentials = v1.GetCredentials();
    ASSERT_TRUE(credentials.ok()) << status << ": " << credentials.error().ToString();
    ASSERT_EQ(sent_.size(), 3u);
    EXPECT_FALSE(sent_[1].Header("x-aws-ec2-metadata-token").has_value());
    EXPECT_FALSE(sent_[2].Header("x-aws-ec2-metadata-token").has_value());

    ImdsCredentialsProvider strict(Fetch(), ImdsOptions{}, clock_);
    auto refused = strict.GetCredentials();
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message.find("token request answered HTTP " + std::to_string(status)),
              std::string::npos)
        << refused.error().message;
    EXPECT_NE(refused.error().message.find("IMDSv1 is not allowed"), std::string::npos);
  }
}

TEST_F(ImdsCredentialsTest, TimeoutOnTokenIsNotAFallback) {
  errors_.emplace("PUT http://169.254.169.254/latest/api/token",
                  MakeError(ErrorCode::kTimeout, "timed out after 1000 ms"));
  ImdsOptions options;
  options.allow_v1_fallback = true;
  ImdsCredentialsProvider provider(Fetch(), options, clock_);
  auto credentials = provider.GetCredentials();
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().code, ErrorCode::kCredentials);
  EXPECT_NE(credentials.error().message.find("http://169.254.169.254"), std::string::npos);
  EXPECT_NE(credentials.error().message.find("timed out"), std::string::npos);
  EXPECT_EQ(sent_.size(), 1u);
}

TEST_F(ImdsCredentialsTest, NoRoleAndFailureCodesAreExplained) {
  Answer(std::string("GET ") + kRolesUrl, 404, "");
  ImdsCredentialsProvider provider(Fetch(), ImdsOptions{}, clock_);
  auto no_role = provider.GetCredentials();
  ASSERT_FALSE(no_role.ok());
  EXPECT_NE(no_role.error().message.find("no IAM role is attached"), std::string::npos)
      << no_role.error().message;

  Answer(std::string("GET ") + kRolesUrl, 200, "my-role");
  Answer(std::string("GET ") + kRolesUrl + "my-role", 200,
         R"({"Code":"AssumeRoleUnauthorizedAccess","Message":"denied"})");
  auto failed = provider.GetCredentials();
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("role 'my-role': Code is 'AssumeRoleUnauthorizedAccess'"),
            std::string::npos)
      << failed.error().message;

  Answer(std::string("GET ") + kRolesUrl + "my-role", 200,
         std::string(R"({"Code":"Success","AccessKeyId":"A","Token":")") + kToken + "\"}");
  auto no_secret = provider.GetCredentials();
  ASSERT_FALSE(no_secret.ok());
  EXPECT_NE(no_secret.error().message.find("SecretAccessKey"), std::string::npos);
  ExpectNoSecrets(no_secret.error());
}

TEST_F(ImdsCredentialsTest, DisabledByEnvironmentSaysSo) {
  setenv("AWS_EC2_METADATA_DISABLED", "TRUE", 1);
  setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338", 1);
  ImdsOptions options = ImdsOptions::FromEnvironment();
  unsetenv("AWS_EC2_METADATA_DISABLED");
  unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  EXPECT_EQ(options.endpoint, "http://127.0.0.1:1338");
  ImdsCredentialsProvider provider(Fetch(), options, clock_);
  auto credentials = provider.GetCredentials();
  ASSERT_FALSE(credentials.ok());
  EXPECT_NE(credentials.error().message.find("AWS_EC2_METADATA_DISABLED"), std::string::npos);
  EXPECT_TRUE(sent_.empty());
  EXPECT_FALSE(ImdsOptions::FromEnvironment().disabled);
  EXPECT_EQ(ImdsOptions::FromEnvironment().endpoint, "http://169.254.169.254");
}

TEST_F(ImdsCredentialsTest, VersionOneFallbackIsAllowedUnlessTheEnvironmentTurnsItOff) {
  unsetenv("AWS_EC2_METADATA_V1_DISABLED");
  EXPECT_TRUE(ImdsOptions::FromEnvironment().allow_v1_fallback);
  setenv("AWS_EC2_METADATA_V1_DISABLED", "true", 1);
  const bool allowed = ImdsOptions::FromEnvironment().allow_v1_fallback;
  unsetenv("AWS_EC2_METADATA_V1_DISABLED");
  EXPECT_FALSE(allowed);
}

TEST_F(ImdsCredentialsTest, HttpClientOptionsCarryTheTimeouts) {
  ImdsOptions options;
  options.connect_timeout = std::chrono::milliseconds(250);
  options.request_timeout = std::chrono::milliseconds(750);
  const HttpClientOptions client = ImdsHttpClientOptions(options);
  EXPECT_EQ(client.connect_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(client.request_timeout, std::chrono::milliseconds(750));
}

}  // namespace
}  // namespace s3mount
