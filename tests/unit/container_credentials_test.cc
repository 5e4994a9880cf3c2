// Tests for ContainerCredentialsProvider: the URL rules, the authorization header and the
// reply parsing, against a scripted HttpFetch that records what was sent.
#include "s3mount/auth/container_credentials.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "s3mount/common/time_format.h"
#include "tests/fakes/scripted_http.h"
#include "tests/support/subprocess.h"

namespace s3mount {
namespace {

constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENGCONTAINERSECRET";
constexpr char kToken[] = "IQoJb3JpZ2luCONTAINERTOKEN";
constexpr char kAuth[] = "Bearer AUTHTOKEN-abc123";

class ContainerCredentialsTest : public ::testing::Test {
 protected:
  // Every request gets status_ and body_ (or transport_error_); http_ records it.
  ContainerCredentialsTest() {
    http_.On("", "", [this](const s3mount::testing::SentRequest&) -> Result<HttpResponse> {
      if (transport_error_) return *transport_error_;
      HttpResponse response;
      response.status = status_;
      response.body = body_;
      return response;
    });
  }
  HttpFetch Fetch() { return http_.Fetch(); }
  std::vector<s3mount::testing::SentRequest> sent() const { return http_.sent(); }
  static std::string GoodBody() {
    return std::string(R"({"AccessKeyId":"ASIACONTAINER","SecretAccessKey":")") + kSecret +
           R"(","Token":")" + kToken + R"(","Expiration":"2030-05-06T07:08:09Z"})";
  }
  static void ExpectNoSecrets(const Error& error) {
    for (const char* secret : {kSecret, kToken, kAuth, "AUTHTOKEN"}) {
      EXPECT_EQ(error.message.find(secret), std::string::npos) << error.message;
    }
  }

  s3mount::testing::ScriptedHttp http_;
  long status_ = 200;
  std::string body_ = GoodBody();
  std::optional<Error> transport_error_;
};

TEST_F(ContainerCredentialsTest, RelativeUriGoesToEcsAgentWithToken) {
  ContainerEnvironment environment{.relative_uri = "/v2/credentials/abc-123",
                                   .full_uri = "https://ignored.example.com/x",
                                   .authorization_token = kAuth,
                                   .authorization_token_file = ""};
  ContainerCredentialsProvider provider(Fetch(), environment);
  auto credentials = provider.GetCredentials();
  ASSERT_TRUE(credentials.ok()) << credentials.error().ToString();
  EXPECT_EQ(credentials->access_key_id, "ASIACONTAINER");
  EXPECT_EQ(credentials->secret_access_key, kSecret);
  EXPECT_EQ(credentials->session_token, kToken);
  ASSERT_TRUE(credentials->expiration.has_value());
  EXPECT_EQ(FormatIso8601(*credentials->expiration), "2030-05-06T07:08:09.000Z");
  ASSERT_EQ(sent().size(), 1u);
  EXPECT_EQ(sent()[0].method, "GET");
  EXPECT_EQ(sent()[0].url, "http://169.254.170.2/v2/credentials/abc-123");
  EXPECT_EQ(sent()[0].Header("authorization"), kAuth);
}

TEST_F(ContainerCredentialsTest, FullUriRules) {
  const std::vector<std::string> allowed = {"https://creds.example.com/get",
                                            "http://127.0.0.1:8080/creds",
                                            "http://127.1.2.3/c",
                                            "http://localhost:9/c",
                                            "http://[::1]:80/c",
                                            "HTTP://LOCALHOST/c",
                                            "http://169.254.170.23/v1/credentials"};
  for (const auto& uri : allowed) {
    auto url = ContainerCredentialsUrl({.relative_uri = "",
                                        .full_uri = uri,
                                        .authorization_token = "",
                                        .authorization_token_file = ""});
    ASSERT_TRUE(url.ok()) << uri << ": " << url.error().message;
    EXPECT_EQ(*url, uri);
  }
  const std::vector<std::string> refused = {"http://creds.example.com/get",
                                            "http://128.0.0.1/c",
                                            "http://127.0.0.1.evil.com/c",
                                            "http://localhost.evil.com/c",
                                            "http://[::2]/c",
                                            "http://user@10.0.0.1/c",
                                            "ftp://127.0.0.1/c"};
  for (const auto& uri : refused) {
    auto url = ContainerCredentialsUrl({.relative_uri = "",
                                        .full_uri = uri,
                                        .authorization_token = "",
                                        .authorization_token_file = ""});
    ASSERT_FALSE(url.ok()) << uri << " was allowed";
    EXPECT_EQ(url.error().code, ErrorCode::kCredentials);
    EXPECT_NE(url.error().message.find("AWS_CONTAINER_CREDENTIALS_FULL_URI"), std::string::npos)
        << url.error().message;
  }
  auto insecure = ContainerCredentialsUrl({.relative_uri = "",
                                           .full_uri = "http://10.1.2.3/creds?sig=SECRETSIG",
                                           .authorization_token = "",
                                           .authorization_token_file = ""});
  ASSERT_FALSE(insecure.ok());
  EXPECT_NE(insecure.error().message.find("'10.1.2.3', which is not a loopback address"),
            std::string::npos)
      << insecure.error().message;
  EXPECT_EQ(insecure.error().message.find("SECRETSIG"), std::string::npos);
}

