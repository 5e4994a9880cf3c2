// Tests of the S3 event notification parser on recorded bodies: AWS's format (event version
// 2.1, written after AWS's documentation), moto's (captured from moto_server 5.2.1: quote_plus
// keys, eventTime without Z, no sequencer), the SNS envelope (captured from moto), the
// s3:TestEvent, MinIO's access format, awkward keys, and garbage; plus sequencer ordering and
// the relevance test for a mount.
#include "s3mount/events/s3_event.h"

#include <gtest/gtest.h>

#include <string>

#include "s3mount/common/time_format.h"

namespace s3mount {
namespace {

// As AWS documents it ("Event message structure", eventVersion 2.1), for a PUT of
// "photos/2024/my cat+dog é.jpg" in a versioned bucket.
constexpr char kAwsPut[] = R"json({
  "Records": [
    {
      "eventVersion": "2.1",
      "eventSource": "aws:s3",
      "awsRegion": "eu-west-1",
      "eventTime": "2024-05-01T12:34:56.789Z",
      "eventName": "ObjectCreated:Put",
      "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
      "requestParameters": {"sourceIPAddress": "203.0.113.7"},
      "responseElements": {
        "x-amz-request-id": "C3D13FE58DE4C810",
        "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"
      },
      "s3": {
        "s3SchemaVersion": "1.0",
        "configurationId": "s3mount-events",
        "bucket": {
          "name": "my-bucket",
          "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
          "arn": "arn:aws:s3:::my-bucket"
        },
        "object": {
          "key": "photos/2024/my+cat%2Bdog+%C3%A9.jpg",
          "size": 1024,
          "eTag": "d41d8cd98f00b204e9800998ecf8427e",
          "versionId": "096fKKXTRTtl3on89fVO.nfljtsv6qko",
          "sequencer": "0055AED6DCD90281E5"
        }
      }
    }
  ]
})json";

// AWS: a delete in a versioned bucket creates a delete marker; removals carry no size/eTag.
constexpr char kAwsDeleteMarker[] = R"json({"Records":[{"eventVersion":"2.1",
  "eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2024-05-01T12:35:00.001Z",
  "eventName":"ObjectRemoved:DeleteMarkerCreated","s3":{"s3SchemaVersion":"1.0",
  "bucket":{"name":"my-bucket","arn":"arn:aws:s3:::my-bucket"},
  "object":{"key":"photos/old.jpg","versionId":"3HL4kqtJlcpXroDTDmjVBH40Nrjfkd",
  "sequencer":"0055AED6DCD90281F0"}}}]})json";

// Captured from moto_server 5.2.1 for a PUT of "dir/a b+c é.txt".
constexpr char kMotoPut[] =
    R"json({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventTime": "2026-11-22T10:27:49.469813", "eventName": "ObjectCreated:Put", "s3": {"s3SchemaVersion": "1.0", "configurationId": "PmuD36UUsxPpdB5j8tvfv6sEOcT78GAslt5oCIxCld40UEP3wM", "bucket": {"name": "bucket-one", "arn": "arn:aws:s3:::bucket-one"}, "object": {"key": "dir%2Fa+b%2Bc+%C3%A9.txt", "size": 5, "eTag": "5d41402abc4b2a76b9719d911017c592"}}}]})json";
constexpr char kMotoDelete[] =
    R"json({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventTime": "2026-11-22T10:27:49.479606", "eventName": "ObjectRemoved:Delete", "s3": {"s3SchemaVersion": "1.0", "configurationId": "PmuD36UUsxPpdB5j8tvfv6sEOcT78GAslt5oCIxCld40UEP3wM", "bucket": {"name": "bucket-one", "arn": "arn:aws:s3:::bucket-one"}, "object": {"key": "dir%2Fa+b%2Bc+%C3%A9.txt", "size": 5, "eTag": "5d41402abc4b2a76b9719d911017c592"}}}]})json";
constexpr char kMotoTestEvent[] =
    R"json({"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-11-22T10:27:49.459319", "Bucket": "bucket-one"})json";

