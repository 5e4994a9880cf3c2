// Integration tests of SqsClient and the S3 event parser against moto_server: a bucket whose
// notifications go to an SQS queue (set up with boto3), objects written and deleted with
// CurlObjectStore, the events received with SqsClient in both protocols, parsed, deleted, and
// the queue then empty. With SigV4 enforcement on, the IAM user's keys work and a wrong
// secret or a missing queue give clear errors.
#include "s3mount/events/sqs_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "s3mount/aws/http_client.h"
#include "s3mount/aws/http_fetch.h"
#include "s3mount/common/strings.h"
#include "s3mount/events/s3_event.h"
#include "tests/support/moto_fixture.h"
#include "tests/support/moto_setup.h"
#include "tests/support/s3_client_factory.h"
#include "tests/support/subprocess.h"

namespace s3mount {
namespace {

using testing::LocalClientOptions;
using testing::MakeTestClient;

// What the long poll needs from the HTTP client (see sqs_client.h).
HttpClientOptions LongPollHttpOptions() {
  HttpClientOptions options;
  options.connect_timeout = std::chrono::seconds(5);
  options.request_timeout = kSqsMinimumHttpTimeout;
  options.low_speed_time = kSqsMinimumHttpTimeout;
  return options;
}

template <bool kEnforce>
class SqsFixture : public testing::MotoTestBase<kEnforce> {
 protected:
  using Base = testing::MotoTestBase<kEnforce>;

  void SetUp() override {
    Base::SetUp();
    if (this->HasFatalFailure()) return;
    auto queue =
        testing::RouteBucketEventsToNewQueue(Base::server(), this->bucket(), "q-" + this->bucket());
    ASSERT_TRUE(queue.ok()) << queue.error().ToString();
    queue_url_ = *queue;
    ASSERT_TRUE(ValidateSqsQueueUrl(queue_url_).ok()) << queue_url_;
  }

  std::unique_ptr<SqsClient> Client(SqsProtocol protocol = SqsProtocol::kAuto,
                                    std::string secret = "") {
    credentials_ = std::make_unique<StaticCredentialsProvider>(Credentials{
        Base::server().access_key_id(),
        secret.empty() ? Base::server().secret_access_key() : secret, "", std::nullopt});
    auto client = SqsClient::Create(FetchWith(http_), *credentials_, clock_,
                                    {.queue_url = queue_url_, .protocol = protocol});
    EXPECT_TRUE(client.ok()) << client.error().ToString();
    return client.ok() ? std::move(client).value() : nullptr;
  }

  // Receives, parses and deletes messages until `want` changes have arrived or 20 polls
  // passed; returns the changes and whether a test event was seen.
  std::vector<ObjectChange> Collect(SqsClient& client, size_t want, bool* saw_test_event) {
    std::vector<ObjectChange> changes;
    for (int poll = 0; poll < 20 && changes.size() < want; ++poll) {
      auto messages = client.ReceiveMessages(10, std::chrono::seconds(1));
      EXPECT_TRUE(messages.ok()) << messages.error().ToString();
      if (!messages.ok() || messages->empty()) continue;
      for (const SqsMessage& message : *messages) {
        auto parsed = ParseS3EventMessage(message.body);
        EXPECT_TRUE(parsed.ok()) << parsed.error().ToString() << "\nbody: " << message.body;
        if (!parsed.ok()) continue;
        if (parsed->test_event) *saw_test_event = true;
        for (ObjectChange& change : parsed->changes) changes.push_back(std::move(change));
      }
      auto deleted = client.DeleteMessageBatch(SqsDeleteEntriesFor(*messages));
      EXPECT_TRUE(deleted.ok()) << deleted.error().ToString();
      if (deleted.ok()) {
        EXPECT_EQ(deleted->successful.size(), messages->size());
        EXPECT_TRUE(deleted->failed.empty())
            << deleted->failed[0].id << ": " << deleted->failed[0].code;
      }
    }
    return changes;
  }

  void ExpectQueueEmpty(SqsClient& client) {
    auto messages = client.ReceiveMessages(10, std::chrono::seconds(1));
    ASSERT_TRUE(messages.ok()) << messages.error().ToString();
    EXPECT_TRUE(messages->empty())
        << messages->size() << " messages left, first: " << messages->front().body;
  }

  testing::TestClient S3Client() {
    return MakeTestClient(
        LocalClientOptions(Base::server().endpoint(), this->bucket()),
        {Base::server().access_key_id(), Base::server().secret_access_key(), "", std::nullopt},
        clock_);
  }

