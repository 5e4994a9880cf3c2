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
    // libcurl resends, unseen, a request whose reused connection dies before any reply: a
    // conditional PUT that applied then fails its own condition. S3 is asked either way.
    const bool own_conflict = conditional && error.code == ErrorCode::kPreconditionFailed;
    if (!ambiguous && !own_conflict) return result;
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
    // As for a PUT: an in-place copy resent unseen by libcurl fails its own If-Match.
    const bool own_conflict = error.code == ErrorCode::kPreconditionFailed &&
                              request.source_key == request.destination_key;
    if (!ambiguous && !own_conflict) return result;
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
  {
    std::lock_guard lock(uploads_mu_);
    ++creating_[request.key];
  }
  Result<std::string> result = MakeError(ErrorCode::kUnknown, "no attempt");
  for (int n = 1;; ++n) {
    result = inner_.CreateMultipartUpload(request);
    if (result.ok()) break;
    const Error error = result.error();
    if (MayHaveApplied(error)) {
      if (auto lost = FindLostUpload(request, error); lost.has_value()) {
        result = std::move(*lost);
        break;
      }
    }
    if (!policy_.ShouldRetry(error, Idempotency::kIdempotent, n)) break;
    Backoff("CreateMultipartUpload", error, n);
  }
  std::lock_guard lock(uploads_mu_);
  // Known before this Create stops counting as under way (see FindLostUpload).
  if (result.ok()) open_uploads_.insert(*result);
  if (--creating_[request.key] == 0) creating_.erase(request.key);
  return result;
}

std::optional<std::string> RetryingObjectStore::FindLostUpload(
    const CreateMultipartUploadRequest& request, const Error& error) {
  auto unknown = UnknownUploadsOf(*this, request.key, [&](const std::string& id) {
    std::lock_guard lock(uploads_mu_);
    return open_uploads_.contains(id);
  });
  if (!unknown.ok()) {
    spdlog::warn(
        "CreateMultipartUpload of '{}' failed ({}) and S3 could not be asked for the upload it "
        "may have opened: {}",
        request.key, error.ToString(), unknown.error().ToString());
    return std::nullopt;
  }
  if (unknown->empty()) return std::nullopt;
  {
    // Another Create of the key under way here may own an unknown upload: listed after it was
    // opened, before its answer came back. A Create that has finished is known (or failed).
    std::lock_guard lock(uploads_mu_);
    if (creating_[request.key] > 1) {
      spdlog::warn(
          "CreateMultipartUpload of '{}' failed ({}) while another Create of it is "
          "under way: the {} open upload(s) of it are left alone",
          request.key, error.ToString(), unknown->size());
      return std::nullopt;
    }
  }
  if (unknown->size() > 1) {
    spdlog::warn(
        "CreateMultipartUpload of '{}' failed ({}) and {} open uploads of it are not "
        "ours: which one it opened cannot be told, they are left alone",
        request.key, error.ToString(), unknown->size());
    return std::nullopt;
  }
  spdlog::info("CreateMultipartUpload of '{}': the answer was lost ({}) but S3 holds upload {}",
               request.key, error.ToString(), unknown->front());
  return unknown->front();
}

void RetryingObjectStore::ForgetUpload(const std::string& upload_id) {
  std::lock_guard lock(uploads_mu_);
  open_uploads_.erase(upload_id);
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
    if (result.ok()) {
      ForgetUpload(request.upload_id);
      return result;
    }
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
        ForgetUpload(request.upload_id);
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
  Status aborted =
      ToStatus(Run<Unit>("AbortMultipartUpload", Idempotency::kIdempotent, [&]() -> Result<Unit> {
        Status status = inner_.AbortMultipartUpload(key, upload_id);
        // A resent Abort finds the upload already gone: that is the success we wanted.
        if (!status.ok() && !(resent && status.error().code == ErrorCode::kNoSuchUpload)) {
          resent = true;
          return std::move(status).error();
        }
        return Unit{};
      }));
  if (aborted.ok()) ForgetUpload(upload_id);
  return aborted;
}

Result<ListPartsPage> RetryingObjectStore::ListParts(const ListPartsRequest& request) {
  return Run<ListPartsPage>("ListParts", Idempotency::kIdempotent,
                            [&] { return inner_.ListParts(request); });
}

Result<ListUploadsPage> RetryingObjectStore::ListMultipartUploads(
    const ListUploadsRequest& request) {
  return Run<ListUploadsPage>("ListMultipartUploads", Idempotency::kIdempotent,
                              [&] { return inner_.ListMultipartUploads(request); });
}

}  // namespace s3mount
