// Tests for the S3 XML parsers (src/s3/s3_xml.h), on documents shaped like the S3 API
// reference's examples and on moto 5.2.1's actual replies captured on this machine. The
// builders: s3_xml_build_test.cc.
#include "s3/s3_xml.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "aws/xml_document.h"
#include "s3mount/common/time_format.h"

namespace s3mount {
namespace {

WallTime Iso(std::string_view text) {
  auto time = ParseIso8601(text);
  EXPECT_TRUE(time.ok()) << text;
  return time.ok() ? *time : WallTime{};
}

// moto 5.2.1: ListObjectsV2 with encoding-type=url&delimiter=/ over keys `a b`, `amp&lt<`,
// `c+d`, `ctl\x01x`, `dir/été x`, `e+f`, `q?h#`, `t~ilde` (ETags shortened to one entry's).
constexpr std::string_view kMotoListEncoded =
    R"(<?xml version="1.0" encoding="utf-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>false</IsTruncated><Contents><Key>a%20b</Key><LastModified>2026-11-22T04:45:04.000Z</LastModified><ETag>"d41d8cd98f00b204e9800998ecf8427e"</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass></Contents><Contents><Key>amp%26lt%3C</Key><LastModified>2026-11-22T04:45:04.000Z</LastModified><ETag>"d41d8cd98f00b204e9800998ecf8427e"</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass></Contents><Contents><Key>c%2Bd</Key><LastModified>2026-11-22T04:45:04.000Z</LastModified><ETag>"d41d8cd98f00b204e9800998ecf8427e"</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass></Contents><Contents><Key>ctl%01x</Key><LastModified>2026-11-22T04:45:04.000Z</LastModified><ETag>"d41d8cd98f00b204e9800998ecf8427e"</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass></Contents><Contents><Key>e%2Bf</Key><LastModified>2026-11-22T04:45:04.000Z</LastModified><ETag>"d41d8cd98f00b204e9800998ecf8427e"</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass></Contents><Contents><Key>q%3Fh%23</Key><LastModified>2026-11-22T04:45:04.000Z</LastModified><ETag>"d41d8cd98f00b204e9800998ecf8427e"</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass></Contents><Contents><Key>t~ilde</Key><LastModified>2026-11-22T04:45:04.000Z</LastModified><ETag>"d41d8cd98f00b204e9800998ecf8427e"</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass></Contents><Name>bkt</Name><Prefix/><Delimiter>/</Delimiter><MaxKeys>1000</MaxKeys><CommonPrefixes><Prefix>dir/</Prefix></CommonPrefixes><EncodingType>url</EncodingType><KeyCount>8</KeyCount></ListBucketResult>)";

// moto 5.2.1: the same listing with max-keys=2&start-after=a%20b: truncated, with a token;
// note StartAfter echoed unencoded.
constexpr std::string_view kMotoListTruncated =
    R"(<?xml version="1.0" encoding="utf-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>true</IsTruncated><Contents><Key>amp%26lt%3C</Key><LastModified>2026-11-22T04:45:04.000Z</LastModified><ETag>"d41d8cd98f00b204e9800998ecf8427e"</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass></Contents><Contents><Key>c%2Bd</Key><LastModified>2026-11-22T04:45:04.000Z</LastModified><ETag>"d41d8cd98f00b204e9800998ecf8427e"</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass></Contents><Name>bkt</Name><Prefix/><Delimiter>/</Delimiter><MaxKeys>2</MaxKeys><EncodingType>url</EncodingType><KeyCount>2</KeyCount><NextContinuationToken>aab245deac295826ff48e56727e9cd57</NextContinuationToken><StartAfter>a b</StartAfter></ListBucketResult>)";

// The S3 API reference's ListObjectsV2 example (pretty-printed, no encoding-type).
constexpr std::string_view kAwsDocList = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
    <Name>bucket</Name>
    <Prefix/>
    <KeyCount>205</KeyCount>
    <MaxKeys>1000</MaxKeys>
    <IsTruncated>false</IsTruncated>
    <Contents>
        <Key>my-image.jpg</Key>
        <LastModified>2009-10-12T17:50:30.000Z</LastModified>
        <ETag>"fba9dede5f27731c9771645a39863328"</ETag>
        <Size>434234</Size>
        <StorageClass>STANDARD</StorageClass>
    </Contents>
    <Contents>
        <Key>photos/2006/January/sample+one.jpg</Key>
        <LastModified>2011-02-26T01:56:20.000Z</LastModified>
        <ETag>"bf1d737a4d46a19f3bced6905cc8b902-2"</ETag>
        <Size>142863</Size>
        <StorageClass>GLACIER</StorageClass>
    </Contents>