  SystemClock clock_;
  HttpClient http_{LongPollHttpOptions()};
  std::unique_ptr<StaticCredentialsProvider> credentials_;
  std::string queue_url_;
};

using SqsEventsTest = SqsFixture<false>;
using SqsAuthTest = SqsFixture<true>;

TEST_F(SqsEventsTest, PutAndDeleteArriveAsParsedEventsJson) {
  auto client = Client();
  ASSERT_NE(client, nullptr);
  testing::TestClient s3 = S3Client();
  ASSERT_NE(s3.store, nullptr);
  const std::vector<std::string> keys = {"plain.txt", "dir/a b+c \xc3\xa9.txt", "nested/deep/x%y",
                                         "\xe6\x97\xa5\xe6\x9c\xac/file"};
  std::map<std::string, std::string> etags;
  for (const std::string& key : keys) {
    auto put = s3.store->PutObject({.key = key, .body = "body of " + key});
    ASSERT_TRUE(put.ok()) << key << ": " << put.error().ToString();
    etags[key] = put->etag;
  }
  ASSERT_TRUE(s3.store->DeleteObject(keys[1]).ok());

  bool saw_test_event = false;
  std::vector<ObjectChange> changes = Collect(*client, keys.size() + 1, &saw_test_event);
  EXPECT_EQ(client->protocol(), SqsProtocol::kJson);
  EXPECT_TRUE(saw_test_event) << "moto sends an s3:TestEvent first";
  ASSERT_EQ(changes.size(), keys.size() + 1);
  std::multiset<std::string> created;
  std::multiset<std::string> removed;
  for (const ObjectChange& change : changes) {
    EXPECT_EQ(change.bucket, bucket());
    EXPECT_TRUE(IsChangeRelevant(change, bucket(), ""));
    if (change.kind == ObjectChangeKind::kCreated) {
      created.insert(change.key);
      std::string etag = etags[change.key];
      EXPECT_EQ("\"" + change.etag + "\"", etag) << change.key;
      EXPECT_EQ(change.size.value_or(0), ("body of " + change.key).size());
    } else {
      removed.insert(change.key);
    }
  }
  EXPECT_EQ(created, std::multiset<std::string>(keys.begin(), keys.end()));
  EXPECT_EQ(removed, std::multiset<std::string>{keys[1]});
  ExpectQueueEmpty(*client);
}

TEST_F(SqsEventsTest, LongPollReturnsWhenAnEventArrives) {
  auto client = Client();
  ASSERT_NE(client, nullptr);
  bool saw_test_event = false;
  // Drain the test event so that the long poll below waits for the PUT.
  for (int poll = 0; poll < 10 && !saw_test_event; ++poll) {
    auto messages = client->ReceiveMessages(10, std::chrono::seconds(1));
    ASSERT_TRUE(messages.ok()) << messages.error().ToString();
    for (const SqsMessage& message : *messages) {
      auto parsed = ParseS3EventMessage(message.body);
      saw_test_event = saw_test_event || (parsed.ok() && parsed->test_event);
    }
    if (!messages->empty()) {
      ASSERT_TRUE(client->DeleteMessageBatch(SqsDeleteEntriesFor(*messages)).ok());
    }
  }
  ASSERT_TRUE(saw_test_event);
  testing::TestClient s3 = S3Client();
  ASSERT_NE(s3.store, nullptr);
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    EXPECT_TRUE(s3.store->PutObject({.key = "late", .body = "x"}).ok());
  });
  auto start = std::chrono::steady_clock::now();
  auto messages = client->ReceiveMessages();  // 20 s long poll
  auto elapsed = std::chrono::steady_clock::now() - start;
  writer.join();
  ASSERT_TRUE(messages.ok()) << messages.error().ToString();
  ASSERT_EQ(messages->size(), 1u);
  auto parsed = ParseS3EventMessage((*messages)[0].body);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  ASSERT_EQ(parsed->changes.size(), 1u);
  EXPECT_EQ(parsed->changes[0].key, "late");
  EXPECT_GE(elapsed, std::chrono::milliseconds(1000)) << "the poll waited for the event";
  ASSERT_TRUE(client->DeleteMessageBatch(SqsDeleteEntriesFor(*messages)).ok());
}