// Captured from moto: S3 -> SNS topic -> SQS queue (raw delivery off).
constexpr char kSnsEnvelope[] = R"json({
  "Message": "{\"Records\": [{\"eventVersion\": \"2.1\", \"eventSource\": \"aws:s3\", \"awsRegion\": \"us-east-1\", \"eventTime\": \"2026-11-22T10:27:49.628897\", \"eventName\": \"ObjectCreated:Put\", \"s3\": {\"s3SchemaVersion\": \"1.0\", \"configurationId\": \"tpRFnZB7AoVWxLPWHVYlfdHSDDXkbl1flHMR7pnvZtulmrcFTc\", \"bucket\": {\"name\": \"bucket-two\", \"arn\": \"arn:aws:s3:::bucket-two\"}, \"object\": {\"key\": \"x+y\", \"size\": 2, \"eTag\": \"49f68a5c8493ec2c0bf489821c21fc3b\"}}}]}",
  "MessageId": "23b081bd-bef5-4f4d-9464-eb3c572f4bea",
  "Signature": "TZrncgg59lXmLFrCkN/bFzo99QhLUi5gJMPauts/ZUUvE4zpONkJPj3NyQnvHAPz323F==",
  "SignatureVersion": "2",
  "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-89ca.pem",
  "Timestamp": "2026-11-22T10:27:49.629Z",
  "TopicArn": "arn:aws:sns:us-east-1:123456789012:t1",
  "Type": "Notification",
  "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x"
})json";
constexpr char kSnsTestEvent[] = R"json({"Type": "Notification", "MessageId": "m",
  "Message": "{\"Service\": \"Amazon S3\", \"Event\": \"s3:TestEvent\", \"Bucket\": \"b\"}"})json";

// MinIO's Redis target with format=access: one list element, `s3:` prefixes, QueryEscape keys,
// a quoted eTag as MinIO sometimes sends, and an ObjectAccessed event to skip.
constexpr char kMinioAccess[] = R"json([{"Event":[{"eventVersion":"2.0",
  "eventSource":"minio:s3","awsRegion":"","eventTime":"2024-05-01T10:00:00.123Z",
  "eventName":"s3:ObjectCreated:CompleteMultipartUpload","userIdentity":{"principalId":"minio"},
  "s3":{"s3SchemaVersion":"1.0","configurationId":"Config","bucket":{"name":"data",
  "ownerIdentity":{"principalId":"minio"},"arn":"arn:aws:s3:::data"},"object":{
  "key":"logs%2F2024%2Fapp+log.txt","size":12345,"eTag":"\"abc123-2\"",
  "contentType":"text/plain","userMetadata":{"content-type":"text/plain"},
  "sequencer":"17CB9A3B3C1A4E3F"}},"source":{"host":"127.0.0.1","port":"","userAgent":"x"}},
  {"eventVersion":"2.0","eventSource":"minio:s3","eventName":"s3:ObjectAccessed:Get",
  "s3":{"bucket":{"name":"data"},"object":{"key":"logs%2Fx"}}}],
  "EventTime":"2024-05-01T10:00:00.123Z"},
  {"Event":[{"eventName":"s3:ObjectRemoved:Delete","s3":{"bucket":{"name":"data"},
  "object":{"key":"tmp%2Fgone","sequencer":"17CB9A3B3C1A4E40"}}}],
  "EventTime":"2024-05-01T10:00:01Z"}])json";

// Parses `body`, failing the test with the reason if it does not parse.
S3EventMessage MustParse(std::string_view body) {
  auto parsed = ParseS3EventMessage(body);
  EXPECT_TRUE(parsed.ok()) << parsed.error().ToString() << "\nbody: " << body;
  return parsed.ok() ? std::move(parsed).value() : S3EventMessage{};
}

// A minimal S3-format body with one record.
std::string Body(std::string_view event_name, std::string_view encoded_key,
                 std::string_view bucket = "b") {
  return R"({"Records":[{"eventName":")" + std::string(event_name) +
         R"(","s3":{"bucket":{"name":")" + std::string(bucket) + R"("},"object":{"key":")" +
         std::string(encoded_key) + R"("}}}]})";
}

// The error message for `body`, which must not parse (kInvalidArgument).
std::string ErrorOf(std::string_view body) {
  auto parsed = ParseS3EventMessage(body);
  EXPECT_FALSE(parsed.ok()) << "parsed without error: " << body;
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument) << parsed.error().ToString();
  return parsed.error().message;
}

