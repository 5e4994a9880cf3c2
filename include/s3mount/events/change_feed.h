// ChangeFeed: where S3 event notifications come from (an SQS queue, a Redis channel or list),
// as the ChangeListener sees it: batches of message bodies, each acknowledged once handled so
// that a reliable feed can remove it, and a way to cut a wait short at shutdown.
//
//   for (;;) {
//     auto batch = feed.Receive();          // waits up to about 20 s; empty when none came
//     ... parse and apply every body ...
//     feed.Acknowledge(*batch);             // every message, relevant or not
//   }
//
// Thread-safety: Receive and Acknowledge are called from the listener's thread only;
// Interrupt may be called from any thread at any time (also before or during Receive).
#pragma once

#include <string>
#include <vector>

#include "s3mount/common/result.h"

namespace s3mount {

struct FeedMessage {
  std::string id;       // for logs: an SQS message id, a Redis list position...
  std::string body;     // the notification as sent (S3 JSON, SNS envelope, MinIO format)
  std::string receipt;  // what Acknowledge needs (an SQS receipt handle, the raw element)
};

class ChangeFeed {
 public:
  virtual ~ChangeFeed() = default;

  // Waits for messages, at most about 20 seconds; an empty batch when none came (or when
  // Interrupt was called, or at once after reconnecting, so that the listener knows the
  // feed recovered). Errors say what failed (unreachable, access denied...); the
  // listener retries with backoff.
  virtual Result<std::vector<FeedMessage>> Receive() = 0;

  // The messages have been handled: a reliable feed removes them (SQS DeleteMessageBatch,
  // Redis LREM from the processing list); a pub/sub feed has nothing to do.
  virtual Status Acknowledge(const std::vector<FeedMessage>& messages) = 0;

  // Makes a Receive in progress (or the next one) return within about a second.
  virtual void Interrupt() = 0;

  // "SQS queue https://sqs.eu-west-1.amazonaws.com/1/q", for logs. No secret.
  virtual std::string Describe() const = 0;
};

}  // namespace s3mount