TEST_F(ContainerCredentialsTest, NothingConfiguredSaysWhichVariables) {
  ContainerCredentialsProvider provider(Fetch(), ContainerEnvironment{});
  EXPECT_FALSE(ContainerEnvironment{}.configured());
  auto credentials = provider.GetCredentials();
  ASSERT_FALSE(credentials.ok());
  EXPECT_NE(credentials.error().message.find("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
            std::string::npos);
  EXPECT_TRUE(sent().empty());
}

TEST_F(ContainerCredentialsTest, TokenFileIsReadOnEveryFetchAndWinsOverToken) {
  auto dir = s3mount::testing::TempDir::Create("s3mount-container");
  ASSERT_TRUE(dir.ok());
  const std::string file = (*dir)->File("token");
  std::ofstream(file) << "first-token\n";
  ContainerCredentialsProvider provider(Fetch(), {.relative_uri = "",
                                                  .full_uri = "http://127.0.0.1:1234/creds",
                                                  .authorization_token = "from-variable",
                                                  .authorization_token_file = file});
  ASSERT_TRUE(provider.GetCredentials().ok());
  std::ofstream(file) << "second-token";
  ASSERT_TRUE(provider.GetCredentials().ok());
  ASSERT_EQ(sent().size(), 2u);
  EXPECT_EQ(sent()[0].url, "http://127.0.0.1:1234/creds");
  EXPECT_EQ(sent()[0].Header("authorization"), "first-token");
  EXPECT_EQ(sent()[1].Header("authorization"), "second-token");

  std::ofstream(file) << "two\nlines";
  auto two_lines = provider.GetCredentials();
  ASSERT_FALSE(two_lines.ok());
  EXPECT_NE(two_lines.error().message.find("more than one line"), std::string::npos);
  EXPECT_EQ(two_lines.error().message.find("two"), std::string::npos);

  ContainerCredentialsProvider missing(Fetch(),
                                       {.relative_uri = "/c",
                                        .full_uri = "",
                                        .authorization_token = "",
                                        .authorization_token_file = (*dir)->File("absent")});
  auto unreadable = missing.GetCredentials();
  ASSERT_FALSE(unreadable.ok());
  EXPECT_NE(unreadable.error().message.find((*dir)->File("absent")), std::string::npos)
      << unreadable.error().message;
}

TEST_F(ContainerCredentialsTest, NoTokenMeansNoAuthorizationHeader) {
  ContainerCredentialsProvider provider(Fetch(), {.relative_uri = "/c",
                                                  .full_uri = "",
                                                  .authorization_token = "",
                                                  .authorization_token_file = ""});
  ASSERT_TRUE(provider.GetCredentials().ok());
  ASSERT_EQ(sent().size(), 1u);
  EXPECT_FALSE(sent()[0].Header("authorization").has_value());
}

TEST_F(ContainerCredentialsTest, FailuresNameUrlAndReasonButNoSecrets) {
  ContainerCredentialsProvider provider(Fetch(), {.relative_uri = "/v2/creds?id=1",
                                                  .full_uri = "",
                                                  .authorization_token = kAuth,
                                                  .authorization_token_file = ""});
  status_ = 403;
  auto denied = provider.GetCredentials();
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, ErrorCode::kCredentials);
  EXPECT_NE(denied.error().message.find("http://169.254.170.2/v2/creds answered HTTP 403"),
            std::string::npos)
      << denied.error().message;
  ExpectNoSecrets(denied.error());

  status_ = 200;
  body_ = std::string(R"({"AccessKeyId":"A","Token":")") + kToken + "\"}";
  auto no_secret = provider.GetCredentials();
  ASSERT_FALSE(no_secret.ok());
  EXPECT_NE(no_secret.error().message.find("SecretAccessKey"), std::string::npos);
  ExpectNoSecrets(no_secret.error());

  body_ = std::string("<html>") + kSecret;
  auto not_json = provider.GetCredentials();
  ASSERT_FALSE(not_json.ok());
  EXPECT_NE(not_json.error().message.find("not valid JSON"), std::string::npos);
  ExpectNoSecrets(not_json.error());

  body_ = GoodBody();
  body_.replace(body_.find("2030-05-06T07:08:09Z"), 20, "tomorrow");
  auto bad_time = provider.GetCredentials();
  ASSERT_FALSE(bad_time.ok());
  EXPECT_NE(bad_time.error().message.find("Expiration is not an ISO-8601 time"), std::string::npos)
      << bad_time.error().message;

  transport_error_ = MakeError(ErrorCode::kNetwork, "connection refused");
  auto refused = provider.GetCredentials();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kCredentials);
  EXPECT_NE(refused.error().message.find("connection refused"), std::string::npos);
}

}  // namespace
}  // namespace s3mount
