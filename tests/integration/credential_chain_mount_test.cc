// Integration tests of the mount's credential chain against moto_server with SigV4 enforcement
// on: for every provider (static keys as options, environment, profile files, AssumeRole
// through moto's STS, web identity, credential_process, SSO, container and IMDSv2 -- the last
// three through tests/tools/credentials_responder.py serving credentials moto's STS issued)
// `s3mount` mounts, and a negative twin fails with a message naming the cause. A FaultProxy
// between the mount and moto records which access key id signed the S3 requests (the IAM
// user's AKIA key, or ASIA keys that only STS hands out), so a mount that "worked" through
// another provider than the one under test is noticed.
//
// Every mount runs with HOME set to a fresh directory, AWS_EC2_METADATA_DISABLED=true (except
// the IMDS test) and no AWS_* variable of the test's own environment.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/credentials_responder.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/moto_fixture.h"
#include "tests/support/moto_setup.h"
#include "tests/support/s3mount_process.h"
#include "tests/support/subprocess.h"

namespace s3mount {
namespace {

using testing::CredentialsResponder;
using testing::EnvOverrides;
using testing::S3mountProcess;

constexpr char kRoleName[] = "s3mount-chain";
constexpr char kRoleArn[] = "arn:aws:iam::123456789012:role/s3mount-chain";
constexpr char kWrongSecret[] = "WrongSecretForTheChainTest0123456789abcd";
// sha1("s3mount-corp") and sha1(kLegacyStartUrl): the names `aws sso login` gives the token
// cache files (computed with `echo -n ... | sha1sum`, independently of s3mount).
constexpr char kSsoSession[] = "s3mount-corp";
constexpr char kSsoSessionCacheFile[] = "34e9758007218f01d957525e3759f8c8e20a441c.json";
constexpr char kLegacyStartUrl[] = "https://s3mount-legacy.awsapps.com/start";
constexpr char kLegacyCacheFile[] = "487592350ac3e05ada023c974fc3b091361524ca.json";
constexpr char kSsoToken[] = "sso-access-token-for-the-chain-test";

void WriteFile(const std::string& path, const std::string& text, mode_t mode = 0600) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::trunc) << text;
  chmod(path.c_str(), mode);
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// Whether `text` mentions one of `names` (case-insensitive): the chain's exact wording for a
// provider is its own, these tests only insist that each provider is named somehow.
bool MentionsAny(const std::string& text, const std::vector<std::string>& names) {
  const std::string lower = Lower(text);
  return std::any_of(names.begin(), names.end(), [&](const std::string& name) {
    return lower.find(Lower(name)) != std::string::npos;
  });
}

// The access key id in a SigV4 Authorization header, if it is signed for `service`.
std::string KeyIdFor(const std::string& authorization, const std::string& service) {
  const size_t at = authorization.find("Credential=");
  if (at == std::string::npos) return "";
  const size_t slash = authorization.find('/', at);
  const size_t comma = authorization.find(',', at);
  const std::string scope = authorization.substr(slash, comma - slash);
  if (scope.find("/" + service + "/aws4_request") == std::string::npos) return "";
  return authorization.substr(at + 11, slash - at - 11);
}

class CredentialChainMountTest : public testing::AuthMotoTest {
 protected:
  static void SetUpTestSuite() {
    testing::AuthMotoTest::SetUpTestSuite();
    role_created_ = false;
  }

  void SetUp() override {
    testing::AuthMotoTest::SetUp();
    if (HasFatalFailure()) return;
    if (!role_created_) {  // once per server: the role outlives the test's bucket
      Status role = testing::CreateAllowAllRole(server(), kRoleName);
      ASSERT_TRUE(role.ok()) << role.error().ToString();
      role_created_ = true;
    }
    auto home = testing::TempDir::Create("s3mount-chain-home");
    ASSERT_TRUE(home.ok()) << home.error().ToString();
    home_ = std::move(home).value();
    auto proxy = testing::FaultProxy::Start("127.0.0.1", server().port());
    ASSERT_TRUE(proxy.ok()) << proxy.error().ToString();
    proxy_ = std::move(proxy).value();
  }

