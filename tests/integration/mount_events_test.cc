// Integration test of change notifications on real mounts over moto: the bucket's S3 events go
// to an SQS queue, and a mount with sqs_queue_url= (caches trusted for an hour) shows another
// client's creates, overwrites and deletes within 2 seconds, while a mount with the same
// hour-long caches and no listener still shows the old view: the listener is what did it.
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "tests/support/moto_fixture.h"
#include "tests/support/moto_setup.h"
#include "tests/support/redis_server.h"
#include "tests/support/s3_client_factory.h"
#include "tests/support/s3mount_process.h"
#include "tests/support/test_data.h"

namespace s3mount {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr auto kFreshWithin = std::chrono::seconds(2);

std::set<std::string> Names(const std::string& directory) {
  std::set<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

std::string Join(const std::set<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

bool Exists(const std::string& path) {
  std::error_code error;
  return std::filesystem::exists(path, error);
}

// Polls `condition` until it holds or `limit` passes; how long it took, or nullopt.
std::optional<milliseconds> TimeUntil(const std::function<bool()>& condition,
                                      std::chrono::nanoseconds limit) {
  const auto start = steady_clock::now();
  while (steady_clock::now() - start <= limit) {
    if (condition()) {
      return std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  return std::nullopt;
}

class MountEventsTest : public testing::MotoTest {
 protected:
  void SetUp() override {
    testing::MotoTest::SetUp();
    if (HasFatalFailure()) return;
    auto queue = testing::RouteBucketEventsToNewQueue(server(), bucket(), "q-" + bucket());
    ASSERT_TRUE(queue.ok()) << queue.error().ToString();
    queue_url_ = *queue;
    client_ = testing::MakeTestClient(
        testing::LocalClientOptions(server().endpoint(), bucket()),
        {server().access_key_id(), server().secret_access_key(), "", std::nullopt}, clock_);
    ASSERT_NE(client_.store, nullptr);
  }
  void OtherClientPuts(const std::string& key, const std::string& body) {
    auto put = client_.store->PutObject({.key = key, .body = body});
    ASSERT_TRUE(put.ok()) << key << ": " << put.error().ToString();
  }

  SystemClock clock_;
  testing::TestClient client_;
  std::string queue_url_;
};

TEST_F(MountEventsTest, AnotherClientsChangesShowWithinTwoSecondsOnlyWithTheListener) {
  OtherClientPuts("seen.txt", "version one");
  OtherClientPuts("dir with space/old file+plus.txt", "to be deleted");
  auto listening = testing::S3mountProcess::Mount(
      server(), {.source = bucket(), .options = {"sqs_queue_url=" + queue_url_}});
  ASSERT_TRUE(listening.ok()) << listening.error().ToString();
  auto deaf = testing::S3mountProcess::Mount(
      server(),
      {.source = bucket(), .options = {"stat_ttl=3600", "list_ttl=3600", "negative_ttl=3600"}});
  ASSERT_TRUE(deaf.ok()) << deaf.error().ToString();
  for (auto* mount : {listening->get(), deaf->get()}) {
    // Read everything once, so that both mounts (and their kernels) cache it.
    ASSERT_EQ(testing::ReadFile(mount->Path("seen.txt")), "version one");
    ASSERT_EQ(Names(mount->Path("")), (std::set<std::string>{"dir with space", "seen.txt"}));
    ASSERT_EQ(Names(mount->Path("dir with space")), std::set<std::string>{"old file+plus.txt"});
    ASSERT_FALSE(Exists(mount->Path("new file.txt")));
    ASSERT_FALSE(Exists(mount->Path("nested")));
  }

  OtherClientPuts("new file.txt", "created elsewhere");
  OtherClientPuts("a+b \xc3\xbc.txt", "plus and UTF-8");
  OtherClientPuts("nested/deep/\xe6\x97\xa5\xe6\x9c\xac.txt", "nested");
  OtherClientPuts("seen.txt", "version two, longer than the first");
  ASSERT_TRUE(client_.store->DeleteObject("dir with space/old file+plus.txt").ok());

  testing::S3mountProcess& fresh = **listening;
  const auto all_seen = TimeUntil(
      [&] {
        // "dir with space" was implicit: it went with its only object.
        return Names(fresh.Path("")) == std::set<std::string>{"a+b \xc3\xbc.txt", "nested",
                                                              "new file.txt", "seen.txt"} &&
               testing::ReadFile(fresh.Path("seen.txt")) == "version two, longer than the first" &&
               testing::ReadFile(fresh.Path("nested/deep/\xe6\x97\xa5\xe6\x9c\xac.txt")) ==
                   "nested" &&
               !Exists(fresh.Path("dir with space/old file+plus.txt"));
      },
      kFreshWithin);
  ASSERT_TRUE(all_seen.has_value())
      << "the listening mount did not show the changes within 2 s; it shows /: "
      << Join(Names(fresh.Path("")))
      << "; /dir with space: " << Join(Names(fresh.Path("dir with space")))
      << "; seen.txt: " << testing::ReadFile(fresh.Path("seen.txt")) << "\n"
      << fresh.LogTail();
  EXPECT_EQ(testing::ReadFile(fresh.Path("new file.txt")), "created elsewhere");
  EXPECT_EQ(testing::ReadFile(fresh.Path("a+b \xc3\xbc.txt")), "plus and UTF-8");

  // The mount without a listener, with the same hour-long caches, still shows the old view.
  testing::S3mountProcess& stale = **deaf;
  EXPECT_EQ(testing::ReadFile(stale.Path("seen.txt")), "version one");
  EXPECT_EQ(Names(stale.Path("")), (std::set<std::string>{"dir with space", "seen.txt"}));
  EXPECT_EQ(Names(stale.Path("dir with space")), std::set<std::string>{"old file+plus.txt"});
}

TEST_F(MountEventsTest, TheMountsOwnWritesSurviveTheirEvents) {
  auto mount = testing::S3mountProcess::Mount(
      server(), {.source = bucket(), .options = {"sqs_queue_url=" + queue_url_}});
  ASSERT_TRUE(mount.ok()) << mount.error().ToString();
  for (int i = 0; i < 5; ++i) {
    const std::string path = (*mount)->Path("mine-" + std::to_string(i) + ".txt");
    std::ofstream(path) << "written here " << i;
  }
  std::this_thread::sleep_for(milliseconds(1500));  // the events of those writes arrive
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(testing::ReadFile((*mount)->Path("mine-" + std::to_string(i) + ".txt")),
              "written here " + std::to_string(i));
  }
  EXPECT_EQ(Names((*mount)->Path("")).size(), 5u);
}

TEST_F(MountEventsTest, ABadQueueIsAClearStartupError) {
  auto mount = testing::S3mountProcess::Mount(
      server(), {.source = bucket(),
                 .options = {"sqs_queue_url=" + server().endpoint() + "/123456789012/no-such-q"}});
  ASSERT_FALSE(mount.ok());
  EXPECT_NE(mount.error().message.find("no-such-q"), std::string::npos) << mount.error().message;
  EXPECT_NE(mount.error().message.find("GetQueueAttributes"), std::string::npos)
      << mount.error().message;
}

}  // namespace
}  // namespace s3mount

namespace s3mount {
namespace {

// Go's url.QueryEscape, as MinIO encodes keys in its events: ' ' is '+', everything but
// [A-Za-z0-9-_.~] is %XX.
std::string QueryEscape(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// One element of MinIO's Redis target with format=access.
std::string MinioAccessElement(const std::string& bucket, const std::string& event_name,
                               const std::string& key, const std::string& etag) {
  return R"([{"Event":[{"eventVersion":"2.0","eventSource":"minio:s3","awsRegion":"",)"
         R"("eventTime":"2026-11-22T10:00:00.000Z","eventName":")" +
         event_name + R"(","s3":{"s3SchemaVersion":"1.0","bucket":{"name":")" + bucket +
         R"("},"object":{"key":")" + QueryEscape(key) + R"(","eTag":")" + etag +
         R"(","sequencer":"17A1B2C3D4E5F600"}}}],"EventTime":"2026-11-22T10:00:00.000Z"}])";
}

