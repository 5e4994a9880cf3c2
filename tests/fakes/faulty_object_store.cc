// FaultyObjectStore: scripted failures, cut connections and latency around another
// ObjectStore.
#include "tests/fakes/faulty_object_store.h"

#include <utility>

namespace s3mount::testing {
namespace {

// Passes at most `limit` body bytes to `inner`, then fails the transfer as a cut connection.
class TruncatingSink final : public ObjectSink {
 public:
  TruncatingSink(ObjectSink& inner, uint64_t limit) : inner_(inner), limit_(limit) {}

  Status Begin(const GetObjectResponse& response) override {
    expected_ = response.body_length;
    return inner_.Begin(response);
  }

  Status Append(std::string_view bytes) override {
    const uint64_t room = limit_ - delivered_;
    if (bytes.size() <= room) {
      delivered_ += bytes.size();
      return inner_.Append(bytes);
    }
    if (room > 0) {
      S3M_RETURN_IF_ERROR(inner_.Append(bytes.substr(0, room)));
      delivered_ += room;
    }
    cut_ = true;
    return CutError();
  }

  bool WasCut() const { return cut_; }

  Error CutError() const {
    return MakeError(ErrorCode::kTruncatedBody, "injected: connection closed after " +
                                                    std::to_string(delivered_) + " of " +
                                                    std::to_string(expected_) + " body bytes");
  }

