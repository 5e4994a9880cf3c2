// RedisChangeFeed (see redis_feed.h): redis:// URL parsing, and the hiredis connection that
// SUBSCRIBEs to a channel or moves elements of a list to its processing list.
#include "s3mount/events/redis_feed.h"

#include <hiredis.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

#include "s3mount/common/strings.h"

namespace s3mount {
namespace {

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

Error InvalidUrl(std::string_view what) {
  return MakeError(ErrorCode::kInvalidArgument, "invalid redis_url: " + std::string(what));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = AsciiToLower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// %XX-decodes `text` into *out; false on a bad escape.
bool PercentDecode(std::string_view text, std::string* out) {
  out->clear();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out->push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return false;
    const int high = HexValue(text[i + 1]);
    const int low = HexValue(text[i + 2]);
    if (high < 0 || low < 0) return false;
    out->push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return true;
}

template <typename T>
bool ParseNumber(std::string_view text, T* value) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && end == text.data() + text.size();
}

// Splits "user:password" (the part before '@'); the messages never quote it.
Status ParseUserInfo(std::string_view userinfo, RedisUrl* url) {
  const size_t colon = userinfo.find(':');
  if (colon == std::string_view::npos) {
    return InvalidUrl(
        "the part before '@' must be ':password' or 'user:password' (Redis 6 ACL); it has no "
        "':'");
  }
  if (!PercentDecode(userinfo.substr(0, colon), &url->username) ||
      !PercentDecode(userinfo.substr(colon + 1), &url->password)) {
    return InvalidUrl("a bad %-escape in the user or password");
  }
  if (url->password.empty()) return InvalidUrl("the password after ':' is empty");
  return OkStatus();
}

// "host", "host:port", "[v6]", "[v6]:port".
Status ParseHostPort(std::string_view hostport, RedisUrl* url) {
  std::string_view port_text;
  bool has_port = false;
  if (!hostport.empty() && hostport.front() == '[') {
    const size_t close = hostport.find(']');
    if (close == std::string_view::npos) return InvalidUrl("an IPv6 address without its ']'");
    url->host = std::string(hostport.substr(1, close - 1));
    std::string_view rest = hostport.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return InvalidUrl("unexpected text after the IPv6 address");
      has_port = true;
      port_text = rest.substr(1);
    }
  } else {
    const size_t colon = hostport.find(':');
    if (colon != std::string_view::npos &&
        hostport.find(':', colon + 1) != std::string_view::npos) {
      return InvalidUrl("an IPv6 address must be written in brackets: redis://[::1]:6379");
    }
    url->host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = hostport.substr(colon + 1);
    }
  }
  if (url->host.empty()) return InvalidUrl("no host (redis://host:port)");
  if (has_port && (!ParseNumber(port_text, &url->port) || url->port == 0)) {
    return InvalidUrl("port '" + std::string(port_text) + "' is not a number from 1 to 65535");
  }
  return OkStatus();
}

timeval ToTimeval(std::chrono::milliseconds duration) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(duration.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((duration.count() % 1000) * 1000);
  return tv;
}

// Runs one command; null when the connection failed (context->err says why).
ReplyPtr RunCommand(redisContext* context, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  void* raw = redisCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data());
  return ReplyPtr(static_cast<redisReply*>(raw));
}

std::string_view ReplyText(const redisReply& reply) {
  return std::string_view(reply.str, reply.len);
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// An error reply as an Error: refusals of the password are kAccessDenied.
Error ReplyError(const redisReply& reply, std::string_view address, std::string_view what) {
  const std::string_view text = ReplyText(reply);
  const bool denied = StartsWith(text, "WRONGPASS") || StartsWith(text, "NOAUTH") ||
                      StartsWith(text, "NOPERM") || StartsWith(text, "ERR invalid password") ||
                      StartsWith(text, "ERR AUTH");
  std::string message = "Redis at " + std::string(address) + " refused " + std::string(what) +
                        ": " + std::string(text);
  if (StartsWith(text, "NOAUTH")) message += " (redis_url needs redis://:password@...)";
  return MakeError(denied ? ErrorCode::kAccessDenied : ErrorCode::kInvalidResponse,
                   std::move(message));
}

std::string BlockSeconds(std::chrono::milliseconds block) {
  const auto millis = std::max<int64_t>(block.count(), 10);  // 0 would block forever
  return std::to_string(millis / 1000) + "." + std::to_string(1000 + millis % 1000).substr(1);
}

}  // namespace

std::string RedisUrl::Address() const {
  const std::string shown = host.find(':') == std::string::npos ? host : "[" + host + "]";
  return shown + ":" + std::to_string(port);
}