TEST(S3EventTest, AwsFormatPut) {
  S3EventMessage message = MustParse(kAwsPut);
  EXPECT_FALSE(message.test_event);
  EXPECT_EQ(message.skipped_records, 0u);
  ASSERT_EQ(message.changes.size(), 1u);
  const ObjectChange& change = message.changes[0];
  EXPECT_EQ(change.kind, ObjectChangeKind::kCreated);
  EXPECT_EQ(change.event_name, "ObjectCreated:Put");
  EXPECT_EQ(change.bucket, "my-bucket");
  EXPECT_EQ(change.key, "photos/2024/my cat+dog \xc3\xa9.jpg");
  ASSERT_TRUE(change.size.has_value());
  EXPECT_EQ(*change.size, 1024u);
  EXPECT_EQ(change.etag, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(change.version_id, "096fKKXTRTtl3on89fVO.nfljtsv6qko");
  EXPECT_EQ(change.sequencer, "0055AED6DCD90281E5");
  EXPECT_EQ(change.event_time, "2024-05-01T12:34:56.789Z");
  ASSERT_TRUE(change.event_wall_time.has_value());
  EXPECT_EQ(FormatIso8601(*change.event_wall_time), "2024-05-01T12:34:56.789Z");
}

TEST(S3EventTest, AwsDeleteMarkerIsARemovalWithoutSizeOrEtag) {
  S3EventMessage message = MustParse(kAwsDeleteMarker);
  ASSERT_EQ(message.changes.size(), 1u);
  const ObjectChange& change = message.changes[0];
  EXPECT_EQ(change.kind, ObjectChangeKind::kRemoved);
  EXPECT_EQ(change.event_name, "ObjectRemoved:DeleteMarkerCreated");
  EXPECT_EQ(change.key, "photos/old.jpg");
  EXPECT_FALSE(change.size.has_value());
  EXPECT_EQ(change.etag, "");
  EXPECT_EQ(change.sequencer, "0055AED6DCD90281F0");
}

TEST(S3EventTest, MotoFormatPutAndDelete) {
  S3EventMessage put = MustParse(kMotoPut);
  ASSERT_EQ(put.changes.size(), 1u);
  EXPECT_EQ(put.changes[0].kind, ObjectChangeKind::kCreated);
  EXPECT_EQ(put.changes[0].bucket, "bucket-one");
  EXPECT_EQ(put.changes[0].key, "dir/a b+c \xc3\xa9.txt");
  EXPECT_EQ(put.changes[0].etag, "5d41402abc4b2a76b9719d911017c592");
  EXPECT_EQ(put.changes[0].sequencer, "");
  EXPECT_EQ(put.changes[0].event_time, "2026-11-22T10:27:49.469813");
  ASSERT_TRUE(put.changes[0].event_wall_time.has_value()) << "eventTime without Z must parse";
  EXPECT_EQ(FormatIso8601(*put.changes[0].event_wall_time), "2026-11-22T10:27:49.469Z");

  S3EventMessage removed = MustParse(kMotoDelete);
  ASSERT_EQ(removed.changes.size(), 1u);
  EXPECT_EQ(removed.changes[0].kind, ObjectChangeKind::kRemoved);
  EXPECT_EQ(removed.changes[0].key, "dir/a b+c \xc3\xa9.txt");
}

TEST(S3EventTest, TestEventHasNoChanges) {
  S3EventMessage message = MustParse(kMotoTestEvent);
  EXPECT_TRUE(message.test_event);
  EXPECT_TRUE(message.changes.empty());
  S3EventMessage wrapped = MustParse(kSnsTestEvent);
  EXPECT_TRUE(wrapped.test_event);
  EXPECT_TRUE(wrapped.changes.empty());
}

TEST(S3EventTest, SnsEnvelopeIsUnwrapped) {
  S3EventMessage message = MustParse(kSnsEnvelope);
  ASSERT_EQ(message.changes.size(), 1u);
  EXPECT_EQ(message.changes[0].bucket, "bucket-two");
  EXPECT_EQ(message.changes[0].key, "x y");
  EXPECT_EQ(message.changes[0].size.value_or(0), 2u);
}

TEST(S3EventTest, MinioAccessFormat) {
  S3EventMessage message = MustParse(kMinioAccess);
  EXPECT_EQ(message.skipped_records, 1u) << "ObjectAccessed:Get is skipped";
  ASSERT_EQ(message.changes.size(), 2u);
  EXPECT_EQ(message.changes[0].kind, ObjectChangeKind::kCreated);
  EXPECT_EQ(message.changes[0].event_name, "ObjectCreated:CompleteMultipartUpload");
  EXPECT_EQ(message.changes[0].bucket, "data");
  EXPECT_EQ(message.changes[0].key, "logs/2024/app log.txt");
  EXPECT_EQ(message.changes[0].etag, "abc123-2") << "quotes are stripped";
  EXPECT_EQ(message.changes[0].size.value_or(0), 12345u);
  EXPECT_EQ(message.changes[1].kind, ObjectChangeKind::kRemoved);
  EXPECT_EQ(message.changes[1].key, "tmp/gone");
  EXPECT_FALSE(message.changes[1].event_wall_time.has_value());
  EXPECT_EQ(MustParse("[]").changes.size(), 0u);
  EXPECT_EQ(MustParse(R"([{"Event":null,"EventTime":"x"}])").changes.size(), 0u);
}

TEST(S3EventTest, EventNamesWithAndWithoutPrefix) {
  struct Case {
    const char* name;
    ObjectChangeKind kind;
  };
  for (Case c : {Case{"ObjectCreated:Put", ObjectChangeKind::kCreated},
                 Case{"s3:ObjectCreated:Post", ObjectChangeKind::kCreated},
                 Case{"ObjectCreated:Copy", ObjectChangeKind::kCreated},
                 Case{"s3:ObjectCreated:CompleteMultipartUpload", ObjectChangeKind::kCreated},
                 Case{"ObjectRemoved:Delete", ObjectChangeKind::kRemoved},
                 Case{"s3:ObjectRemoved:DeleteMarkerCreated", ObjectChangeKind::kRemoved},
                 Case{"LifecycleExpiration:Delete", ObjectChangeKind::kRemoved},
                 Case{"s3:LifecycleExpiration:DeleteMarkerCreated", ObjectChangeKind::kRemoved}}) {
    S3EventMessage message = MustParse(Body(c.name, "k"));
    ASSERT_EQ(message.changes.size(), 1u) << c.name;
    EXPECT_EQ(message.changes[0].kind, c.kind) << c.name;
  }
}

TEST(S3EventTest, UnknownEventNamesAreSkippedNotErrors) {
  for (const char* name :
       {"ObjectRestore:Post", "ObjectRestore:Completed",
        "s3:Replication:OperationFailedReplication", "LifecycleTransition", "ObjectTagging:Put",
        "s3:ObjectAccessed:Head", "IntelligentTiering", "s3:ReducedRedundancyLostObject"}) {
    S3EventMessage message = MustParse(Body(name, "k"));
    EXPECT_TRUE(message.changes.empty()) << name;
    EXPECT_EQ(message.skipped_records, 1u) << name;
  }
  // Skipped records need no s3 part at all.
  EXPECT_EQ(MustParse(R"({"Records":[{"eventName":"ObjectRestore:Post"}]})").skipped_records, 1u);
}

TEST(S3EventTest, KeysAreFormDecoded) {
  struct Case {
    const char* encoded;
    const char* decoded;
  };
  for (Case c : {Case{"a+b", "a b"}, Case{"a%2Bb", "a+b"}, Case{"dir%2Fsub%2Ffile", "dir/sub/file"},
                 Case{"dir/sub/file", "dir/sub/file"}, Case{"%E6%97%A5%E6%9C%AC.txt", "日本.txt"},
                 Case{"100%25+done", "100% done"}, Case{"a%2fb", "a/b"},
                 Case{"trailing%2F", "trailing/"}, Case{"++", "  "}}) {
    S3EventMessage message = MustParse(Body("ObjectCreated:Put", c.encoded));
    ASSERT_EQ(message.changes.size(), 1u) << c.encoded;
    EXPECT_EQ(message.changes[0].key, c.decoded) << c.encoded;
  }
  // A key sent as raw UTF-8 (JSON allows it) is kept.
  S3EventMessage raw = MustParse(Body("ObjectCreated:Put", "caf\xc3\xa9"));
  ASSERT_EQ(raw.changes.size(), 1u);
  EXPECT_EQ(raw.changes[0].key, "caf\xc3\xa9");
}

TEST(S3EventTest, SeveralRecordsKeepTheirOrder) {
  std::string body = R"({"Records":[)";
  body +=
      R"({"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"one"}}},)";
  body += R"({"eventName":"ObjectRestore:Post"},)";
  body +=
      R"({"eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"b"},"object":{"key":"two"}}}]})";
  S3EventMessage message = MustParse(body);
  ASSERT_EQ(message.changes.size(), 2u);
  EXPECT_EQ(message.changes[0].key, "one");
  EXPECT_EQ(message.changes[1].key, "two");
  EXPECT_EQ(message.skipped_records, 1u);
  EXPECT_TRUE(MustParse(R"({"Records":[]})").changes.empty());
}