 private:
  ObjectSink& inner_;
  const uint64_t limit_;
  uint64_t delivered_ = 0;
  uint64_t expected_ = 0;
  bool cut_ = false;
};

}  // namespace

FaultyObjectStore::FaultyObjectStore(ObjectStore& inner, Clock& clock)
    : inner_(inner), clock_(clock) {}

// --- Script ---------------------------------------------------------------------------------

void FaultyObjectStore::FailNext(Operation op, Error error, int times) {
  if (times <= 0) return;
  std::lock_guard lock(mu_);
  script_[op].push_back({std::move(error), times, Timing::kBefore});
}

void FaultyObjectStore::FailNextAfterCall(Operation op, Error error, int times) {
  if (times <= 0) return;
  std::lock_guard lock(mu_);
  script_[op].push_back({std::move(error), times, Timing::kAfter});
}

void FaultyObjectStore::FailEveryNth(Operation op, int n, Error error) {
  std::lock_guard lock(mu_);
  if (n <= 0) {
    every_nth_.erase(op);
    return;
  }
  every_nth_[op] = EveryNth{n, std::move(error), 0};
}

void FaultyObjectStore::TruncateNextGet(uint64_t after_bytes) {
  std::lock_guard lock(mu_);
  truncations_.push_back(after_bytes);
}

void FaultyObjectStore::SetLatency(Operation op, std::chrono::nanoseconds latency) {
  std::lock_guard lock(mu_);
  if (latency <= std::chrono::nanoseconds::zero()) {
    latency_.erase(op);
  } else {
    latency_[op] = latency;
  }
}

void FaultyObjectStore::ClearFaults() {
  std::lock_guard lock(mu_);
  script_.clear();
  every_nth_.clear();
  latency_.clear();
  truncations_.clear();
}

OperationCounts FaultyObjectStore::attempts() const {
  std::lock_guard lock(mu_);
  return attempts_;
}

void FaultyObjectStore::ResetAttempts() {
  std::lock_guard lock(mu_);
  attempts_ = OperationCounts{};
}

FaultyObjectStore::Verdict FaultyObjectStore::Admit(Operation op) {
  std::lock_guard lock(mu_);
  ++attempts_.At(op);
  Verdict verdict;
  if (auto it = latency_.find(op); it != latency_.end()) verdict.latency = it->second;
  if (op == Operation::kGetObject && !truncations_.empty()) {
    verdict.truncate_after = truncations_.front();
    truncations_.pop_front();
  }
  std::optional<Error> every_nth_error;
  if (auto it = every_nth_.find(op); it != every_nth_.end()) {
    EveryNth& rule = it->second;
    if (++rule.seen % rule.n == 0) every_nth_error = rule.error;
  }
  if (auto it = script_.find(op); it != script_.end() && !it->second.empty()) {
    ScriptedFailure& failure = it->second.front();
    (failure.timing == Timing::kBefore ? verdict.fail_before : verdict.fail_after) = failure.error;
    if (--failure.remaining == 0) it->second.pop_front();
  } else if (every_nth_error) {
    verdict.fail_before = std::move(every_nth_error);
  }
  return verdict;
}

template <typename Call>
auto FaultyObjectStore::Run(Operation op, Call&& call) -> decltype(call()) {
  Verdict verdict = Admit(op);
  if (verdict.latency > std::chrono::nanoseconds::zero()) clock_.SleepFor(verdict.latency);
  if (verdict.fail_before) return *std::move(verdict.fail_before);
  auto result = std::forward<Call>(call)();
  if (verdict.fail_after) return *std::move(verdict.fail_after);
  return result;
}

// --- Forwarding -----------------------------------------------------------------------------

Result<BucketInfo> FaultyObjectStore::HeadBucket() {
  return Run(Operation::kHeadBucket, [&] { return inner_.HeadBucket(); });
}

Result<ObjectInfo> FaultyObjectStore::HeadObject(const HeadObjectRequest& request) {
  return Run(Operation::kHeadObject, [&] { return inner_.HeadObject(request); });
}

Result<GetObjectResponse> FaultyObjectStore::GetObject(const GetObjectRequest& request,
                                                       ObjectSink& sink) {
  Verdict verdict = Admit(Operation::kGetObject);
  if (verdict.latency > std::chrono::nanoseconds::zero()) clock_.SleepFor(verdict.latency);
  if (verdict.fail_before) return *std::move(verdict.fail_before);
  if (!verdict.truncate_after) {
    auto result = inner_.GetObject(request, sink);
    if (verdict.fail_after) return *std::move(verdict.fail_after);
    return result;
  }
  TruncatingSink truncating(sink, *verdict.truncate_after);
  auto result = inner_.GetObject(request, truncating);
  if (truncating.WasCut()) return truncating.CutError();
  if (verdict.fail_after) return *std::move(verdict.fail_after);
  return result;
}

Result<ListObjectsPage> FaultyObjectStore::ListObjects(const ListObjectsRequest& request) {
  return Run(Operation::kListObjects, [&] { return inner_.ListObjects(request); });
}

Result<PutObjectResponse> FaultyObjectStore::PutObject(const PutObjectRequest& request) {
  return Run(Operation::kPutObject, [&] { return inner_.PutObject(request); });
}

Result<CopyObjectResponse> FaultyObjectStore::CopyObject(const CopyObjectRequest& request) {
  return Run(Operation::kCopyObject, [&] { return inner_.CopyObject(request); });
}

Status FaultyObjectStore::DeleteObject(const std::string& key) {
  return Run(Operation::kDeleteObject, [&] { return inner_.DeleteObject(key); });
}

Result<DeleteObjectsResponse> FaultyObjectStore::DeleteObjects(
    const std::vector<std::string>& keys) {
  return Run(Operation::kDeleteObjects, [&] { return inner_.DeleteObjects(keys); });
}

Result<std::string> FaultyObjectStore::CreateMultipartUpload(
    const CreateMultipartUploadRequest& request) {
  return Run(Operation::kCreateMultipart, [&] { return inner_.CreateMultipartUpload(request); });
}

Result<std::string> FaultyObjectStore::UploadPart(const UploadPartRequest& request) {
  return Run(Operation::kUploadPart, [&] { return inner_.UploadPart(request); });
}

Result<std::string> FaultyObjectStore::UploadPartCopy(const UploadPartCopyRequest& request) {
  return Run(Operation::kUploadPartCopy, [&] { return inner_.UploadPartCopy(request); });
}

Result<PutObjectResponse> FaultyObjectStore::CompleteMultipartUpload(
    const CompleteMultipartUploadRequest& request) {
  return Run(Operation::kCompleteMultipart,
             [&] { return inner_.CompleteMultipartUpload(request); });
}

Status FaultyObjectStore::AbortMultipartUpload(const std::string& key,
                                               const std::string& upload_id) {
  return Run(Operation::kAbortMultipart,
             [&] { return inner_.AbortMultipartUpload(key, upload_id); });
}

Result<ListPartsPage> FaultyObjectStore::ListParts(const ListPartsRequest& request) {
  return Run(Operation::kListParts, [&] { return inner_.ListParts(request); });
}

Result<ListUploadsPage> FaultyObjectStore::ListMultipartUploads(const ListUploadsRequest& request) {
  return Run(Operation::kListUploads, [&] { return inner_.ListMultipartUploads(request); });
}

}  // namespace s3mount::testing