  std::string Home(const std::string& relative) const { return home_->File(relative); }
  std::string UserKeysProfile(const std::string& name, const std::string& secret = "") const {
    return "[" + name + "]\naws_access_key_id = " + server().access_key_id() +
           "\naws_secret_access_key = " + (secret.empty() ? server().secret_access_key() : secret) +
           "\n";
  }
  EnvOverrides UserKeysEnv() const {
    return {{"AWS_ACCESS_KEY_ID", server().access_key_id()},
            {"AWS_SECRET_ACCESS_KEY", server().secret_access_key()}};
  }

  // Mounts the test's bucket through the proxy with only `env` (plus HOME and, unless `imds`,
  // AWS_EC2_METADATA_DISABLED=true) as the AWS environment.
  Result<std::unique_ptr<S3mountProcess>> Mount(const EnvOverrides& env,
                                                const std::vector<std::string>& options = {},
                                                bool imds = false) {
    EnvOverrides all = {{"HOME", home_->path()}};
    if (!imds) all.emplace_back("AWS_EC2_METADATA_DISABLED", "true");
    all.insert(all.end(), env.begin(), env.end());
    return S3mountProcess::Mount(server(), {.source = bucket(),
                                            .options = options,
                                            .env = all,
                                            .inject_moto_keys = false,
                                            .clear_aws_env = true,
                                            .endpoint = proxy_->endpoint()});
  }

  // Mounts and expects it to work; the access key ids that signed S3 requests.
  std::vector<std::string> ExpectMounts(const EnvOverrides& env,
                                        const std::vector<std::string>& options = {},
                                        bool imds = false) {
    auto mount = Mount(env, options, imds);
    EXPECT_TRUE(mount.ok()) << mount.error().ToString() << "\nmoto log:\n" << server().LogTail();
    if (!mount.ok()) return {};
    std::vector<std::string> keys = KeysFor("s3");
    EXPECT_FALSE(keys.empty()) << "the mount sent no signed S3 request through the proxy";
    return keys;
  }

  // Mounts, expects it to fail, and returns what s3mount printed.
  std::string ExpectMountFails(const EnvOverrides& env,
                               const std::vector<std::string>& options = {}) {
    auto mount = Mount(env, options);
    EXPECT_FALSE(mount.ok()) << "mounted although it should not have";
    if (mount.ok()) return "";
    EXPECT_EQ(mount.error().message.find(server().secret_access_key()), std::string::npos)
        << "a secret was printed: " << mount.error().message;
    EXPECT_EQ(mount.error().message.find(kWrongSecret), std::string::npos)
        << "a secret was printed: " << mount.error().message;
    return mount.error().message;
  }

  // Key ids of the requests the proxy saw that were signed for `service` ("s3", "sts").
  std::vector<std::string> KeysFor(const std::string& service) const {
    std::vector<std::string> keys;
    for (const auto& request : proxy_->recorded_requests()) {
      std::string key = KeyIdFor(request.Header("authorization"), service);
      if (!key.empty()) keys.push_back(std::move(key));
    }
    return keys;
  }

  // Every S3 request was signed with STS-issued (ASIA...) keys.
  void ExpectTemporaryKeys(const std::vector<std::string>& s3_keys) {
    for (const auto& key : s3_keys) {
      EXPECT_TRUE(key.starts_with("ASIA"))
          << "S3 request signed with " << key << ", not with temporary credentials from STS";
    }
  }

  // A credentials responder whose STS calls go straight to moto with the IAM user's keys.
  std::unique_ptr<CredentialsResponder> StartResponder(const std::string& mode,
                                                       const std::string& token = "",
                                                       bool require_imds_v2 = false) {
    auto responder = CredentialsResponder::Start({.mode = mode,
                                                  .sts_endpoint = server().endpoint(),
                                                  .access_key_id = server().access_key_id(),
                                                  .secret_access_key = server().secret_access_key(),
                                                  .role_arn = kRoleArn,
                                                  .token = token,
                                                  .require_imds_v2 = require_imds_v2});
    EXPECT_TRUE(responder.ok()) << responder.error().ToString();
    return responder.ok() ? std::move(responder).value() : nullptr;
  }

  // Lets exactly one unsigned action through moto's checker (AssumeRoleWithWebIdentity is
  // unsigned; moto answers any unsigned request with HTTP 500 while checking).
  void AllowOneUnsignedCall() {
    auto allowed = testing::SimpleHttpRequest("POST", server().endpoint() + "/moto-api/reset-auth",
                                              "1", "text/plain");
    ASSERT_TRUE(allowed.ok()) << allowed.error().ToString();
    ASSERT_EQ(*allowed, 200);
  }