</ListBucketResult>)";

// S3, with encoding-type=url, form-encodes: a space may arrive as `+` (see s3_xml.h).
constexpr std::string_view kAwsListPlusEncoded =
    R"(<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>photos%2F</Prefix><Delimiter>%2F</Delimiter><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated><Contents><Key>photos%2Fmy+summer%2Bwinter.jpg</Key><Size>12345678901234</Size><ETag>&quot;abc&quot;</ETag><LastModified>2024-02-29T12:00:00.123Z</LastModified></Contents><CommonPrefixes><Prefix>photos%2F2024+trip%2F</Prefix></CommonPrefixes><CommonPrefixes><Prefix>photos%2F%E2%98%BA%2F</Prefix></CommonPrefixes><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=+%2F</NextContinuationToken></ListBucketResult>)";

// moto 5.2.1 replies for the multipart and copy operations.
constexpr std::string_view kMotoInitiate =
    R"(<?xml version="1.0" encoding="utf-8"?>
<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>bkt</Bucket><Key>mp key</Key><UploadId>6rIBcNtFlUEkaL9PMHi9xf9y8AzsIOpVXWJAbFJuj0K1erua5f2EUrREg</UploadId></InitiateMultipartUploadResult>)";
constexpr std::string_view kMotoListParts =
    R"(<?xml version="1.0" encoding="utf-8"?>
<ListPartsResponse xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>bkt</Bucket><Key>mp key</Key><UploadId>Yib9jO639WXK9XAJDPt8gkLbbtGtHwmlgPTgTCOGEnqaN5uopdcrpmMmQ</UploadId><PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>1</NextPartNumberMarker><MaxParts>1</MaxParts><IsTruncated>true</IsTruncated><Part><PartNumber>1</PartNumber><LastModified>2026-11-22T04:45:32.000Z</LastModified><ETag>"5f363e0e58a95f06cbe9bbc662c5dfb6"</ETag><Size>5242880</Size></Part><Initiator><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>webfile</DisplayName></Initiator><Owner><DisplayName>webfile</DisplayName><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID></Owner><StorageClass>STANDARD</StorageClass></ListPartsResponse>)";
constexpr std::string_view kMotoListPartsEmpty =
    R"(<?xml version="1.0" encoding="utf-8"?>
<ListPartsResponse xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>bkt</Bucket><Key>mp key</Key><UploadId>jGMrGcYRfUQbrYj004h347bVtpC2xDHnXqBJ5CVpYd2CBlKHgFjtyw</UploadId><PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>0</NextPartNumberMarker><MaxParts>1</MaxParts><IsTruncated>false</IsTruncated><Initiator><ID>75aa</ID><DisplayName>webfile</DisplayName></Initiator><Owner><DisplayName>webfile</DisplayName><ID>75aa</ID></Owner><StorageClass>STANDARD</StorageClass></ListPartsResponse>)";
constexpr std::string_view kMotoComplete =
    R"(<?xml version="1.0" encoding="utf-8"?>
<CompleteMultipartUploadResponse xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Location>http://bkt.s3.amazonaws.com/mp key</Location><Bucket>bkt</Bucket><Key>mp key</Key><ETag>"6f6da174a7cb6de11e28d4dd2f9bcfe9-2"</ETag></CompleteMultipartUploadResponse>)";
constexpr std::string_view kMotoCopy =
    R"(<?xml version="1.0" encoding="utf-8"?>
<CopyObjectResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ETag>"d41d8cd98f00b204e9800998ecf8427e"</ETag><LastModified>2026-11-22T04:45:39.000Z</LastModified></CopyObjectResult>)";
constexpr std::string_view kMotoCopyPart =
    R"(<?xml version="1.0" encoding="utf-8"?>
<CopyPartResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ETag>"a63c90cc3684ad8b0a2176a6a8fe9005"</ETag><LastModified>2026-11-22T04:45:39.000Z</LastModified></CopyPartResult>)";
constexpr std::string_view kMotoDelete =
    R"(<?xml version="1.0" encoding="utf-8"?>
