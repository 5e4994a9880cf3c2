// Tests for mapping S3 error replies to ErrorCode values (src/s3/s3_error.h), with bodies in
// the shapes of the S3 API reference and moto 5.2.1's actual replies.
#include "s3/s3_error.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace s3mount {
namespace {

// moto 5.2.1, GET of a missing key (x-amzn-requestid header had the same id).
constexpr std::string_view kMotoNoSuchKey =
    R"(<?xml version="1.0" encoding="utf-8"?>
<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>nope</Key><RequestId>gCEXgG4ZVK6w3xvk9dNnRlLuYPQm54BHvDR4AM0ODMwt2aDsqajO</RequestId><HostId>9Gjjt1m+cjU4OPvX9O9/8RuvnG41MRb/18Oux2o5H5MY7ISNTlXN+Dz9IG62/ILVxhAGI0qyPfg=</HostId></Error>)";

// moto 5.2.1, ranged GET past the end: its RequestId is a placeholder.
constexpr std::string_view kMotoInvalidRange =
    R"(<?xml version="1.0" encoding="utf-8"?>
<Error><Code>InvalidRange</Code><Message>The requested range is not satisfiable</Message><ActualObjectSize>5</ActualObjectSize><RangeRequested>bytes=100-200</RangeRequested><RequestId>request-id</RequestId><HostId>9Gjjt1m+cjU4OPvX9O9/8RuvnG41MRb/18Oux2o5H5MY7ISNTlXN+Dz9IG62/ILVxhAGI0qyPfg=</HostId></Error>)";

// moto 5.2.1's 500 page (Werkzeug), e.g. for a CompleteMultipartUpload it choked on.
constexpr std::string_view kMotoHtml500 =
    "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
    "<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was "
    "unable to complete your request. Either the server is overloaded or there is an error in "
    "the application.</p>\n";

// The S3 API reference's error example, pretty-printed as in the docs.
constexpr std::string_view kAwsDocNoSuchKey = R"(<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>NoSuchKey</Code>
  <Message>The resource you requested does not exist</Message>
  <Resource>/mybucket/myfoto.jpg</Resource>
  <RequestId>4442587FB7D0A2F9</RequestId>
</Error>)";

constexpr std::string_view kAuthHeaderMalformed =
    R"(<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AuthorizationHeaderMalformed</Code><Message>The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'</Message><Region>eu-west-1</Region><RequestId>KX8R6TS0MZ7T2M8H</RequestId><HostId>hZ8z0b2p6d0sYv3mQ5v8s+V4kO5m3yZ1r1m4gqj0XbQ=</HostId></Error>)";

std::string PermanentRedirect(std::string_view endpoint) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.</Message><Endpoint>)" +
         std::string(endpoint) +
         "</Endpoint><Bucket>mybucket</Bucket><RequestId>0JZ0HEP3QW5VVJ5E</RequestId>"
         "<HostId>abc=</HostId></Error>";
}

std::string ErrorBody(std::string_view code) {
  return "<Error><Code>" + std::string(code) + "</Code><Message>m</Message></Error>";
}

