// GatedObjectStore: a ForwardingObjectStore that holds chosen kinds of request at a gate until
// the test opens it, and counts how many are held at once, so tests can freeze an operation
// mid-request (an upload at close, a GET, a queued DELETE) and check what the rest of the
// filesystem does meanwhile, or how many requests are in flight together. It also journals,
// in order, the changes that the inner store accepted ("PUT a", "DELETE a"), so tests can
// check the order in which a mount's changes reached S3.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tests/fakes/forwarding_object_store.h"
#include "tests/fakes/operation.h"

namespace s3mount::testing {

class GatedObjectStore final : public ForwardingObjectStore {
 public:
  explicit GatedObjectStore(ObjectStore& inner) : ForwardingObjectStore(inner) {}
  ~GatedObjectStore() override { Open(); }

  // Requests of `op` wait at the gate from now on, until Open.
  void Close(Operation op);
  // Every request that changes an object (PUT, COPY, upload parts and their completion,
  // DELETE one or many) waits at the gate from now on, until Open. Reads pass.
  void Close();
  // Lets every held request through, and every later one.
  void Open();
  // Requests held at the gate now, and the most ever held at once.
  int held() const;
  int most_held() const;
  // Waits until `count` requests are held; false if the gate was opened before that, or
  // after `patience` (a deadlock detector for tests, not a timing check).
  bool WaitUntilHeld(int count, std::chrono::seconds patience) const;
  // The changes the inner store accepted, oldest first: "PUT key", "COPY source -> key",
  // "COMPLETE key" (a multipart upload), "DELETE key" (one per key of a DeleteObjects).
  std::vector<std::string> journal() const;

  Result<GetObjectResponse> GetObject(const GetObjectRequest& r, ObjectSink& sink) override {
    Pass(Operation::kGetObject);
    return inner_.GetObject(r, sink);
  }
  Result<PutObjectResponse> PutObject(const PutObjectRequest& r) override {
    Pass(Operation::kPutObject);
    return Note(inner_.PutObject(r), "PUT " + r.key);
  }
  Result<CopyObjectResponse> CopyObject(const CopyObjectRequest& r) override {
    Pass(Operation::kCopyObject);
    return Note(inner_.CopyObject(r), "COPY " + r.source_key + " -> " + r.destination_key);
  }
  Result<std::string> UploadPart(const UploadPartRequest& r) override {
    Pass(Operation::kUploadPart);
    return inner_.UploadPart(r);
  }
  Result<std::string> UploadPartCopy(const UploadPartCopyRequest& r) override {
    Pass(Operation::kUploadPartCopy);
    return inner_.UploadPartCopy(r);
  }
  Result<PutObjectResponse> CompleteMultipartUpload(
      const CompleteMultipartUploadRequest& r) override {
    Pass(Operation::kCompleteMultipart);
    return Note(inner_.CompleteMultipartUpload(r), "COMPLETE " + r.key);
  }
  Status DeleteObject(const std::string& key) override {
    Pass(Operation::kDeleteObject);
    return Note(inner_.DeleteObject(key), "DELETE " + key);
  }
  Result<DeleteObjectsResponse> DeleteObjects(const std::vector<std::string>& keys) override;

 private:
  void Pass(Operation op);
  // Journals `change` if `reply` is a success; returns `reply`.
  template <typename Reply>
  Reply Note(Reply reply, std::string change);

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::set<Operation> closed_;        // guarded by mu_
  int held_ = 0;                      // guarded by mu_
  int most_held_ = 0;                 // guarded by mu_
  std::vector<std::string> journal_;  // guarded by mu_
};

inline void GatedObjectStore::Close(Operation op) {
  std::lock_guard lock(mu_);
  closed_.insert(op);
}

inline void GatedObjectStore::Close() {
  for (Operation op : {Operation::kPutObject, Operation::kCopyObject, Operation::kUploadPart,
                       Operation::kUploadPartCopy, Operation::kCompleteMultipart,
                       Operation::kDeleteObject, Operation::kDeleteObjects}) {
    Close(op);
  }
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

inline std::vector<std::string> GatedObjectStore::journal() const {
  std::lock_guard lock(mu_);
  return journal_;
}

inline Result<DeleteObjectsResponse> GatedObjectStore::DeleteObjects(
    const std::vector<std::string>& keys) {
  Pass(Operation::kDeleteObjects);
  auto deleted = inner_.DeleteObjects(keys);
  if (!deleted.ok()) return deleted;
  std::set<std::string> failed;
  for (const auto& failure : deleted->failures) failed.insert(failure.key);
  std::lock_guard lock(mu_);
  for (const auto& key : keys) {
    if (!failed.contains(key)) journal_.push_back("DELETE " + key);
  }
  return deleted;
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

template <typename Reply>
Reply GatedObjectStore::Note(Reply reply, std::string change) {
  if (reply.ok()) {
    std::lock_guard lock(mu_);
    journal_.push_back(std::move(change));
  }
  return reply;
}

}  // namespace s3mount::testing
