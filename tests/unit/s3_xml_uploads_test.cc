// Tests for ParseListMultipartUploads on moto's and AWS's reply shapes and on bad replies.
#include <gtest/gtest.h>

#include <string>

#include "s3/s3_xml.h"
#include "s3mount/common/time_format.h"

namespace s3mount {
namespace {

// What moto 5.2.1 answered to `GET /bkt?uploads&prefix=dir/k` (owner and initiator trimmed).
constexpr char kMotoListUploads[] =
    R"(<?xml version="1.0" encoding="utf-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>bkt</Bucket><KeyMarker/><UploadIdMarker/><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated><Upload><UploadId>R70rPzwr4XoNcj0294AJZQ</UploadId><Key>dir/k x</Key><Initiated>2010-11-10T20:48:33.000Z</Initiated><StorageClass>STANDARD</StorageClass></Upload><Upload><UploadId>r4TPPZY2tSHTgQOtUG77IP</UploadId><Key>dir/k x</Key><Initiated>2010-11-10T20:48:33.000Z</Initiated><StorageClass>STANDARD</StorageClass></Upload></ListMultipartUploadsResult>)";

// The shape of AWS's documented example, truncated.
constexpr char kAwsListUploadsTruncated[] =
    R"(<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>bucket</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>
  <NextKeyMarker>my-movie.m2ts</NextKeyMarker>
  <NextUploadIdMarker>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</NextUploadIdMarker>
  <MaxUploads>1</MaxUploads><IsTruncated>true</IsTruncated>
  <Upload>
    <Key>my-movie.m2ts</Key>
    <UploadId>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</UploadId>
    <StorageClass>STANDARD</StorageClass>
    <Initiated>2010-11-26T19:24:17.000Z</Initiated>
  </Upload>
</ListMultipartUploadsResult>)";

void ExpectInvalid(const Result<ListUploadsPage>& page, std::string_view message_part) {
  ASSERT_FALSE(page.ok()) << "accepted a bad reply";
  EXPECT_EQ(page.error().code, ErrorCode::kInvalidResponse) << page.error().ToString();
  EXPECT_NE(page.error().message.find(message_part), std::string::npos) << page.error().message;
}

TEST(ParseListMultipartUploadsTest, MotoReplies) {
  auto page = ParseListMultipartUploads(kMotoListUploads);
  ASSERT_TRUE(page.ok()) << page.error().ToString();
  ASSERT_EQ(page->uploads.size(), 2u);
  EXPECT_EQ(page->uploads[0].key, "dir/k x");
  EXPECT_EQ(page->uploads[0].upload_id, "R70rPzwr4XoNcj0294AJZQ");
  EXPECT_EQ(page->uploads[1].upload_id, "r4TPPZY2tSHTgQOtUG77IP");
  EXPECT_EQ(page->uploads[0].initiated, ParseIso8601("2010-11-10T20:48:33.000Z").value());
  EXPECT_FALSE(page->is_truncated);
}

TEST(ParseListMultipartUploadsTest, TruncatedRepliesCarryTheirMarkers) {
  auto page = ParseListMultipartUploads(kAwsListUploadsTruncated);
  ASSERT_TRUE(page.ok()) << page.error().ToString();
  ASSERT_EQ(page->uploads.size(), 1u);
  EXPECT_EQ(page->uploads[0].key, "my-movie.m2ts");
  EXPECT_TRUE(page->is_truncated);
  EXPECT_EQ(page->next_key_marker, "my-movie.m2ts");
  EXPECT_EQ(page->next_upload_id_marker, "YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ");
}

TEST(ParseListMultipartUploadsTest, RejectsBadReplies) {
  ExpectInvalid(ParseListMultipartUploads("<ListBucketResult/>"), "ListMultipartUploadsResult");
  ExpectInvalid(ParseListMultipartUploads("<ListMultipartUploadsResult><Upload><Key>k</Key>"
                                          "</Upload></ListMultipartUploadsResult>"),
                "UploadId");
  ExpectInvalid(ParseListMultipartUploads("<ListMultipartUploadsResult><Upload><Key>k</Key>"
                                          "<UploadId>u</UploadId><Initiated>yesterday</Initiated>"
                                          "</Upload></ListMultipartUploadsResult>"),
                "Initiated");
  ExpectInvalid(ParseListMultipartUploads("<ListMultipartUploadsResult><IsTruncated>true"
                                          "</IsTruncated></ListMultipartUploadsResult>"),
                "NextKeyMarker");
  ExpectInvalid(ParseListMultipartUploads("not XML"), "");
}

}  // namespace
}  // namespace s3mount