class MountRedisEventsTest : public testing::MotoTest {
 protected:
  void SetUp() override {
    testing::MotoTest::SetUp();
    if (HasFatalFailure()) return;
    auto redis = testing::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.error().ToString();
    redis_ = std::move(*redis);
    client_ = testing::MakeTestClient(
        testing::LocalClientOptions(server().endpoint(), bucket()),
        {server().access_key_id(), server().secret_access_key(), "", std::nullopt}, clock_);
    ASSERT_NE(client_.store, nullptr);
  }
  // A mount that listens to the Redis server through `feed` (redis_list= or redis_channel=);
  // null (and a failure) if it cannot start.
  std::unique_ptr<testing::S3mountProcess> MountListening(const std::string& feed) {
    auto mount = testing::S3mountProcess::Mount(
        server(), {.source = bucket(), .options = {"redis_url=" + redis_->Url(), feed}});
    EXPECT_TRUE(mount.ok()) << mount.error().ToString();
    return mount.ok() ? std::move(mount).value() : nullptr;
  }
  std::string Put(const std::string& key, const std::string& body) {
    auto put = client_.store->PutObject({.key = key, .body = body});
    EXPECT_TRUE(put.ok()) << key << ": " << put.error().ToString();
    if (!put.ok()) return "";
    std::string etag = put->etag;
    if (etag.size() >= 2 && etag.front() == '"') etag = etag.substr(1, etag.size() - 2);
    return etag;
  }

