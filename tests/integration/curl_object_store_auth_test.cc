// Integration tests of CurlObjectStore against moto_server with SigV4 enforcement on: every
// operation signed with an IAM user's key succeeds, and wrong credentials fail with S3's own
// error code. Keys are plain and listings have no delimiter: moto's checker wrongly rejects
// correctly signed requests otherwise (see docs/S3-CLIENT.md).
#include <gtest/gtest.h>

#include "s3mount/s3/curl_object_store.h"
#include "s3mount/s3/object_sinks.h"
#include "tests/support/moto_fixture.h"
#include "tests/support/s3_client_factory.h"

namespace s3mount {
namespace {

using testing::LocalClientOptions;
using testing::MakeTestClient;

class SignedCurlObjectStoreTest : public testing::AuthMotoTest {
 protected:
  testing::TestClient Client(std::string access_key, std::string secret) {
    return MakeTestClient(LocalClientOptions(server().endpoint(), bucket()),
                          {std::move(access_key), std::move(secret), "", std::nullopt}, clock_);
  }
  testing::TestClient GoodClient() {
    return Client(server().access_key_id(), server().secret_access_key());
  }
  SystemClock clock_;
};

TEST_F(SignedCurlObjectStoreTest, EveryOperationSucceedsWhenSigned) {
  auto client = GoodClient();
  ObjectStore& s3 = *client.store;
  ASSERT_TRUE(s3.HeadBucket().ok()) << s3.HeadBucket().error().ToString();
  auto put = s3.PutObject({.key = "alpha", .body = "hello", .user_metadata = {{"mode", "33188"}}});
  ASSERT_TRUE(put.ok()) << put.error().ToString();
  ASSERT_TRUE(s3.PutObject({.key = "beta", .body = "", .if_none_match_any = true}).ok());
  auto head = s3.HeadObject({.key = "alpha", .if_match = put->etag});
  ASSERT_TRUE(head.ok()) << head.error().ToString();
  EXPECT_EQ(head->user_metadata.at("mode"), "33188");
  StringSink sink;
  auto got = s3.GetObject({.key = "alpha", .range = ByteRange{1, 3}, .if_match = put->etag}, sink);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(sink.data(), "ell");
  auto list = s3.ListObjects({.prefix = "a", .max_keys = 1});
  ASSERT_TRUE(list.ok()) << list.error().ToString();
  ASSERT_EQ(list->objects.size(), 1u);
  EXPECT_EQ(list->objects[0].key, "alpha");
  auto copy = s3.CopyObject({.source_key = "alpha",
                             .destination_key = "gamma",
                             .metadata_directive = MetadataDirective::kReplace,
                             .user_metadata = {{"mode", "33261"}}});
  ASSERT_TRUE(copy.ok()) << copy.error().ToString();

  auto upload = s3.CreateMultipartUpload({.key = "multi"});
  ASSERT_TRUE(upload.ok()) << upload.error().ToString();
  const std::string part(5 * 1024 * 1024, 'p');
  auto p1 = s3.UploadPart({.key = "multi", .upload_id = *upload, .part_number = 1, .body = part});
  ASSERT_TRUE(p1.ok()) << p1.error().ToString();
  auto p2 = s3.UploadPartCopy(
      {.key = "multi", .upload_id = *upload, .part_number = 2, .source_key = "alpha"});
  ASSERT_TRUE(p2.ok()) << p2.error().ToString();
  auto parts = s3.ListParts({.key = "multi", .upload_id = *upload});
  ASSERT_TRUE(parts.ok()) << parts.error().ToString();
  EXPECT_EQ(parts->parts.size(), 2u);
  auto done = s3.CompleteMultipartUpload(
      {.key = "multi", .upload_id = *upload, .parts = {{1, *p1}, {2, *p2}}});
  ASSERT_TRUE(done.ok()) << done.error().ToString();
  EXPECT_EQ(s3.HeadObject({.key = "multi"})->size, part.size() + 5);

  auto abandoned = s3.CreateMultipartUpload({.key = "abandoned"});
  ASSERT_TRUE(abandoned.ok());
  EXPECT_TRUE(s3.AbortMultipartUpload("abandoned", *abandoned).ok());
  EXPECT_TRUE(s3.DeleteObject("gamma").ok());
  auto deleted = s3.DeleteObjects({"alpha", "beta", "multi"});
  ASSERT_TRUE(deleted.ok()) << deleted.error().ToString();
  EXPECT_TRUE(deleted->failures.empty());
  auto empty = s3.ListObjects({});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->objects.empty());
}

TEST_F(SignedCurlObjectStoreTest, WrongSecretFailsWithSignatureDoesNotMatch) {
  auto client = Client(server().access_key_id(), "not-the-secret");
  auto head = client.store->ListObjects({});
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().code, ErrorCode::kSignatureDoesNotMatch);
  EXPECT_EQ(head.error().http_status, 403);
  const std::string text = head.error().ToString();
  EXPECT_NE(text.find("SignatureDoesNotMatch"), std::string::npos) << text;
  EXPECT_EQ(text.find("not-the-secret"), std::string::npos) << "the secret leaked: " << text;
  // The same store is not retried into success: the error is permanent.
  auto put = client.store->PutObject({.key = "k", .body = "v"});
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, ErrorCode::kSignatureDoesNotMatch);
}

TEST_F(SignedCurlObjectStoreTest, UnknownAccessKeyFailsWithInvalidAccessKeyId) {
  auto client = Client("AKIAUNKNOWNKEY000000", server().secret_access_key());
  auto list = client.store->ListObjects({});
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().code, ErrorCode::kInvalidAccessKeyId) << list.error().ToString();
}

}  // namespace
}  // namespace s3mount
