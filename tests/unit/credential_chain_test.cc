// Tests for CredentialChain: which source the chain picks (the AWS CLI's order), how profile
// kinds are assembled (source_profile chains, credential_source, web identity, SSO,
// credential_process), role_arn=, and the messages that name every source looked at. HTTP
// (STS, SSO portal, container, IMDS) is a ScriptedHttp; the clock is fake.
#include "s3mount/auth/credential_chain.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "s3mount/auth/sso_credentials.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/scripted_http.h"
#include "tests/support/subprocess.h"

namespace s3mount {
namespace {

constexpr char kStsUrl[] = "http://sts.test";
constexpr char kEnvSecret[] = "EnvSecretKeyValue0123456789";
constexpr char kFileSecret[] = "FileSecretKeyValue0123456789";

// "ASIA" + the role's name upper-cased: each role gets keys telling which role they are for.
std::string KeyIdForRole(const std::string& role_arn) {
  std::string key = "ASIA";
  for (char c : role_arn.substr(role_arn.rfind('/') + 1)) {
    key += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return key;
}

std::string FormValue(const std::string& body, const std::string& name) {
  const size_t start = body.find(name + "=");
  if (start == std::string::npos) return {};
  const size_t value = start + name.size() + 1;
  std::string raw = body.substr(value, body.find('&', value) - value);
  std::string decoded;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '%' && i + 2 < raw.size() + 1) {
      decoded += static_cast<char>(std::stoi(raw.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      decoded += raw[i];
    }
  }
  return decoded;
}

std::string StsReply(const std::string& action, const std::string& key_id) {
  return "<" + action + "Response><" + action + "Result><Credentials><AccessKeyId>" + key_id +
         "</AccessKeyId><SecretAccessKey>StsSecret</SecretAccessKey><SessionToken>StsToken"
         "</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></" +
         action + "Result></" + action + "Response>";
}

// The access key id a SigV4 Authorization header was made with.
std::string SigningKeyId(const testing::SentRequest& request) {
  const std::string authorization = request.Header("authorization").value_or("");
  const size_t start = authorization.find("Credential=");
  if (start == std::string::npos) return "(unsigned)";
  const size_t id = start + 11;
  return authorization.substr(id, authorization.find('/', id) - id);
}

class CredentialChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = testing::TempDir::Create("s3mount-chain");
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(*dir);
    environment_.files = {dir_->File("credentials"), dir_->File("config")};
    environment_.imds.disabled = true;
    environment_.sso_cache_dir = dir_->path();
    // STS: each role gets keys named after it.
    http_.On("POST", kStsUrl, [](const testing::SentRequest& request) -> Result<HttpResponse> {
      const std::string action = FormValue(request.body, "Action");
      HttpResponse response;
      response.status = 200;
      response.body = StsReply(action, KeyIdForRole(FormValue(request.body, "RoleArn")));
      return response;
    });
  }

  void Write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
  }

  Result<std::unique_ptr<CredentialChain>> Build(ChainRequest request = {}) {
    ChainContext context{.clock = &clock_,
                         .fetch = http_.Fetch(),
                         .imds_fetch = http_.Fetch(),
                         .sts = StsOptions{.region = "us-east-1", .endpoint_override = kStsUrl},
                         .refresh = {}};
    return CredentialChain::Build(request, environment_, std::move(context));
  }

  // The key id the chain yields, or "error: MESSAGE".
  std::string KeyIdFrom(ChainRequest request = {}) {
    auto chain = Build(std::move(request));
    if (!chain.ok()) return "error: " + chain.error().message;
    auto credentials = (*chain)->GetCredentials();
    if (!credentials.ok()) return "error: " + credentials.error().message;
    return credentials->access_key_id;
  }

  // The access keys each STS call was signed with, in order ("(unsigned)" for web identity).
  std::vector<std::string> StsSigners() const {
    std::vector<std::string> signers;
    for (const auto& request : http_.sent()) {
      if (request.url.starts_with(kStsUrl)) {
        signers.push_back(FormValue(request.body, "Action") + " " +
                          FormValue(request.body, "RoleArn") + " by " + SigningKeyId(request));
      }
    }
    return signers;
  }

  std::unique_ptr<testing::TempDir> dir_;
  ChainEnvironment environment_;
  testing::FakeClock clock_;
  testing::ScriptedHttp http_;
};

