// Tests for LoadProfileConfig and ResolveSourceChain: how a profile is found and merged from
// the AWS shared files (the INI reader's edge cases seen through them), value validation,
// sso-session resolution and source_profile chains. Files live in a temporary directory.
#include "s3mount/auth/profile_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"

namespace s3mount {
namespace {

class ProfileConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = testing::TempDir::Create("s3mount-profile-config-test");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    dir_ = std::move(dir).value();
    files_ = {dir_->File("credentials"), dir_->File("config")};
  }
  void Credentials(const std::string& text) { Write(files_.credentials_file, text); }
  void Config(const std::string& text) { Write(files_.config_file, text); }
  static void Write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  }
  ProfileConfig Load(std::string_view profile) {
    auto config = LoadProfileConfig(files_, profile);
    EXPECT_TRUE(config.ok()) << config.error().message;
    return config.ok() ? std::move(config).value() : ProfileConfig{};
  }
  std::string ErrorOf(std::string_view profile) {
    auto config = LoadProfileConfig(files_, profile);
    if (config.ok()) return "(no error)";
    EXPECT_EQ(config.error().code, ErrorCode::kCredentials);
    return config.error().message;
  }
  std::vector<std::string> ChainOf(std::string_view profile) {
    auto chain = ResolveSourceChain(files_, profile);
    if (!chain.ok()) return {"error: " + chain.error().message};
    std::vector<std::string> names;
    for (const ProfileConfig& p : *chain) names.push_back(p.name);
    return names;
  }

  std::unique_ptr<testing::TempDir> dir_;
  AwsSharedFiles files_;
};

using ::testing::HasSubstr;

TEST_F(ProfileConfigTest, CommentsSpacesAndCaseAreHandled) {
  Config(
      "# a comment\n"
      "; another comment\n"
      "[profile dev]   # trailing comment\n"
      "  region=eu-west-1 ; inline comment\n"
      "ROLE_ARN   =   arn:aws:iam::123456789012:role/dev\n"
      "\n"
      "source_profile\t= base\n"
      "external_id = abc#not-a-comment\n");
  const ProfileConfig dev = Load("dev");
  EXPECT_EQ(dev.name, "dev");
  EXPECT_EQ(dev.region, "eu-west-1");
  EXPECT_EQ(dev.role_arn, "arn:aws:iam::123456789012:role/dev");
  EXPECT_EQ(dev.source_profile, "base");
  EXPECT_EQ(dev.external_id, "abc#not-a-comment");
  EXPECT_EQ(dev.files, std::vector<std::string>{files_.config_file});
}

TEST_F(ProfileConfigTest, MissingProfileNamesBothFiles) {
  Credentials("[other]\naws_access_key_id = AKID\naws_secret_access_key = s\n");
  EXPECT_EQ(ErrorOf("x"), "profile 'x' not found in " + files_.credentials_file + " or " +
                              files_.config_file + " (does not exist)");
}

TEST_F(ProfileConfigTest, ConfigSectionsWithoutProfilePrefixAreNotProfiles) {
  Config("[dev]\nregion = us-east-2\n[profile  spaced ]\nregion = ap-south-1\n");
  EXPECT_THAT(ErrorOf("dev"), HasSubstr("profile 'dev' not found"));
  EXPECT_EQ(Load("spaced").region, "ap-south-1");
}

TEST_F(ProfileConfigTest, DefaultAndProfileDefaultBothNameDefaultAndProfileDefaultWins) {
  Config("[default]\nregion = us-east-1\n");
  EXPECT_EQ(Load("default").region, "us-east-1");
  Config("[profile default]\nregion = us-west-2\n");
  EXPECT_EQ(Load("default").region, "us-west-2");
  Config(
      "[profile default]\nregion = us-west-2\n"
      "[default]\nregion = us-east-1\nsso_account_id = 111\n");
  const ProfileConfig both = Load("default");
  EXPECT_EQ(both.region, "us-west-2");
  EXPECT_EQ(both.sso_account_id, "") << "[default] must be ignored, not merged";
}

TEST_F(ProfileConfigTest, CredentialsFileKeysWinOverConfigFile) {
  Credentials(
      "[dev]\n"
      "aws_access_key_id = AKIDCREDS\n"
      "aws_secret_access_key = secret-from-credentials\n");
  Config(
      "[profile dev]\n"
      "aws_access_key_id = AKIDCONFIG\n"
      "aws_secret_access_key = secret-from-config\n"
      "aws_session_token = token-from-config\n"
      "region = eu-central-1\n");
  const ProfileConfig dev = Load("dev");
  EXPECT_EQ(dev.access_key_id, "AKIDCREDS");
  EXPECT_EQ(dev.secret_access_key, "secret-from-credentials");
  EXPECT_EQ(dev.session_token, "token-from-config");
  EXPECT_EQ(dev.region, "eu-central-1");
  EXPECT_TRUE(dev.has_static_keys());
  EXPECT_EQ(dev.files, (std::vector<std::string>{files_.credentials_file, files_.config_file}));
}

