// Tests for StsClient, AssumeRoleProvider and WebIdentityProvider against a scripted
// HttpFetch: the request each call sends (form fields, encoding, signing) and how replies,
// errors and malformed bodies are read, with no secret in any error message.
#include "s3mount/auth/sts_client.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "s3mount/auth/assume_role_credentials.h"
#include "s3mount/common/strings.h"
#include "s3mount/common/time_format.h"
#include "tests/fakes/fake_clock.h"
#include "tests/support/subprocess.h"

namespace s3mount {
namespace {

using testing::FakeClock;

constexpr char kRole[] = "arn:aws:iam::123456789012:role/test";
constexpr char kSourceSecret[] = "SourceSecretKeyValue1234567890";
constexpr char kSourceToken[] = "SourceSessionTokenValue/+=abc";

// What the scripted fetch saw: a copy of each request (the body is a view otherwise).
struct SeenRequest {
  std::string method;
  std::string url;
  HeaderList headers;
  std::string body;

  std::optional<std::string> Header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (EqualsIgnoreCase(n, name)) return v;
    }
    return std::nullopt;
  }
};

std::string ReplyXml(std::string_view action, std::string_view expiration) {
  return "<" + std::string(action) +
         "Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <" +
         std::string(action) +
         "Result>\n    <Credentials>\n      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>\n"
         "      <SecretAccessKey>NewSecret/Key+1</SecretAccessKey>\n"
         "      <SessionToken>NewToken==</SessionToken>\n      <Expiration>" +
         std::string(expiration) + "</Expiration>\n    </Credentials>\n  </" + std::string(action) +
         "Result>\n</" + std::string(action) + "Response>";
}

std::string ErrorXml(std::string_view code, std::string_view message) {
  return "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>"
         "<Type>Sender</Type><Code>" +
         std::string(code) + "</Code><Message>" + std::string(message) +
         "</Message></Error><RequestId>r-1</RequestId></ErrorResponse>";
}

class StsClientTest : public ::testing::Test {
 protected:
  // A fetch that records every request and answers with `replies_` in order.
  HttpFetch Fetch() {
    return [this](const HttpRequest& request) -> Result<HttpResponse> {
      std::lock_guard lock(mu_);
      seen_.push_back({request.method, request.url, request.headers, std::string(request.body)});
      if (replies_.empty()) return MakeError(ErrorCode::kNetwork, "no scripted reply");
      auto reply = std::move(replies_.front());
      replies_.erase(replies_.begin());
      return reply;
    };
  }
  void Reply(long status, std::string body) {
    HttpResponse response;
    response.status = status;
    response.body = std::move(body);
    replies_.emplace_back(std::move(response));
  }
  static Credentials Source() { return {"AKIDSOURCE", kSourceSecret, kSourceToken, std::nullopt}; }

  std::mutex mu_;
  std::vector<SeenRequest> seen_;
  std::vector<Result<HttpResponse>> replies_;
  FakeClock clock_;  // 2023-11-14T22:13:20Z
};

TEST(StsEndpointTest, RegionalGlobalChinaAndOverride) {
  EXPECT_EQ(StsEndpointUrl({.region = "eu-west-1"}), "https://sts.eu-west-1.amazonaws.com");
  EXPECT_EQ(StsEndpointUrl({.region = "us-east-1"}), "https://sts.us-east-1.amazonaws.com");
  EXPECT_EQ(StsEndpointUrl({.region = ""}), "https://sts.amazonaws.com");
  EXPECT_EQ(StsEndpointUrl({.region = "aws-global"}), "https://sts.amazonaws.com");
  EXPECT_EQ(StsEndpointUrl({.region = "cn-north-1"}), "https://sts.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(StsEndpointUrl({.region = "eu-west-1", .endpoint_override = "http://127.0.0.1:5000"}),
            "http://127.0.0.1:5000");
  EXPECT_EQ(StsSigningRegion({.region = ""}), "us-east-1");
  EXPECT_EQ(StsSigningRegion({.region = "aws-global"}), "us-east-1");
  EXPECT_EQ(StsSigningRegion({.region = "ap-south-1"}), "ap-south-1");
}