TEST_F(CredentialChainTest, EnvironmentKeysWinOverTheProfileAndEverythingAfterIt) {
  environment_.access_key_id = "AKIDENV";
  environment_.secret_access_key = kEnvSecret;
  Write(environment_.files.credentials_file,
        std::string("[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = ") +
            kFileSecret + "\n");
  environment_.container.full_uri = "http://127.0.0.1:1/creds";
  EXPECT_EQ(KeyIdFrom(), "AKIDENV");
  EXPECT_TRUE(http_.sent().empty());
}

TEST_F(CredentialChainTest, HalfTheEnvironmentKeysIsAnErrorNamingTheMissingVariable) {
  environment_.access_key_id = "AKIDENV";
  EXPECT_EQ(KeyIdFrom(),
            "error: environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY "
            "is not");
}

TEST_F(CredentialChainTest, DefaultProfileStaticKeys) {
  Write(environment_.files.config_file,
        std::string("[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = ") +
            kFileSecret + "\n");
  EXPECT_EQ(KeyIdFrom(), "AKIDFILE");
}

TEST_F(CredentialChainTest, ProfileDefaultSectionWinsOverDefaultSectionInTheChainToo) {
  Write(environment_.files.config_file,
        "[default]\naws_access_key_id = AKIDPLAIN\naws_secret_access_key = s1\n"
        "[profile default]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s2\n");
  EXPECT_EQ(KeyIdFrom(), "AKIDPROFILE");
}

TEST_F(CredentialChainTest, AProfileNamedByAwsProfileMustExist) {
  environment_.profile = "dev";
  environment_.container.full_uri = "http://127.0.0.1:1/creds";
  EXPECT_EQ(KeyIdFrom(), "error: profile 'dev': not found in " +
                             environment_.files.credentials_file + " or " +
                             environment_.files.config_file +
                             " (skipped before it: environment: AWS_ACCESS_KEY_ID is not set)");
}

TEST_F(CredentialChainTest, MissingDefaultProfileIsSkippedForTheContainerEndpoint) {
  environment_.container.full_uri = "http://127.0.0.1:9/creds";
  http_.Reply("GET", "http://127.0.0.1:9/creds", 200,
              R"({"AccessKeyId":"ASIACONTAINER","SecretAccessKey":"x","Token":"t",)"
              R"("Expiration":"2030-01-01T00:00:00Z"})");
  EXPECT_EQ(KeyIdFrom(), "ASIACONTAINER");
}

TEST_F(CredentialChainTest, ProfileWithOnlyARegionIsSkippedForInstanceMetadata) {
  Write(environment_.files.config_file, "[default]\nregion = eu-west-1\n");
  environment_.imds.disabled = false;
  environment_.imds.endpoint = "http://imds.test";
  http_.Reply("PUT", "http://imds.test/latest/api/token", 200, "imds-token");
  http_.Reply("GET", "http://imds.test/latest/meta-data/iam/security-credentials/role", 200,
              R"({"Code":"Success","AccessKeyId":"ASIAIMDS","SecretAccessKey":"x","Token":"t",)"
              R"("Expiration":"2030-01-01T00:00:00Z"})");
  http_.Reply("GET", "http://imds.test/latest/meta-data/iam/security-credentials/", 200, "role");
  EXPECT_EQ(KeyIdFrom(), "ASIAIMDS");
}

TEST_F(CredentialChainTest, NothingConfiguredNamesEverySourceAndWhy) {
  EXPECT_EQ(KeyIdFrom(),
            "error: no credentials found: environment: AWS_ACCESS_KEY_ID is not set; profile "
            "'default': not found in " +
                environment_.files.credentials_file + " or " + environment_.files.config_file +
                "; web identity: AWS_WEB_IDENTITY_TOKEN_FILE is not set; container: neither "
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI "
                "is set; instance metadata: turned off by AWS_EC2_METADATA_DISABLED");
}

TEST_F(CredentialChainTest, AFailingSourceNamesTheSourcesSkippedBeforeIt) {
  environment_.imds.disabled = false;
  environment_.imds.endpoint = "http://imds.test";
  http_.Fail("PUT", "http://imds.test", MakeError(ErrorCode::kTimeout, "connect timed out"));
  const std::string result = KeyIdFrom();
  EXPECT_NE(result.find("http://imds.test"), std::string::npos) << result;
  EXPECT_NE(result.find("skipped before it: environment: AWS_ACCESS_KEY_ID is not set; profile "
                        "'default': not found"),
            std::string::npos)
      << result;
  EXPECT_NE(result.find("container: neither"), std::string::npos) << result;
}

