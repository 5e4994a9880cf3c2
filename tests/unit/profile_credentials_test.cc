// Tests for the AWS shared-file profile provider and its INI reader, on files in a temporary
// directory (never the real ~/.aws).
#include "s3mount/auth/profile_credentials.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "s3mount/auth/profile_config.h"
#include "tests/support/subprocess.h"

namespace s3mount {
namespace {

constexpr const char* kEnvironment[] = {"AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
                                        "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "HOME"};

class ProfileCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : kEnvironment) {
      const char* value = getenv(name);
      saved_.emplace_back(name, value == nullptr ? std::nullopt : std::optional(value));
      unsetenv(name);
    }
    auto dir = testing::TempDir::Create("s3mount-profile-test");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    dir_ = std::move(dir).value();
    files_ = {dir_->File("credentials"), dir_->File("config")};
  }
  void TearDown() override {
    for (const auto& [name, value] : saved_) {
      if (value.has_value()) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
  }
  static void Write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  }
  Result<Credentials> Load(std::string_view profile) {
    return LoadProfileCredentials(files_, profile);
  }
  std::string ErrorOf(std::string_view profile) {
    auto credentials = Load(profile);
    if (credentials.ok()) return "";
    EXPECT_EQ(credentials.error().code, ErrorCode::kCredentials);
    return credentials.error().message;
  }

  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
  std::unique_ptr<testing::TempDir> dir_;
  AwsSharedFiles files_;
};

TEST_F(ProfileCredentialsTest, IniSyntax) {
  auto ini = ParseIni(
      "# comment\n"
      "; another\n"
      "\n"
      "  [ default ]   # trailing comment\n"
      "  AWS_Access_Key_ID   =   AKID  \r\n"
      "aws_secret_access_key=se=cret ; inline comment\n"
      "s3 =\n"
      "  max_concurrent_requests = 20\n"
      "  addressing_style = path\n"
      "region = eu-west-1\n"
      "[profile   dev]\n"
      "key=a#b\n",
      "/x/config");
  ASSERT_TRUE(ini.ok()) << ini.error().message;
  const auto& section = ini->at("default");
  EXPECT_EQ(section.at("aws_access_key_id"), "AKID");
  EXPECT_EQ(section.at("aws_secret_access_key"), "se=cret");
  EXPECT_EQ(section.at("s3"), "");
  EXPECT_EQ(section.count("max_concurrent_requests"), 0U);  // nested under s3, not top level
  EXPECT_EQ(section.at("region"), "eu-west-1");
  EXPECT_EQ(ini->at("profile   dev").at("key"), "a#b");  // '#' without a space before it
}

TEST_F(ProfileCredentialsTest, IniErrorsNameFileAndLineButNotValues) {
  struct Case {
    std::string text, message;
  };
  for (const Case& c : std::vector<Case>{
           {"key = hunter2\n", "/x/credentials: line 1: setting outside any [section]"},
           {"[default\nx=1\n", "/x/credentials: line 1: malformed [section] header"},
           {"[]\n", "/x/credentials: line 1: malformed [section] header"},
           {"[a]\n\nhunter2\n", "/x/credentials: line 3: expected 'key = value'"},
           {"[a]\n= hunter2\n", "/x/credentials: line 2: empty key"}}) {
    auto ini = ParseIni(c.text, "/x/credentials");
    ASSERT_FALSE(ini.ok()) << c.text;
    EXPECT_EQ(ini.error().message, c.message);
    EXPECT_EQ(ini.error().message.find("hunter2"), std::string::npos);
  }
}