TEST(StsFormTest, EncodesEveryNameAndValue) {
  EXPECT_EQ(EncodeStsForm({{"RoleArn", "arn:aws:iam::1:role/a b"}, {"X", "+&=~._-"}}),
            "RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa%20b&X=%2B%26%3D~._-");
  EXPECT_EQ(EncodeStsForm({}), "");
}

TEST_F(StsClientTest, AssumeRoleSendsSignedFormPost) {
  StsClient sts(Fetch(), clock_, {.region = "eu-west-1"});
  Reply(200, ReplyXml("AssumeRole", "2023-11-14T23:13:20Z"));
  auto credentials = sts.AssumeRole({.role_arn = kRole,
                                     .role_session_name = "my session",
                                     .external_id = "ext+id&=x",
                                     .duration_seconds = 900},
                                    Source());
  ASSERT_TRUE(credentials.ok()) << credentials.error().ToString();
  ASSERT_EQ(seen_.size(), 1u);
  const SeenRequest& request = seen_[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "https://sts.eu-west-1.amazonaws.com/");
  EXPECT_EQ(request.body,
            "Action=AssumeRole&Version=2011-06-15"
            "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Ftest"
            "&RoleSessionName=my%20session&ExternalId=ext%2Bid%26%3Dx&DurationSeconds=900");
  EXPECT_EQ(request.Header("content-type"), "application/x-www-form-urlencoded");
  auto authorization = request.Header("authorization");
  ASSERT_TRUE(authorization.has_value()) << "AssumeRole must be signed";
  EXPECT_TRUE(authorization->starts_with(
      "AWS4-HMAC-SHA256 Credential=AKIDSOURCE/20231114/eu-west-1/sts/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature="))
      << *authorization;
  EXPECT_EQ(request.Header("x-amz-date"), "20231114T221320Z");
  EXPECT_EQ(request.Header("x-amz-security-token"), kSourceToken);
  EXPECT_FALSE(request.Header("x-amz-content-sha256").has_value()) << "only S3 sends it";
}

TEST_F(StsClientTest, SignatureCoversThePayloadAndHost) {
  // The same call with another body or another endpoint must be signed differently: the
  // payload hash and the Host header are in the signature.
  StsClient sts(Fetch(), clock_, {.region = "us-east-1"});
  StsClient other_host(Fetch(), clock_,
                       {.region = "us-east-1", .endpoint_override = "http://127.0.0.1:5000"});
  for (int i = 0; i < 3; ++i) Reply(200, ReplyXml("AssumeRole", "2023-11-14T23:13:20Z"));
  ASSERT_TRUE(sts.AssumeRole({.role_arn = kRole, .role_session_name = "a"}, Source()).ok());
  ASSERT_TRUE(sts.AssumeRole({.role_arn = kRole, .role_session_name = "b"}, Source()).ok());
  ASSERT_TRUE(other_host.AssumeRole({.role_arn = kRole, .role_session_name = "a"}, Source()).ok());
  ASSERT_EQ(seen_.size(), 3u);
  EXPECT_NE(seen_[0].Header("authorization"), seen_[1].Header("authorization"));
  EXPECT_NE(seen_[0].Header("authorization"), seen_[2].Header("authorization"));
  EXPECT_EQ(seen_[2].url, "http://127.0.0.1:5000/");
}