TEST(ErrorCodeFromS3CodeTest, KnownCodes) {
  const std::vector<std::pair<std::string_view, ErrorCode>> table = {
      {"NoSuchKey", ErrorCode::kNotFound},
      {"NoSuchBucket", ErrorCode::kNoSuchBucket},
      {"NoSuchUpload", ErrorCode::kNoSuchUpload},
      {"AccessDenied", ErrorCode::kAccessDenied},
      {"AllAccessDisabled", ErrorCode::kAccessDenied},
      {"AccountProblem", ErrorCode::kAccessDenied},
      {"InvalidAccessKeyId", ErrorCode::kInvalidAccessKeyId},
      {"SignatureDoesNotMatch", ErrorCode::kSignatureDoesNotMatch},
      {"ExpiredToken", ErrorCode::kExpiredToken},
      {"InvalidToken", ErrorCode::kExpiredToken},
      {"TokenRefreshRequired", ErrorCode::kExpiredToken},
      {"RequestTimeTooSkewed", ErrorCode::kRequestTimeTooSkewed},
      {"PreconditionFailed", ErrorCode::kPreconditionFailed},
      {"OperationAborted", ErrorCode::kConflict},
      {"ConditionalRequestConflict", ErrorCode::kConflict},
      {"InvalidRange", ErrorCode::kInvalidRange},
      {"InvalidPart", ErrorCode::kInvalidPart},
      {"InvalidPartOrder", ErrorCode::kInvalidPart},
      {"EntityTooSmall", ErrorCode::kInvalidPart},
      {"EntityTooLarge", ErrorCode::kEntityTooLarge},
      {"SlowDown", ErrorCode::kSlowDown},
      {"ThrottlingException", ErrorCode::kSlowDown},
      {"Throttling", ErrorCode::kSlowDown},
      {"RequestLimitExceeded", ErrorCode::kSlowDown},
      {"ServiceUnavailable", ErrorCode::kServiceUnavailable},
      {"InternalError", ErrorCode::kInternalError},
      {"RequestTimeout", ErrorCode::kRequestTimeout},
      {"PermanentRedirect", ErrorCode::kWrongRegion},
      {"TemporaryRedirect", ErrorCode::kWrongRegion},
      {"Redirect", ErrorCode::kWrongRegion},
      {"AuthorizationHeaderMalformed", ErrorCode::kWrongRegion},
      {"IllegalLocationConstraintException", ErrorCode::kWrongRegion},
      {"NotImplemented", ErrorCode::kNotImplemented},
  };
  for (const auto& [s3_code, expected] : table) {
    // The code decides, whatever the status (S3 may send some of these with HTTP 200).
    for (const int status : {200, 400, 403, 404, 500, 503}) {
      EXPECT_EQ(ErrorCodeFromS3Code(s3_code, status), expected)
          << s3_code << " with HTTP " << status << " gave "
          << ErrorCodeName(ErrorCodeFromS3Code(s3_code, status));
    }
  }
}

TEST(ErrorCodeFromS3CodeTest, UnknownCodesFollowTheStatusClass) {
  EXPECT_EQ(ErrorCodeFromS3Code("InvalidArgument", 400), ErrorCode::kBadRequest);
  EXPECT_EQ(ErrorCodeFromS3Code("BucketNotEmpty", 409), ErrorCode::kBadRequest);
  EXPECT_EQ(ErrorCodeFromS3Code("MethodNotAllowed", 405), ErrorCode::kBadRequest);
  EXPECT_EQ(ErrorCodeFromS3Code("InvalidObjectState", 403), ErrorCode::kBadRequest);
  EXPECT_EQ(ErrorCodeFromS3Code("InternalFailure", 500), ErrorCode::kInternalError);
  EXPECT_EQ(ErrorCodeFromS3Code("Overloaded", 503), ErrorCode::kServiceUnavailable);
  EXPECT_EQ(ErrorCodeFromS3Code("GatewayOops", 502), ErrorCode::kServiceUnavailable);
  EXPECT_EQ(ErrorCodeFromS3Code("Weird", 507), ErrorCode::kUnknown);
  EXPECT_EQ(ErrorCodeFromS3Code("Weird", 200), ErrorCode::kUnknown);
  EXPECT_EQ(ErrorCodeFromS3Code("Weird", 0), ErrorCode::kUnknown);
  // Codes are case-sensitive, as S3 sends them.
  EXPECT_EQ(ErrorCodeFromS3Code("nosuchkey", 404), ErrorCode::kBadRequest);
  // No code at all: the status decides.
  EXPECT_EQ(ErrorCodeFromS3Code("", 404), ErrorCode::kNotFound);
  EXPECT_EQ(ErrorCodeFromS3Code("", 503), ErrorCode::kSlowDown);
}