TEST_F(SqsEventsTest, QueryProtocolToo) {
  auto client = Client(SqsProtocol::kQuery);
  ASSERT_NE(client, nullptr);
  testing::TestClient s3 = S3Client();
  ASSERT_NE(s3.store, nullptr);
  ASSERT_TRUE(s3.store->PutObject({.key = "q dir/one & <two>", .body = "x"}).ok());
  bool saw_test_event = false;
  std::vector<ObjectChange> changes = Collect(*client, 1, &saw_test_event);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].key, "q dir/one & <two>");
  EXPECT_EQ(changes[0].kind, ObjectChangeKind::kCreated);
  EXPECT_TRUE(IsChangeRelevant(changes[0], bucket(), "q dir/"));
  EXPECT_FALSE(IsChangeRelevant(changes[0], bucket(), "other/"));
  EXPECT_EQ(client->protocol(), SqsProtocol::kQuery);
  ExpectQueueEmpty(*client);
}

TEST_F(SqsEventsTest, StaleReceiptHandleIsAPerEntryFailure) {
  auto client = Client();
  ASSERT_NE(client, nullptr);
  auto result = client->DeleteMessageBatch({{"stale", "not-a-receipt-handle"}});
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_TRUE(result->successful.empty());
  ASSERT_EQ(result->failed.size(), 1u);
  EXPECT_EQ(result->failed[0].id, "stale");
  EXPECT_EQ(result->failed[0].code, "ReceiptHandleIsInvalid");
}

TEST_F(SqsEventsTest, MissingQueueIsNotFoundInBothProtocols) {
  for (SqsProtocol protocol : {SqsProtocol::kJson, SqsProtocol::kQuery}) {
    StaticCredentialsProvider credentials(Credentials{"test", "test", "", std::nullopt});
    std::string url = server().endpoint() + "/123456789012/no-such-queue";
    auto client = SqsClient::Create(FetchWith(http_), credentials, clock_,
                                    {.queue_url = url, .protocol = protocol});
    ASSERT_TRUE(client.ok());
    auto messages = (*client)->ReceiveMessages(1, std::chrono::seconds(0));
    ASSERT_FALSE(messages.ok()) << SqsProtocolName(protocol);
    EXPECT_EQ(messages.error().code, ErrorCode::kNotFound)
        << SqsProtocolName(protocol) << ": " << messages.error().ToString();
    EXPECT_NE(messages.error().message.find(url), std::string::npos);
  }
}

TEST_F(SqsAuthTest, RightKeysWorkWrongSecretIsAClearError) {
  auto client = Client();
  ASSERT_NE(client, nullptr);
  bool saw_test_event = false;
  testing::TestClient s3 = S3Client();
  ASSERT_NE(s3.store, nullptr);
  ASSERT_TRUE(s3.store->PutObject({.key = "signed/object.txt", .body = "x"}).ok());
  std::vector<ObjectChange> changes = Collect(*client, 1, &saw_test_event);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].key, "signed/object.txt");
  ExpectQueueEmpty(*client);

  const std::string wrong_secret = "WrongSecretKeyForThisTest123456";
  for (SqsProtocol protocol : {SqsProtocol::kAuto, SqsProtocol::kQuery}) {
    auto wrong = Client(protocol, wrong_secret);
    ASSERT_NE(wrong, nullptr);
    auto messages = wrong->ReceiveMessages(1, std::chrono::seconds(0));
    ASSERT_FALSE(messages.ok()) << SqsProtocolName(protocol);
    const Error& error = messages.error();
    EXPECT_EQ(error.code, ErrorCode::kSignatureDoesNotMatch)
        << SqsProtocolName(protocol) << ": " << error.ToString();
    EXPECT_EQ(error.s3_code, "SignatureDoesNotMatch");
    EXPECT_NE(error.message.find(queue_url_), std::string::npos) << error.message;
    EXPECT_EQ(error.ToString().find(wrong_secret), std::string::npos);
    EXPECT_EQ(error.ToString().find(server().secret_access_key()), std::string::npos);
    EXPECT_EQ(wrong->protocol(), protocol) << "an auth error teaches nothing about protocols";
  }
  StaticCredentialsProvider unknown(Credentials{"AKIAUNKNOWNKEY000000", "x", "", std::nullopt});
  auto client_unknown =
      SqsClient::Create(FetchWith(http_), unknown, clock_, {.queue_url = queue_url_});
  ASSERT_TRUE(client_unknown.ok());
  auto messages = (*client_unknown)->ReceiveMessages(1, std::chrono::seconds(0));
  ASSERT_FALSE(messages.ok());
  EXPECT_EQ(messages.error().code, ErrorCode::kInvalidAccessKeyId) << messages.error().ToString();
}

}  // namespace
}  // namespace s3mount
