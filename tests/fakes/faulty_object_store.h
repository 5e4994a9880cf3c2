// FaultyObjectStore: an ObjectStore decorator that injects failures and latency into the calls
// it forwards, from a script a test writes: "the next 2 PUTs fail with SlowDown", "every 3rd
// GET times out", "the next GET's connection is cut after 100 bytes", "HEAD takes 50 ms". It
// counts every attempt per operation, so tests can check retry behaviour.
//
// Per call of operation `op`, in this order: the attempt is counted; the latency set for `op`
// is slept on the injected Clock (instantaneous and recorded with FakeClock); then the first
// scripted failure for `op` (FailNext / FailNextAfterCall, in the order they were scripted)
// is used up, or else an every-nth failure fires if this attempt is a multiple of n; a
// failure "before" returns the error without calling the inner store, one "after" calls the
// inner store and then returns the error instead of its reply (a lost response).
//
// Thread-safety: every method is safe to call concurrently; the script is consumed atomically
// per call. No lock is held while sleeping or calling the inner store.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "s3mount/common/clock.h"
#include "s3mount/s3/object_store.h"
#include "tests/fakes/operation.h"

namespace s3mount::testing {

class FaultyObjectStore final : public ObjectStore {
  // LOCK ORDERING: one mutex, mu_, guarding the script and the attempt counts; it is a leaf,
  // never held while sleeping on the clock or calling the inner store or a sink, so the
  // inner store's own locks are never taken under it.
 public:
  // `inner` and `clock` must outlive this object.
  FaultyObjectStore(ObjectStore& inner, Clock& clock);
  FaultyObjectStore(const FaultyObjectStore&) = delete;
  FaultyObjectStore& operator=(const FaultyObjectStore&) = delete;

  // The next `times` calls of `op` fail with `error` without reaching the inner store.
  void FailNext(Operation op, Error error, int times = 1);
  // The next `times` calls of `op` reach the inner store (its effects happen) and then fail
  // with `error`, as when a reply is lost.
  void FailNextAfterCall(Operation op, Error error, int times = 1);
  // Every n-th call of `op`, counted from now, fails with `error` before reaching the inner
  // store (unless a FailNext entry is used up by that call). n <= 0 removes the rule.
  void FailEveryNth(Operation op, int n, Error error);
  // The next GetObject delivers at most `after_bytes` body bytes to the sink and then fails
  // with kTruncatedBody, as a cut connection would. If the body is no longer than that, the
  // GET completes normally. Each call scripts one more GET.
  void TruncateNextGet(uint64_t after_bytes);
  // Every call of `op` first sleeps `latency` on the clock; zero removes it.
  void SetLatency(Operation op, std::chrono::nanoseconds latency);
  // Forgets every scripted failure, truncation and latency (attempt counts stay).
  void ClearFaults();

  // Calls per operation that reached this decorator, including failed ones. DeleteObjects
  // counts calls, not batches.
  OperationCounts attempts() const;  // NOLINT(readability-identifier-naming): accessor
  void ResetAttempts();

  // ObjectStore.
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
  enum class Timing { kBefore, kAfter };
  struct ScriptedFailure {
    Error error;
    int remaining = 0;
    Timing timing = Timing::kBefore;
  };
  struct EveryNth {
    int n = 0;
    Error error;
    int64_t seen = 0;
  };
  // What to do to one call, decided atomically when it arrives.
  struct Verdict {
    std::chrono::nanoseconds latency{0};
    std::optional<Error> fail_before;
    std::optional<Error> fail_after;
    std::optional<uint64_t> truncate_after;  // GetObject only
  };

  Verdict Admit(Operation op);
  // Applies Admit's verdict around `call`, which returns a Result<T> or Status.
  template <typename Call>
  auto Run(Operation op, Call&& call) -> decltype(call());

  ObjectStore& inner_;
  Clock& clock_;

  mutable std::mutex mu_;
  std::map<Operation, std::deque<ScriptedFailure>> script_;  // guarded by mu_
  std::map<Operation, EveryNth> every_nth_;                  // guarded by mu_
  std::map<Operation, std::chrono::nanoseconds> latency_;    // guarded by mu_
  std::deque<uint64_t> truncations_;                         // guarded by mu_
  OperationCounts attempts_;                                 // guarded by mu_
};

}  // namespace s3mount::testing