<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Deleted><Key>a b</Key></Deleted><Deleted><Key>nonexist</Key></Deleted></DeleteResult>)";

// The S3 API reference's examples.
constexpr std::string_view kAwsDocComplete = R"(<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Location>http://Example-Bucket.s3.Region.amazonaws.com/Example-Object</Location>
  <Bucket>Example-Bucket</Bucket>
  <Key>Example-Object</Key>
  <ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag>
</CompleteMultipartUploadResult>)";
constexpr std::string_view kAwsDocCompleteError = R"(<?xml version="1.0" encoding="UTF-8"?>

<Error>
<Code>InternalError</Code>
<Message>We encountered an internal error. Please try again.</Message>
<RequestId>656c76696e6727732072657175657374</RequestId>
<HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId>
</Error>)";
constexpr std::string_view kAwsDocDeleteResult = R"(<?xml version="1.0" encoding="UTF-8"?>
<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Deleted>
    <Key>sample1.txt</Key>
  </Deleted>
  <Error>
    <Key>sample2.txt</Key>
    <Code>AccessDenied</Code>
    <Message>Access Denied</Message>
  </Error>
  <Error>
    <Key>busy &amp; locked</Key>
    <Code>SlowDown</Code>
    <Message>Please reduce your request rate.</Message>
  </Error>
  <Error>
    <Key>odd</Key>
    <Code>SomethingNew</Code>
    <Message>?</Message>
  </Error>
</DeleteResult>)";
constexpr std::string_view kAwsDocListParts = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>example-bucket</Bucket>
  <Key>example-object</Key>
  <UploadId>XXBsb2FkIElEIGZvciBlbHZpbmcncyVcdS1tb3ZpZS5tMnRzEEEwbG9hZA</UploadId>
  <StorageClass>STANDARD</StorageClass>
  <PartNumberMarker>1</PartNumberMarker>
  <NextPartNumberMarker>3</NextPartNumberMarker>
  <MaxParts>2</MaxParts>
  <IsTruncated>true</IsTruncated>
  <Part>
    <PartNumber>2</PartNumber>
    <LastModified>2010-11-10T20:48:34.000Z</LastModified>
    <ETag>"7778aef83f66abc1fa1e8477f296d394"</ETag>
    <Size>10485760</Size>
  </Part>
  <Part>
    <PartNumber>3</PartNumber>
    <LastModified>2010-11-10T20:48:33.000Z</LastModified>
    <ETag>"aaaa18db4cc2f85cedef654fccc4a4x8"</ETag>
    <Size>10485760</Size>
  </Part>
</ListPartsResult>)";

void ExpectInvalid(const Error& error, std::string_view message_part = "") {
  EXPECT_EQ(error.code, ErrorCode::kInvalidResponse) << error.ToString();
  EXPECT_NE(error.message.find(message_part), std::string::npos) << error.message;
}

// ---- DecodeS3UrlEncoding ----

TEST(DecodeS3UrlEncodingTest, DecodesPercentAndPlus) {
  EXPECT_EQ(DecodeS3UrlEncoding("a%20b").value(), "a b");
  EXPECT_EQ(DecodeS3UrlEncoding("a+b").value(), "a b");
  EXPECT_EQ(DecodeS3UrlEncoding("c%2Bd").value(), "c+d");
  EXPECT_EQ(DecodeS3UrlEncoding("c%2bd").value(), "c+d");
  EXPECT_EQ(DecodeS3UrlEncoding("dir/%C3%A9t%C3%A9%20x").value(), "dir/\xC3\xA9t\xC3\xA9 x");
  EXPECT_EQ(DecodeS3UrlEncoding("ctl%01x").value(), "ctl\x01x");
  EXPECT_EQ(DecodeS3UrlEncoding("nul%00byte").value(), std::string("nul\0byte", 8));
  EXPECT_EQ(DecodeS3UrlEncoding("%25%2541").value(), "%%41");  // decoded once only
  EXPECT_EQ(DecodeS3UrlEncoding("t~ilde/").value(), "t~ilde/");
  EXPECT_EQ(DecodeS3UrlEncoding("").value(), "");
}

