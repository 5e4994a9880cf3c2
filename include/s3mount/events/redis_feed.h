// RedisChangeFeed: S3 event notifications from Redis, for MinIO and other stores without SQS
// (`-o redis_url=redis://[[user]:password@]host[:port][/db]`), in one of two modes:
//  - channel mode (`redis_channel=NAME`): SUBSCRIBE NAME; every published payload is one
//    message (the S3 JSON an SQS queue would carry, from any bridge). Pub/sub keeps nothing:
//    Acknowledge does nothing, and what is published while the feed is disconnected is lost.
//  - list mode (`redis_list=KEY`, MinIO's Redis target with `format=access`): reliable
//    consumption. `BLMOVE KEY KEY:processing LEFT RIGHT` moves each element (one MinIO
//    `[{"Event":[...],"EventTime":...}]` array) to a processing list; Acknowledge removes it
//    from there (`LREM KEY:processing 1 <element>`). Elements a previous run (or a broken
//    connection) left in KEY:processing are delivered again first after every (re)connect.
//    One list feeds one consumer: two mounts on one list would each see part of the events.
//
// A broken connection makes Receive (or Acknowledge) return an error and drops it; the next
// Receive reconnects (AUTH, SELECT, SUBSCRIBE again), so the ChangeListener's backoff is the
// reconnect backoff and a subscription survives a Redis restart.
//
//   auto feed = RedisChangeFeed::Connect({.url = "redis://:secret@10.0.0.5:6379/2",
//                                         .list = "minio-events"}, clock);
//   if (!feed.ok()) fail_mount(feed.error());   // bad URL, unreachable, wrong password...
//   ChangeListener listener(**feed, clock, {.bucket = "b"}, apply);
//
// Thread-safety: as ChangeFeed: Receive and Acknowledge from one thread (the listener's),
// Interrupt and Describe from any thread. No mutex: the connection belongs to the receiving
// thread; Interrupt only sets an atomic flag that the waits look at every poll_interval.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "s3mount/common/clock.h"
#include "s3mount/common/result.h"
#include "s3mount/events/change_feed.h"

struct redisContext;  // hiredis

namespace s3mount {

// What a redis:// URL names. The password is a secret: it appears in no message or log.
struct RedisUrl {
  std::string host;  // "127.0.0.1", "redis.example.com", "::1" (written "[::1]" in the URL)
  uint16_t port = 6379;
  std::string username;  // Redis 6 ACL user; empty: AUTH with the password alone
  std::string password;  // empty: no AUTH
  int db = 0;            // SELECT db when not 0

  // "host:port" ("[::1]:6379" for IPv6), for messages.
  std::string Address() const;
};

// Parses `redis://[[user]:password@]host[:port][/db]` (user and password percent-decoded).
// Errors are kInvalidArgument with a message that names what is wrong but never the password.
// `rediss://` (TLS) and unix sockets are refused as unsupported.
Result<RedisUrl> ParseRedisUrl(std::string_view url);

struct RedisFeedOptions {
  std::string url;      // redis://...
  std::string channel;  // channel mode: SUBSCRIBE this channel
  std::string list;     // list mode: BLMOVE from this list (exactly one of channel, list)
  // Connecting, and any one command's reply, may take this long.
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds command_timeout{5000};
  // How often a wait looks at the Interrupt flag (the BLMOVE timeout in list mode).
  std::chrono::milliseconds poll_interval{1000};
  // A Receive that gets nothing returns an empty batch after about this long.
  std::chrono::milliseconds max_wait{20000};
  // At most this many messages per batch.
  size_t max_batch = 10;
};

class RedisChangeFeed final : public ChangeFeed {
 public:
  // Validates the options, connects, authenticates, selects the database and subscribes (or,
  // in list mode, checks that the server knows BLMOVE and reads KEY:processing), so that a
  // wrong address, password or mode is a clear error at mount time. Errors:
  // kInvalidArgument (options, URL), kNetwork/kTimeout (unreachable), kAccessDenied (AUTH
  // refused, or NOAUTH: a password is needed), kNotSupported (Redis older than 6.2 in list
  // mode), kInvalidResponse (anything else the server said). Receive's deadlines are measured
  // on `clock` (Monotonic), which must outlive the feed.
  static Result<std::unique_ptr<RedisChangeFeed>> Connect(RedisFeedOptions options, Clock& clock);

  ~RedisChangeFeed() override;
  RedisChangeFeed(const RedisChangeFeed&) = delete;
  RedisChangeFeed& operator=(const RedisChangeFeed&) = delete;

  // See ChangeFeed. Reconnects first when the previous call found the connection broken.
  // Returns early (possibly empty) when interrupted; the interrupt is then consumed.
  Result<std::vector<FeedMessage>> Receive() override;
  // List mode: LREM KEY:processing 1 <receipt> for each message. Channel mode: nothing.
  Status Acknowledge(const std::vector<FeedMessage>& messages) override;
  void Interrupt() override;
  // "Redis channel NAME at host:port" / "Redis list KEY at host:port".
  std::string Describe() const override;

  // The processing list of list mode: KEY + ":processing".
  static std::string ProcessingListName(std::string_view list);

 private:
  struct ContextDeleter {
    void operator()(redisContext* context) const;
  };
  using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

  RedisChangeFeed(RedisFeedOptions options, RedisUrl url, Clock& clock);

  bool channel_mode() const { return !options_.channel.empty(); }
  // Connects, AUTH, SELECT, then SUBSCRIBE or (list mode) loads KEY:processing into pending_.
  Status Open();
  Status OpenListMode();
  Status Authenticate();
  // Runs one command and checks its reply is not an error; drops the connection on I/O errors.
  Status RunSimple(const std::vector<std::string>& args, std::string_view what);
  Result<std::vector<FeedMessage>> ReceiveFromChannel();
  Result<std::vector<FeedMessage>> ReceiveFromList();
  // Moves one element with BLMOVE (blocking up to `block`, 0: plain LMOVE without waiting);
  // false when none came.
  Result<bool> MoveOne(std::chrono::milliseconds block, std::vector<FeedMessage>* batch);
  FeedMessage MakeMessage(std::string element);
  // The connection's failure as an Error (and drops the connection).
  Error ConnectionError(std::string_view what);
  bool Interrupted() const { return interrupted_.load(std::memory_order_acquire); }

  const RedisFeedOptions options_;
  const RedisUrl url_;
  Clock& clock_;
  const std::string description_;
  const std::string processing_list_;

  ContextPtr context_;               // null when disconnected; receiving thread only
  std::deque<std::string> pending_;  // list mode: left in KEY:processing; receiving thread only
  uint64_t next_id_ = 1;             // receiving thread only
  std::atomic<bool> interrupted_{false};
};

}  // namespace s3mount