TEST_F(ProfileConfigTest, CredentialsFileProfileAloneIsFound) {
  Credentials("[ci]\naws_access_key_id = AKID\naws_secret_access_key = s\n");
  const ProfileConfig ci = Load("ci");
  EXPECT_EQ(ci.access_key_id, "AKID");
  EXPECT_EQ(ci.files, std::vector<std::string>{files_.credentials_file});
}

TEST_F(ProfileConfigTest, NestedS3BlocksAreIgnored) {
  Config(
      "[profile dev]\n"
      "s3 =\n"
      "  max_concurrent_requests = 20\n"
      "  region = not-this-one\n"
      "region = us-west-1\n"
      "sts =\n"
      "\tendpoint_url = http://127.0.0.1:1\n");
  const ProfileConfig dev = Load("dev");
  EXPECT_EQ(dev.region, "us-west-1");
}

TEST_F(ProfileConfigTest, AssumeRoleSettingsAreRead) {
  Config(
      "[profile ops]\n"
      "role_arn = arn:aws:iam::123456789012:role/ops\n"
      "credential_source = Ec2InstanceMetadata\n"
      "role_session_name = s3mount-ops\n"
      "duration_seconds = 3600\n"
      "web_identity_token_file = /var/run/token\n"
      "credential_process = /usr/bin/creds --json\n");
  const ProfileConfig ops = Load("ops");
  ASSERT_TRUE(ops.credential_source.has_value());
  EXPECT_EQ(*ops.credential_source, CredentialSource::kEc2InstanceMetadata);
  EXPECT_EQ(ops.role_session_name, "s3mount-ops");
  EXPECT_EQ(ops.duration_seconds, 3600);
  EXPECT_EQ(ops.web_identity_token_file, "/var/run/token");
  EXPECT_EQ(ops.credential_process, "/usr/bin/creds --json");
  EXPECT_TRUE(ops.assumes_role());
}

TEST_F(ProfileConfigTest, InvalidValuesNameTheKey) {
  Config("[profile a]\nduration_seconds = one hour\n");
  EXPECT_EQ(ErrorOf("a"), "profile 'a' in " + files_.config_file +
                              ": duration_seconds 'one hour' is not a whole number of seconds");
  Config("[profile a]\nduration_seconds = 60\n");
  EXPECT_THAT(ErrorOf("a"), HasSubstr("duration_seconds 60 is outside 900..43200"));
  Config("[profile a]\nduration_seconds = 43201\n");
  EXPECT_THAT(ErrorOf("a"), HasSubstr("duration_seconds 43201 is outside"));
  Config("[profile a]\nduration_seconds = 43200\n");
  EXPECT_EQ(Load("a").duration_seconds, 43200);
  Config("[profile a]\ncredential_source = Ec2\n");
  EXPECT_THAT(ErrorOf("a"), HasSubstr("credential_source 'Ec2' is not one of"));
  Config("[profile a]\nrole_arn = r\nsource_profile = b\ncredential_source = Environment\n");
  EXPECT_THAT(ErrorOf("a"), HasSubstr("both source_profile and credential_source"));
}

TEST_F(ProfileConfigTest, MalformedFileErrorNamesFileAndLine) {
  Config("[profile a]\nthis line has no equals sign\n");
  EXPECT_EQ(ErrorOf("a"), files_.config_file + ": line 2: expected 'key = value'");
}

TEST_F(ProfileConfigTest, SecretValuesNeverAppearInErrors) {
  Credentials("[a]\naws_secret_access_key = hunter2-secret\nduration_seconds = x\n");
  EXPECT_EQ(ErrorOf("a").find("hunter2"), std::string::npos);
}

TEST_F(ProfileConfigTest, SsoSessionIsResolved) {
  Config(
      "[profile dev]\n"
      "sso_session = corp\n"
      "sso_account_id = 123456789012\n"
      "sso_role_name = ReadOnly\n"
      "region = us-east-2\n"
      "[sso-session corp]\n"
      "sso_start_url = https://corp.awsapps.com/start\n"
      "sso_region = eu-west-1\n"
      "sso_registration_scopes = sso:account:access\n");
  const ProfileConfig dev = Load("dev");
  EXPECT_EQ(dev.sso_session, "corp");
  EXPECT_EQ(dev.sso_start_url, "https://corp.awsapps.com/start");
  EXPECT_EQ(dev.sso_region, "eu-west-1");
  EXPECT_EQ(dev.sso_account_id, "123456789012");
  EXPECT_EQ(dev.sso_role_name, "ReadOnly");
}

