// RetryingObjectStore: the retry loop around every ObjectStore operation.
#include "s3mount/s3/retrying_object_store.h"

#include <spdlog/spdlog.h>

#include "s3mount/s3/outcome_check.h"

namespace s3mount {
namespace {

// Void operations go through Run<Unit> so one loop serves every method.
struct Unit {};

Status ToStatus(Result<Unit> result) {
  if (!result.ok()) return std::move(result).error();
  return OkStatus();
}

// Forwards one GET's body to the caller's sink across attempts: the first Begin passes
// through, later ones are checked and swallowed, and the bytes delivered so far are counted
// so that a retry can ask for the rest only.
class ResumingSink final : public ObjectSink {
 public:
  explicit ResumingSink(ObjectSink& sink) : sink_(sink) {}

  Status Begin(const GetObjectResponse& response) override {
    if (!first_.has_value()) {
      first_ = response;
      return sink_.Begin(response);
    }
    if (response.object.etag != first_->object.etag) {
      return MakeError(ErrorCode::kPreconditionFailed, "object changed while being read");
    }
    return OkStatus();
  }
  Status Append(std::string_view bytes) override {
    S3M_RETURN_IF_ERROR(sink_.Append(bytes));
    delivered_ += bytes.size();
    return OkStatus();
  }

  // The request that fetches what is still missing.
  GetObjectRequest Remainder(const GetObjectRequest& original) const {
    GetObjectRequest next = original;
    if (!first_.has_value()) return next;
    next.if_match = first_->object.etag;
    next.if_none_match.reset();
    if (delivered_ == 0) return next;
    ByteRange range;
    range.first = first_->body_offset + delivered_;
    if (original.range.has_value()) range.last = original.range->last;
    next.range = range;
    return next;
  }
  // The response as the caller should see it: the first reply's view of the whole body.
  GetObjectResponse Combined() const { return *first_; }
  bool begun() const { return first_.has_value(); }
  uint64_t delivered() const { return delivered_; }