TEST_F(StsClientTest, LongTermSourceKeysSendNoSecurityToken) {
  StsClient sts(Fetch(), clock_, {});
  Reply(200, ReplyXml("AssumeRole", "2023-11-14T23:13:20Z"));
  ASSERT_TRUE(sts.AssumeRole({.role_arn = kRole, .role_session_name = "s"},
                             {"AKIDLONG", kSourceSecret, "", std::nullopt})
                  .ok());
  ASSERT_EQ(seen_.size(), 1u);
  EXPECT_EQ(seen_[0].url, "https://sts.amazonaws.com/");
  EXPECT_FALSE(seen_[0].Header("x-amz-security-token").has_value());
  EXPECT_NE(seen_[0].Header("authorization")->find("/20231114/us-east-1/sts/aws4_request"),
            std::string::npos);
  EXPECT_EQ(seen_[0].body.find("ExternalId"), std::string::npos);
  EXPECT_EQ(seen_[0].body.find("DurationSeconds"), std::string::npos);
}

TEST_F(StsClientTest, EndpointOverrideKeepsItsPathAndDropsDefaultPort) {
  StsClient sts(Fetch(), clock_,
                {.region = "us-east-1", .endpoint_override = "https://Proxy:443/sts"});
  Reply(200, ReplyXml("AssumeRole", "2023-11-14T23:13:20Z"));
  ASSERT_TRUE(sts.AssumeRole({.role_arn = kRole, .role_session_name = "s"}, Source()).ok());
  ASSERT_EQ(seen_.size(), 1u);
  EXPECT_EQ(seen_[0].url, "https://proxy/sts");
}

TEST_F(StsClientTest, BadEndpointOverrideIsAnErrorWithoutARequest) {
  StsClient sts(Fetch(), clock_, {.endpoint_override = "ftp://example.com"});
  auto result = sts.AssumeRole({.role_arn = kRole, .role_session_name = "s"}, Source());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kCredentials);
  EXPECT_NE(result.error().message.find("'ftp://example.com' is not an http(s) URL"),
            std::string::npos)
      << result.error().message;
  EXPECT_TRUE(seen_.empty());
}

TEST_F(StsClientTest, AnonymousSourceIsRefusedWithoutARequest) {
  StsClient sts(Fetch(), clock_, {});
  auto result = sts.AssumeRole({.role_arn = kRole, .role_session_name = "s"}, Credentials{});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kCredentials);
  EXPECT_NE(result.error().message.find("no source credentials"), std::string::npos);
  EXPECT_TRUE(seen_.empty());
}

TEST_F(StsClientTest, WebIdentityIsUnsignedAndCarriesTheToken) {
  StsClient sts(Fetch(), clock_, {.region = "eu-central-1"});
  Reply(200, ReplyXml("AssumeRoleWithWebIdentity", "2023-11-14T23:13:20Z"));
  auto credentials = sts.AssumeRoleWithWebIdentity(
      {.role_arn = kRole, .role_session_name = "pod", .web_identity_token = "eyJ.a+b/c="});
  ASSERT_TRUE(credentials.ok()) << credentials.error().ToString();
  ASSERT_EQ(seen_.size(), 1u);
  EXPECT_EQ(seen_[0].url, "https://sts.eu-central-1.amazonaws.com/");
  EXPECT_EQ(seen_[0].body,
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
            "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Ftest"
            "&RoleSessionName=pod&WebIdentityToken=eyJ.a%2Bb%2Fc%3D");
  EXPECT_EQ(seen_[0].Header("content-type"), "application/x-www-form-urlencoded");
  EXPECT_FALSE(seen_[0].Header("authorization").has_value());
  EXPECT_FALSE(seen_[0].Header("x-amz-date").has_value());
  EXPECT_FALSE(seen_[0].Header("x-amz-security-token").has_value());
  EXPECT_EQ(credentials->access_key_id, "ASIAEXAMPLE");
}

TEST_F(StsClientTest, ParsesAwsReply) {
  StsClient sts(Fetch(), clock_, {});
  Reply(200, ReplyXml("AssumeRole", "2011-07-15T23:28:33Z"));
  auto credentials = sts.AssumeRole({.role_arn = kRole, .role_session_name = "s"}, Source());
  ASSERT_TRUE(credentials.ok()) << credentials.error().ToString();
  EXPECT_EQ(credentials->access_key_id, "ASIAEXAMPLE");
  EXPECT_EQ(credentials->secret_access_key, "NewSecret/Key+1");
  EXPECT_EQ(credentials->session_token, "NewToken==");
  ASSERT_TRUE(credentials->expiration.has_value());
  EXPECT_EQ(*credentials->expiration, WallTime(std::chrono::seconds(1310772513)));
}