TEST(ErrorCodeFromHttpStatusTest, StatusTable) {
  const std::vector<std::pair<int, ErrorCode>> table = {
      {301, ErrorCode::kWrongRegion},    {307, ErrorCode::kWrongRegion},
      {304, ErrorCode::kNotModified},    {400, ErrorCode::kBadRequest},
      {403, ErrorCode::kAccessDenied},   {404, ErrorCode::kNotFound},
      {409, ErrorCode::kConflict},       {412, ErrorCode::kPreconditionFailed},
      {416, ErrorCode::kInvalidRange},   {429, ErrorCode::kSlowDown},
      {405, ErrorCode::kBadRequest},     {411, ErrorCode::kBadRequest},
      {499, ErrorCode::kBadRequest},     {500, ErrorCode::kInternalError},
      {501, ErrorCode::kNotImplemented}, {502, ErrorCode::kServiceUnavailable},
      {503, ErrorCode::kSlowDown},       {504, ErrorCode::kServiceUnavailable},
      {505, ErrorCode::kUnknown},        {599, ErrorCode::kUnknown},
      {200, ErrorCode::kUnknown},        {302, ErrorCode::kUnknown},
      {0, ErrorCode::kUnknown},          {-1, ErrorCode::kUnknown},
  };
  for (const auto& [status, expected] : table) {
    EXPECT_EQ(ErrorCodeFromHttpStatus(status), expected)
        << "HTTP " << status << " gave " << ErrorCodeName(ErrorCodeFromHttpStatus(status));
  }
}

TEST(ErrorFromResponseTest, MotoNoSuchKey) {
  const Error error = ErrorFromResponse(404, kMotoNoSuchKey, "header-id", false);
  EXPECT_EQ(error.code, ErrorCode::kNotFound);
  EXPECT_EQ(error.s3_code, "NoSuchKey");
  EXPECT_EQ(error.message, "The specified key does not exist.");
  // The body's RequestId wins over the header's.
  EXPECT_EQ(error.request_id, "gCEXgG4ZVK6w3xvk9dNnRlLuYPQm54BHvDR4AM0ODMwt2aDsqajO");
  EXPECT_EQ(error.http_status, 404);
}

TEST(ErrorFromResponseTest, PrettyPrintedAwsDocExampleIsTrimmed) {
  const Error error = ErrorFromResponse(404, kAwsDocNoSuchKey, "", false);
  EXPECT_EQ(error.code, ErrorCode::kNotFound);
  EXPECT_EQ(error.s3_code, "NoSuchKey");
  EXPECT_EQ(error.message, "The resource you requested does not exist");
  EXPECT_EQ(error.request_id, "4442587FB7D0A2F9");
  EXPECT_EQ(error.ToString(),
            "NoSuchKey (HTTP 404): The resource you requested does not exist [request id "
            "4442587FB7D0A2F9]");
}

TEST(ErrorFromResponseTest, HeaderRequestIdWhenBodyHasNone) {
  const Error error = ErrorFromResponse(
      403, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>", "HDRID123",
      false);
  EXPECT_EQ(error.code, ErrorCode::kAccessDenied);
  EXPECT_EQ(error.request_id, "HDRID123");
  const Error empty_id = ErrorFromResponse(
      403, "<Error><Code>AccessDenied</Code><RequestId> </RequestId></Error>", "HDR", false);
  EXPECT_EQ(empty_id.request_id, "HDR");
}

TEST(ErrorFromResponseTest, MotoInvalidRangeAndNamespacedBodies) {
  EXPECT_EQ(ErrorFromResponse(416, kMotoInvalidRange, "", false).code, ErrorCode::kInvalidRange);
  const Error namespaced = ErrorFromResponse(
      503,
      R"(<Error xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>)",
      "", false);
  EXPECT_EQ(namespaced.code, ErrorCode::kSlowDown);
  EXPECT_EQ(namespaced.message, "Please reduce your request rate.");
  EXPECT_TRUE(IsTransient(namespaced.code));
}

TEST(ErrorFromResponseTest, CodeBeatsStatus) {
  // A 400 that is really a clock problem, a 403 that is an expired session token.
  EXPECT_EQ(ErrorFromResponse(403, ErrorBody("RequestTimeTooSkewed"), "", false).code,
            ErrorCode::kRequestTimeTooSkewed);
  EXPECT_EQ(ErrorFromResponse(400, ErrorBody("ExpiredToken"), "", false).code,
            ErrorCode::kExpiredToken);
  EXPECT_EQ(ErrorFromResponse(400, ErrorBody("RequestTimeout"), "", false).code,
            ErrorCode::kRequestTimeout);
  EXPECT_EQ(ErrorFromResponse(404, ErrorBody("NoSuchBucket"), "", false).code,
            ErrorCode::kNoSuchBucket);
  EXPECT_EQ(ErrorFromResponse(503, ErrorBody("ServiceUnavailable"), "", false).code,
            ErrorCode::kServiceUnavailable);
}

