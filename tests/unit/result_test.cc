// Tests for Result/Status and Error formatting.
#include "s3mount/common/result.h"

#include <gtest/gtest.h>

#include <memory>

namespace s3mount {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return MakeError(ErrorCode::kInvalidArgument, "odd");
  return x / 2;
}

Status Chain(int x, int* out) {
  auto half = Half(x);
  S3M_RETURN_IF_ERROR(half);
  *out = *half;
  return OkStatus();
}

TEST(ResultTest, HoldsValueOrError) {
  auto ok = Half(4);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 2);
  auto bad = Half(3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

TEST(ResultTest, ReturnIfErrorPropagates) {
  int out = 0;
  EXPECT_TRUE(Chain(8, &out).ok());
  EXPECT_EQ(out, 4);
  Status status = Chain(7, &out);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message, "odd");
}

TEST(ResultTest, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(5));
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 5);
}

TEST(ErrorTest, ToStringNamesCodeStatusAndRequestId) {
  Error e;
  e.code = ErrorCode::kSignatureDoesNotMatch;
  e.s3_code = "SignatureDoesNotMatch";
  e.http_status = 403;
  e.message = "The request signature we calculated does not match";
  e.request_id = "REQ123";
  EXPECT_EQ(e.ToString(),
            "SignatureDoesNotMatch (HTTP 403): The request signature we calculated does not "
            "match [request id REQ123]");
  EXPECT_EQ(MakeError(ErrorCode::kTimeout, "stalled").ToString(), "Timeout: stalled");
}

TEST(ErrorTest, TransientClassification) {
  EXPECT_TRUE(IsTransient(ErrorCode::kSlowDown));
  EXPECT_TRUE(IsTransient(ErrorCode::kTruncatedBody));
  EXPECT_FALSE(IsTransient(ErrorCode::kNotFound));
  EXPECT_FALSE(IsTransient(ErrorCode::kSignatureDoesNotMatch));
}

}  // namespace
}  // namespace s3mount