TEST_F(CredentialChainTest, SourceProfileChainAssumesEachRoleWithTheOneBelow) {
  Write(environment_.files.config_file,
        "[profile top]\nrole_arn = arn:aws:iam::111111111111:role/top\nsource_profile = middle\n"
        "role_session_name = my-session\nexternal_id = ext-1\n"
        "[profile middle]\nrole_arn = arn:aws:iam::222222222222:role/middle\n"
        "source_profile = base\n");
  Write(environment_.files.credentials_file,
        std::string("[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = ") +
            kFileSecret + "\n");
  environment_.profile = "top";
  EXPECT_EQ(KeyIdFrom(), "ASIATOP");
  EXPECT_EQ(StsSigners(), (std::vector<std::string>{
                              "AssumeRole arn:aws:iam::222222222222:role/middle by AKIDBASE",
                              "AssumeRole arn:aws:iam::111111111111:role/top by ASIAMIDDLE"}));
  const std::string top_call = http_.sent().back().body;
  EXPECT_EQ(FormValue(top_call, "RoleSessionName"), "my-session");
  EXPECT_EQ(FormValue(top_call, "ExternalId"), "ext-1");
}

TEST_F(CredentialChainTest, CredentialSourceEnvironmentSignsTheAssumeRoleWithTheEnvironment) {
  Write(environment_.files.config_file,
        "[profile ops]\nrole_arn = arn:aws:iam::1:role/ops\ncredential_source = Environment\n");
  environment_.access_key_id = "AKIDENV";
  environment_.secret_access_key = kEnvSecret;
  ChainRequest request;
  request.profile = "ops";  // profile= skips the environment link itself
  EXPECT_EQ(KeyIdFrom(request), "ASIAOPS");
  EXPECT_EQ(StsSigners(),
            std::vector<std::string>{"AssumeRole arn:aws:iam::1:role/ops by AKIDENV"});
}

TEST_F(CredentialChainTest, WebIdentityFromTheEnvironmentIsUnsignedAndReadsTheTokenFile) {
  Write(dir_->File("token"), "eyJ.web.identity");
  environment_.web_identity_token_file = dir_->File("token");
  environment_.role_arn = "arn:aws:iam::1:role/pod";
  EXPECT_EQ(KeyIdFrom(), "ASIAPOD");
  EXPECT_EQ(StsSigners(), std::vector<std::string>{
                              "AssumeRoleWithWebIdentity arn:aws:iam::1:role/pod by (unsigned)"});
  EXPECT_EQ(FormValue(http_.sent().back().body, "WebIdentityToken"), "eyJ.web.identity");
}

TEST_F(CredentialChainTest, WebIdentityWithoutARoleIsAnError) {
  environment_.web_identity_token_file = dir_->File("token");
  EXPECT_EQ(KeyIdFrom(),
            "error: web identity: the environment sets a web identity token file "
            "but no role ARN (AWS_ROLE_ARN) (skipped before it: environment: "
            "AWS_ACCESS_KEY_ID is not set; profile 'default': not found in " +
                environment_.files.credentials_file + " or " + environment_.files.config_file +
                ")");
}

TEST_F(CredentialChainTest, ProfileWebIdentityTokenFile) {
  Write(dir_->File("token"), "profile-token");
  Write(environment_.files.config_file,
        "[default]\nrole_arn = arn:aws:iam::1:role/wi\n"
        "web_identity_token_file = " +
            dir_->File("token") + "\n");
  EXPECT_EQ(KeyIdFrom(), "ASIAWI");
}

TEST_F(CredentialChainTest, SsoProfileUsesTheCachedTokenAndThePortal) {
  Write(environment_.files.config_file,
        "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\n"
        "sso_role_name = Dev\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n"
        "sso_region = eu-west-1\n");
  Write(dir_->File(Sha1Hex("corp") + ".json"),
        R"({"accessToken":"sso-access-token","expiresAt":"2030-01-01T00:00:00Z"})");
  environment_.profile = "dev";
  environment_.sso_endpoint = "http://portal.test";
  http_.Reply("GET", "http://portal.test/federation/credentials", 200,
              R"({"roleCredentials":{"accessKeyId":"ASIASSO","secretAccessKey":"x",)"
              R"("sessionToken":"t","expiration":1893456000000}})");
  EXPECT_EQ(KeyIdFrom(), "ASIASSO");
  ASSERT_EQ(http_.Count("/federation/credentials?"), 1);
  EXPECT_EQ(http_.sent().back().Header("x-amz-sso_bearer_token"), "sso-access-token");
}

