// Tests for SsoCredentialsProvider: the token cache file name and checks, the portal request
// and its reply, and the `aws sso login` advice, against a scripted portal.
#include "s3mount/auth/sso_credentials.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "s3mount/common/time_format.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/scripted_http.h"
#include "tests/support/subprocess.h"

namespace s3mount {
namespace {

constexpr char kAccessToken[] = "aoaAAAAAGSSOACCESSTOKEN";
constexpr char kSecret[] = "wJalrXUtnFEMI/SSOSECRETKEYVALUE";
constexpr char kToken[] = "IQoJSSOSESSIONTOKEN";
// sha1("my-sso") and sha1("https://d-123.awsapps.com/start"), from Python's hashlib.
constexpr char kSessionHash[] = "0ad374308c5a4e22f723adf10145eafad7c4031c";
constexpr char kStartUrlHash[] = "2b829a45f04c9828cb45b7d092d8e4aa30818393";

class SsoCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = s3mount::testing::TempDir::Create("s3mount-sso");
    ASSERT_TRUE(dir.ok()) << dir.error().ToString();
    dir_ = std::move(dir).value();
  }
  SsoSettings Settings() const {
    return {.start_url = "https://d-123.awsapps.com/start",
            .sso_region = "eu-west-1",
            .account_id = "123456789012",
            .role_name = "ReadOnly",
            .session_name = "my-sso",
            .profile_name = "dev",
            .cache_dir = dir_->path(),
            .portal_endpoint = ""};
  }
  void WriteCache(const std::string& hash, const std::string& expires_at) {
    std::ofstream(dir_->File(hash + ".json"))
        << R"({"startUrl":"https://d-123.awsapps.com/start","region":"eu-west-1",)"
        << R"("accessToken":")" << kAccessToken << R"(","expiresAt":")" << expires_at << "\"}";
  }
  // Every request gets status_ and body_; http_ records it.
  SsoCredentialsTest() {
    http_.On("", "", [this](const s3mount::testing::SentRequest&) -> Result<HttpResponse> {
      HttpResponse response;
      response.status = status_;
      response.body = body_;
      return response;
    });
  }
  HttpFetch Fetch() { return http_.Fetch(); }
  std::vector<s3mount::testing::SentRequest> sent() const { return http_.sent(); }
  static std::string GoodBody() {
    return std::string(R"({"roleCredentials":{"accessKeyId":"ASIASSO","secretAccessKey":")") +
           kSecret + R"(","sessionToken":")" + kToken + R"(","expiration":1893456000000}})";
  }
  static void ExpectNoSecrets(const Error& error) {
    for (const char* secret : {kSecret, kToken, kAccessToken}) {
      EXPECT_EQ(error.message.find(secret), std::string::npos) << error.message;
    }
  }

  // 2023-11-14T22:13:20Z.
  s3mount::testing::FakeClock clock_;
  std::unique_ptr<s3mount::testing::TempDir> dir_;
  s3mount::testing::ScriptedHttp http_;
  long status_ = 200;
  std::string body_ = GoodBody();
};