  SystemClock clock_;
  testing::TestClient client_;
  std::unique_ptr<testing::RedisServer> redis_;
};

TEST_F(MountRedisEventsTest, MinioListEventsShowChangesWithinTwoSeconds) {
  Put("report.txt", "draft");
  Put("old/gone.txt", "soon deleted");
  auto mount = MountListening("redis_list=bucketevents");
  ASSERT_NE(mount, nullptr);
  ASSERT_EQ(testing::ReadFile(mount->Path("report.txt")), "draft");
  ASSERT_EQ(Names(mount->Path("")), (std::set<std::string>{"old", "report.txt"}));

  // Another client changes the bucket; MinIO's Redis target would push these elements.
  const std::string report = Put("report.txt", "final version of the report");
  const std::string fresh = Put("new dir/caf\xc3\xa9 +1.txt", "new");
  ASSERT_TRUE(client_.store->DeleteObject("old/gone.txt").ok());
  for (const std::string& element :
       {MinioAccessElement(bucket(), "s3:ObjectCreated:Put", "report.txt", report),
        MinioAccessElement(bucket(), "s3:ObjectCreated:Put", "new dir/caf\xc3\xa9 +1.txt", fresh),
        MinioAccessElement(bucket(), "s3:ObjectRemoved:Delete", "old/gone.txt", "")}) {
    auto pushed = redis_->Cli({"RPUSH", "bucketevents", element});
    ASSERT_TRUE(pushed.ok()) << pushed.error().ToString();
  }
  const auto seen = TimeUntil(
      [&] {
        return testing::ReadFile(mount->Path("report.txt")) == "final version of the report" &&
               Names(mount->Path("")) == std::set<std::string>{"new dir", "report.txt"} &&
               testing::ReadFile(mount->Path("new dir/caf\xc3\xa9 +1.txt")) == "new";
      },
      kFreshWithin);
  EXPECT_TRUE(seen.has_value()) << "not within 2 s; / holds " << Join(Names(mount->Path("")))
                                << "\n"
                                << mount->LogTail();
  // Each element was applied and acknowledged: nothing is left in either list.
  const auto drained = TimeUntil(
      [&] {
        auto queued = redis_->Cli({"LLEN", "bucketevents"});
        auto processing = redis_->Cli({"LLEN", "bucketevents:processing"});
        return queued.ok() && *queued == "0" && processing.ok() && *processing == "0";
      },
      kFreshWithin);
  EXPECT_TRUE(drained.has_value()) << "elements were not acknowledged";
}