TEST(DecodeS3UrlEncodingTest, RejectsBrokenEscapes) {
  for (const char* text : {"%", "%2", "a%2", "%zz", "%2z", "%%", "abc%", "%-1", "% 2"}) {
    auto decoded = DecodeS3UrlEncoding(text);
    ASSERT_FALSE(decoded.ok()) << "accepted '" << text << "'";
    EXPECT_EQ(decoded.error().code, ErrorCode::kInvalidResponse);
  }
}

// ---- ParseListObjectsV2 ----

TEST(ParseListObjectsV2Test, MotoEncodedListing) {
  auto page = ParseListObjectsV2(kMotoListEncoded);
  ASSERT_TRUE(page.ok()) << page.error().ToString();
  std::vector<std::string> keys;
  for (const ObjectInfo& object : page->objects) keys.push_back(object.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"a b", "amp&lt<", "c+d", "ctl\x01x", "e+f", "q?h#",
                                            "t~ilde"}));
  EXPECT_EQ(page->common_prefixes, std::vector<std::string>{"dir/"});
  EXPECT_FALSE(page->is_truncated);
  EXPECT_EQ(page->next_continuation_token, "");
  const ObjectInfo& first = page->objects.front();
  EXPECT_EQ(first.size, 0u);
  EXPECT_EQ(first.etag, "\"d41d8cd98f00b204e9800998ecf8427e\"");
  EXPECT_EQ(first.storage_class, "STANDARD");
  EXPECT_EQ(first.last_modified, Iso("2026-11-22T04:45:04.000Z"));
}

TEST(ParseListObjectsV2Test, MotoTruncatedPageKeepsTokenVerbatim) {
  auto page = ParseListObjectsV2(kMotoListTruncated);
  ASSERT_TRUE(page.ok()) << page.error().ToString();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "amp&lt<");
  EXPECT_EQ(page->objects[1].key, "c+d");
  EXPECT_TRUE(page->is_truncated);
  EXPECT_EQ(page->next_continuation_token, "aab245deac295826ff48e56727e9cd57");
}

TEST(ParseListObjectsV2Test, AwsDocExampleWithoutEncodingIsNotDecoded) {
  auto page = ParseListObjectsV2(kAwsDocList);
  ASSERT_TRUE(page.ok()) << page.error().ToString();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "my-image.jpg");
  EXPECT_EQ(page->objects[0].size, 434234u);
  EXPECT_EQ(page->objects[0].last_modified, Iso("2009-10-12T17:50:30.000Z"));
  // Without EncodingType, '+' is a plus.
  EXPECT_EQ(page->objects[1].key, "photos/2006/January/sample+one.jpg");
  EXPECT_EQ(page->objects[1].storage_class, "GLACIER");
  EXPECT_EQ(page->objects[1].etag, "\"bf1d737a4d46a19f3bced6905cc8b902-2\"");
  EXPECT_TRUE(page->common_prefixes.empty());
  EXPECT_FALSE(page->is_truncated);
}

TEST(ParseListObjectsV2Test, AwsFormEncodingAndOpaqueToken) {
  auto page = ParseListObjectsV2(kAwsListPlusEncoded);
  ASSERT_TRUE(page.ok()) << page.error().ToString();
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "photos/my summer+winter.jpg");
  EXPECT_EQ(page->objects[0].size, 12345678901234u);
  EXPECT_EQ(page->objects[0].etag, "\"abc\"");
  EXPECT_EQ(page->objects[0].last_modified,
            Iso("2024-02-29T12:00:00Z") + std::chrono::milliseconds(123));
  EXPECT_EQ(page->common_prefixes,
            (std::vector<std::string>{"photos/2024 trip/", "photos/\xE2\x98\xBA/"}));
  EXPECT_TRUE(page->is_truncated);
  // Tokens are opaque: '+' and '%2F' stay as sent.
  EXPECT_EQ(page->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=+%2F");
}

TEST(ParseListObjectsV2Test, EmptyListing) {
  auto page = ParseListObjectsV2(
      R"(<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>nothing/</Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>)");
  ASSERT_TRUE(page.ok()) << page.error().ToString();
  EXPECT_TRUE(page->objects.empty());
  EXPECT_TRUE(page->common_prefixes.empty());
}

