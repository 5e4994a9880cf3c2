// Tests for secret redaction and logging set-up.
#include "s3mount/common/logging.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>

namespace s3mount {
namespace {

TEST(RedactSecretsTest, PresignedUrlLosesSignatureAndToken) {
  const std::string url =
      "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F"
      "20130524&X-Amz-Security-Token=FQoGZXIvYXdzEJr&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d"
      "86835f995330da4c265957d157751f604d404";
  const std::string redacted = RedactSecrets(url);
  EXPECT_EQ(redacted.find("FQoGZXIvYXdzEJr"), std::string::npos) << redacted;
  EXPECT_EQ(redacted.find("aeeed9bb"), std::string::npos) << redacted;
  EXPECT_NE(redacted.find("X-Amz-Credential=AKIA"), std::string::npos) << redacted;
}

TEST(RedactSecretsTest, AuthorizationHeaderAndTokenHeader) {
  const std::string header =
      "Authorization: AWS4-HMAC-SHA256 Credential=AKIA/20130524/us-east-1/s3/aws4_request, "
      "SignedHeaders=host;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed31\n"
      "X-Amz-Security-Token: sessiontokenvalue\n";
  const std::string redacted = RedactSecrets(header);
  EXPECT_EQ(redacted.find("f0e8bdb87c"), std::string::npos) << redacted;
  EXPECT_EQ(redacted.find("sessiontokenvalue"), std::string::npos) << redacted;
  EXPECT_NE(redacted.find("SignedHeaders=host;x-amz-date"), std::string::npos) << redacted;
}

TEST(RedactSecretsTest, CredentialFilesAndJson) {
  EXPECT_EQ(RedactSecrets("aws_secret_access_key=wJalrXUtnFEMI\nregion=x"),
            "aws_secret_access_key=***\nregion=x");
  EXPECT_EQ(RedactSecrets(R"({"SecretAccessKey":"wJalr","AccessKeyId":"AKIA"})"),
            R"({"SecretAccessKey":"***","AccessKeyId":"AKIA"})");
}

TEST(RedactSecretsTest, RedisUrlPasswords) {
  EXPECT_EQ(RedactSecrets("cannot connect to redis://:hunter2@cache:6379/1: refused"),
            "cannot connect to redis://:***@cache:6379/1: refused");
  EXPECT_EQ(RedactSecrets("redis_url=redis://user:pw@host,redis_list=x"),
            "redis_url=redis://user:***@host,redis_list=x");
  EXPECT_EQ(RedactSecrets("redis://host:6379/0"), "redis://host:6379/0");
}

TEST(LoggingTest, UnknownLevelIsAnError) {
  Status status = ConfigureLogging({.level = "loud"});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("loud"), std::string::npos);
}

TEST(ScrubSecretsTest, KnownSecretsRedactionAndLengthCap) {
  const std::array<std::string_view, 3> secrets = {"wJalrXUtnFEMI", "TOKEN-123456", "abc"};
  const std::string scrubbed = ScrubSecrets(
      "key wJalrXUtnFEMI and TOKEN-123456 twice TOKEN-123456; abc stays; X-Amz-Signature=f00d",
      secrets, 1000);
  EXPECT_EQ(scrubbed, "key *** and *** twice ***; abc stays; X-Amz-Signature=***");
  const std::string capped = ScrubSecrets(std::string(50, 'x'), secrets, 10);
  EXPECT_EQ(capped, std::string(10, 'x') + "...");
}

}  // namespace
}  // namespace s3mount
