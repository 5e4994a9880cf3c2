// RetryingObjectStore: an ObjectStore decorator that repeats failed requests according to a
// RetryPolicy, sleeping on the injected Clock between attempts. A GET whose body was cut
// after some bytes resumes where it stopped (a ranged GET pinned with If-Match to the ETag
// of the first reply), so the sink sees one Begin and every byte exactly once.
//
// Ambiguous outcomes are resolved, never guessed (see outcome_check.h): after an answer that
// may follow an applied request, a CompleteMultipartUpload is resent only while ListParts
// shows its upload open, and reports success when the upload is gone and the key holds the
// object it made (else kNoSuchUpload: the caller uploads again); a PUT or CopyObject whose
// last answer is a failure reports success when HEAD shows the key holds what it wrote.
//
// Thread-safety: as thread-safe as the wrapped store; holds no locks across calls.
#pragma once

#include <functional>

#include "s3mount/common/clock.h"
#include "s3mount/s3/object_store.h"
#include "s3mount/s3/retry_policy.h"

namespace s3mount {

class RetryingObjectStore final : public ObjectStore {
 public:
  // `inner`, `policy` and `clock` must outlive this object.
  RetryingObjectStore(ObjectStore& inner, RetryPolicy& policy, Clock& clock)
      : inner_(inner), policy_(policy), clock_(clock) {}

  Result<BucketInfo> HeadBucket() override;
  Result<ObjectInfo> HeadObject(const HeadObjectRequest& request) override;
  Result<GetObjectResponse> GetObject(const GetObjectRequest& request, ObjectSink& sink) override;
  Result<ListObjectsPage> ListObjects(const ListObjectsRequest& request) override;
  Result<PutObjectResponse> PutObject(const PutObjectRequest& request) override;
  Result<CopyObjectResponse> CopyObject(const CopyObjectRequest& request) override;
  Status DeleteObject(const std::string& key) override;
  Result<DeleteObjectsResponse> DeleteObjects(const std::vector<std::string>& keys) override;
  Result<std::string> CreateMultipartUpload(const CreateMultipartUploadRequest& request) override;
  Result<std::string> UploadPart(const UploadPartRequest& request) override;
  Result<std::string> UploadPartCopy(const UploadPartCopyRequest& request) override;
  Result<PutObjectResponse> CompleteMultipartUpload(
      const CompleteMultipartUploadRequest& request) override;
  Status AbortMultipartUpload(const std::string& key, const std::string& upload_id) override;
  Result<ListPartsPage> ListParts(const ListPartsRequest& request) override;

 private:
  // Logs and sleeps before attempt `attempt` + 1.
  void Backoff(const char* operation, const Error& error, int attempt);
  template <typename T>
  Result<T> Run(const char* operation, Idempotency idempotency,
                const std::function<Result<T>()>& attempt);

  ObjectStore& inner_;
  RetryPolicy& policy_;
  Clock& clock_;
};

}  // namespace s3mount