TEST(ParseListObjectsV2Test, RejectsBadFields) {
  const auto list = [](std::string_view contents, std::string_view extra = "") {
    return "<ListBucketResult><EncodingType>url</EncodingType>" + std::string(extra) +
           "<Contents>" + std::string(contents) + "</Contents></ListBucketResult>";
  };
  ExpectInvalid(ParseListObjectsV2(list("<Size>1</Size>")).error(), "Key");
  ExpectInvalid(ParseListObjectsV2(list("<Key></Key><Size>1</Size>")).error(), "empty");
  ExpectInvalid(ParseListObjectsV2(list("<Key>a</Key>")).error(), "Size");
  ExpectInvalid(ParseListObjectsV2(list("<Key>a</Key><Size>-1</Size>")).error(), "Size");
  ExpectInvalid(ParseListObjectsV2(list("<Key>a</Key><Size>1e3</Size>")).error(), "Size");
  ExpectInvalid(ParseListObjectsV2(list("<Key>a</Key><Size></Size>")).error(), "Size");
  ExpectInvalid(
      ParseListObjectsV2(list("<Key>a</Key><Size>99999999999999999999999</Size>")).error(), "Size");
  ExpectInvalid(ParseListObjectsV2(list("<Key>a%zz</Key><Size>1</Size>")).error(), "percent");
  ExpectInvalid(
      ParseListObjectsV2(list("<Key>a</Key><Size>1</Size><LastModified>yesterday</LastModified>"))
          .error(),
      "ISO 8601");
  ExpectInvalid(
      ParseListObjectsV2(list("<Key>a</Key><Size>1</Size>", "<IsTruncated>maybe</IsTruncated>"))
          .error(),
      "IsTruncated");
  ExpectInvalid(
      ParseListObjectsV2(list("<Key>a</Key><Size>1</Size>", "<IsTruncated>true</IsTruncated>"))
          .error(),
      "NextContinuationToken");
  ExpectInvalid(
      ParseListObjectsV2("<ListBucketResult><CommonPrefixes/></ListBucketResult>").error(),
      "Prefix");
}

TEST(ParseListObjectsV2Test, SizeToleratesWhitespaceKeyDoesNot) {
  auto page = ParseListObjectsV2(
      "<ListBucketResult><Contents><Key> spaced key </Key><Size>\n 42 \n</Size>"
      "</Contents></ListBucketResult>");
  ASSERT_TRUE(page.ok()) << page.error().ToString();
  EXPECT_EQ(page->objects[0].key, " spaced key ");
  EXPECT_EQ(page->objects[0].size, 42u);
}

TEST(ParseListObjectsV2Test, WrongDocumentsAreInvalidResponses) {
  ExpectInvalid(ParseListObjectsV2("").error());
  ExpectInvalid(ParseListObjectsV2("<html><body>hi</body></html>").error(), "ListBucketResult");
  ExpectInvalid(ParseListObjectsV2(kMotoCopy).error(), "<CopyObjectResult>");
  ExpectInvalid(ParseListObjectsV2(kMotoListEncoded.substr(0, 500)).error(), "malformed");
}

TEST(ParseListObjectsV2Test, ErrorDocumentIsMapped) {
  auto page = ParseListObjectsV2(
      "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>"
      "<RequestId>R1</RequestId></Error>");
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.error().code, ErrorCode::kNoSuchBucket);
  EXPECT_EQ(page.error().request_id, "R1");
}

TEST(ParseListObjectsV2Test, AThousandLongKeys) {
  std::string xml = "<ListBucketResult><EncodingType>url</EncodingType>";
  for (int i = 0; i < 1000; ++i) {
    xml += "<Contents><Key>" + std::string(1000, 'k') + "%2F" + std::to_string(i) + "</Key><Size>" +
           std::to_string(i) + "</Size></Contents>";
  }
  xml +=
      "<IsTruncated>true</IsTruncated><NextContinuationToken>t</NextContinuationToken>"
      "</ListBucketResult>";
  auto page = ParseListObjectsV2(xml);
  ASSERT_TRUE(page.ok()) << page.error().ToString();
  ASSERT_EQ(page->objects.size(), 1000u);
  EXPECT_EQ(page->objects[999].key, std::string(1000, 'k') + "/999");
  EXPECT_EQ(page->objects[999].size, 999u);
}

// ---- ListParts ----