Result<RedisUrl> ParseRedisUrl(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (url.size() < kScheme.size() || !EqualsIgnoreCase(url.substr(0, kScheme.size()), kScheme)) {
    if (url.size() >= 9 && EqualsIgnoreCase(url.substr(0, 9), "rediss://")) {
      return InvalidUrl("rediss:// (TLS) is not supported; use redis://host:port");
    }
    return InvalidUrl("it must start with redis:// (redis://[:password@]host[:port][/db])");
  }
  std::string_view rest = url.substr(kScheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return InvalidUrl("query parameters and fragments are not supported");
  }
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  const std::string_view path =
      slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  RedisUrl parsed;
  const size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    S3M_RETURN_IF_ERROR(ParseUserInfo(authority.substr(0, at), &parsed));
    authority = authority.substr(at + 1);
  }
  S3M_RETURN_IF_ERROR(ParseHostPort(authority, &parsed));
  if (!path.empty() && (!ParseNumber(path, &parsed.db) || parsed.db < 0)) {
    return InvalidUrl("the database '/" + std::string(path) +
                      "' must be a number (redis://host:port/0)");
  }
  return parsed;
}

void RedisChangeFeed::ContextDeleter::operator()(redisContext* context) const {
  redisFree(context);
}

std::string RedisChangeFeed::ProcessingListName(std::string_view list) {
  return std::string(list) + ":processing";
}

RedisChangeFeed::RedisChangeFeed(RedisFeedOptions options, RedisUrl url, Clock& clock)
    : options_(std::move(options)),
      url_(std::move(url)),
      clock_(clock),
      description_(channel_mode() ? "Redis channel " + options_.channel + " at " + url_.Address()
                                  : "Redis list " + options_.list + " at " + url_.Address()),
      processing_list_(ProcessingListName(options_.list)) {}

RedisChangeFeed::~RedisChangeFeed() = default;

Result<std::unique_ptr<RedisChangeFeed>> RedisChangeFeed::Connect(RedisFeedOptions options,
                                                                  Clock& clock) {
  if (options.channel.empty() == options.list.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "a Redis change feed needs exactly one of redis_channel (pub/sub) and "
                     "redis_list (MinIO's format=access list)");
  }
  if (options.poll_interval.count() <= 0 || options.max_batch == 0 ||
      options.connect_timeout.count() <= 0 || options.command_timeout.count() <= 0 ||
      options.max_wait.count() <= 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "Redis feed timeouts and the batch size must be positive");
  }
  auto url = ParseRedisUrl(options.url);
  if (!url.ok()) return std::move(url).error();
  std::unique_ptr<RedisChangeFeed> feed(
      new RedisChangeFeed(std::move(options), std::move(*url), clock));
  S3M_RETURN_IF_ERROR(feed->Open());
  spdlog::debug("connected to {}", feed->Describe());
  return feed;
}

std::string RedisChangeFeed::Describe() const { return description_; }

void RedisChangeFeed::Interrupt() { interrupted_.store(true, std::memory_order_release); }

Error RedisChangeFeed::ConnectionError(std::string_view what) {
  std::string detail = "not connected";
  ErrorCode code = ErrorCode::kNetwork;
  if (context_) {
    detail = context_->errstr[0] != '\0' ? context_->errstr : "connection failed";
    if (detail.find("timed out") != std::string::npos ||
        detail.find("temporarily unavailable") != std::string::npos) {
      code = ErrorCode::kTimeout;
    }
  }
  context_.reset();
  return MakeError(code,
                   "Redis at " + url_.Address() + ": " + std::string(what) + " failed: " + detail);
}

Status RedisChangeFeed::RunSimple(const std::vector<std::string>& args, std::string_view what) {
  ReplyPtr reply = RunCommand(context_.get(), args);
  if (!reply) return ConnectionError(what);
  if (reply->type == REDIS_REPLY_ERROR) return ReplyError(*reply, url_.Address(), what);
  return OkStatus();
}

Status RedisChangeFeed::Authenticate() {
  if (url_.password.empty()) return OkStatus();
  std::vector<std::string> args = {"AUTH"};
  if (!url_.username.empty()) args.push_back(url_.username);
  args.push_back(url_.password);
  return RunSimple(
      args, url_.username.empty() ? "the password (AUTH)" : "user " + url_.username + " (AUTH)");
}