TEST_F(SsoCredentialsTest, Sha1HexMatchesKnownVectors) {
  EXPECT_EQ(Sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(Sha1Hex("my-sso"), kSessionHash);
}

TEST_F(SsoCredentialsTest, CachePathHashesSessionOrStartUrl) {
  SsoSettings settings = Settings();
  EXPECT_EQ(*SsoTokenCachePath(settings), dir_->path() + "/" + kSessionHash + ".json");
  settings.session_name.clear();
  EXPECT_EQ(*SsoTokenCachePath(settings), dir_->path() + "/" + kStartUrlHash + ".json");
  settings.cache_dir.clear();
  auto default_path = SsoTokenCachePath(settings);
  ASSERT_TRUE(default_path.ok());
  EXPECT_NE(default_path->find("/.aws/sso/cache/" + std::string(kStartUrlHash) + ".json"),
            std::string::npos)
      << *default_path;
}

TEST_F(SsoCredentialsTest, AsksPortalWithCachedToken) {
  WriteCache(kSessionHash, "2023-11-15T00:00:00Z");
  SsoCredentialsProvider provider(Fetch(), clock_, Settings());
  auto credentials = provider.GetCredentials();
  ASSERT_TRUE(credentials.ok()) << credentials.error().ToString();
  EXPECT_EQ(credentials->access_key_id, "ASIASSO");
  EXPECT_EQ(credentials->secret_access_key, kSecret);
  EXPECT_EQ(credentials->session_token, kToken);
  ASSERT_TRUE(credentials->expiration.has_value());
  EXPECT_EQ(FormatIso8601(*credentials->expiration), "2030-01-01T00:00:00.000Z");
  ASSERT_EQ(sent().size(), 1u);
  EXPECT_EQ(sent()[0].method, "GET");
  EXPECT_EQ(sent()[0].url,
            "https://portal.sso.eu-west-1.amazonaws.com/federation/credentials"
            "?account_id=123456789012&role_name=ReadOnly");
  ASSERT_EQ(sent()[0].headers.size(), 1u);
  EXPECT_EQ(sent()[0].headers[0].first, "x-amz-sso_bearer_token");
  EXPECT_EQ(sent()[0].headers[0].second, kAccessToken);
}

TEST_F(SsoCredentialsTest, LegacyProfileUsesStartUrlCacheAndEndpointOverride) {
  WriteCache(kStartUrlHash, "2023-11-15T00:00:00.123Z");
  SsoSettings settings = Settings();
  settings.session_name.clear();
  settings.role_name = "Role With Space";
  settings.portal_endpoint = "http://127.0.0.1:4567";
  SsoCredentialsProvider provider(Fetch(), clock_, settings);
  auto credentials = provider.GetCredentials();
  ASSERT_TRUE(credentials.ok()) << credentials.error().ToString();
  ASSERT_EQ(sent().size(), 1u);
  EXPECT_EQ(sent()[0].url,
            "http://127.0.0.1:4567/federation/credentials"
            "?account_id=123456789012&role_name=Role%20With%20Space");
}

TEST_F(SsoCredentialsTest, MissingCacheSaysRunSsoLogin) {
  SsoCredentialsProvider provider(Fetch(), clock_, Settings());
  auto credentials = provider.GetCredentials();
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().code, ErrorCode::kCredentials);
  const std::string& message = credentials.error().message;
  EXPECT_NE(message.find("sso-session 'my-sso'"), std::string::npos) << message;
  EXPECT_NE(message.find(kSessionHash), std::string::npos) << message;
  EXPECT_NE(message.find("run `aws sso login --sso-session my-sso`"), std::string::npos) << message;
  EXPECT_TRUE(sent().empty());

  SsoSettings legacy = Settings();
  legacy.session_name.clear();
  auto legacy_missing = SsoCredentialsProvider(Fetch(), clock_, legacy).GetCredentials();
  ASSERT_FALSE(legacy_missing.ok());
  EXPECT_NE(legacy_missing.error().message.find("run `aws sso login --profile dev`"),
            std::string::npos)
      << legacy_missing.error().message;
}

TEST_F(SsoCredentialsTest, ExpiredTokenSaysWhenAndRunSsoLogin) {
  WriteCache(kSessionHash, "2023-11-14T22:13:20Z");  // exactly now
  SsoCredentialsProvider provider(Fetch(), clock_, Settings());
  auto credentials = provider.GetCredentials();
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().message,
            "SSO: the token for sso-session 'my-sso' expired at 2023-11-14T22:13:20.000Z: run "
            "`aws sso login --sso-session my-sso`");
  EXPECT_TRUE(sent().empty());
}

