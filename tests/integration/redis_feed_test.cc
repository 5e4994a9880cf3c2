// Integration tests of RedisChangeFeed against a real redis-server (tests/support/
// redis_server.h), driven by redis-cli: channel mode (PUBLISH), list mode as MinIO's
// format=access target fills it (RPUSH, BLMOVE to KEY:processing, LREM on acknowledge,
// re-delivery after a new connection), passwords and ACL users, SELECT, Interrupt, a server
// restart, and a real ChangeListener applying MinIO events with awkward keys.
#include "s3mount/events/redis_feed.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "s3mount/events/change_listener.h"
#include "tests/support/redis_server.h"

namespace s3mount {
namespace {

using std::chrono::milliseconds;
using testing::RedisServer;
using testing::RedisServerOptions;

// Go's url.QueryEscape, as MinIO encodes keys: unreserved bytes stay, ' ' is '+', others %XX.
std::string QueryEscape(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out += {'%', kHex[byte >> 4], kHex[byte & 15]};
    }
  }
  return out;
}

// One record as MinIO writes it (eventSource minio:s3, `s3:` prefix, escaped key).
std::string MinioRecord(const std::string& event_name, const std::string& bucket,
                        const std::string& key, const std::string& sequencer) {
  return R"({"eventVersion":"2.0","eventSource":"minio:s3","awsRegion":"",)"
         R"("eventTime":"2024-05-01T10:00:00.123Z","eventName":"s3:)" +
         event_name +
         R"(","userIdentity":{"principalId":"minio"},"s3":{"s3SchemaVersion":"1.0",)"
         R"("configurationId":"Config","bucket":{"name":")" +
         bucket + R"(","ownerIdentity":{"principalId":"minio"},"arn":"arn:aws:s3:::)" + bucket +
         R"("},"object":{"key":")" + QueryEscape(key) +
         R"(","size":5,"eTag":"d41d8cd98f00b204e9800998ecf8427e","sequencer":")" + sequencer +
         R"("}}})";
}

// One element of MinIO's Redis list (format=access).
std::string MinioElement(const std::string& event_name, const std::string& bucket,
                         const std::string& key, const std::string& sequencer) {
  return R"([{"Event":[)" + MinioRecord(event_name, bucket, key, sequencer) +
         R"(],"EventTime":"2024-05-01T10:00:00.123Z"}])";
}

// The S3 JSON an SQS queue would carry, for channel mode.
std::string S3Body(const std::string& key) {
  return R"({"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",)"
         R"("eventTime":"2024-05-01T12:00:00.000Z","eventName":"ObjectCreated:Put",)"
         R"("s3":{"bucket":{"name":"data"},"object":{"key":")" +
         QueryEscape(key) + R"(","size":3,"eTag":"abc","sequencer":"0A"}}}]})";
}

std::unique_ptr<RedisServer> MustStart(const RedisServerOptions& options = {}) {
  auto server = RedisServer::Start(options);
  EXPECT_TRUE(server.ok()) << server.error().message;
  return server.ok() ? std::move(*server) : nullptr;
}

std::string Cli(const RedisServer& server, const std::vector<std::string>& args) {
  auto out = server.Cli(args);
  EXPECT_TRUE(out.ok()) << out.error().message;
  return out.ok() ? *out : "";
}

RedisFeedOptions FastOptions(const RedisServer& server) {
  return {.url = server.Url(), .poll_interval = milliseconds(200), .max_wait = milliseconds(3000)};
}

// The clock the feeds and listeners here run on (real Redis waits: the real clock).
Clock& RealClock() {
  static SystemClock clock;
  return clock;
}

std::unique_ptr<RedisChangeFeed> MustConnect(const RedisFeedOptions& options) {
  auto feed = RedisChangeFeed::Connect(options, RealClock());
  EXPECT_TRUE(feed.ok()) << feed.error().ToString();
  return feed.ok() ? std::move(*feed) : nullptr;
}

std::vector<std::string> Bodies(const std::vector<FeedMessage>& batch) {
  std::vector<std::string> bodies;
  bodies.reserve(batch.size());
  for (const FeedMessage& message : batch) bodies.push_back(message.body);
  return bodies;
}