Status RedisChangeFeed::Open() {
  context_.reset();
  ContextPtr context(
      redisConnectWithTimeout(url_.host.c_str(), url_.port, ToTimeval(options_.connect_timeout)));
  if (!context) return MakeError(ErrorCode::kNetwork, "cannot allocate a Redis connection");
  context_ = std::move(context);
  if (context_->err != 0) return ConnectionError("connecting");
  if (redisSetTimeout(context_.get(),
                      ToTimeval(options_.command_timeout + options_.poll_interval)) != REDIS_OK ||
      redisEnableKeepAlive(context_.get()) != REDIS_OK) {
    return ConnectionError("setting socket options");
  }
  S3M_RETURN_IF_ERROR(Authenticate());
  if (url_.db != 0) S3M_RETURN_IF_ERROR(RunSimple({"SELECT", std::to_string(url_.db)}, "SELECT"));
  if (!channel_mode()) return OpenListMode();
  ReplyPtr reply = RunCommand(context_.get(), {"SUBSCRIBE", options_.channel});
  if (!reply) return ConnectionError("SUBSCRIBE");
  if (reply->type == REDIS_REPLY_ERROR) {
    return ReplyError(*reply, url_.Address(), "SUBSCRIBE " + options_.channel);
  }
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
      reply->element[0]->type != REDIS_REPLY_STRING ||
      ReplyText(*reply->element[0]) != "subscribe") {
    context_.reset();
    return MakeError(
        ErrorCode::kInvalidResponse,
        "Redis at " + url_.Address() + " did not confirm SUBSCRIBE " + options_.channel);
  }
  return OkStatus();
}

Status RedisChangeFeed::OpenListMode() {
  const std::string address = url_.Address();
  ReplyPtr info = RunCommand(context_.get(), {"COMMAND", "INFO", "BLMOVE"});
  if (!info) return ConnectionError("COMMAND INFO");
  if (info->type == REDIS_REPLY_ARRAY && info->elements == 1 &&
      info->element[0]->type == REDIS_REPLY_NIL) {
    context_.reset();
    return MakeError(ErrorCode::kNotSupported, "Redis at " + address +
                                                   " does not know BLMOVE: redis_list needs "
                                                   "Redis 6.2 or later");
  }
  ReplyPtr type = RunCommand(context_.get(), {"TYPE", options_.list});
  if (!type) return ConnectionError("TYPE");
  if (type->type == REDIS_REPLY_ERROR) return ReplyError(*type, address, "TYPE " + options_.list);
  const std::string_view kind = type->type == REDIS_REPLY_STATUS ? ReplyText(*type) : "?";
  if (kind != "list" && kind != "none") {
    context_.reset();
    return MakeError(ErrorCode::kInvalidArgument, "redis_list " + options_.list + " at " + address +
                                                      " is a " + std::string(kind) +
                                                      ", not a list");
  }
  ReplyPtr left = RunCommand(context_.get(), {"LRANGE", processing_list_, "0", "-1"});
  if (!left) return ConnectionError("LRANGE");
  if (left->type == REDIS_REPLY_ERROR) {
    return ReplyError(*left, address, "LRANGE " + processing_list_);
  }
  pending_.clear();
  for (size_t i = 0; left->type == REDIS_REPLY_ARRAY && i < left->elements; ++i) {
    if (left->element[i]->type == REDIS_REPLY_STRING) {
      pending_.emplace_back(ReplyText(*left->element[i]));
    }
  }
  if (!pending_.empty()) {
    spdlog::info("{}: {} notifications left unacknowledged in {} are handled first", description_,
                 pending_.size(), processing_list_);
  }
  return OkStatus();
}

FeedMessage RedisChangeFeed::MakeMessage(std::string element) {
  FeedMessage message;
  message.id =
      (channel_mode() ? "channel message #" : "list element #") + std::to_string(next_id_++);
  if (!channel_mode()) message.receipt = element;
  message.body = std::move(element);
  return message;
}

Result<std::vector<FeedMessage>> RedisChangeFeed::Receive() {
  if (!context_) {
    if (interrupted_.exchange(false)) return std::vector<FeedMessage>();
    S3M_RETURN_IF_ERROR(Open());
    spdlog::info("reconnected to {}", description_);
    // Back at once, empty: the listener learns now, not after a whole wait for messages, that
    // the feed works again (and drops what the outage may have hidden from it).
    return std::vector<FeedMessage>();
  }
  return channel_mode() ? ReceiveFromChannel() : ReceiveFromList();
}