  void WriteSsoCache(const std::string& file, const std::string& expires_at) {
    WriteFile(Home(".aws/sso/cache/") + file, std::string(R"({"accessToken": ")") + kSsoToken +
                                                  R"(", "expiresAt": ")" + expires_at +
                                                  R"(", "region": "us-east-1"})");
  }

  static inline bool role_created_ = false;
  std::unique_ptr<testing::TempDir> home_;
  std::unique_ptr<testing::FaultProxy> proxy_;
};

// --- static keys, environment, profile files ------------------------------------------------

TEST_F(CredentialChainMountTest, StaticKeysAsOptionsMount) {
  auto keys = ExpectMounts({}, {"access_key_id=" + server().access_key_id(),
                                "secret_access_key=" + server().secret_access_key()});
  for (const auto& key : keys) EXPECT_EQ(key, server().access_key_id());
}

TEST_F(CredentialChainMountTest, EnvironmentKeysMount) {
  auto keys = ExpectMounts(UserKeysEnv());
  for (const auto& key : keys) EXPECT_EQ(key, server().access_key_id());
}

TEST_F(CredentialChainMountTest, WrongEnvironmentSecretFailsNamingSignatureDoesNotMatch) {
  const std::string output = ExpectMountFails(
      {{"AWS_ACCESS_KEY_ID", server().access_key_id()}, {"AWS_SECRET_ACCESS_KEY", kWrongSecret}});
  EXPECT_NE(output.find("SignatureDoesNotMatch"), std::string::npos) << output;
}

TEST_F(CredentialChainMountTest, EnvironmentKeysWinOverAwsProfile) {
  WriteFile(Home(".aws/credentials"), UserKeysProfile("other", kWrongSecret));
  auto env = UserKeysEnv();
  env.emplace_back("AWS_PROFILE", "other");
  auto keys = ExpectMounts(env);
  EXPECT_FALSE(keys.empty());
}

TEST_F(CredentialChainMountTest, ProfileFromSharedCredentialsFileVariablesMounts) {
  auto dir = testing::TempDir::Create("s3mount-chain-files");
  ASSERT_TRUE(dir.ok());
  WriteFile((*dir)->File("credentials"),
            "# team keys\n[default]\naws_access_key_id = AKIANOTTHISONE00000\n"
            "aws_secret_access_key = nope\n\n" +
                UserKeysProfile("team"));
  WriteFile((*dir)->File("config"), "[profile team]\nregion = us-east-1\n");
  auto keys = ExpectMounts({{"AWS_SHARED_CREDENTIALS_FILE", (*dir)->File("credentials")},
                            {"AWS_CONFIG_FILE", (*dir)->File("config")},
                            {"AWS_PROFILE", "team"}});
  for (const auto& key : keys) EXPECT_EQ(key, server().access_key_id());
}

TEST_F(CredentialChainMountTest, ProfileOptionWithKeysInHomeConfigFileMounts) {
  WriteFile(Home(".aws/config"), "[profile cfg]\naws_access_key_id = " + server().access_key_id() +
                                     "\naws_secret_access_key = " + server().secret_access_key() +
                                     "\n");
  auto keys = ExpectMounts({}, {"profile=cfg"});
  for (const auto& key : keys) EXPECT_EQ(key, server().access_key_id());
}

TEST_F(CredentialChainMountTest, MissingProfileFailsNamingIt) {
  WriteFile(Home(".aws/credentials"), UserKeysProfile("present"));
  const std::string output = ExpectMountFails({{"AWS_PROFILE", "no-such-profile"}});
  EXPECT_NE(output.find("no-such-profile"), std::string::npos) << output;
}

// --- AssumeRole through moto's STS ---------------------------------------------------------

TEST_F(CredentialChainMountTest, AssumeRoleWithSourceProfileMounts) {
  WriteFile(Home(".aws/credentials"), UserKeysProfile("base"));
  WriteFile(Home(".aws/config"), std::string("[profile assumer]\nrole_arn = ") + kRoleArn +
                                     "\nsource_profile = base\nrole_session_name = chain-it\n");
  ExpectTemporaryKeys(ExpectMounts({{"AWS_PROFILE", "assumer"}}));
  const auto sts_keys = KeysFor("sts");
  ASSERT_FALSE(sts_keys.empty()) << "no signed STS request went to the endpoint";
  EXPECT_EQ(sts_keys.front(), server().access_key_id()) << "AssumeRole signed with other keys";
}