TEST(ParseListPartsTest, AwsDocExample) {
  auto page = ParseListParts(kAwsDocListParts);
  ASSERT_TRUE(page.ok()) << page.error().ToString();
  ASSERT_EQ(page->parts.size(), 2u);
  EXPECT_EQ(page->parts[0].part_number, 2);
  EXPECT_EQ(page->parts[0].etag, "\"7778aef83f66abc1fa1e8477f296d394\"");
  EXPECT_EQ(page->parts[0].size, 10485760u);
  EXPECT_EQ(page->parts[1].part_number, 3);
  EXPECT_TRUE(page->is_truncated);
  EXPECT_EQ(page->next_part_number_marker, 3);
}

TEST(ParseListPartsTest, MotoReplies) {
  auto page = ParseListParts(kMotoListParts);
  ASSERT_TRUE(page.ok()) << page.error().ToString();
  ASSERT_EQ(page->parts.size(), 1u);
  EXPECT_EQ(page->parts[0].part_number, 1);
  EXPECT_EQ(page->parts[0].etag, "\"5f363e0e58a95f06cbe9bbc662c5dfb6\"");
  EXPECT_EQ(page->parts[0].size, 5242880u);
  EXPECT_TRUE(page->is_truncated);
  EXPECT_EQ(page->next_part_number_marker, 1);

  auto empty = ParseListParts(kMotoListPartsEmpty);
  ASSERT_TRUE(empty.ok()) << empty.error().ToString();
  EXPECT_TRUE(empty->parts.empty());
  EXPECT_FALSE(empty->is_truncated);
}

TEST(ParseListPartsTest, RejectsBadParts) {
  const auto parts = [](std::string_view part, std::string_view extra = "") {
    return "<ListPartsResult>" + std::string(extra) + "<Part>" + std::string(part) +
           "</Part></ListPartsResult>";
  };
  ExpectInvalid(
      ParseListParts(parts("<PartNumber>0</PartNumber><ETag>e</ETag><Size>1</Size>")).error(),
      "out of range");
  ExpectInvalid(
      ParseListParts(parts("<PartNumber>10001</PartNumber><ETag>e</ETag><Size>1</Size>")).error(),
      "out of range");
  ExpectInvalid(
      ParseListParts(parts("<PartNumber>1</PartNumber><ETag> </ETag><Size>1</Size>")).error(),
      "ETag");
  ExpectInvalid(ParseListParts(parts("<PartNumber>1</PartNumber><ETag>e</ETag>")).error(), "Size");
  ExpectInvalid(ParseListParts(parts("<ETag>e</ETag><Size>1</Size>")).error(), "PartNumber");
  ExpectInvalid(ParseListParts(parts("<PartNumber>1</PartNumber><ETag>e</ETag><Size>1</Size>",
                                     "<IsTruncated>true</IsTruncated>"))
                    .error(),
                "NextPartNumberMarker");
  ExpectInvalid(ParseListParts(parts("<PartNumber>1</PartNumber><ETag>e</ETag><Size>1</Size>",
                                     "<NextPartNumberMarker>x</NextPartNumberMarker>"))
                    .error(),
                "NextPartNumberMarker");
  ExpectInvalid(ParseListParts("<ListMultipartUploadsResult/>").error());
}

// ---- Initiate / Complete / Copy ----

TEST(ParseInitiateMultipartUploadTest, UploadIdVerbatim) {
  auto id = ParseInitiateMultipartUpload(kMotoInitiate);
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  EXPECT_EQ(*id, "6rIBcNtFlUEkaL9PMHi9xf9y8AzsIOpVXWJAbFJuj0K1erua5f2EUrREg");
  auto aws = ParseInitiateMultipartUpload(
      R"(<?xml version="1.0" encoding="UTF-8"?>
<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>example-bucket</Bucket>
  <Key>example-object</Key>
  <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
</InitiateMultipartUploadResult>)");
  ASSERT_TRUE(aws.ok()) << aws.error().ToString();
  EXPECT_EQ(*aws, "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");
}

TEST(ParseInitiateMultipartUploadTest, MissingOrEmptyUploadId) {
  ExpectInvalid(ParseInitiateMultipartUpload("<InitiateMultipartUploadResult/>").error(),
                "UploadId");
  ExpectInvalid(ParseInitiateMultipartUpload(
                    "<InitiateMultipartUploadResult><UploadId/></InitiateMultipartUploadResult>")
                    .error(),
                "UploadId");
  auto error = ParseInitiateMultipartUpload(
      "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>");
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.error().code, ErrorCode::kAccessDenied);
}