Result<std::vector<FeedMessage>> RedisChangeFeed::ReceiveFromChannel() {
  const auto deadline = clock_.Monotonic() + options_.max_wait;
  std::vector<FeedMessage> batch;
  while (batch.size() < options_.max_batch) {
    void* raw = nullptr;
    if (redisGetReplyFromReader(context_.get(), &raw) != REDIS_OK) {
      return ConnectionError("reading");
    }
    if (raw == nullptr) {
      std::chrono::milliseconds wait{0};
      if (batch.empty()) {
        if (interrupted_.exchange(false)) break;
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_.Monotonic());
        if (left.count() <= 0) break;
        wait = std::min(left, options_.poll_interval);
      }
      pollfd fd{.fd = context_->fd, .events = POLLIN, .revents = 0};
      const int ready = ::poll(&fd, 1, static_cast<int>(wait.count()));
      if (ready < 0 && errno != EINTR) {
        return MakeError(ErrorCode::kNetwork, "poll on the Redis connection to " + url_.Address() +
                                                  ": " + std::strerror(errno));
      }
      if (ready <= 0) {
        if (batch.empty()) continue;
        break;  // deliver what came; more may follow in the next Receive
      }
      if (redisGetReply(context_.get(), &raw) != REDIS_OK) return ConnectionError("reading");
    }
    ReplyPtr reply(static_cast<redisReply*>(raw));
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 &&
        reply->element[0]->type == REDIS_REPLY_STRING &&
        ReplyText(*reply->element[0]) == "message" &&
        reply->element[2]->type == REDIS_REPLY_STRING) {
      batch.push_back(MakeMessage(std::string(ReplyText(*reply->element[2]))));
    }
    // Anything else (a subscribe confirmation) is not a notification.
  }
  return batch;
}

Result<bool> RedisChangeFeed::MoveOne(std::chrono::milliseconds block,
                                      std::vector<FeedMessage>* batch) {
  std::vector<std::string> args = {block.count() > 0 ? "BLMOVE" : "LMOVE", options_.list,
                                   processing_list_, "LEFT", "RIGHT"};
  if (block.count() > 0) args.push_back(BlockSeconds(block));
  ReplyPtr reply = RunCommand(context_.get(), args);
  if (!reply) return ConnectionError(args[0]);
  if (reply->type == REDIS_REPLY_ERROR) {
    return ReplyError(*reply, url_.Address(), args[0] + " from " + options_.list);
  }
  if (reply->type != REDIS_REPLY_STRING) return false;  // nil: the list is empty
  batch->push_back(MakeMessage(std::string(ReplyText(*reply))));
  return true;
}

Result<std::vector<FeedMessage>> RedisChangeFeed::ReceiveFromList() {
  std::vector<FeedMessage> batch;
  while (!pending_.empty() && batch.size() < options_.max_batch) {
    batch.push_back(MakeMessage(std::move(pending_.front())));
    pending_.pop_front();
  }
  if (!batch.empty()) return batch;
  const auto deadline = clock_.Monotonic() + options_.max_wait;
  while (batch.empty()) {
    if (interrupted_.exchange(false)) return batch;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_.Monotonic());
    if (left.count() <= 0) return batch;
    auto moved = MoveOne(std::min(left, options_.poll_interval), &batch);
    if (!moved.ok()) return std::move(moved).error();
  }
  while (batch.size() < options_.max_batch) {
    auto moved = MoveOne(std::chrono::milliseconds(0), &batch);
    if (!moved.ok()) return std::move(moved).error();  // they stay in KEY:processing
    if (!*moved) break;
  }
  return batch;
}

Status RedisChangeFeed::Acknowledge(const std::vector<FeedMessage>& messages) {
  if (channel_mode() || messages.empty()) return OkStatus();
  if (!context_) {
    return MakeError(ErrorCode::kNetwork, "not connected to Redis at " + url_.Address() +
                                              "; the messages stay in " + processing_list_ +
                                              " and come again after reconnecting");
  }
  // One round trip: all the LREMs pipelined, then their replies.
  for (const FeedMessage& message : messages) {
    const char* argv[] = {"LREM", processing_list_.c_str(), "1", message.receipt.data()};
    const size_t lengths[] = {4, processing_list_.size(), 1, message.receipt.size()};
    if (redisAppendCommandArgv(context_.get(), 4, argv, lengths) != REDIS_OK) {
      return ConnectionError("LREM");
    }
  }
  Status result = OkStatus();
  for (size_t i = 0; i < messages.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(context_.get(), &raw) != REDIS_OK) return ConnectionError("LREM");
    ReplyPtr reply(static_cast<redisReply*>(raw));
    if (reply->type == REDIS_REPLY_ERROR && result.ok()) {
      result = ReplyError(*reply, url_.Address(), "LREM from " + processing_list_);
    }
  }
  return result;
}

}  // namespace s3mount
