// SqsChangeFeed: long polls, batched deletes and cancellation over SqsClient.
#include "s3mount/events/sqs_feed.h"

#include <algorithm>
#include <charconv>

namespace s3mount {

Result<std::unique_ptr<SqsChangeFeed>> SqsChangeFeed::Connect(HttpFetch fetch,
                                                              CredentialsProvider& credentials,
                                                              Clock& clock,
                                                              SqsClientOptions options) {
  std::unique_ptr<SqsChangeFeed> feed(new SqsChangeFeed());
  options.cancel = &feed->interrupted_;
  auto client = SqsClient::Create(std::move(fetch), credentials, clock, std::move(options));
  if (!client.ok()) return std::move(client).error();
  feed->client_ = std::move(client).value();
  S3M_RETURN_IF_ERROR(feed->client_->CheckQueue());
  return feed;
}

Result<std::vector<FeedMessage>> SqsChangeFeed::Receive() {
  if (interrupted_.load()) return std::vector<FeedMessage>{};
  auto received = client_->ReceiveMessages(kSqsMaxBatch, kSqsMaxWaitTime);
  if (!received.ok()) {
    if (interrupted_.load()) return std::vector<FeedMessage>{};
    return std::move(received).error();
  }
  std::vector<FeedMessage> messages;
  messages.reserve(received->size());
  for (SqsMessage& message : *received) {
    messages.push_back({std::move(message.message_id), std::move(message.body),
                        std::move(message.receipt_handle)});
  }
  return messages;
}

Status SqsChangeFeed::Acknowledge(const std::vector<FeedMessage>& messages) {
  std::string failures;
  for (size_t start = 0; start < messages.size(); start += kSqsMaxBatch) {
    const size_t end = std::min(messages.size(), start + kSqsMaxBatch);
    std::vector<SqsDeleteEntry> entries;
    for (size_t i = start; i < end; ++i) {
      entries.push_back({std::to_string(i - start), messages[i].receipt});
    }
    auto deleted = client_->DeleteMessageBatch(entries);
    if (!deleted.ok()) return std::move(deleted).error();
    for (const SqsDeleteFailure& failure : deleted->failed) {
      size_t offset = 0;
      const auto [end_of_id, ec] =
          std::from_chars(failure.id.data(), failure.id.data() + failure.id.size(), offset);
      const bool known = ec == std::errc() && end_of_id == failure.id.data() + failure.id.size() &&
                         start + offset < end;
      failures += (failures.empty() ? "" : "; ") +
                  (known ? messages[start + offset].id : "entry " + failure.id) + ": " +
                  failure.code + (failure.message.empty() ? "" : " (" + failure.message + ")");
    }
  }
  if (!failures.empty()) {
    return MakeError(ErrorCode::kInternalError,
                     "SQS DeleteMessageBatch on " + client_->queue_url() + " left " + failures);
  }
  return OkStatus();
}

void SqsChangeFeed::Interrupt() { interrupted_ = true; }

std::string SqsChangeFeed::Describe() const { return "SQS queue " + client_->queue_url(); }

}  // namespace s3mount