TEST(S3EventTest, GarbageIsAnErrorThatSaysWhy) {
  EXPECT_NE(ErrorOf("").find("empty"), std::string::npos);
  EXPECT_NE(ErrorOf("   \n").find("empty"), std::string::npos);
  EXPECT_NE(ErrorOf("{not json").find("not valid JSON"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"Records":[})").find("not valid JSON"), std::string::npos);
  EXPECT_NE(ErrorOf("42").find("number"), std::string::npos);
  EXPECT_NE(ErrorOf(R"("Records")").find("string"), std::string::npos);
  EXPECT_NE(ErrorOf("null").find("null"), std::string::npos);
  EXPECT_NE(ErrorOf("{}").find("neither Records"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"Records":{}})").find("Records is a object, not an array"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"Records":[1]})").find("Records[0]: is a number"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"Records":[{}]})").find("has no eventName"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"Records":[{"eventName":7}]})").find("eventName is a number"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"Records":[{"eventName":"ObjectCreated:Put"}]})").find("has no s3"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"Records":[{"eventName":"ObjectCreated:Put","s3":[]}]})")
                .find("s3 is a array, not an object"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf(R"({"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"k"}}}]})")
          .find("has no s3.bucket"),
      std::string::npos);
  EXPECT_NE(
      ErrorOf(
          R"({"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":""},"object":{"key":"k"}}}]})")
          .find("has no s3.bucket.name"),
      std::string::npos);
  EXPECT_NE(
      ErrorOf(
          R"({"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{}}}]})")
          .find("has no s3.object.key"),
      std::string::npos);
  EXPECT_NE(
      ErrorOf(
          R"({"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":5}}}]})")
          .find("s3.object.key is a number"),
      std::string::npos);
  EXPECT_NE(
      ErrorOf(
          R"({"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k","size":-1}}}]})")
          .find("size is not a non-negative integer"),
      std::string::npos);
  EXPECT_NE(
      ErrorOf(
          R"({"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k","size":"5"}}}]})")
          .find("size"),
      std::string::npos);
  EXPECT_NE(
      ErrorOf(
          R"({"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k","eTag":1}}}]})")
          .find("eTag is a number"),
      std::string::npos);
  EXPECT_NE(
      ErrorOf(
          R"({"Records":[{"eventName":"ObjectCreated:Put","eventTime":[],"s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]})")
          .find("eventTime is a array"),
      std::string::npos);
}