TEST(ParseCompleteMultipartUploadTest, AwsAndMotoShapes) {
  auto aws = ParseCompleteMultipartUpload(kAwsDocComplete);
  ASSERT_TRUE(aws.ok()) << aws.error().ToString();
  EXPECT_EQ(aws->etag, "\"3858f62230ac3c915f300c664312c11f-9\"");
  EXPECT_EQ(aws->version_id, "");
  auto moto = ParseCompleteMultipartUpload(kMotoComplete);
  ASSERT_TRUE(moto.ok()) << moto.error().ToString();
  EXPECT_EQ(moto->etag, "\"6f6da174a7cb6de11e28d4dd2f9bcfe9-2\"");
}

TEST(ParseCompleteMultipartUploadTest, ErrorInsideA200IsAFailure) {
  auto result = ParseCompleteMultipartUpload(kAwsDocCompleteError);
  ASSERT_FALSE(result.ok());
  const Error& error = result.error();
  EXPECT_EQ(error.code, ErrorCode::kInternalError);
  EXPECT_TRUE(IsTransient(error.code));
  EXPECT_EQ(error.s3_code, "InternalError");
  EXPECT_EQ(error.message, "We encountered an internal error. Please try again.");
  EXPECT_EQ(error.request_id, "656c76696e6727732072657175657374");
  EXPECT_EQ(error.http_status, 200);

  auto invalid_part = ParseCompleteMultipartUpload(
      "<Error><Code>InvalidPart</Code><Message>One or more of the specified parts could not be "
      "found.</Message></Error>");
  ASSERT_FALSE(invalid_part.ok());
  EXPECT_EQ(invalid_part.error().code, ErrorCode::kInvalidPart);
  EXPECT_FALSE(IsTransient(invalid_part.error().code));
}

TEST(ParseCompleteMultipartUploadTest, TruncatedBodyIsInvalid) {
  // The connection died while S3 was sending its whitespace keep-alives.
  ExpectInvalid(
      ParseCompleteMultipartUpload("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n  ").error());
  ExpectInvalid(ParseCompleteMultipartUpload(kAwsDocComplete.substr(0, 120)).error());
  ExpectInvalid(ParseCompleteMultipartUpload("<CompleteMultipartUploadResult/>").error(), "ETag");
}

TEST(ParseCopyObjectResultTest, CopyObjectAndCopyPart) {
  auto copy = ParseCopyObjectResult(kMotoCopy);
  ASSERT_TRUE(copy.ok()) << copy.error().ToString();
  EXPECT_EQ(copy->etag, "\"d41d8cd98f00b204e9800998ecf8427e\"");
  EXPECT_EQ(copy->last_modified, Iso("2026-11-22T04:45:39.000Z"));
  auto part = ParseCopyObjectResult(kMotoCopyPart);
  ASSERT_TRUE(part.ok()) << part.error().ToString();
  EXPECT_EQ(part->etag, "\"a63c90cc3684ad8b0a2176a6a8fe9005\"");
  auto aws = ParseCopyObjectResult(
      R"(<CopyObjectResult><LastModified>2009-10-28T22:32:00Z</LastModified><ETag>"9b2cf535f27731c974343645a3985328"</ETag></CopyObjectResult>)");
  ASSERT_TRUE(aws.ok()) << aws.error().ToString();
  EXPECT_EQ(aws->last_modified, Iso("2009-10-28T22:32:00Z"));
}

TEST(ParseCopyObjectResultTest, ErrorsAndBadFields) {
  auto slow = ParseCopyObjectResult(
      "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>");
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.error().code, ErrorCode::kSlowDown);
  auto precondition = ParseCopyObjectResult(
      "<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you "
      "specified did not hold</Message><Condition>x-amz-copy-source-If-Match</Condition>"
      "</Error>");
  ASSERT_FALSE(precondition.ok());
  EXPECT_EQ(precondition.error().code, ErrorCode::kPreconditionFailed);
  ExpectInvalid(ParseCopyObjectResult("<CopyObjectResult/>").error(), "ETag");
  ExpectInvalid(ParseCopyObjectResult(
                    "<CopyPartResult><ETag>e</ETag><LastModified>x</LastModified></CopyPartResult>")
                    .error());
}

// ---- DeleteObjects ----