// Receives until `count` messages came or `limit` passed (errors fail the test).
std::vector<FeedMessage> ReceiveAtLeast(RedisChangeFeed& feed, size_t count,
                                        milliseconds limit = milliseconds(10000)) {
  std::vector<FeedMessage> all;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (all.size() < count && std::chrono::steady_clock::now() < deadline) {
    auto batch = feed.Receive();
    EXPECT_TRUE(batch.ok()) << batch.error().ToString();
    if (!batch.ok()) break;
    all.insert(all.end(), batch->begin(), batch->end());
  }
  return all;
}

class RedisFeedTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = MustStart().release(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(server_, nullptr) << "redis-server did not start"; }

  static RedisServer* server_;
};
RedisServer* RedisFeedTest::server_ = nullptr;

TEST_F(RedisFeedTest, ChannelModeReceivesPublishedS3Json) {
  RedisFeedOptions options = FastOptions(*server_);
  options.channel = "s3-events";
  auto feed = MustConnect(options);
  ASSERT_NE(feed, nullptr);
  EXPECT_EQ(feed->Describe(),
            "Redis channel s3-events at 127.0.0.1:" + std::to_string(server_->port()));
  const std::string first = S3Body("a b+c.txt");
  const std::string second = S3Body("dir/second");
  EXPECT_EQ(Cli(*server_, {"PUBLISH", "s3-events", first}), "1") << "the feed is not subscribed";
  EXPECT_EQ(Cli(*server_, {"PUBLISH", "s3-events", second}), "1");
  EXPECT_EQ(Cli(*server_, {"PUBLISH", "other-channel", "not for us"}), "0");
  std::vector<FeedMessage> got = ReceiveAtLeast(*feed, 2);
  EXPECT_EQ(Bodies(got), (std::vector<std::string>{first, second}));
  EXPECT_TRUE(feed->Acknowledge(got).ok());
  // Nothing more: an empty batch after max_wait.
  const auto start = std::chrono::steady_clock::now();
  auto none = feed->Receive();
  ASSERT_TRUE(none.ok()) << none.error().ToString();
  EXPECT_TRUE(none->empty());
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(2500));
}

TEST_F(RedisFeedTest, ListModeMovesToProcessingAndAcknowledgeRemoves) {
  RedisFeedOptions options = FastOptions(*server_);
  options.list = "minio-ack";
  auto feed = MustConnect(options);
  ASSERT_NE(feed, nullptr);
  EXPECT_EQ(feed->Describe(),
            "Redis list minio-ack at 127.0.0.1:" + std::to_string(server_->port()));
  const std::vector<std::string> elements = {
      MinioElement("ObjectCreated:Put", "data", "one", "01"),
      MinioElement("ObjectCreated:Put", "data", "two", "02"),
      MinioElement("ObjectRemoved:Delete", "data", "one", "03")};
  EXPECT_EQ(Cli(*server_, {"RPUSH", "minio-ack", elements[0], elements[1], elements[2]}), "3");
  std::vector<FeedMessage> got = ReceiveAtLeast(*feed, 3);
  ASSERT_EQ(Bodies(got), elements) << "all three, in the order MinIO pushed them";
  for (const FeedMessage& message : got) EXPECT_EQ(message.receipt, message.body);
  EXPECT_EQ(Cli(*server_, {"LLEN", "minio-ack"}), "0");
  EXPECT_EQ(Cli(*server_, {"LLEN", "minio-ack:processing"}), "3")
      << "received elements must wait in the processing list until acknowledged";
  ASSERT_TRUE(feed->Acknowledge({got[0], got[2]}).ok());
  EXPECT_EQ(Cli(*server_, {"LRANGE", "minio-ack:processing", "0", "-1"}), elements[1]);
  ASSERT_TRUE(feed->Acknowledge({got[1]}).ok());
  EXPECT_EQ(Cli(*server_, {"LLEN", "minio-ack:processing"}), "0");
}