TEST(ErrorFromResponseTest, ErrorInsideA200Reply) {
  // CompleteMultipartUpload / CopyObject may fail after sending 200 OK.
  const Error error = ErrorFromResponse(
      200,
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n<Error><Code>InternalError</Code>"
      "<Message>We encountered an internal error. Please try again.</Message>"
      "<RequestId>656c76696e6727732072657175657374</RequestId>"
      "<HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId></Error>",
      "", false);
  EXPECT_EQ(error.code, ErrorCode::kInternalError);
  EXPECT_TRUE(IsTransient(error.code));
  EXPECT_EQ(error.http_status, 200);
  EXPECT_EQ(error.request_id, "656c76696e6727732072657175657374");
}

TEST(ErrorFromResponseTest, HeadAndEmptyBodiesMapByStatus) {
  for (const int status : {304, 400, 403, 404, 409, 412, 416, 500, 501, 502, 503, 504, 599}) {
    const Error head = ErrorFromResponse(status, "", "HEADID", true);
    EXPECT_EQ(head.code, ErrorCodeFromHttpStatus(status)) << status;
    EXPECT_EQ(head.http_status, status);
    EXPECT_EQ(head.request_id, "HEADID");
    EXPECT_TRUE(head.s3_code.empty());
    EXPECT_FALSE(head.message.empty());
    const Error empty = ErrorFromResponse(status, " \r\n", "", false);
    EXPECT_EQ(empty.code, ErrorCodeFromHttpStatus(status)) << status;
  }
  EXPECT_EQ(ErrorFromResponse(404, "", "", true).code, ErrorCode::kNotFound);
  EXPECT_EQ(ErrorFromResponse(403, "", "", true).code, ErrorCode::kAccessDenied);
  EXPECT_EQ(ErrorFromResponse(304, "", "", false).code, ErrorCode::kNotModified);
  // HEAD ignores whatever body there is.
  const Error head = ErrorFromResponse(404, kMotoNoSuchKey, "H", true);
  EXPECT_EQ(head.code, ErrorCode::kNotFound);
  EXPECT_TRUE(head.s3_code.empty());
  EXPECT_EQ(head.request_id, "H");
  EXPECT_NE(head.message.find("HEAD"), std::string::npos) << head.message;
}

TEST(ErrorFromResponseTest, NonXmlBodyMapsByStatusAndQuotesTheBody) {
  const Error error = ErrorFromResponse(500, kMotoHtml500, "REQ", false);
  EXPECT_EQ(error.code, ErrorCode::kInternalError);
  EXPECT_EQ(error.http_status, 500);
  EXPECT_EQ(error.request_id, "REQ");
  EXPECT_TRUE(error.s3_code.empty());
  EXPECT_NE(error.message.find("not XML"), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("<title>500 Internal Server Error</title>"), std::string::npos)
      << error.message;
  EXPECT_EQ(error.message.find('\n'), std::string::npos) << "newlines must be flattened";

  const Error gateway = ErrorFromResponse(502, "<html>Bad Gateway</html", "", false);
  EXPECT_EQ(gateway.code, ErrorCode::kServiceUnavailable);
}

TEST(ErrorFromResponseTest, QuotedBodyIsBoundedAndSanitised) {
  std::string body = "\x01\x02 oops \xff\xfe";
  body += std::string(100000, 'x');
  const Error error = ErrorFromResponse(503, body, "", false);
  EXPECT_EQ(error.code, ErrorCode::kSlowDown);
  EXPECT_LT(error.message.size(), 300u);
  EXPECT_NE(error.message.find("oops ??"), std::string::npos) << error.message;
  for (const char c : error.message) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "byte " << static_cast<int>(c);
  }
  EXPECT_NE(error.message.find("..."), std::string::npos);
}

TEST(ErrorFromResponseTest, XmlThatIsNotAnErrorDocument) {
  const Error error =
      ErrorFromResponse(403, "<ListBucketResult><Name>b</Name></ListBucketResult>", "", false);
  EXPECT_EQ(error.code, ErrorCode::kAccessDenied);
  EXPECT_NE(error.message.find("not an S3 <Error>"), std::string::npos) << error.message;
}