TEST_F(CredentialChainTest, ExpiredSsoTokenTellsTheUserToLogIn) {
  Write(environment_.files.config_file,
        "[default]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n"
        "sso_account_id = 123456789012\nsso_role_name = Dev\n");
  Write(dir_->File(Sha1Hex("https://corp.awsapps.com/start") + ".json"),
        R"({"accessToken":"old-token","expiresAt":"2001-01-01T00:00:00Z"})");
  const std::string result = KeyIdFrom();
  EXPECT_NE(result.find("aws sso login"), std::string::npos) << result;
  EXPECT_EQ(result.find("old-token"), std::string::npos) << result;
}

TEST_F(CredentialChainTest, CredentialProcessProfile) {
  Write(environment_.files.config_file,
        "[default]\ncredential_process = printf '{\"Version\":1,\"AccessKeyId\":\"AKIDPROC\","
        "\"SecretAccessKey\":\"s\"}'\n");
  EXPECT_EQ(KeyIdFrom(), "AKIDPROC");
}

TEST_F(CredentialChainTest, StaticKeysWinOverCredentialProcessInOneProfile) {
  Write(environment_.files.config_file,
        "[default]\naws_access_key_id = AKIDSTATIC\naws_secret_access_key = s\n"
        "credential_process = false\n");
  EXPECT_EQ(KeyIdFrom(), "AKIDSTATIC");
}

TEST_F(CredentialChainTest, HalfWrittenProfileIsAnErrorWithoutTheSecret) {
  Write(environment_.files.credentials_file,
        std::string("[default]\naws_secret_access_key = ") + kFileSecret + "\n");
  const std::string result = KeyIdFrom();
  EXPECT_NE(result.find("has aws_secret_access_key but no aws_access_key_id"), std::string::npos)
      << result;
  EXPECT_EQ(result.find(kFileSecret), std::string::npos) << result;
}

TEST_F(CredentialChainTest, ProfileOptionWithoutCredentialsSaysWhatItCouldSet) {
  Write(environment_.files.config_file, "[profile bare]\nregion = eu-west-1\n");
  ChainRequest request;
  request.profile = "bare";
  const std::string result = KeyIdFrom(request);
  EXPECT_NE(result.find("profile 'bare' has no credentials"), std::string::npos) << result;
}

TEST_F(CredentialChainTest, RoleArnOptionAssumesTheRoleWithTheExplicitSource) {
  ChainRequest request;
  request.explicit_source = std::make_shared<StaticCredentialsProvider>(
      Credentials{"AKIDOPTION", "secret", "", std::nullopt});
  request.assume_role = {"arn:aws:iam::999999999999:role/cross", "s3mount-test", "", 3600};
  EXPECT_EQ(KeyIdFrom(request), "ASIACROSS");
  EXPECT_EQ(StsSigners(), std::vector<std::string>{
                              "AssumeRole arn:aws:iam::999999999999:role/cross by AKIDOPTION"});
  EXPECT_EQ(FormValue(http_.sent().back().body, "DurationSeconds"), "3600");
}

TEST_F(CredentialChainTest, RoleArnOptionWrapsTheDefaultChainToo) {
  environment_.access_key_id = "AKIDENV";
  environment_.secret_access_key = kEnvSecret;
  ChainRequest request;
  request.assume_role.role_arn = "arn:aws:iam::1:role/other";
  auto chain = Build(request);
  ASSERT_TRUE(chain.ok()) << chain.error().ToString();
  EXPECT_EQ((*chain)->description(), "role arn:aws:iam::1:role/other assumed with the environment");
  EXPECT_EQ((*chain)->GetCredentials()->access_key_id, "ASIAOTHER");
}

TEST_F(CredentialChainTest, AssumedRoleCredentialsAreCachedUntilTheirRefreshWindow) {
  environment_.access_key_id = "AKIDENV";
  environment_.secret_access_key = kEnvSecret;
  ChainRequest request;
  request.assume_role.role_arn = "arn:aws:iam::1:role/cached";
  auto chain = Build(request);
  ASSERT_TRUE(chain.ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*chain)->GetCredentials().ok());
  EXPECT_EQ(http_.Count(kStsUrl), 1);
}

}  // namespace
}  // namespace s3mount
