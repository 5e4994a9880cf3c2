// Tests of the Redis change feed that need no server: redis:// URL parsing (passwords never
// in messages), option validation, and the startup error for an address nobody listens on.
#include "s3mount/events/redis_feed.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/fakes/fake_clock.h"
#include "tests/support/free_port.h"

namespace s3mount {
namespace {

RedisUrl MustParse(const std::string& text) {
  auto url = ParseRedisUrl(text);
  EXPECT_TRUE(url.ok()) << text << ": " << (url.ok() ? "" : url.error().message);
  return url.ok() ? *url : RedisUrl{};
}

TEST(RedisUrlTest, HostAlone) {
  RedisUrl url = MustParse("redis://localhost");
  EXPECT_EQ(url.host, "localhost");
  EXPECT_EQ(url.port, 6379);
  EXPECT_EQ(url.username, "");
  EXPECT_EQ(url.password, "");
  EXPECT_EQ(url.db, 0);
  EXPECT_EQ(url.Address(), "localhost:6379");
}

TEST(RedisUrlTest, PortDbAndTrailingSlash) {
  RedisUrl url = MustParse("redis://10.0.0.5:6380/2");
  EXPECT_EQ(url.host, "10.0.0.5");
  EXPECT_EQ(url.port, 6380);
  EXPECT_EQ(url.db, 2);
  EXPECT_EQ(MustParse("redis://h:1/").db, 0);
  EXPECT_EQ(MustParse("REDIS://h").host, "h");
}

TEST(RedisUrlTest, PasswordOnly) {
  RedisUrl url = MustParse("redis://:s3cr%40t:x@cache.internal:7000/15");
  EXPECT_EQ(url.username, "");
  EXPECT_EQ(url.password, "s3cr@t:x");
  EXPECT_EQ(url.host, "cache.internal");
  EXPECT_EQ(url.port, 7000);
  EXPECT_EQ(url.db, 15);
}

TEST(RedisUrlTest, AclUserAndPassword) {
  RedisUrl url = MustParse("redis://s3mount:pa@ss@127.0.0.1");  // the last '@' ends it
  EXPECT_EQ(url.username, "s3mount");
  EXPECT_EQ(url.password, "pa@ss");
  EXPECT_EQ(url.host, "127.0.0.1");
}

TEST(RedisUrlTest, Ipv6InBrackets) {
  RedisUrl url = MustParse("redis://[::1]:6390");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, 6390);
  EXPECT_EQ(url.Address(), "[::1]:6390");
  EXPECT_EQ(MustParse("redis://[fe80::1]").port, 6379);
}

TEST(RedisUrlTest, BadUrlsSayWhyWithoutThePassword) {
  const struct {
    const char* url;
    const char* expected;  // a part of the message
  } kCases[] = {
      {"", "must start with redis://"},
      {"http://:hunter2@h:6379", "must start with redis://"},
      {"rediss://:hunter2@h:6379", "TLS"},
      {"redis://:hunter2@", "no host"},
      {"redis://:hunter2@:6379", "no host"},
      {"redis://:hunter2@h:", "port ''"},
      {"redis://:hunter2@h:0", "port '0'"},
      {"redis://:hunter2@h:65536", "port '65536'"},
      {"redis://:hunter2@h:12ab", "port '12ab'"},
      {"redis://:hunter2@h/x", "database '/x'"},
      {"redis://:hunter2@h/-1", "database '/-1'"},
      {"redis://:hunter2@h/1/2", "database '/1/2'"},
      {"redis://:hunter2@h?db=1", "query"},
      {"redis://hunter2@h", "':password' or 'user:password'"},
      {"redis://user:@h", "password after ':' is empty"},
      {"redis://:hunter2%zz@h", "%-escape"},
      {"redis://:hunter2%4@h", "%-escape"},
      {"redis://::1:6379", "brackets"},
      {"redis://:hunter2@[::1", "']'"},
      {"redis://:hunter2@[::1]x", "after the IPv6"},
  };
  for (const auto& c : kCases) {
    auto url = ParseRedisUrl(c.url);
    ASSERT_FALSE(url.ok()) << c.url << " was accepted";
    EXPECT_EQ(url.error().code, ErrorCode::kInvalidArgument) << c.url;
    EXPECT_NE(url.error().message.find(c.expected), std::string::npos)
        << c.url << " -> " << url.error().message;
    EXPECT_EQ(url.error().message.find("hunter2"), std::string::npos)
        << c.url << " leaks the password: " << url.error().message;
  }
}

TEST(RedisChangeFeedTest, ExactlyOneModeIsRequired) {
  testing::FakeClock clock;
  auto neither = RedisChangeFeed::Connect({.url = "redis://127.0.0.1:1"}, clock);
  ASSERT_FALSE(neither.ok());
  EXPECT_EQ(neither.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(neither.error().message.find("exactly one of redis_channel"), std::string::npos)
      << neither.error().message;
  auto both =
      RedisChangeFeed::Connect({.url = "redis://127.0.0.1:1", .channel = "c", .list = "l"}, clock);
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.error().code, ErrorCode::kInvalidArgument);
}

TEST(RedisChangeFeedTest, BadUrlIsAnInvalidArgumentBeforeConnecting) {
  testing::FakeClock clock;
  auto feed =
      RedisChangeFeed::Connect({.url = "redis://:hunter2@host:port", .channel = "c"}, clock);
  ASSERT_FALSE(feed.ok());
  EXPECT_EQ(feed.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(feed.error().message.find("hunter2"), std::string::npos) << feed.error().message;
}

TEST(RedisChangeFeedTest, NobodyListeningIsANetworkErrorNamingTheAddress) {
  testing::FakeClock clock;
  // A port that was free a moment ago: connecting is refused at once.
  auto port = testing::PickFreePort();
  ASSERT_TRUE(port.ok()) << port.error().message;
  const std::string address = "127.0.0.1:" + std::to_string(*port);
  auto feed =
      RedisChangeFeed::Connect({.url = "redis://:hunter2@" + address, .list = "events"}, clock);
  ASSERT_FALSE(feed.ok());
  EXPECT_EQ(feed.error().code, ErrorCode::kNetwork) << feed.error().ToString();
  EXPECT_NE(feed.error().message.find(address), std::string::npos) << feed.error().message;
  EXPECT_EQ(feed.error().message.find("hunter2"), std::string::npos) << feed.error().message;
}

TEST(RedisChangeFeedTest, ProcessingListName) {
  EXPECT_EQ(RedisChangeFeed::ProcessingListName("minio-events"), "minio-events:processing");
}

}  // namespace
}  // namespace s3mount