TEST_F(StsClientTest, ParsesMotoFractionalSeconds) {
  auto credentials = ParseStsCredentialsReply(
      "AssumeRoleWithWebIdentity", kRole, 200,
      ReplyXml("AssumeRoleWithWebIdentity", "2026-11-22T09:58:14.676051Z"));
  ASSERT_TRUE(credentials.ok()) << credentials.error().ToString();
  ASSERT_TRUE(credentials->expiration.has_value());
  EXPECT_EQ(FormatIso8601(*credentials->expiration), "2026-11-22T09:58:14.676Z");
}

TEST_F(StsClientTest, ErrorReplyNamesRoleCodeAndMessage) {
  StsClient sts(Fetch(), clock_, {});
  Reply(403, ErrorXml("AccessDenied", "User: arn:aws:iam::1:user/u is not authorized"));
  auto result = sts.AssumeRole({.role_arn = kRole, .role_session_name = "s"}, Source());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kCredentials);
  EXPECT_EQ(result.error().message,
            "STS AssumeRole of arn:aws:iam::123456789012:role/test failed: AccessDenied: "
            "User: arn:aws:iam::1:user/u is not authorized");
  EXPECT_EQ(result.error().s3_code, "AccessDenied");
  EXPECT_EQ(result.error().http_status, 403);
}

TEST_F(StsClientTest, ReadsMotosNestedErrorsForm) {
  // moto's authentication failures: <ErrorResponse><Errors><Error>.
  auto result = ParseStsCredentialsReply(
      "AssumeRole", kRole, 403,
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ErrorResponse><Errors><Error>"
      "<Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not "
      "match</Message><Type>Sender</Type></Error></Errors></ErrorResponse>");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message,
            "STS AssumeRole of arn:aws:iam::123456789012:role/test failed: "
            "SignatureDoesNotMatch: The request signature we calculated does not match");
  auto response_form = ParseStsCredentialsReply(
      "AssumeRole", kRole, 400,
      "<Response><Errors><Error><Code>Throttling</Code></Error></Errors></Response>");
  ASSERT_FALSE(response_form.ok());
  EXPECT_EQ(response_form.error().s3_code, "Throttling");
}

TEST_F(StsClientTest, ErrorRootWithSuccessStatusIsStillAnError) {
  auto result = ParseStsCredentialsReply("AssumeRole", kRole, 200,
                                         ErrorXml("InvalidClientTokenId", "bad token"));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().s3_code, "InvalidClientTokenId");
}

TEST_F(StsClientTest, MalformedAndIncompleteRepliesAreErrors) {
  struct Case {
    long status;
    std::string body;
    std::string expected;
  };
  const std::string full = ReplyXml("AssumeRole", "2023-11-14T23:13:20Z");
  std::string no_token = full;
  no_token.erase(no_token.find("<SessionToken>"),
                 no_token.find("</SessionToken>") + 15 - no_token.find("<SessionToken>"));
  std::string bad_expiry = ReplyXml("AssumeRole", "tomorrow");
  const std::vector<Case> cases = {
      {200, "<AssumeRoleResponse><AssumeRoleResult>", "a reply that is not XML"},
      {200, "", "HTTP 200 with an empty reply"},
      {503, "Service Unavailable", "HTTP 503 with a reply that is not XML"},
      {500, "<html/>", "HTTP 500 with <html> instead of an error"},
      {200, "<AssumeRoleResponse/>", "has no <AssumeRoleResult><Credentials>"},
      {200, ReplyXml("GetSessionToken", "2023-11-14T23:13:20Z"),
       "has no <AssumeRoleResult><Credentials>"},
      {200, no_token, "reply has no <SessionToken>"},
      {200, bad_expiry, "unreadable <Expiration> 'tomorrow'"},
  };
  for (const Case& c : cases) {
    auto result = ParseStsCredentialsReply("AssumeRole", kRole, c.status, c.body);
    ASSERT_FALSE(result.ok()) << c.body;
    EXPECT_EQ(result.error().code, ErrorCode::kCredentials) << c.body;
    EXPECT_TRUE(
        result.error().message.starts_with("STS AssumeRole of " + std::string(kRole) + " failed: "))
        << result.error().message;
    EXPECT_NE(result.error().message.find(c.expected), std::string::npos)
        << "message '" << result.error().message << "' lacks '" << c.expected << "'";
    EXPECT_EQ(result.error().message.find("NewSecret"), std::string::npos);
  }
}

