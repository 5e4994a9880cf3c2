// SqsClient: a minimal Amazon SQS client for the change-notification listener: ReceiveMessage
// (long polling, up to 10 messages) and DeleteMessageBatch (up to 10 entries, per-entry
// failures reported), SigV4-signed for service "sqs" with the mount's CredentialsProvider.
//
// Protocols: it speaks the JSON protocol (`POST /` on the queue URL's host, Content-Type
// application/x-amz-json-1.0, X-Amz-Target AmazonSQS.<Action>) and falls back to the query
// protocol (form POST of Action=...&Version=2012-11-05 to the queue URL, XML reply) when the
// server shows it does not speak JSON: a reply that is neither JSON nor an XML error SQS
// would send to any request (authentication, access, missing queue, throttling). The first
// protocol that works is remembered for later calls.
//
//   SqsClient::Create(FetchWith(http), credentials, clock,
//                     {.queue_url = "https://sqs.eu-west-1.amazonaws.com/123456789012/q"})
//   auto messages = client->ReceiveMessages();          // waits up to 20 s
//   auto result = client->DeleteMessageBatch(EntriesFor(*messages));
//
// The HttpClient behind the HttpFetch must allow a request to be silent for longer than the
// long-poll wait: HttpClientOptions.request_timeout 0 or at least 30 s, low_speed_time at
// least 30 s (the defaults are fine; see kSqsMinimumHttpTimeout).
//
// Errors name the action, the queue URL and SQS's code ("SQS ReceiveMessage on
// https://.../q failed: AWS.SimpleQueueService.NonExistentQueue: The specified queue does not
// exist"), with `s3_code` holding SQS's code, mapped onto ErrorCode: kNotFound (no such
// queue), kAccessDenied, kInvalidAccessKeyId, kSignatureDoesNotMatch, kExpiredToken,
// kRequestTimeTooSkewed, kSlowDown, kServiceUnavailable, kInternalError, kBadRequest (our
// request was refused), kInvalidResponse (unreadable reply); credentials problems are
// kCredentials; transport failures keep their kind. No key, token or signature reaches a
// message.
//
// Thread-safety: all calls may run from many threads at once provided the HttpFetch and the
// CredentialsProvider accept concurrent calls. The protocol choice is an atomic.
// LOCK ORDERING: no lock of its own; the signer's key-cache lock is a leaf.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "s3mount/aws/credentials.h"
#include "s3mount/aws/http_fetch.h"
#include "s3mount/aws/sigv4_signer.h"
#include "s3mount/common/clock.h"
#include "s3mount/common/result.h"

namespace s3mount {

// The longest wait SQS allows, and the least request timeout an HttpClient needs for it.
inline constexpr std::chrono::seconds kSqsMaxWaitTime{20};
inline constexpr std::chrono::seconds kSqsMinimumHttpTimeout{30};
inline constexpr int kSqsMaxBatch = 10;

enum class SqsProtocol {
  kAuto,   // JSON first, the query protocol if the server does not speak JSON
  kJson,   // AWS JSON 1.0
  kQuery,  // the XML query protocol (API version 2012-11-05)
};

std::string_view SqsProtocolName(SqsProtocol protocol);  // "auto", "json", "query"

struct SqsClientOptions {
  // "https://sqs.eu-west-1.amazonaws.com/123456789012/my-queue" or, for moto,
  // "http://127.0.0.1:PORT/123456789012/my-queue". Requests go to its scheme and host.
  std::string queue_url;
  // Signing region; empty: parsed from the queue URL's host, else "us-east-1".
  std::string region;
  SqsProtocol protocol = SqsProtocol::kAuto;
  // When set and it becomes true, a call in progress (a long poll) ends within about a second
  // with kCancelled. Not owned; must outlive the client.
  const std::atomic<bool>* cancel = nullptr;
};

struct SqsMessage {
  std::string message_id;
  std::string receipt_handle;  // what DeleteMessageBatch needs
  std::string body;
};

struct SqsDeleteEntry {
  std::string id;  // unique in the batch; [A-Za-z0-9_-]{1,80}
  std::string receipt_handle;
};

struct SqsDeleteFailure {
  std::string id;
  std::string code;  // "ReceiptHandleIsInvalid"
  std::string message;
  bool sender_fault = false;
};

struct SqsDeleteResult {
  std::vector<std::string> successful;  // ids
  std::vector<SqsDeleteFailure> failed;
};

// Checks a queue URL given at mount time: http(s), a host, no user info, query or fragment,
// and the path /ACCOUNT/NAME (NAME 1-80 of [A-Za-z0-9_-], optionally ending in ".fifo").
// kInvalidArgument with a message saying what is wrong.
Status ValidateSqsQueueUrl(std::string_view queue_url);

// The region in an AWS queue URL's host: "sqs.<region>.amazonaws.com[.cn]",
// "<region>.queue.amazonaws.com", "sqs-fips.<region>...", VPC endpoint names
// "vpce-...sqs.<region>.vpce.amazonaws.com"; "us-east-1" for "queue.amazonaws.com"; "" when
// the host names no region (an emulator on 127.0.0.1).
std::string SqsRegionFromQueueUrl(std::string_view queue_url);

// Delete entries for `messages`, with ids "0", "1", ... in order.
std::vector<SqsDeleteEntry> SqsDeleteEntriesFor(const std::vector<SqsMessage>& messages);

class SqsClient {
 public:
  // Fails with kInvalidArgument when the queue URL does not validate. `credentials` must
  // outlive the client.
  static Result<std::unique_ptr<SqsClient>> Create(HttpFetch fetch,
                                                   CredentialsProvider& credentials, Clock& clock,
                                                   SqsClientOptions options);