TEST(ParseDeleteResultTest, FailuresOnlyWithMappedCodes) {
  auto result = ParseDeleteResult(kAwsDocDeleteResult);
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  ASSERT_EQ(result->failures.size(), 3u);
  EXPECT_EQ(result->failures[0].key, "sample2.txt");
  EXPECT_EQ(result->failures[0].error.code, ErrorCode::kAccessDenied);
  EXPECT_EQ(result->failures[0].error.s3_code, "AccessDenied");
  EXPECT_EQ(result->failures[0].error.message, "Access Denied");
  EXPECT_EQ(result->failures[0].error.http_status, 0);
  EXPECT_EQ(result->failures[1].key, "busy & locked");
  EXPECT_EQ(result->failures[1].error.code, ErrorCode::kSlowDown);
  EXPECT_EQ(result->failures[2].error.code, ErrorCode::kUnknown);
  EXPECT_EQ(result->failures[2].error.s3_code, "SomethingNew");

  auto moto = ParseDeleteResult(kMotoDelete);
  ASSERT_TRUE(moto.ok()) << moto.error().ToString();
  EXPECT_TRUE(moto->failures.empty());
  auto quiet =
      ParseDeleteResult(R"(<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>)");
  ASSERT_TRUE(quiet.ok());
  EXPECT_TRUE(quiet->failures.empty());
}

TEST(ParseDeleteResultTest, WholeRequestErrorAndBadEntries) {
  auto denied = ParseDeleteResult("<Error><Code>AccessDenied</Code></Error>");
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, ErrorCode::kAccessDenied);
  ExpectInvalid(ParseDeleteResult("<DeleteResult><Error><Code>AccessDenied</Code></Error>"
                                  "</DeleteResult>")
                    .error(),
                "Key");
  ExpectInvalid(ParseDeleteResult("<Deleted/>").error(), "DeleteResult");
}

// ---- Every parser on hostile input ----

template <typename T>
void ExpectAllInvalid(const Result<T>& result, const std::string& where) {
  ASSERT_FALSE(result.ok()) << "accepted: " << where;
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidResponse)
      << where << ": " << result.error().ToString();
}

TEST(S3XmlHostileInputTest, NeverCrashesAlwaysInvalidResponse) {
  const std::vector<std::string> bodies = {
      "",
      std::string("\x00\x01\x02", 3),
      std::string(5000, '<'),
      "<ListBucketResult><Contents><Key>a</Key><Size>1</Size></Contents>",
      R"(<!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><ListBucketResult>&b;</ListBucketResult>)",
      R"(<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><DeleteResult><Error><Key>&x;</Key></Error></DeleteResult>)",
      "<?xml version=\"1.0\" encoding=\"EBCDIC-nonsense\"?><ListBucketResult/>",
      "<Unexpected/>",
  };
  for (const std::string& body : bodies) {
    const std::string where = body.substr(0, 40);
    ExpectAllInvalid(ParseListObjectsV2(body), where);
    ExpectAllInvalid(ParseListParts(body), where);
    ExpectAllInvalid(ParseInitiateMultipartUpload(body), where);
    ExpectAllInvalid(ParseCompleteMultipartUpload(body), where);
    ExpectAllInvalid(ParseCopyObjectResult(body), where);
    ExpectAllInvalid(ParseDeleteResult(body), where);
  }
}

TEST(S3XmlHostileInputTest, EveryTruncationOfARealReplyFailsCleanly) {
  const std::string full(kMotoListEncoded);
  for (size_t n = 0; n < full.size(); n += 7) {
    auto page = ParseListObjectsV2(full.substr(0, n));
    ASSERT_FALSE(page.ok()) << "length " << n;
    EXPECT_EQ(page.error().code, ErrorCode::kInvalidResponse) << "length " << n;
  }
}

TEST(S3XmlHostileInputTest, ByteFlipsNeverCrash) {
  // Flip each byte of a real reply to a few troublesome values; any outcome but a crash (or a
  // sanitizer report) is acceptable, and failures must be kInvalidResponse or a mapped Error.
  const std::string full(kMotoListParts);
  for (size_t i = 0; i < full.size(); ++i) {
    for (const char c : {'\0', '<', '&', '%', '\xff', '9'}) {
      std::string mutated = full;
      mutated[i] = c;
      auto page = ParseListParts(mutated);
      if (!page.ok()) {
        EXPECT_NE(page.error().code, ErrorCode::kUnknown) << "offset " << i;
      }
    }
  }
}

}  // namespace
}  // namespace s3mount