TEST_F(StsClientTest, TransportErrorsKeepTheirKindAndNameTheRole) {
  StsClient sts(Fetch(), clock_, {});
  replies_.emplace_back(MakeError(ErrorCode::kTimeout, "timed out after 10 s"));
  auto result = sts.AssumeRole({.role_arn = kRole, .role_session_name = "s"}, Source());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kTimeout);
  EXPECT_EQ(result.error().message,
            "STS AssumeRole of arn:aws:iam::123456789012:role/test failed: timed out after 10 s");
}

TEST_F(StsClientTest, NoSecretReachesAnErrorMessage) {
  StsClient sts(Fetch(), clock_, {});
  // A server (or proxy) that echoes what it got must not leak it through our message.
  Reply(403, ErrorXml("SignatureDoesNotMatch",
                      std::string("secret ") + kSourceSecret + " token " + kSourceToken));
  replies_.emplace_back(MakeError(ErrorCode::kNetwork, std::string("proxy said: ") + kSourceToken));
  Reply(400, ErrorXml("InvalidIdentityToken", "token eyJhbGciOiJSUzI1NiJ9.secret is bad"));
  std::vector<Error> errors;
  for (int i = 0; i < 2; ++i) {
    auto result = sts.AssumeRole({.role_arn = kRole, .role_session_name = "s"}, Source());
    ASSERT_FALSE(result.ok());
    errors.push_back(result.error());
  }
  auto web = sts.AssumeRoleWithWebIdentity({.role_arn = kRole,
                                            .role_session_name = "s",
                                            .web_identity_token = "eyJhbGciOiJSUzI1NiJ9.secret"});
  ASSERT_FALSE(web.ok());
  errors.push_back(web.error());
  for (const Error& error : errors) {
    const std::string text = error.ToString();
    EXPECT_EQ(text.find(kSourceSecret), std::string::npos) << text;
    EXPECT_EQ(text.find(kSourceToken), std::string::npos) << text;
    EXPECT_EQ(text.find("eyJhbGciOiJSUzI1NiJ9.secret"), std::string::npos) << text;
    EXPECT_NE(text.find("***"), std::string::npos) << text;
  }
  EXPECT_NE(errors[0].message.find("SignatureDoesNotMatch"), std::string::npos);
}

// --- Providers -------------------------------------------------------------------------------

class FailingProvider final : public CredentialsProvider {
 public:
  Result<Credentials> GetCredentials() override {
    return MakeError(ErrorCode::kCredentials, "profile 'src' not found");
  }
};

