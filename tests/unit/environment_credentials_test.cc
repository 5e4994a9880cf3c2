// Tests for EnvironmentCredentialsProvider.
#include "s3mount/auth/environment_credentials.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace s3mount {
namespace {

class EnvironmentCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override { Clear(); }
  void TearDown() override { Clear(); }
  static void Clear() {
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
  }
  EnvironmentCredentialsProvider provider_;
};

TEST_F(EnvironmentCredentialsTest, ReadsKeysAndToken) {
  setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
  setenv("AWS_SESSION_TOKEN", "token", 1);
  auto credentials = provider_.GetCredentials();
  ASSERT_TRUE(credentials.ok()) << credentials.error().ToString();
  EXPECT_EQ(credentials->access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(credentials->secret_access_key, "secret");
  EXPECT_EQ(credentials->session_token, "token");
}

TEST_F(EnvironmentCredentialsTest, MissingOrHalfSetIsAnErrorSayingWhat) {
  auto none = provider_.GetCredentials();
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kCredentials);
  setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
  auto half = provider_.GetCredentials();
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.error().message.find("AWS_SECRET_ACCESS_KEY is not"), std::string::npos);
}

}  // namespace
}  // namespace s3mount