TEST_F(CredentialChainMountTest, AssumeRoleWithCredentialSourceEnvironmentMounts) {
  WriteFile(Home(".aws/config"), std::string("[profile assumer]\nrole_arn = ") + kRoleArn +
                                     "\ncredential_source = Environment\n");
  ExpectTemporaryKeys(ExpectMounts(UserKeysEnv(), {"profile=assumer"}));
  EXPECT_FALSE(KeysFor("sts").empty());
}

TEST_F(CredentialChainMountTest, RoleArnOptionAssumesTheRoleWithTheChainsKeys) {
  ExpectTemporaryKeys(ExpectMounts(
      UserKeysEnv(), {std::string("role_arn=") + kRoleArn, "role_session_name=option-it"}));
  const auto sts_keys = KeysFor("sts");
  ASSERT_FALSE(sts_keys.empty());
  EXPECT_EQ(sts_keys.front(), server().access_key_id());
}

// moto's STS issues credentials for any role ARN, even one that does not exist, so the
// failing twin of AssumeRole is a source profile with a wrong secret: STS's own error.
TEST_F(CredentialChainMountTest, AssumeRoleWithWrongSourceSecretFailsNamingStsError) {
  WriteFile(Home(".aws/credentials"), UserKeysProfile("base", kWrongSecret));
  WriteFile(Home(".aws/config"),
            std::string("[profile assumer]\nrole_arn = ") + kRoleArn + "\nsource_profile = base\n");
  const std::string output = ExpectMountFails({{"AWS_PROFILE", "assumer"}});
  EXPECT_NE(output.find("AssumeRole"), std::string::npos) << output;
  EXPECT_NE(output.find(kRoleArn), std::string::npos) << output;
  EXPECT_NE(output.find("SignatureDoesNotMatch"), std::string::npos) << output;
  EXPECT_TRUE(KeysFor("s3").empty()) << "S3 was asked although STS refused";
}

// --- web identity ---------------------------------------------------------------------------

