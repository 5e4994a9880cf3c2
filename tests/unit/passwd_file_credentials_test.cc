// Tests for s3fs-style passwd files: line formats, which line wins, the permission check and
// messages that never carry a key or secret. Files live in a temporary directory.
#include "s3mount/auth/passwd_file_credentials.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "tests/support/subprocess.h"

namespace s3mount {
namespace {

Credentials MustParse(std::string_view contents, std::string_view bucket = "photos") {
  auto credentials = ParsePasswdFile(contents, bucket, "/etc/passwd-s3mount");
  EXPECT_TRUE(credentials.ok()) << credentials.error().message;
  return credentials.ok() ? std::move(credentials).value() : Credentials{};
}

std::string ErrorOf(std::string_view contents, std::string_view bucket = "photos") {
  auto credentials = ParsePasswdFile(contents, bucket, "/etc/passwd-s3mount");
  if (credentials.ok()) return "";
  EXPECT_EQ(credentials.error().code, ErrorCode::kCredentials);
  return credentials.error().message;
}

TEST(PasswdFileTest, AnyBucketLine) {
  Credentials c = MustParse("AKIDANY:secretany\n");
  EXPECT_EQ(c.access_key_id, "AKIDANY");
  EXPECT_EQ(c.secret_access_key, "secretany");
  EXPECT_EQ(c.session_token, "");
}

TEST(PasswdFileTest, BucketLineWinsWhereverItIs) {
  EXPECT_EQ(MustParse("AKIDANY:s1\nphotos:AKIDPHOTOS:s2\n").access_key_id, "AKIDPHOTOS");
  EXPECT_EQ(MustParse("photos:AKIDPHOTOS:s2\nAKIDANY:s1\n").access_key_id, "AKIDPHOTOS");
  EXPECT_EQ(MustParse("other:AKIDOTHER:s3\nAKIDANY:s1\n").access_key_id, "AKIDANY");
  EXPECT_EQ(MustParse("photos:AKIDPHOTOS:s2\n").secret_access_key, "s2");
}

TEST(PasswdFileTest, CommentsBlankLinesAndCrLf) {
  Credentials c = MustParse("# keys for the photo bucket\r\n\r\n   \n  photos:AKID:sec  \r\n");
  EXPECT_EQ(c.access_key_id, "AKID");
  EXPECT_EQ(c.secret_access_key, "sec");
}

TEST(PasswdFileTest, AwsFormat) {
  Credentials c =
      MustParse("AWSAccessKeyId=AKIDAWS\nAWSSecretKey=secretaws\nAWSSessionToken=tok\n");
  EXPECT_EQ(c.access_key_id, "AKIDAWS");
  EXPECT_EQ(c.secret_access_key, "secretaws");
  EXPECT_EQ(c.session_token, "tok");
  EXPECT_EQ(ErrorOf("AWSAccessKeyId=AKIDAWS\n"),
            "/etc/passwd-s3mount has AWSAccessKeyId but no AWSSecretKey");
}

TEST(PasswdFileTest, MalformedLinesNameTheLineButNotTheSecret) {
  struct Case {
    std::string contents, message;
  };
  for (const Case& c : std::vector<Case>{
           {"#\nAKID:hunter2:x:y\n",
            "/etc/passwd-s3mount: line 2: expected ACCESS_KEY:SECRET or BUCKET:ACCESS_KEY:SECRET"},
           {"hunter2\n",
            "/etc/passwd-s3mount: line 1: expected ACCESS_KEY:SECRET or BUCKET:ACCESS_KEY:SECRET"},
           {"AKID:\n", "/etc/passwd-s3mount: line 1: empty field"},
           {"photos::hunter2\n", "/etc/passwd-s3mount: line 1: empty field"},
           {"AKID: hunter2\n", "/etc/passwd-s3mount: line 1: holds whitespace"},
           {"[default]\n",
            "/etc/passwd-s3mount: line 1: holds a [section]: this is not an AWS "
            "credentials file"},
           {"A:hunter2\nB:hunter2\n",
            "/etc/passwd-s3mount: line 2: repeats the any-bucket line of line 1"},
           {"photos:A:hunter2\n\nphotos:B:hunter2\n",
            "/etc/passwd-s3mount: line 3: repeats the line for this bucket of line 1"}}) {
    EXPECT_EQ(ErrorOf(c.contents), c.message) << c.contents;
  }
}

TEST(PasswdFileTest, NoUsableLineSaysForWhichBucket) {
  EXPECT_EQ(ErrorOf("other:AKID:hunter2\n# nothing else\n"),
            "/etc/passwd-s3mount has no line for bucket 'photos' and no ACCESS_KEY:SECRET line "
            "for any bucket");
  EXPECT_NE(ErrorOf("").find("no line for bucket 'photos'"), std::string::npos);
}

class PasswdFileLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = testing::TempDir::Create("s3mount-passwd-test");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    dir_ = std::move(dir).value();
    path_ = dir_->File("passwd");
  }
  void Write(const std::string& text, mode_t mode) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << text;
    ASSERT_EQ(chmod(path_.c_str(), mode), 0);
  }

  std::unique_ptr<testing::TempDir> dir_;
  std::string path_;
};

TEST_F(PasswdFileLoadTest, PrivateFileIsRead) {
  Write("photos:AKID:secret\n", 0600);
  auto credentials = LoadPasswdFile(path_, "photos");
  ASSERT_TRUE(credentials.ok()) << credentials.error().message;
  EXPECT_EQ(credentials->access_key_id, "AKID");
  Write("AKID2:secret\n", 0400);
  EXPECT_TRUE(LoadPasswdFile(path_, "photos").ok());
}

TEST_F(PasswdFileLoadTest, FileOthersOrGroupMayAccessIsRefused) {
  for (mode_t mode : {0640, 0604, 0660, 0602, 0610}) {
    Write("AKID:hunter2\n", mode);
    auto credentials = LoadPasswdFile(path_, "photos");
    ASSERT_FALSE(credentials.ok()) << std::oct << mode;
    EXPECT_EQ(credentials.error().code, ErrorCode::kCredentials);
    const std::string& message = credentials.error().message;
    EXPECT_NE(message.find("passwd file " + path_ + " may be accessed by its group or others"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("chmod 600"), std::string::npos) << message;
    EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  }
}

TEST_F(PasswdFileLoadTest, MissingFileOrDirectoryIsNamed) {
  auto missing = LoadPasswdFile(path_, "photos");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("cannot open passwd file " + path_), std::string::npos);
  ASSERT_EQ(chmod(dir_->path().c_str(), 0700), 0);
  auto directory = LoadPasswdFile(dir_->path(), "photos");
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.error().message, "passwd file " + dir_->path() + " is not a file");
}

TEST_F(PasswdFileLoadTest, ProviderKeepsKeysOnceLoadedButRetriesFailures) {
  PasswdFileCredentialsProvider provider(path_, "photos");
  EXPECT_FALSE(provider.GetCredentials().ok());
  Write("AKID:secret\n", 0600);
  auto first = provider.GetCredentials();
  ASSERT_TRUE(first.ok()) << first.error().message;
  std::filesystem::remove(path_);
  auto again = provider.GetCredentials();
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->access_key_id, "AKID");
}

}  // namespace
}  // namespace s3mount
