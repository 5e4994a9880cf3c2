// Tests for the AWS error-code table (aws/error_codes.h) that S3 and SQS share.
#include "s3mount/aws/error_codes.h"

#include <gtest/gtest.h>

namespace s3mount {
namespace {

TEST(ErrorCodesTest, S3AndSqsCodesMapThroughTheOneTable) {
  EXPECT_EQ(ErrorCodeFromAwsCode("NoSuchKey"), ErrorCode::kNotFound);
  EXPECT_EQ(ErrorCodeFromAwsCode("QueueDoesNotExist"), ErrorCode::kNotFound);
  EXPECT_EQ(ErrorCodeFromAwsCode("SlowDown"), ErrorCode::kSlowDown);
  EXPECT_EQ(ErrorCodeFromAwsCode("RequestThrottled"), ErrorCode::kSlowDown);
  EXPECT_EQ(ErrorCodeFromAwsCode("InvalidClientTokenId"), ErrorCode::kInvalidAccessKeyId);
  EXPECT_EQ(ErrorCodeFromAwsCode("AuthorizationHeaderMalformed"), ErrorCode::kWrongRegion);
  EXPECT_EQ(ErrorCodeFromAwsCode("InternalFailure"), ErrorCode::kInternalError);
}

TEST(ErrorCodesTest, UnknownCodesAreLeftToTheServiceFallback) {
  EXPECT_EQ(ErrorCodeFromAwsCode(""), std::nullopt);
  EXPECT_EQ(ErrorCodeFromAwsCode("NoSuchThing"), std::nullopt);
  EXPECT_EQ(ErrorCodeFromAwsCode("nosuchkey"), std::nullopt);  // case-sensitive, as AWS sends
}

}  // namespace
}  // namespace s3mount