TEST(ErrorFromResponseTest, ErrorWithoutCodeMapsByStatus) {
  const Error error = ErrorFromResponse(409, "<Error><Message>busy</Message></Error>", "", false);
  EXPECT_EQ(error.code, ErrorCode::kConflict);
  EXPECT_EQ(error.message, "busy");
  const Error bare = ErrorFromResponse(400, "<Error/>", "", false);
  EXPECT_EQ(bare.code, ErrorCode::kBadRequest);
  EXPECT_FALSE(bare.message.empty());
}

TEST(ErrorFromResponseTest, HostileBodiesNeverCrash) {
  const std::vector<std::string> bodies = {
      R"(<!DOCTYPE e [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><Error><Code>&b;</Code></Error>)",
      R"(<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]><Error><Code>&x;</Code></Error>)",
      "<Error><Code>NoSuchKey</Code>",  // truncated
      std::string("<Error><Code>NoSuch\0Key</Code></Error>", 38),
      "<Error><Code><Code>NoSuchKey</Code></Code></Error>",
      std::string(1000, '<'),
  };
  for (const std::string& body : bodies) {
    const Error error = ErrorFromResponse(404, body, "", false);
    EXPECT_EQ(error.code, ErrorCode::kNotFound) << body.substr(0, 60);
  }
}

TEST(RegionFromErrorBodyTest, FromRegionElement) {
  EXPECT_EQ(RegionFromErrorBody(kAuthHeaderMalformed), "eu-west-1");
  EXPECT_EQ(ErrorFromResponse(400, kAuthHeaderMalformed, "", false).code, ErrorCode::kWrongRegion);
}

TEST(RegionFromErrorBodyTest, FromAwsEndpoint) {
  EXPECT_EQ(RegionFromErrorBody(PermanentRedirect("mybucket.s3.eu-west-2.amazonaws.com")),
            "eu-west-2");
  EXPECT_EQ(RegionFromErrorBody(PermanentRedirect("mybucket.s3-ap-southeast-1.amazonaws.com")),
            "ap-southeast-1");
  EXPECT_EQ(RegionFromErrorBody(PermanentRedirect("my.dotted.bucket.s3.amazonaws.com")),
            "us-east-1");
  EXPECT_EQ(RegionFromErrorBody(PermanentRedirect("s3-external-1.amazonaws.com")), "us-east-1");
  EXPECT_EQ(
      RegionFromErrorBody(PermanentRedirect("mybucket.s3.dualstack.ca-central-1.amazonaws.com")),
      "ca-central-1");
  EXPECT_EQ(RegionFromErrorBody(PermanentRedirect("mybucket.s3.cn-north-1.amazonaws.com.cn")),
            "cn-north-1");
  EXPECT_EQ(
      RegionFromErrorBody(PermanentRedirect("https://mybucket.s3.us-west-2.amazonaws.com:443/")),
      "us-west-2");
  EXPECT_EQ(
      ErrorFromResponse(301, PermanentRedirect("b.s3.eu-west-2.amazonaws.com"), "", false).code,
      ErrorCode::kWrongRegion);
}

TEST(RegionFromErrorBodyTest, EmptyWhenUnknown) {
  EXPECT_EQ(RegionFromErrorBody(""), "");
  EXPECT_EQ(RegionFromErrorBody("not xml"), "");
  EXPECT_EQ(RegionFromErrorBody(kMotoNoSuchKey), "");
  EXPECT_EQ(RegionFromErrorBody(PermanentRedirect("minio.local:9000")), "");
  EXPECT_EQ(RegionFromErrorBody(PermanentRedirect("amazonaws.com")), "");
  EXPECT_EQ(RegionFromErrorBody(PermanentRedirect("bucket.nots3.eu-west-1.amazonaws.com")), "");
  EXPECT_EQ(RegionFromErrorBody("<Error><Region>EU West!</Region></Error>"), "");
  EXPECT_EQ(RegionFromErrorBody("<NotError><Region>eu-west-1</Region></NotError>"), "");
}

}  // namespace
}  // namespace s3mount