 private:
  ObjectSink& sink_;
  std::optional<GetObjectResponse> first_;
  uint64_t delivered_ = 0;
};

}  // namespace

void RetryingObjectStore::Backoff(const char* operation, const Error& error, int attempt) {
  const auto delay = policy_.Backoff(error, attempt);
  spdlog::debug("{}: attempt {} failed ({}); retrying in {} ms", operation, attempt,
                error.ToString(), delay.count());
  clock_.SleepFor(delay);
}

template <typename T>
Result<T> RetryingObjectStore::Run(const char* operation, Idempotency idempotency,
                                   const std::function<Result<T>()>& attempt) {
  for (int n = 1;; ++n) {
    Result<T> result = attempt();
    if (result.ok() || !policy_.ShouldRetry(result.error(), idempotency, n)) {
      return result;
    }
    Backoff(operation, result.error(), n);
  }
}

Result<BucketInfo> RetryingObjectStore::HeadBucket() {
  return Run<BucketInfo>("HeadBucket", Idempotency::kIdempotent,
                         [&] { return inner_.HeadBucket(); });
}

Result<ObjectInfo> RetryingObjectStore::HeadObject(const HeadObjectRequest& request) {
  return Run<ObjectInfo>("HeadObject", Idempotency::kIdempotent,
                         [&] { return inner_.HeadObject(request); });
}

Result<GetObjectResponse> RetryingObjectStore::GetObject(const GetObjectRequest& request,
                                                         ObjectSink& sink) {
  ResumingSink resuming(sink);
  auto result = Run<GetObjectResponse>("GetObject", Idempotency::kIdempotent, [&] {
    return inner_.GetObject(resuming.Remainder(request), resuming);
  });
  if (!result.ok()) return result;
  GetObjectResponse combined = resuming.Combined();
  combined.body_length = resuming.delivered();
  return combined;
}

Result<ListObjectsPage> RetryingObjectStore::ListObjects(const ListObjectsRequest& request) {
  return Run<ListObjectsPage>("ListObjects", Idempotency::kIdempotent,
                              [&] { return inner_.ListObjects(request); });
}

Result<PutObjectResponse> RetryingObjectStore::PutObject(const PutObjectRequest& request) {
  // A conditional PUT resent after it succeeded would report a false conflict: after an
  // answer that may follow an applied PUT, S3 is asked what the key holds before any resend.
  const bool conditional = request.if_none_match_any || request.if_match.has_value();
  bool ambiguous = false;
  for (int n = 1;; ++n) {
    Result<PutObjectResponse> result = inner_.PutObject(request);
    if (result.ok()) return result;
    const Error error = result.error();
    ambiguous = ambiguous || MayHaveApplied(error);
    if (policy_.ShouldRetry(
            error, conditional ? Idempotency::kNotIdempotent : Idempotency::kIdempotent, n)) {
      Backoff("PutObject", error, n);
      continue;
    }
    if (!ambiguous) return result;
    // The last answer is final but an earlier one (or this one) may follow an applied PUT.
    auto held = CheckPut(*this, request);
    if (!held.ok()) {
      spdlog::warn("PutObject of '{}' failed ({}) and S3 could not be asked: {}", request.key,
                   error.ToString(), held.error().ToString());
      return result;
    }
    if (held->has_value()) {
      spdlog::info("PutObject of '{}': the answer was lost ({}) but S3 holds our object",
                   request.key, error.ToString());
      return std::move(**held);
    }
    // Not applied: a conditional PUT is sent again and the server checks its condition anew.
    if (!conditional || !policy_.ShouldRetry(error, Idempotency::kIdempotent, n)) return result;
    Backoff("PutObject", error, n);
  }
}

Result<CopyObjectResponse> RetryingObjectStore::CopyObject(const CopyObjectRequest& request) {
  // Resent after an answer that was lost, a copy pinned by source If-Match onto its own source
  // (metadata set in place) fails its condition: S3 is asked whether the copy is there.
  bool ambiguous = false;
  for (int n = 1;; ++n) {
    Result<CopyObjectResponse> result = inner_.CopyObject(request);
    if (result.ok()) return result;
    const Error error = result.error();
    ambiguous = ambiguous || MayHaveApplied(error);
    if (policy_.ShouldRetry(error, Idempotency::kIdempotent, n)) {
      Backoff("CopyObject", error, n);
      continue;
    }
    if (!ambiguous) return result;
    auto held = CheckCopy(*this, request);
    if (held.ok() && held->has_value()) {
      spdlog::info("CopyObject to '{}': the answer was lost ({}) but S3 holds our copy",
                   request.destination_key, error.ToString());
      return std::move(**held);
    }
    if (!held.ok()) {
      spdlog::warn("CopyObject to '{}' failed ({}) and S3 could not be asked: {}",
                   request.destination_key, error.ToString(), held.error().ToString());
    }
    return result;
  }
}

Status RetryingObjectStore::DeleteObject(const std::string& key) {
  return ToStatus(Run<Unit>("DeleteObject", Idempotency::kIdempotent, [&]() -> Result<Unit> {
    S3M_RETURN_IF_ERROR(inner_.DeleteObject(key));
    return Unit{};
  }));
}

Result<DeleteObjectsResponse> RetryingObjectStore::DeleteObjects(
    const std::vector<std::string>& keys) {
  return Run<DeleteObjectsResponse>("DeleteObjects", Idempotency::kIdempotent,
                                    [&] { return inner_.DeleteObjects(keys); });
}

Result<std::string> RetryingObjectStore::CreateMultipartUpload(
    const CreateMultipartUploadRequest& request) {
  return Run<std::string>("CreateMultipartUpload", Idempotency::kIdempotent,
                          [&] { return inner_.CreateMultipartUpload(request); });
}

Result<std::string> RetryingObjectStore::UploadPart(const UploadPartRequest& request) {
  return Run<std::string>("UploadPart", Idempotency::kIdempotent,
                          [&] { return inner_.UploadPart(request); });
}

Result<std::string> RetryingObjectStore::UploadPartCopy(const UploadPartCopyRequest& request) {
  return Run<std::string>("UploadPartCopy", Idempotency::kIdempotent,
                          [&] { return inner_.UploadPartCopy(request); });
}

Result<PutObjectResponse> RetryingObjectStore::CompleteMultipartUpload(
    const CompleteMultipartUploadRequest& request) {
  // Never resent blindly: after an answer that may follow an applied Complete (or a
  // NoSuchUpload, which a resend after an unseen success gets), ListParts says whether the
  // upload is still open (send it again) and, when it is gone, HEAD whether the key holds the
  // object this upload made.
  for (int n = 1;; ++n) {
    Result<PutObjectResponse> result = inner_.CompleteMultipartUpload(request);
    if (result.ok()) return result;
    const Error error = result.error();
    if (policy_.ShouldRetry(error, Idempotency::kNotIdempotent, n)) {
      Backoff("CompleteMultipartUpload", error, n);
      continue;
    }
    if (!MayHaveApplied(error) && error.code != ErrorCode::kNoSuchUpload) return result;
    auto check = CheckCompletion(*this, request);
    if (!check.ok()) {
      spdlog::warn("CompleteMultipartUpload of '{}' failed ({}) and S3 could not be asked: {}",
                   request.key, error.ToString(), check.error().ToString());
      return result;
    }
    switch (check->state) {
      case CompletionState::kOurs:
        spdlog::info(
            "CompleteMultipartUpload of '{}': the answer was lost ({}) but S3 holds our object",
            request.key, error.ToString());
        return check->response;
      case CompletionState::kGone: {
        Error gone =
            MakeError(ErrorCode::kNoSuchUpload, "upload " + request.upload_id + " of '" +
                                                    request.key + "' is gone and the key holds " +
                                                    check->found + " after " + error.ToString());
        return gone;
      }
      case CompletionState::kOpen:
        if (!policy_.ShouldRetry(error, Idempotency::kIdempotent, n)) return result;
        Backoff("CompleteMultipartUpload", error, n);
        break;
    }
  }
}

Status RetryingObjectStore::AbortMultipartUpload(const std::string& key,
                                                 const std::string& upload_id) {
  bool resent = false;
  return ToStatus(
      Run<Unit>("AbortMultipartUpload", Idempotency::kIdempotent, [&]() -> Result<Unit> {
        Status status = inner_.AbortMultipartUpload(key, upload_id);
        // A resent Abort finds the upload already gone: that is the success we wanted.
        if (!status.ok() && !(resent && status.error().code == ErrorCode::kNoSuchUpload)) {
          resent = true;
          return std::move(status).error();
        }
        return Unit{};
      }));
}

Result<ListPartsPage> RetryingObjectStore::ListParts(const ListPartsRequest& request) {
  return Run<ListPartsPage>("ListParts", Idempotency::kIdempotent,
                            [&] { return inner_.ListParts(request); });
}

}  // namespace s3mount