TEST_F(ProfileCredentialsTest, ReadsTheCredentialsFile) {
  Write(files_.credentials_file,
        "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s1\n"
        "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = s2\n"
        "aws_session_token = tok\n");
  auto dev = Load("dev");
  ASSERT_TRUE(dev.ok()) << dev.error().message;
  EXPECT_EQ(dev->access_key_id, "AKIDDEV");
  EXPECT_EQ(dev->secret_access_key, "s2");
  EXPECT_EQ(dev->session_token, "tok");
  EXPECT_FALSE(dev->expiration.has_value());
  auto fallback = Load("default");
  ASSERT_TRUE(fallback.ok()) << fallback.error().message;
  EXPECT_EQ(fallback->access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(fallback->session_token, "");
}

TEST_F(ProfileCredentialsTest, ReadsTheConfigFileProfileSections) {
  Write(files_.config_file,
        "[default]\naws_access_key_id = AKIDDEF\naws_secret_access_key = s0\n"
        "[profile dev]\naws_access_key_id = AKIDCFG\naws_secret_access_key = s1\n"
        "[dev]\naws_access_key_id = WRONG\naws_secret_access_key = WRONG\n");
  auto dev = Load("dev");
  ASSERT_TRUE(dev.ok()) << dev.error().message;
  EXPECT_EQ(dev->access_key_id, "AKIDCFG");  // [dev] in the config file is not profile dev
  auto fallback = Load("default");
  ASSERT_TRUE(fallback.ok()) << fallback.error().message;
  EXPECT_EQ(fallback->access_key_id, "AKIDDEF");
}

TEST_F(ProfileCredentialsTest, CredentialsFileWinsOverConfigFile) {
  Write(files_.credentials_file, "[dev]\naws_access_key_id=FROMCREDS\naws_secret_access_key=a\n");
  Write(
      files_.config_file,
      "[profile dev]\naws_access_key_id=FROMCONFIG\naws_secret_access_key=b\nregion=eu-north-1\n");
  auto dev = Load("dev");
  ASSERT_TRUE(dev.ok()) << dev.error().message;
  EXPECT_EQ(dev->access_key_id, "FROMCREDS");
  auto region = LoadProfileRegion(files_, "dev");
  ASSERT_TRUE(region.ok()) << region.error().message;
  EXPECT_EQ(region->value_or(""), "eu-north-1");
  auto no_region = LoadProfileRegion(files_, "other");
  ASSERT_TRUE(no_region.ok());
  EXPECT_FALSE(no_region->has_value());
}

TEST_F(ProfileCredentialsTest, HalfAProfileIsAnErrorSayingWhatIsMissing) {
  Write(files_.credentials_file, "[dev]\naws_access_key_id = AKIDONLY\n");
  EXPECT_EQ(ErrorOf("dev"), "profile 'dev' in " + files_.credentials_file +
                                " has aws_access_key_id but no aws_secret_access_key");
  Write(files_.credentials_file, "[dev]\naws_secret_access_key = hunter2\n");
  const std::string message = ErrorOf("dev");
  EXPECT_NE(message.find("has aws_secret_access_key but no aws_access_key_id"), std::string::npos);
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
}

TEST_F(ProfileCredentialsTest, MissingProfileNamesBothFiles) {
  Write(files_.credentials_file, "[other]\naws_access_key_id=a\naws_secret_access_key=b\n");
  EXPECT_EQ(ErrorOf("dev"), "profile 'dev' not found in " + files_.credentials_file + " or " +
                                files_.config_file + " (does not exist)");
}

TEST_F(ProfileCredentialsTest, ProfilesWithoutKeysSaySoForStaticKeys) {
  Write(files_.config_file,
        "[profile admin]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n");
  EXPECT_EQ(ErrorOf("admin"), "profile 'admin' in " + files_.config_file +
                                  " has no aws_access_key_id and aws_secret_access_key");
}

TEST_F(ProfileCredentialsTest, UnreadableFileIsAnErrorNamingIt) {
  std::filesystem::create_directory(files_.credentials_file);  // a directory: read fails
  const std::string message = ErrorOf("default");
  EXPECT_NE(message.find(files_.credentials_file), std::string::npos) << message;
}

TEST_F(ProfileCredentialsTest, DefaultFilesFromEnvironmentOrHome) {
  setenv("HOME", "/home/tester", 1);
  auto home = DefaultAwsSharedFiles();
  ASSERT_TRUE(home.ok()) << home.error().message;
  EXPECT_EQ(home->credentials_file, "/home/tester/.aws/credentials");
  EXPECT_EQ(home->config_file, "/home/tester/.aws/config");
  setenv("AWS_SHARED_CREDENTIALS_FILE", "~/creds", 1);
  setenv("AWS_CONFIG_FILE", "/etc/aws-config", 1);
  auto env = DefaultAwsSharedFiles();
  ASSERT_TRUE(env.ok()) << env.error().message;
  EXPECT_EQ(env->credentials_file, "/home/tester/creds");
  EXPECT_EQ(env->config_file, "/etc/aws-config");
}

TEST_F(ProfileCredentialsTest, DefaultProfileName) {
  EXPECT_EQ(DefaultProfileName(), "default");
  setenv("AWS_DEFAULT_PROFILE", "legacy", 1);
  EXPECT_EQ(DefaultProfileName(), "legacy");
  setenv("AWS_PROFILE", "dev", 1);
  EXPECT_EQ(DefaultProfileName(), "dev");
}

TEST_F(ProfileCredentialsTest, ProviderKeepsKeysOnceLoadedButRetriesFailures) {
  ProfileCredentialsProvider provider(files_, "dev");
  EXPECT_FALSE(provider.GetCredentials().ok());  // no files yet
  Write(files_.credentials_file, "[dev]\naws_access_key_id=AKID\naws_secret_access_key=s\n");
  auto first = provider.GetCredentials();
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->access_key_id, "AKID");
  std::filesystem::remove(files_.credentials_file);
  auto again = provider.GetCredentials();
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->access_key_id, "AKID");
}

TEST_F(ProfileCredentialsTest, ProviderUsesNewKeysWhenTheFileIsRewritten) {
  ProfileCredentialsProvider provider(files_, "dev");
  Write(files_.credentials_file, "[dev]\naws_access_key_id=OLD\naws_secret_access_key=s\n");
  ASSERT_EQ(provider.GetCredentials()->access_key_id, "OLD");
  // Rewritten as rotation tools do: a new file renamed over the old one.
  const std::string next = files_.credentials_file + ".new";
  Write(next, "[dev]\naws_access_key_id=NEW\naws_secret_access_key=s2\n");
  std::filesystem::rename(next, files_.credentials_file);
  auto rotated = provider.GetCredentials();
  ASSERT_TRUE(rotated.ok()) << rotated.error().message;
  EXPECT_EQ(rotated->access_key_id, "NEW") << "the next request must use the new keys";
  EXPECT_EQ(rotated->secret_access_key, "s2");
  // A broken rewrite keeps the last good keys.
  Write(files_.credentials_file, "[other]\naws_access_key_id=X\naws_secret_access_key=y\n");
  auto kept = provider.GetCredentials();
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->access_key_id, "NEW");
}

}  // namespace
}  // namespace s3mount