TEST_F(RedisFeedTest, UnacknowledgedElementsComeAgainToTheNextFeed) {
  RedisFeedOptions options = FastOptions(*server_);
  options.list = "minio-redeliver";
  const std::string a = MinioElement("ObjectCreated:Put", "data", "a", "01");
  const std::string b = MinioElement("ObjectCreated:Put", "data", "b", "02");
  const std::string c = MinioElement("ObjectCreated:Put", "data", "c", "03");
  {
    auto first = MustConnect(options);
    ASSERT_NE(first, nullptr);
    Cli(*server_, {"RPUSH", "minio-redeliver", a, b});
    std::vector<FeedMessage> got = ReceiveAtLeast(*first, 2);
    ASSERT_EQ(got.size(), 2u);
    // The mount dies before acknowledging.
  }
  Cli(*server_, {"RPUSH", "minio-redeliver", c});
  auto second = MustConnect(options);
  ASSERT_NE(second, nullptr);
  auto again = second->Receive();
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(Bodies(*again), (std::vector<std::string>{a, b}))
      << "the unacknowledged elements first, before anything new";
  ASSERT_TRUE(second->Acknowledge(*again).ok());
  std::vector<FeedMessage> next = ReceiveAtLeast(*second, 1);
  EXPECT_EQ(Bodies(next), std::vector<std::string>{c});
  ASSERT_TRUE(second->Acknowledge(next).ok());
  EXPECT_EQ(Cli(*server_, {"LLEN", "minio-redeliver:processing"}), "0");
}

TEST_F(RedisFeedTest, SelectsTheDatabaseOfTheUrl) {
  RedisFeedOptions options = FastOptions(*server_);
  options.url += "/3";
  options.list = "minio-db";
  auto feed = MustConnect(options);
  ASSERT_NE(feed, nullptr);
  Cli(*server_, {"RPUSH", "minio-db", "in db 0"});
  Cli(*server_, {"-n", "3", "RPUSH", "minio-db", "in db 3"});
  std::vector<FeedMessage> got = ReceiveAtLeast(*feed, 1);
  EXPECT_EQ(Bodies(got), std::vector<std::string>{"in db 3"});
  EXPECT_EQ(Cli(*server_, {"LLEN", "minio-db"}), "1") << "db 0 must not be touched";
}