  // One ReceiveMessage: up to `max_messages` (1-10) messages, waiting up to `wait_time`
  // (0-20 s) for the first. An empty vector when none arrived.
  Result<std::vector<SqsMessage>> ReceiveMessages(int max_messages = kSqsMaxBatch,
                                                  std::chrono::seconds wait_time = kSqsMaxWaitTime);

  // GetQueueAttributes (QueueArn): whether the queue exists and these credentials may use it,
  // without receiving (and so hiding) any message. For the check at mount time.
  Status CheckQueue();

  // One DeleteMessageBatch of 1-10 entries with distinct, valid ids. An Error when the whole
  // call failed; otherwise per-entry outcomes.
  Result<SqsDeleteResult> DeleteMessageBatch(const std::vector<SqsDeleteEntry>& entries);

  const std::string& queue_url() const { return queue_url_; }
  const std::string& region() const { return region_; }
  // kAuto until a call has shown which protocol the server speaks.
  SqsProtocol protocol() const { return protocol_.load(); }

 private:
  SqsClient(HttpFetch fetch, CredentialsProvider& credentials, Clock& clock,
            SqsClientOptions options, std::string scheme, std::string host, std::string path);

  // Sends `action` with the JSON body or the query form, per the protocol choice, falling
  // back from JSON to query when needed. Returns a 2xx reply whose body is JSON (*used
  // kJson) or XML (*used kQuery); every other outcome is an Error.
  Result<HttpResponse> Call(std::string_view action, const std::string& json_body,
                            const std::string& query_form, SqsProtocol* used);
  // The JSON attempt of Call. When the reply shows the server does not speak JSON (and the
  // protocol is not forced to JSON), sets *fall_back_because to what the reply looked like.
  Result<HttpResponse> CallJson(std::string_view action, const std::string& body,
                                const Credentials& credentials, std::string* fall_back_because);
  Result<HttpResponse> Send(SqsProtocol protocol, std::string_view action, const std::string& body,
                            const Credentials& credentials) const;
  std::string Prefix(std::string_view action) const;

  HttpFetch fetch_;
  CredentialsProvider& credentials_;
  Clock& clock_;
  const std::string queue_url_;
  const std::string region_;
  // The queue URL split for signing: "https", "sqs.eu-west-1.amazonaws.com" (":port" when
  // not the default), "/123456789012/my-queue".
  const std::string scheme_;
  const std::string host_;
  const std::string path_;
  std::atomic<SqsProtocol> protocol_;
  const std::atomic<bool>* cancel_;
  SigV4Signer signer_;
};

}  // namespace s3mount