TEST_F(SsoCredentialsTest, CacheIsReReadAfterLogin) {
  WriteCache(kSessionHash, "2023-01-01T00:00:00Z");
  SsoCredentialsProvider provider(Fetch(), clock_, Settings());
  ASSERT_FALSE(provider.GetCredentials().ok());
  WriteCache(kSessionHash, "2023-11-15T00:00:00Z");
  EXPECT_TRUE(provider.GetCredentials().ok());
}

TEST_F(SsoCredentialsTest, MalformedCacheIsExplainedWithoutTheToken) {
  std::ofstream(dir_->File(std::string(kSessionHash) + ".json"))
      << R"({"accessToken":")" << kAccessToken << R"(","expiresAt":"soon"})";
  auto bad_time = SsoCredentialsProvider(Fetch(), clock_, Settings()).GetCredentials();
  ASSERT_FALSE(bad_time.ok());
  EXPECT_NE(bad_time.error().message.find("unreadable expiresAt"), std::string::npos);
  ExpectNoSecrets(bad_time.error());

  std::ofstream(dir_->File(std::string(kSessionHash) + ".json")) << kAccessToken;
  auto not_json = SsoCredentialsProvider(Fetch(), clock_, Settings()).GetCredentials();
  ASSERT_FALSE(not_json.ok());
  EXPECT_NE(not_json.error().message.find("not valid JSON"), std::string::npos);
  ExpectNoSecrets(not_json.error());
}

TEST_F(SsoCredentialsTest, RejectedTokenSaysRunSsoLogin) {
  WriteCache(kSessionHash, "2023-11-15T00:00:00Z");
  for (long status : {401L, 403L}) {
    status_ = status;
    body_ = R"({"message":"Session token not found or invalid"})";
    auto credentials = SsoCredentialsProvider(Fetch(), clock_, Settings()).GetCredentials();
    ASSERT_FALSE(credentials.ok());
    const std::string& message = credentials.error().message;
    EXPECT_NE(
        message.find("rejected the token for sso-session 'my-sso' (HTTP " + std::to_string(status)),
        std::string::npos)
        << message;
    EXPECT_NE(message.find("aws sso login --sso-session my-sso"), std::string::npos) << message;
    ExpectNoSecrets(credentials.error());
  }
}

TEST_F(SsoCredentialsTest, BadRepliesAndMissingSettingsAreExplained) {
  WriteCache(kSessionHash, "2023-11-15T00:00:00Z");
  status_ = 500;
  auto server_error = SsoCredentialsProvider(Fetch(), clock_, Settings()).GetCredentials();
  ASSERT_FALSE(server_error.ok());
  EXPECT_NE(server_error.error().message.find("account 123456789012, role 'ReadOnly'"),
            std::string::npos)
      << server_error.error().message;
  EXPECT_NE(server_error.error().message.find("HTTP 500"), std::string::npos);

  status_ = 200;
  body_ =
      std::string(R"({"roleCredentials":{"accessKeyId":"A","sessionToken":")") + kToken + "\"}}";
  auto no_secret = SsoCredentialsProvider(Fetch(), clock_, Settings()).GetCredentials();
  ASSERT_FALSE(no_secret.ok());
  EXPECT_NE(no_secret.error().message.find("secretAccessKey"), std::string::npos);
  ExpectNoSecrets(no_secret.error());

  body_ = R"({"something":"else"})";
  auto no_role = SsoCredentialsProvider(Fetch(), clock_, Settings()).GetCredentials();
  ASSERT_FALSE(no_role.ok());
  EXPECT_NE(no_role.error().message.find("no roleCredentials"), std::string::npos);

  SsoSettings settings = Settings();
  settings.account_id.clear();
  auto no_account = SsoCredentialsProvider(Fetch(), clock_, settings).GetCredentials();
  ASSERT_FALSE(no_account.ok());
  EXPECT_NE(no_account.error().message.find("has no sso_account_id"), std::string::npos);
}

}  // namespace
}  // namespace s3mount