TEST(S3EventTest, InvalidPercentEscapesAndEmptyKeysAreErrors) {
  for (const char* key : {"a%zz", "a%2", "%", "a%G0"}) {
    std::string message = ErrorOf(Body("ObjectCreated:Put", key));
    EXPECT_NE(message.find("invalid percent escape"), std::string::npos) << key << ": " << message;
    EXPECT_NE(message.find(key), std::string::npos) << "names the key: " << message;
  }
  EXPECT_NE(ErrorOf(Body("ObjectCreated:Put", "")).find("key is empty"), std::string::npos);
}

TEST(S3EventTest, SnsAndTestEventGarbage) {
  EXPECT_NE(ErrorOf(R"({"Type":"Notification"})").find("no Message"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"Type":"Notification","Message":{}})").find("Message is a object"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"Type":"Notification","Message":"not json"})").find("SNS Message is not"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"Type":"SubscriptionConfirmation","Message":"x"})").find("carries no"),
            std::string::npos);
  // No SNS envelope inside an SNS envelope.
  EXPECT_NE(
      ErrorOf(
          R"({"Type":"Notification","Message":"{\"Type\":\"Notification\",\"Message\":\"{}\"}"})")
          .find("SNS Message has neither"),
      std::string::npos);
  EXPECT_NE(ErrorOf(R"({"Event":"s3:SomethingElse"})").find("unknown Event"), std::string::npos);
  EXPECT_NE(ErrorOf(R"([{"NoEvent":1}])").find("entry 0 has no Event"), std::string::npos);
  EXPECT_NE(ErrorOf(R"([3])").find("entry 0 is a number"), std::string::npos);
  EXPECT_NE(ErrorOf(R"([{"Event":{}}])").find("entry 0 Event is a object"), std::string::npos);
}