TEST_F(CredentialChainMountTest, WebIdentityFromEnvironmentMounts) {
  const std::string token_file = Home("token");
  WriteFile(token_file, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwb2QifQ.c2ln\n");
  AllowOneUnsignedCall();
  ExpectTemporaryKeys(ExpectMounts({{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file},
                                    {"AWS_ROLE_ARN", kRoleArn},
                                    {"AWS_ROLE_SESSION_NAME", "pod"}}));
}

TEST_F(CredentialChainMountTest, WebIdentityProfileMounts) {
  const std::string token_file = Home("token");
  WriteFile(token_file, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwb2QifQ.c2ln\n");
  WriteFile(Home(".aws/config"), std::string("[profile wi]\nrole_arn = ") + kRoleArn +
                                     "\nweb_identity_token_file = " + token_file + "\n");
  AllowOneUnsignedCall();
  ExpectTemporaryKeys(ExpectMounts({{"AWS_PROFILE", "wi"}}));
}

TEST_F(CredentialChainMountTest, MissingWebIdentityTokenFileFailsNamingIt) {
  const std::string token_file = Home("no-such-token");
  const std::string output =
      ExpectMountFails({{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file}, {"AWS_ROLE_ARN", kRoleArn}});
  EXPECT_NE(output.find(token_file), std::string::npos) << output;
}

// --- credential_process ---------------------------------------------------------------------

TEST_F(CredentialChainMountTest, CredentialProcessMounts) {
  const std::string script = Home("bin/get-keys");
  WriteFile(script,
            "#!/bin/sh\ntouch \"$0.ran\"\ncat <<EOF\n{\"Version\": 1, \"AccessKeyId\": \"" +
                server().access_key_id() + "\", \"SecretAccessKey\": \"" +
                server().secret_access_key() +
                "\", \"Expiration\": \"2099-01-01T00:00:00Z\"}\nEOF\n",
            0700);
  WriteFile(Home(".aws/config"), "[profile proc]\ncredential_process = " + script + " --json\n");
  auto keys = ExpectMounts({{"AWS_PROFILE", "proc"}});
  for (const auto& key : keys) EXPECT_EQ(key, server().access_key_id());
  EXPECT_TRUE(std::filesystem::exists(script + ".ran")) << "the credential_process never ran";
}

TEST_F(CredentialChainMountTest, FailingCredentialProcessFailsWithItsStatusAndStderr) {
  const std::string script = Home("bin/broken");
  WriteFile(script, "#!/bin/sh\necho 'token service unavailable' >&2\nexit 3\n", 0700);
  WriteFile(Home(".aws/config"), "[default]\ncredential_process = " + script + "\n");
  const std::string output = ExpectMountFails({});
  EXPECT_NE(output.find("credential_process"), std::string::npos) << output;
  EXPECT_NE(output.find("token service unavailable"), std::string::npos) << output;
  EXPECT_TRUE(MentionsAny(output, {"status 3", "code 3", "exited with 3"})) << output;
}

// --- SSO ------------------------------------------------------------------------------------

TEST_F(CredentialChainMountTest, SsoSessionProfileMounts) {
  auto portal = StartResponder("sso", kSsoToken);
  ASSERT_NE(portal, nullptr);
  WriteSsoCache(kSsoSessionCacheFile, "2099-01-01T00:00:00Z");
  WriteFile(Home(".aws/config"), std::string("[profile dev]\nsso_session = ") + kSsoSession +
                                     "\nsso_account_id = 123456789012\nsso_role_name = Admin\n"
                                     "region = us-east-1\n\n[sso-session " +
                                     kSsoSession +
                                     "]\nsso_start_url = https://s3mount.awsapps.com/start\n"
                                     "sso_region = us-east-1\n");
  ExpectTemporaryKeys(
      ExpectMounts({{"AWS_PROFILE", "dev"}, {"AWS_ENDPOINT_URL_SSO", portal->endpoint()}}));
  const auto requests = portal->Requests();
  ASSERT_FALSE(requests.empty()) << "the SSO portal was never asked";
  EXPECT_EQ(requests.front().sso_bearer_token, kSsoToken);
  EXPECT_NE(requests.front().path.find("account_id=123456789012"), std::string::npos);
  EXPECT_NE(requests.front().path.find("role_name=Admin"), std::string::npos);
}

TEST_F(CredentialChainMountTest, LegacySsoProfileMounts) {
  auto portal = StartResponder("sso", kSsoToken);
  ASSERT_NE(portal, nullptr);
  WriteSsoCache(kLegacyCacheFile, "2099-01-01T00:00:00Z");
  WriteFile(Home(".aws/config"), std::string("[default]\nsso_start_url = ") + kLegacyStartUrl +
                                     "\nsso_region = us-east-1\nsso_account_id = 123456789012\n"
                                     "sso_role_name = Admin\n");
  ExpectTemporaryKeys(ExpectMounts({{"AWS_ENDPOINT_URL_SSO", portal->endpoint()}}));
  EXPECT_GE(portal->CredentialRequests(), 1);
}

TEST_F(CredentialChainMountTest, ExpiredSsoTokenFailsTellingToRunAwsSsoLogin) {
  auto portal = StartResponder("sso", kSsoToken);
  ASSERT_NE(portal, nullptr);
  WriteSsoCache(kSsoSessionCacheFile, "2020-01-01T00:00:00Z");
  WriteFile(Home(".aws/config"), std::string("[profile dev]\nsso_session = ") + kSsoSession +
                                     "\nsso_account_id = 123456789012\nsso_role_name = Admin\n\n"
                                     "[sso-session " +
                                     kSsoSession +
                                     "]\nsso_start_url = https://s3mount.awsapps.com/start\n"
                                     "sso_region = us-east-1\n");
  const std::string output =
      ExpectMountFails({{"AWS_PROFILE", "dev"}, {"AWS_ENDPOINT_URL_SSO", portal->endpoint()}});
  EXPECT_NE(output.find("aws sso login"), std::string::npos) << output;
  EXPECT_EQ(output.find(kSsoToken), std::string::npos) << "the SSO token was printed";
  EXPECT_EQ(portal->CredentialRequests(), 0) << "an expired token was sent to the portal";
}

// --- container ------------------------------------------------------------------------------

TEST_F(CredentialChainMountTest, ContainerFullUriWithTokenMounts) {
  auto container = StartResponder("container", "Bearer container-token");
  ASSERT_NE(container, nullptr);
  ExpectTemporaryKeys(
      ExpectMounts({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", container->endpoint() + "/v2/creds"},
                    {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer container-token"}}));
  const auto requests = container->Requests();
  ASSERT_FALSE(requests.empty()) << "the container endpoint was never asked";
  EXPECT_EQ(requests.front().path, "/v2/creds");
  EXPECT_EQ(requests.front().authorization, "Bearer container-token");
}

TEST_F(CredentialChainMountTest, ContainerTokenFileMounts) {
  auto container = StartResponder("container", "token-from-file");
  ASSERT_NE(container, nullptr);
  WriteFile(Home("container-token"), "token-from-file");
  ExpectTemporaryKeys(
      ExpectMounts({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", container->endpoint() + "/creds"},
                    {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", Home("container-token")}}));
  EXPECT_GE(container->CredentialRequests(), 1);
}

TEST_F(CredentialChainMountTest, ContainerWrongTokenFailsNamingTheEndpoint) {
  auto container = StartResponder("container", "the-right-token");
  ASSERT_NE(container, nullptr);
  const std::string output =
      ExpectMountFails({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", container->endpoint() + "/creds"},
                        {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "a-wrong-token"}});
  EXPECT_TRUE(MentionsAny(output, {"container"})) << output;
  EXPECT_NE(output.find("401"), std::string::npos) << output;
  EXPECT_EQ(output.find("the-right-token"), std::string::npos) << output;
}

// --- IMDSv2 ---------------------------------------------------------------------------------

TEST_F(CredentialChainMountTest, InstanceMetadataV2Mounts) {
  auto imds = StartResponder("imds", "", /*require_imds_v2=*/true);
  ASSERT_NE(imds, nullptr);
  ExpectTemporaryKeys(
      ExpectMounts({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds->endpoint()}}, {}, /*imds=*/true));
  const auto requests = imds->Requests();
  ASSERT_GE(requests.size(), 2u) << imds->LogTail();
  EXPECT_EQ(requests.front().method, "PUT");
  EXPECT_EQ(requests.front().path, "/latest/api/token");
  EXPECT_FALSE(requests.front().imds_token_ttl.empty());
  for (size_t i = 1; i < requests.size(); ++i) {
    if (requests[i].method == "GET") {
      EXPECT_FALSE(requests[i].imds_token.empty())
          << "IMDSv1 GET of " << requests[i].path << " (the responder requires v2)";
    }
  }
  EXPECT_GE(imds->CredentialRequests(), 1);
}

// --- the chain as a whole -------------------------------------------------------------------

TEST_F(CredentialChainMountTest, NothingConfiguredFailsNamingEveryProvider) {
  const std::string output = ExpectMountFails({});
  EXPECT_TRUE(MentionsAny(output, {"environment", "AWS_ACCESS_KEY_ID"})) << output;
  EXPECT_TRUE(MentionsAny(output, {"profile"})) << output;
  EXPECT_TRUE(MentionsAny(output, {"web identity", "web_identity", "AWS_WEB_IDENTITY_TOKEN_FILE"}))
      << output;
  EXPECT_TRUE(MentionsAny(output, {"container", "AWS_CONTAINER_CREDENTIALS"})) << output;
  EXPECT_TRUE(MentionsAny(output, {"IMDS", "instance metadata", "EC2"})) << output;
  EXPECT_TRUE(KeysFor("s3").empty()) << "S3 was asked without credentials";
}

TEST_F(CredentialChainMountTest, ProfileWithOnlyRegionIsSkippedForTheContainer) {
  auto container = StartResponder("container");
  ASSERT_NE(container, nullptr);
  WriteFile(Home(".aws/config"), "[default]\nregion = us-east-1\n");
  ExpectTemporaryKeys(
      ExpectMounts({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", container->endpoint() + "/creds"}}));
  EXPECT_GE(container->CredentialRequests(), 1);
}

TEST_F(CredentialChainMountTest, ConfiguredProfileThatFailsIsTheMountsFailure) {
  auto container = StartResponder("container");
  ASSERT_NE(container, nullptr);
  const std::string script = Home("bin/broken");
  WriteFile(script, "#!/bin/sh\necho 'no keys today' >&2\nexit 1\n", 0700);
  WriteFile(Home(".aws/config"), "[default]\ncredential_process = " + script + "\n");
  const std::string output =
      ExpectMountFails({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", container->endpoint() + "/creds"}});
  EXPECT_NE(output.find("no keys today"), std::string::npos) << output;
  EXPECT_EQ(container->CredentialRequests(), 0)
      << "the chain went on to the container after the configured profile failed";
}

}  // namespace
}  // namespace s3mount
