// RetryingObjectStore: the retry loop around every ObjectStore operation.
#include "s3mount/s3/retrying_object_store.h"

#include <spdlog/spdlog.h>

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

template <typename T>
Result<T> RetryingObjectStore::Run(const char* operation, Idempotency idempotency,
                                   const std::function<Result<T>()>& attempt) {
  for (int n = 1;; ++n) {
    Result<T> result = attempt();
    if (result.ok() || !policy_.ShouldRetry(result.error(), idempotency, n)) {
      return result;
    }
    const auto delay = policy_.Backoff(result.error(), n);
    spdlog::debug("{}: attempt {} failed ({}); retrying in {} ms", operation, n,
                  result.error().ToString(), delay.count());
    clock_.SleepFor(delay);
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
  // A conditional PUT resent after it succeeded would report a false conflict.
  const bool conditional = request.if_none_match_any || request.if_match.has_value();
  return Run<PutObjectResponse>(
      "PutObject", conditional ? Idempotency::kNotIdempotent : Idempotency::kIdempotent,
      [&] { return inner_.PutObject(request); });
}

Result<CopyObjectResponse> RetryingObjectStore::CopyObject(const CopyObjectRequest& request) {
  return Run<CopyObjectResponse>("CopyObject", Idempotency::kIdempotent,
                                 [&] { return inner_.CopyObject(request); });
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
  // Resent after a success that we did not hear of, Complete answers NoSuchUpload.
  return Run<PutObjectResponse>("CompleteMultipartUpload", Idempotency::kNotIdempotent,
                                [&] { return inner_.CompleteMultipartUpload(request); });
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
