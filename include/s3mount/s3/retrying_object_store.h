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
// A CreateMultipartUpload whose answer was lost lists the key's open uploads: when exactly one
// is unknown to this store (not opened, completed or aborted through it, and no other Create
// of the key is under way here), the lost Create opened it and it is used, never left open.
//
// Thread-safety: as thread-safe as the wrapped store. uploads_mu_ guards the set of uploads
// this store opened and the Creates under way; it is a leaf, never held across a call.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>

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
  Result<ListUploadsPage> ListMultipartUploads(const ListUploadsRequest& request) override;

 private:
  // Logs and sleeps before attempt `attempt` + 1.
  void Backoff(const char* operation, const Error& error, int attempt);
  template <typename T>
  Result<T> Run(const char* operation, Idempotency idempotency,
                const std::function<Result<T>()>& attempt);

  // After a Create of `request.key` failed with `error`, which may follow an applied one: the
  // upload it opened, when S3 lists exactly one unknown upload of the key.
  std::optional<std::string> FindLostUpload(const CreateMultipartUploadRequest& request,
                                            const Error& error);
  void ForgetUpload(const std::string& upload_id);

  ObjectStore& inner_;
  RetryPolicy& policy_;
  Clock& clock_;

  std::mutex uploads_mu_;
  std::set<std::string> open_uploads_;   // guarded by uploads_mu_: opened here, still open
  std::map<std::string, int> creating_;  // guarded by uploads_mu_: Creates under way, by key
};

}  // namespace s3mount