TEST(S3EventTest, HostileInputDoesNotCrash) {
  // Invalid UTF-8, deep nesting, a body over the limit, NUL bytes.
  EXPECT_FALSE(ParseS3EventMessage("{\"Records\":[\"\xff\xfe\"]}").ok());
  EXPECT_FALSE(ParseS3EventMessage(std::string(10000, '[') + std::string(10000, ']')).ok());
  EXPECT_FALSE(ParseS3EventMessage(std::string(kMaxS3EventMessageBytes + 1, ' ')).ok());
  EXPECT_FALSE(ParseS3EventMessage(std::string("{\"Records\":[]}\0x", 16)).ok());
  std::string big_nested = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_FALSE(ParseS3EventMessage(big_nested).ok());
}

TEST(SequencerTest, OrdersHexAfterLeftPadding) {
  EXPECT_EQ(CompareSequencers("0055AED6DCD90281E5", "0055AED6DCD90281E5"),
            std::strong_ordering::equal);
  EXPECT_EQ(CompareSequencers("0055AED6DCD90281E5", "0055AED6DCD90281F0"),
            std::strong_ordering::less);
  EXPECT_EQ(CompareSequencers("0055AED6DCD90281F0", "0055AED6DCD90281E5"),
            std::strong_ordering::greater);
  // Different lengths: "FF" is 0x00FF, less than "0100".
  EXPECT_EQ(CompareSequencers("FF", "0100"), std::strong_ordering::less);
  EXPECT_EQ(CompareSequencers("100", "FF"), std::strong_ordering::greater);
  EXPECT_EQ(CompareSequencers("00ff", "FF"), std::strong_ordering::equal) << "case and padding";
  EXPECT_EQ(CompareSequencers("A", "9"), std::strong_ordering::greater) << "hex, not ASCII";
  EXPECT_EQ(CompareSequencers("", "00"), std::strong_ordering::less);
  EXPECT_EQ(CompareSequencers("1", ""), std::strong_ordering::greater);
  EXPECT_EQ(CompareSequencers("", ""), std::strong_ordering::equal);
}

TEST(RelevanceTest, BucketAndPrefix) {
  ObjectChange change;
  change.bucket = "b";
  change.key = "photos/2024/cat.jpg";
  EXPECT_TRUE(IsChangeRelevant(change, "b", ""));
  EXPECT_FALSE(IsChangeRelevant(change, "other", ""));
  EXPECT_FALSE(IsChangeRelevant(change, "B", "")) << "bucket names are case-sensitive";
  EXPECT_TRUE(IsChangeRelevant(change, "b", "photos/"));
  EXPECT_TRUE(IsChangeRelevant(change, "b", "photos/2024/"));
  EXPECT_TRUE(IsChangeRelevant(change, "b", "photos"));
  EXPECT_FALSE(IsChangeRelevant(change, "b", "photo"));
  EXPECT_FALSE(IsChangeRelevant(change, "b", "photos/2023/"));
  EXPECT_FALSE(IsChangeRelevant(change, "b", "Photos/"));
  change.key = "photos/";
  EXPECT_TRUE(IsChangeRelevant(change, "b", "photos/")) << "the mount root's own marker";
  change.key = "photos";
  EXPECT_FALSE(IsChangeRelevant(change, "b", "photos/"));
  EXPECT_FALSE(IsChangeRelevant(change, "b", "photos"));
  change.key = "photosynthesis.txt";
  EXPECT_FALSE(IsChangeRelevant(change, "b", "photos"));
}

TEST(S3EventTest, KindNames) {
  EXPECT_EQ(ObjectChangeKindName(ObjectChangeKind::kCreated), "created");
  EXPECT_EQ(ObjectChangeKindName(ObjectChangeKind::kRemoved), "removed");
}

}  // namespace
}  // namespace s3mount