TEST_F(RedisFeedTest, AKeyThatIsNotAListIsAStartupError) {
  Cli(*server_, {"SET", "minio-string", "x"});
  RedisFeedOptions options = FastOptions(*server_);
  options.list = "minio-string";
  auto feed = RedisChangeFeed::Connect(options, RealClock());
  ASSERT_FALSE(feed.ok());
  EXPECT_EQ(feed.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(feed.error().message.find("is a string, not a list"), std::string::npos)
      << feed.error().message;
}

// Receive in another thread, Interrupt after `delay`; how long Receive took.
milliseconds TimeInterruptedReceive(RedisChangeFeed& feed, milliseconds delay) {
  const auto start = std::chrono::steady_clock::now();
  auto receiving = std::async(std::launch::async, [&] { return feed.Receive(); });
  std::this_thread::sleep_for(delay);
  feed.Interrupt();
  auto batch = receiving.get();
  EXPECT_TRUE(batch.ok()) << batch.error().ToString();
  if (batch.ok()) {
    EXPECT_TRUE(batch->empty());
  }
  return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
}

TEST_F(RedisFeedTest, InterruptEndsABlockedReceiveBeforeItsWait) {
  // The production settings: 1 s slices, 20 s waits. A Receive that ignored the Interrupt
  // would return after its whole wait (max_wait): returning before that is what is checked,
  // not how fast.
  for (bool channel : {true, false}) {
    SCOPED_TRACE(channel ? "channel mode" : "list mode");
    RedisFeedOptions options{.url = server_->Url()};
    (channel ? options.channel : options.list) = "interrupt-test";
    auto feed = MustConnect(options);
    ASSERT_NE(feed, nullptr);
    const milliseconds took = TimeInterruptedReceive(*feed, milliseconds(500));
    EXPECT_LT(took, options.max_wait)
        << "Receive ignored Interrupt and waited " << took.count() << " ms";
    // An Interrupt before Receive makes the next one return at once.
    feed->Interrupt();
    const auto start = std::chrono::steady_clock::now();
    auto batch = feed->Receive();
    ASSERT_TRUE(batch.ok());
    EXPECT_LT(std::chrono::steady_clock::now() - start, options.max_wait)
        << "a Receive after an Interrupt waited its whole wait";
  }
}

TEST(RedisFeedAuthTest, PasswordsAndAclUsers) {
  auto server = MustStart({.password = "s3cret-pw"});
  ASSERT_NE(server, nullptr);
  const std::string address = "127.0.0.1:" + std::to_string(server->port());

  RedisFeedOptions right = FastOptions(*server);  // Url() carries ":s3cret-pw@"
  right.channel = "auth-events";
  auto feed = MustConnect(right);
  ASSERT_NE(feed, nullptr);
  EXPECT_EQ(feed->Describe().find("s3cret"), std::string::npos);
  Cli(*server, {"PUBLISH", "auth-events", S3Body("k")});
  EXPECT_EQ(ReceiveAtLeast(*feed, 1).size(), 1u);

  auto wrong = RedisChangeFeed::Connect(
      {.url = "redis://:not-the-pw@" + address, .channel = "auth-events"}, RealClock());
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kAccessDenied) << wrong.error().ToString();
  EXPECT_NE(wrong.error().message.find(address), std::string::npos) << wrong.error().message;
  EXPECT_NE(wrong.error().message.find("WRONGPASS"), std::string::npos) << wrong.error().message;
  EXPECT_EQ(wrong.error().message.find("not-the-pw"), std::string::npos) << wrong.error().message;

  auto none =
      RedisChangeFeed::Connect({.url = "redis://" + address, .list = "auth-list"}, RealClock());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kAccessDenied) << none.error().ToString();
  EXPECT_NE(none.error().message.find("NOAUTH"), std::string::npos) << none.error().message;

  // A Redis 6 ACL user.
  Cli(*server, {"ACL", "SETUSER", "s3mount", "on", ">user-pw", "~*", "&*", "+@all"});
  auto user = MustConnect({.url = "redis://s3mount:user-pw@" + address,
                           .list = "auth-list",
                           .max_wait = milliseconds(3000)});
  ASSERT_NE(user, nullptr);
  Cli(*server, {"RPUSH", "auth-list", "element"});
  EXPECT_EQ(Bodies(ReceiveAtLeast(*user, 1)), std::vector<std::string>{"element"});
  auto bad_user =
      RedisChangeFeed::Connect({.url = "redis://s3mount:x@" + address, .list = "l"}, RealClock());
  ASSERT_FALSE(bad_user.ok());
  EXPECT_EQ(bad_user.error().code, ErrorCode::kAccessDenied);
}

TEST(RedisFeedRestartTest, SubscriptionSurvivesARestartOfTheServer) {
  auto server = MustStart({.password = "pw"});
  ASSERT_NE(server, nullptr);
  RedisFeedOptions options = FastOptions(*server);
  options.channel = "restart-events";
  auto feed = MustConnect(options);
  ASSERT_NE(feed, nullptr);

  server->Stop();
  auto broken = feed->Receive();
  ASSERT_FALSE(broken.ok()) << "a Receive on a dead connection must fail for the listener to "
                               "back off";
  EXPECT_EQ(broken.error().code, ErrorCode::kNetwork) << broken.error().ToString();
  auto down = feed->Receive();  // reconnecting while the server is down fails too
  ASSERT_FALSE(down.ok());
  EXPECT_NE(down.error().message.find("127.0.0.1:" + std::to_string(server->port())),
            std::string::npos)
      << down.error().message;

  ASSERT_TRUE(server->Restart().ok());
  // Publish once the feed has subscribed again (pub/sub keeps nothing for absent clients).
  auto publisher = std::async(std::launch::async, [&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      auto count = server->Cli({"PUBSUB", "NUMSUB", "restart-events"});
      if (count.ok() && *count == "restart-events\n1") {
        return server->Cli({"PUBLISH", "restart-events", S3Body("after-restart")});
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    return Result<std::string>(MakeError(ErrorCode::kTimeout, "the feed never re-subscribed"));
  });
  std::vector<FeedMessage> got = ReceiveAtLeast(*feed, 1);
  auto published = publisher.get();
  ASSERT_TRUE(published.ok()) << published.error().message;
  EXPECT_EQ(*published, "1");
  EXPECT_EQ(Bodies(got), std::vector<std::string>{S3Body("after-restart")});
}

TEST(RedisFeedRestartTest, ListModeReconnectsAfterARestart) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  RedisFeedOptions options = FastOptions(*server);
  options.list = "restart-list";
  auto feed = MustConnect(options);
  ASSERT_NE(feed, nullptr);
  ASSERT_TRUE(server->Restart().ok());
  auto broken = feed->Receive();
  EXPECT_FALSE(broken.ok()) << "the BLMOVE on the old connection must fail";
  Cli(*server, {"RPUSH", "restart-list", "after"});
  std::vector<FeedMessage> got = ReceiveAtLeast(*feed, 1);
  EXPECT_EQ(Bodies(got), std::vector<std::string>{"after"});
}