TEST_F(MountRedisEventsTest, ChannelEventsShowChangesWithinTwoSeconds) {
  Put("notes.md", "one");
  auto mount = MountListening("redis_channel=s3-events");
  ASSERT_NE(mount, nullptr);
  ASSERT_EQ(testing::ReadFile(mount->Path("notes.md")), "one");
  const std::string etag = Put("notes.md", "two, from elsewhere");
  const std::string body =
      R"({"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put",)"
      R"("s3":{"bucket":{"name":")" +
      bucket() + R"("},"object":{"key":"notes.md","size":19,"eTag":")" + etag + R"("}}}]})";
  auto published = redis_->Cli({"PUBLISH", "s3-events", body});
  ASSERT_TRUE(published.ok()) << published.error().ToString();
  ASSERT_EQ(*published, "1") << "the mount is not subscribed";
  const auto seen =
      TimeUntil([&] { return testing::ReadFile(mount->Path("notes.md")) == "two, from elsewhere"; },
                kFreshWithin);
  EXPECT_TRUE(seen.has_value()) << mount->LogTail();
}

TEST_F(MountRedisEventsTest, AChangeMadeWhileTheChannelWasDownShowsOnceItIsBack) {
  Put("notes.md", "one");
  Put("dir/kept.txt", "kept");
  auto mount = MountListening("redis_channel=s3-events");
  ASSERT_NE(mount, nullptr);
  // Cached for an hour (the TTLs with events), in s3mount and in the kernel.
  ASSERT_EQ(testing::ReadFile(mount->Path("notes.md")), "one");
  ASSERT_EQ(Names(mount->Path("dir")), std::set<std::string>{"kept.txt"});

  // The outage: whatever is published now reaches no subscriber.
  redis_->Stop();
  Put("notes.md", "two, changed during the outage");
  Put("dir/added.txt", "added during the outage");
  ASSERT_TRUE(redis_->Restart().ok()) << redis_->LogTail();

  // Generous: the listener's backoff after the failed reconnects is a few seconds; the TTLs
  // it must not wait for are an hour.
  const auto seen = TimeUntil(
      [&] {
        return testing::ReadFile(mount->Path("notes.md")) == "two, changed during the outage" &&
               Names(mount->Path("dir")) == std::set<std::string>{"added.txt", "kept.txt"};
      },
      std::chrono::seconds(30));
  EXPECT_TRUE(seen.has_value()) << "the changes made during the outage stayed invisible; "
                                << "notes.md: " << testing::ReadFile(mount->Path("notes.md"))
                                << "\n"
                                << mount->LogTail();
  EXPECT_NE(mount->LogTail().find("flow again"), std::string::npos)
      << "no log line says the feed recovered and the caches were dropped";
}

TEST_F(MountRedisEventsTest, AWrongRedisPasswordIsAClearStartupError) {
  auto mount = testing::S3mountProcess::Mount(
      server(), {.source = bucket(),
                 .options = {"redis_url=redis://:not-the-password@127.0.0.1:" +
                                 std::to_string(redis_->port()),
                             "redis_list=x"}});
  // This server has no password: AUTH with one is refused.
  ASSERT_FALSE(mount.ok());
  EXPECT_EQ(mount.error().message.find("not-the-password"), std::string::npos)
      << "the password reached the output: " << mount.error().message;
  EXPECT_NE(mount.error().message.find("Redis"), std::string::npos) << mount.error().message;
}

}  // namespace
}  // namespace s3mount