TEST_F(ProfileConfigTest, LegacySsoProfileKeepsItsOwnKeys) {
  Config(
      "[profile old]\n"
      "sso_start_url = https://old.awsapps.com/start\n"
      "sso_region = us-east-1\n"
      "sso_account_id = 1\n"
      "sso_role_name = Admin\n");
  const ProfileConfig old = Load("old");
  EXPECT_EQ(old.sso_session, "");
  EXPECT_EQ(old.sso_start_url, "https://old.awsapps.com/start");
  EXPECT_EQ(old.sso_region, "us-east-1");
}

TEST_F(ProfileConfigTest, SsoSessionErrors) {
  Config("[profile dev]\nsso_session = missing\n");
  EXPECT_THAT(ErrorOf("dev"), HasSubstr("names [sso-session missing], which is not in"));
  Config(
      "[profile dev]\nsso_session = corp\nsso_region = us-east-1\n"
      "[sso-session corp]\nsso_start_url = https://x\nsso_region = eu-west-1\n");
  EXPECT_THAT(ErrorOf("dev"), HasSubstr("sso_region 'us-east-1' differs from the value in "
                                        "[sso-session corp] 'eu-west-1'"));
}

TEST_F(ProfileConfigTest, SourceChainIsFollowedToStaticKeys) {
  Credentials("[base]\naws_access_key_id = AKID\naws_secret_access_key = s\n");
  Config(
      "[profile top]\nrole_arn = arn:top\nsource_profile = middle\n"
      "[profile middle]\nrole_arn = arn:middle\nsource_profile = base\n"
      "[profile base]\nrole_arn = arn:ignored-because-base-has-keys\nsource_profile = top\n");
  EXPECT_EQ(ChainOf("top"), (std::vector<std::string>{"top", "middle", "base"}));
  EXPECT_EQ(ChainOf("base"), (std::vector<std::string>{"error: source_profile cycle: base -> "
                                                       "top -> middle -> base"}))
      << "the first profile assumes its role even with static keys";
}

TEST_F(ProfileConfigTest, SourceChainEndsAtNonRoleOrCredentialSourceProfiles) {
  Config(
      "[profile a]\nrole_arn = arn:a\nsource_profile = b\n"
      "[profile b]\nrole_arn = arn:b\ncredential_source = EcsContainer\n"
      "[profile plain]\nregion = us-east-1\nsource_profile = a\n");
  EXPECT_EQ(ChainOf("a"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ChainOf("plain"), (std::vector<std::string>{"plain"}))
      << "source_profile without role_arn must not be followed";
}

TEST_F(ProfileConfigTest, SourceChainCyclesAreErrorsNamingTheCycle) {
  Config(
      "[profile a]\nrole_arn = arn:a\nsource_profile = b\n"
      "[profile b]\nrole_arn = arn:b\nsource_profile = a\n"
      "[profile self]\nrole_arn = arn:self\nsource_profile = self\n");
  EXPECT_EQ(ChainOf("a"), (std::vector<std::string>{"error: source_profile cycle: a -> b -> a"}));
  EXPECT_EQ(ChainOf("self"),
            (std::vector<std::string>{"error: source_profile cycle: self -> self"}));
}

TEST_F(ProfileConfigTest, SelfSourceWithStaticKeysUsesItsOwnKeys) {
  Credentials("[me]\naws_access_key_id = AKID\naws_secret_access_key = s\n");
  Config("[profile me]\nrole_arn = arn:me\nsource_profile = me\n");
  EXPECT_EQ(ChainOf("me"), (std::vector<std::string>{"me", "me"}));
}

TEST_F(ProfileConfigTest, SourceChainHasADepthLimitAndNamesMissingSources) {
  std::string text;
  for (int i = 0; i < kMaxSourceProfileChain + 2; ++i) {
    text += "[profile p" + std::to_string(i) + "]\nrole_arn = arn:" + std::to_string(i) +
            "\nsource_profile = p" + std::to_string(i + 1) + "\n";
  }
  Config(text);
  const auto deep = ChainOf("p0");
  ASSERT_EQ(deep.size(), 1U);
  EXPECT_THAT(deep[0], HasSubstr("longer than 10 profiles"));
  Config("[profile a]\nrole_arn = arn:a\nsource_profile = gone\n");
  const auto missing = ChainOf("a");
  ASSERT_EQ(missing.size(), 1U);
  EXPECT_THAT(missing[0], HasSubstr("source_profile of profile 'a': profile 'gone' not found"));
}

}  // namespace
}  // namespace s3mount