class RecordingApply {
 public:
  void operator()(const ObjectChange& change) {
    std::lock_guard<std::mutex> lock(mu_);
    changes_.push_back(change);
  }
  std::vector<ObjectChange> WaitFor(size_t count, milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (changes_.size() >= count || std::chrono::steady_clock::now() >= deadline) {
          return changes_;
        }
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
  }

 private:
  std::mutex mu_;
  std::vector<ObjectChange> changes_;
};

TEST_F(RedisFeedTest, ChangeListenerAppliesMinioEventsWithAwkwardKeys) {
  RedisFeedOptions options = FastOptions(*server_);
  options.list = "minio-listener";
  auto feed = MustConnect(options);
  ASSERT_NE(feed, nullptr);
  RecordingApply recorder;
  ChangeListener listener(*feed, RealClock(), {.bucket = "data", .prefix = "docs/"},
                          [&](const ObjectChange& change) { recorder(change); });
  listener.Start();
  const std::string spaced = "docs/my file+plus.txt";
  const std::string utf8 = "docs/répertoire/日本 語.txt";
  Cli(*server_,
      {"RPUSH", "minio-listener", MinioElement("ObjectCreated:Put", "data", spaced, "0A"),
       MinioElement("ObjectCreated:Put", "other-bucket", "docs/x", "0B"),
       MinioElement("ObjectCreated:CompleteMultipartUpload", "data", utf8, "0C"),
       MinioElement("ObjectCreated:Put", "data", "outside/prefix", "0D"),
       "garbage that is not JSON", MinioElement("ObjectRemoved:Delete", "data", spaced, "0E")});
  std::vector<ObjectChange> changes = recorder.WaitFor(3, milliseconds(5000));
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].key, spaced);
  EXPECT_EQ(changes[0].kind, ObjectChangeKind::kCreated);
  EXPECT_EQ(changes[1].key, utf8);
  EXPECT_EQ(changes[2].key, spaced);
  EXPECT_EQ(changes[2].kind, ObjectChangeKind::kRemoved);
  EXPECT_EQ(changes[2].sequencer, "0E");
  // Everything, relevant or not, malformed or not, is acknowledged.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (Cli(*server_, {"LLEN", "minio-listener:processing"}) != "0" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(Cli(*server_, {"LLEN", "minio-listener:processing"}), "0");
  listener.Stop();
  ChangeListenerStats stats = listener.stats();
  EXPECT_EQ(stats.messages, 6u);
  EXPECT_EQ(stats.applied, 3u);
  EXPECT_EQ(stats.ignored, 2u);
  EXPECT_EQ(stats.malformed, 1u);
  EXPECT_EQ(stats.receive_errors, 0u);
  EXPECT_EQ(stats.acknowledge_errors, 0u);
}

TEST_F(RedisFeedTest, ChangeListenerOverAChannelStopsWithoutWaitingForTheFeed) {
  RedisFeedOptions options{.url = server_->Url(), .channel = "listener-events"};
  auto feed = MustConnect(options);
  ASSERT_NE(feed, nullptr);
  RecordingApply recorder;
  ChangeListener listener(*feed, RealClock(), {.bucket = "data", .prefix = ""},
                          [&](const ObjectChange& change) { recorder(change); });
  listener.Start();
  Cli(*server_, {"PUBLISH", "listener-events", S3Body("a b/ü+.txt")});
  std::vector<ObjectChange> changes = recorder.WaitFor(1, milliseconds(5000));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].key, "a b/ü+.txt");
  const auto start = std::chrono::steady_clock::now();
  listener.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, options.max_wait)
      << "Stop waited for the feed's whole wait";
}

}  // namespace
}  // namespace s3mount
