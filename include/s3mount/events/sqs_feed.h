// SqsChangeFeed: the ChangeFeed of an SQS queue the bucket's event notifications go to.
// Receive is one 20-second long poll for up to 10 messages; Acknowledge deletes them
// (DeleteMessageBatch, 10 at a time); Interrupt cancels a poll in progress through the HTTP
// request's cancel flag.
//
//   auto feed = SqsChangeFeed::Connect(FetchWith(http), credentials, clock,
//                                      {.queue_url = url});   // checks the queue once
//
// Thread-safety: as ChangeFeed (Receive/Acknowledge from one thread, Interrupt from any).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "s3mount/events/change_feed.h"
#include "s3mount/events/sqs_client.h"

namespace s3mount {

class SqsChangeFeed final : public ChangeFeed {
 public:
  // Validates the URL and asks SQS about the queue (GetQueueAttributes), so that a wrong URL,
  // a missing queue or refused credentials are a clear error at mount time. `credentials`
  // and `clock` must outlive the feed. options.cancel is the feed's own.
  static Result<std::unique_ptr<SqsChangeFeed>> Connect(HttpFetch fetch,
                                                        CredentialsProvider& credentials,
                                                        Clock& clock, SqsClientOptions options);

  Result<std::vector<FeedMessage>> Receive() override;
  Status Acknowledge(const std::vector<FeedMessage>& messages) override;
  void Interrupt() override;
  std::string Describe() const override;

 private:
  SqsChangeFeed() = default;

  std::atomic<bool> interrupted_{false};
  std::unique_ptr<SqsClient> client_;
};

}  // namespace s3mount