TEST_F(StsClientTest, AssumeRoleProviderSignsWithTheSourceAndDefaultsTheSessionName) {
  StsClient sts(Fetch(), clock_, {.region = "us-west-2"});
  AssumeRoleProvider provider(std::make_shared<StaticCredentialsProvider>(Source()), sts,
                              {.role_arn = kRole, .external_id = "e1", .duration_seconds = 3600});
  Reply(200, ReplyXml("AssumeRole", "2023-11-14T23:13:20Z"));
  auto credentials = provider.GetCredentials();
  ASSERT_TRUE(credentials.ok()) << credentials.error().ToString();
  EXPECT_EQ(credentials->access_key_id, "ASIAEXAMPLE");
  EXPECT_EQ(credentials->expiration, WallTime(std::chrono::seconds(1'700'003'600)));
  ASSERT_EQ(seen_.size(), 1u);
  EXPECT_NE(seen_[0].body.find("&RoleSessionName=s3mount-1700000000&ExternalId=e1"
                               "&DurationSeconds=3600"),
            std::string::npos)
      << seen_[0].body;
  EXPECT_NE(seen_[0].Header("authorization")->find("Credential=AKIDSOURCE/"), std::string::npos);
  EXPECT_EQ(DefaultRoleSessionName(WallTime(std::chrono::milliseconds(1'234'567))), "s3mount-1234");
}

TEST_F(StsClientTest, AssumeRoleProviderSaysWhenTheSourceFails) {
  StsClient sts(Fetch(), clock_, {});
  AssumeRoleProvider provider(std::make_shared<FailingProvider>(), sts, {.role_arn = kRole});
  auto result = provider.GetCredentials();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kCredentials);
  EXPECT_EQ(result.error().message,
            "STS AssumeRole of arn:aws:iam::123456789012:role/test failed: no source "
            "credentials: profile 'src' not found");
  EXPECT_TRUE(seen_.empty());
}

TEST_F(StsClientTest, WebIdentityProviderRereadsTheTokenFileOnEveryCall) {
  auto dir = testing::TempDir::Create("s3mount-sts-test");
  ASSERT_TRUE(dir.ok()) << dir.error().ToString();
  const std::string path = (*dir)->File("token");
  StsClient sts(Fetch(), clock_, {});
  WebIdentityProvider provider(
      sts, {.token_file = path, .role_arn = kRole, .role_session_name = "pod-1"});
  std::ofstream(path) << "first-token\n";
  Reply(200, ReplyXml("AssumeRoleWithWebIdentity", "2023-11-14T23:13:20Z"));
  ASSERT_TRUE(provider.GetCredentials().ok());
  std::ofstream(path, std::ios::trunc) << "second-token";
  Reply(200, ReplyXml("AssumeRoleWithWebIdentity", "2023-11-14T23:13:20Z"));
  ASSERT_TRUE(provider.GetCredentials().ok());
  ASSERT_EQ(seen_.size(), 2u);
  EXPECT_TRUE(seen_[0].body.ends_with("&RoleSessionName=pod-1&WebIdentityToken=first-token"))
      << seen_[0].body;
  EXPECT_TRUE(seen_[1].body.ends_with("&WebIdentityToken=second-token")) << seen_[1].body;
}

TEST_F(StsClientTest, WebIdentityProviderExplainsABadTokenFile) {
  auto dir = testing::TempDir::Create("s3mount-sts-test");
  ASSERT_TRUE(dir.ok()) << dir.error().ToString();
  StsClient sts(Fetch(), clock_, {});
  const std::string missing = (*dir)->File("missing");
  auto result =
      WebIdentityProvider(sts, {.token_file = missing, .role_arn = kRole}).GetCredentials();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kCredentials);
  EXPECT_EQ(result.error().message,
            "STS AssumeRoleWithWebIdentity of arn:aws:iam::123456789012:role/test failed: web "
            "identity token file '" +
                missing + "' cannot be opened: No such file or directory");
  const std::string empty = (*dir)->File("empty");
  std::ofstream(empty) << " \n";
  auto empty_result =
      WebIdentityProvider(sts, {.token_file = empty, .role_arn = kRole}).GetCredentials();
  ASSERT_FALSE(empty_result.ok());
  EXPECT_NE(empty_result.error().message.find("'" + empty + "' is empty"), std::string::npos);
  EXPECT_TRUE(seen_.empty());
}

}  // namespace
}  // namespace s3mount
