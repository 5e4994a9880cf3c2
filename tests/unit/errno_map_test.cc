// Tests for ErrnoOf (s3mount/fs/errno_map.h): every ErrorCode maps to a positive errno, and the
// mappings users depend on are the documented ones (docs/SEMANTICS.md).
#include "s3mount/fs/errno_map.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <string>

namespace s3mount {
namespace {

// The decision for every code, in enum order. A new ErrorCode fails AllCodesAreInTheTable
// until it is added here (and ErrnoOfCode will not compile without a case for it).
const std::map<ErrorCode, int>& ExpectedErrnos() {
  static const auto* const kTable = new std::map<ErrorCode, int>{
      {ErrorCode::kInvalidArgument, EINVAL},
      {ErrorCode::kCredentials, EACCES},
      {ErrorCode::kCancelled, EINTR},
      {ErrorCode::kNetwork, EIO},
      {ErrorCode::kHostNotFound, EIO},
      {ErrorCode::kTls, EIO},
      {ErrorCode::kTimeout, EIO},
      {ErrorCode::kTruncatedBody, EIO},
      {ErrorCode::kInvalidResponse, EIO},
      {ErrorCode::kChecksumMismatch, EIO},
      {ErrorCode::kNotFound, ENOENT},
      {ErrorCode::kNoSuchBucket, ENOENT},
      {ErrorCode::kNoSuchUpload, EIO},
      {ErrorCode::kAccessDenied, EACCES},
      {ErrorCode::kInvalidAccessKeyId, EACCES},
      {ErrorCode::kSignatureDoesNotMatch, EACCES},
      {ErrorCode::kExpiredToken, EACCES},
      {ErrorCode::kRequestTimeTooSkewed, EACCES},
      {ErrorCode::kPreconditionFailed, ESTALE},
      {ErrorCode::kNotModified, EIO},
      {ErrorCode::kConflict, EBUSY},
      {ErrorCode::kInvalidRange, EIO},
      {ErrorCode::kInvalidPart, EIO},
      {ErrorCode::kEntityTooLarge, EFBIG},
      {ErrorCode::kSlowDown, EIO},
      {ErrorCode::kServiceUnavailable, EIO},
      {ErrorCode::kInternalError, EIO},
      {ErrorCode::kRequestTimeout, EIO},
      {ErrorCode::kWrongRegion, EIO},
      {ErrorCode::kBadRequest, EINVAL},
      {ErrorCode::kNotImplemented, ENOTSUP},
      {ErrorCode::kUnknown, EIO},
      {ErrorCode::kReadOnly, EROFS},
      {ErrorCode::kIsDirectory, EISDIR},
      {ErrorCode::kNotDirectory, ENOTDIR},
      {ErrorCode::kNotEmpty, ENOTEMPTY},
      {ErrorCode::kAlreadyExists, EEXIST},
      {ErrorCode::kNameTooLong, ENAMETOOLONG},
      {ErrorCode::kStale, ESTALE},
      {ErrorCode::kNoSpace, ENOSPC},
      {ErrorCode::kNotSupported, ENOTSUP},
      {ErrorCode::kNotPermitted, EPERM},
      {ErrorCode::kNoData, ENODATA},
  };
  return *kTable;
}

std::string Describe(ErrorCode code) { return std::string(ErrorCodeName(code)); }

TEST(ErrnoMapTest, EveryCodeMapsToItsDocumentedPositiveErrno) {
  for (const auto& [code, expected] : ExpectedErrnos()) {
    const int actual = ErrnoOf(MakeError(code, "x"));
    EXPECT_GT(actual, 0) << Describe(code);
    EXPECT_EQ(actual, expected) << Describe(code) << " gave " << std::strerror(actual)
                                << ", expected " << std::strerror(expected);
    EXPECT_EQ(ErrnoOfCode(code), actual) << Describe(code);
  }
}

// Walks the enum's integer values: every value ErrorCodeName knows (and kUnknown) must be in
// the table above, so a code added anywhere in the enum is noticed here too.
TEST(ErrnoMapTest, AllCodesAreInTheTable) {
  int known = 0;
  for (int i = 0; i < 256; ++i) {
    const auto code = static_cast<ErrorCode>(i);
    if (ErrorCodeName(code) == "Unknown" && code != ErrorCode::kUnknown) continue;
    ++known;
    EXPECT_TRUE(ExpectedErrnos().contains(code))
        << "ErrorCode " << i << " (" << Describe(code) << ") has no expected errno in this test";
  }
  EXPECT_EQ(known, static_cast<int>(ExpectedErrnos().size()));
}

TEST(ErrnoMapTest, TheMappingsToolsDependOn) {
  EXPECT_EQ(ErrnoOf(MakeError(ErrorCode::kNotFound, "NoSuchKey")), ENOENT);
  EXPECT_EQ(ErrnoOf(MakeError(ErrorCode::kAccessDenied, "403")), EACCES);
  EXPECT_EQ(ErrnoOf(MakeError(ErrorCode::kExpiredToken, "old")), EACCES);
  EXPECT_NE(ErrnoOf(MakeError(ErrorCode::kAccessDenied, "403")), EPERM);
  EXPECT_EQ(ErrnoOf(MakeError(ErrorCode::kPreconditionFailed, "412")), ESTALE);
  EXPECT_EQ(ErrnoOf(MakeError(ErrorCode::kTimeout, "stalled")), EIO);
  EXPECT_EQ(ErrnoOf(MakeError(ErrorCode::kSlowDown, "throttled")), EIO);
  EXPECT_EQ(ErrnoOf(MakeError(ErrorCode::kEntityTooLarge, "5 TiB")), EFBIG);
  EXPECT_EQ(ErrnoOf(MakeError(ErrorCode::kCancelled, "interrupted")), EINTR);
  EXPECT_EQ(ErrnoOf(MakeError(ErrorCode::kNotImplemented, "501")), ENOTSUP);
}

TEST(ErrnoMapTest, DependsOnTheCodeOnly) {
  Error error = MakeError(ErrorCode::kNotFound, "message");
  error.http_status = 500;
  error.s3_code = "InternalError";
  EXPECT_EQ(ErrnoOf(error), ENOENT);
}

TEST(ErrnoMapTest, ValueOutsideTheEnumIsEio) {
  EXPECT_EQ(ErrnoOfCode(static_cast<ErrorCode>(9999)), EIO);
}

}  // namespace
}  // namespace s3mount
