// GatedObjectStore: a ForwardingObjectStore that holds chosen kinds of request at a gate until
// the test opens it, and counts how many are held at once, so tests can freeze an operation
// mid-request (an upload at close, a GET) and check what the rest of the filesystem does
// meanwhile, or how many requests are in flight together.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>

#include "tests/fakes/forwarding_object_store.h"
#include "tests/fakes/operation.h"

namespace s3mount::testing {

class GatedObjectStore final : public ForwardingObjectStore {
 public:
  explicit GatedObjectStore(ObjectStore& inner) : ForwardingObjectStore(inner) {}
  ~GatedObjectStore() override { Open(); }

  // Requests of `op` wait at the gate from now on, until Open.
  void Close(Operation op);
  // Lets every held request through, and every later one.
  void Open();
  // Requests held at the gate now, and the most ever held at once.
  int held() const;
  int most_held() const;
  // Waits until `count` requests are held; false if the gate was opened before that, or
  // after `patience` (a deadlock detector for tests, not a timing check).
  bool WaitUntilHeld(int count, std::chrono::seconds patience) const;

  Result<GetObjectResponse> GetObject(const GetObjectRequest& r, ObjectSink& sink) override {
    Pass(Operation::kGetObject);
    return inner_.GetObject(r, sink);
  }
  Result<PutObjectResponse> PutObject(const PutObjectRequest& r) override {
    Pass(Operation::kPutObject);
    return inner_.PutObject(r);
  }
  Result<CopyObjectResponse> CopyObject(const CopyObjectRequest& r) override {
    Pass(Operation::kCopyObject);
    return inner_.CopyObject(r);
  }
  Result<std::string> UploadPart(const UploadPartRequest& r) override {
    Pass(Operation::kUploadPart);
    return inner_.UploadPart(r);
  }
  Result<PutObjectResponse> CompleteMultipartUpload(
      const CompleteMultipartUploadRequest& r) override {
    Pass(Operation::kCompleteMultipart);
    return inner_.CompleteMultipartUpload(r);
  }
  Status DeleteObject(const std::string& key) override {
    Pass(Operation::kDeleteObject);
    return inner_.DeleteObject(key);
  }

 private:
  void Pass(Operation op);

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::set<Operation> closed_;  // guarded by mu_
  int held_ = 0;                // guarded by mu_
  int most_held_ = 0;           // guarded by mu_
};

inline void GatedObjectStore::Close(Operation op) {
  std::lock_guard lock(mu_);
  closed_.insert(op);
}

inline void GatedObjectStore::Open() {
  std::lock_guard lock(mu_);
  closed_.clear();
  changed_.notify_all();
}

inline int GatedObjectStore::held() const {
  std::lock_guard lock(mu_);
  return held_;
}

inline int GatedObjectStore::most_held() const {
  std::lock_guard lock(mu_);
  return most_held_;
}

inline bool GatedObjectStore::WaitUntilHeld(int count, std::chrono::seconds patience) const {
  std::unique_lock lock(mu_);
  changed_.wait_for(lock, patience, [&] { return held_ >= count || closed_.empty(); });
  return held_ >= count;
}

inline void GatedObjectStore::Pass(Operation op) {
  std::unique_lock lock(mu_);
  if (!closed_.contains(op)) return;
  ++held_;
  most_held_ = std::max(most_held_, held_);
  changed_.notify_all();
  changed_.wait(lock, [&] { return !closed_.contains(op); });
  --held_;
  changed_.notify_all();
}

}  // namespace s3mount::testing
