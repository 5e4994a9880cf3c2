// s3_limit: "the limit" for the mount benchmarks. Each workload does only the S3 requests a
// job needs (a sequential read, a directory listing, `ls -l`, `cat dir/*`...) with s3mount's
// own S3 client and no file system in between, so a mount's figure can be set against the
// best a plain client gets from the same server in the same run. This header holds what the
// command line (s3_limit.cc) and the workloads (s3_limit_workloads.cc) share.
//
// Thread-safety: LimitClient may be used from many threads at once; the rest are values.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "s3mount/common/result.h"
#include "s3mount/s3/object_store.h"

namespace s3mount {

// The command line's choices, for every workload (each uses the fields it needs).
struct LimitOptions {
  std::string workload;
  std::string key;
  std::string prefix;
  uint64_t part_mib = 0;           // 0: the workload's default
  int parallel = 0;                // 0: the workload's default
  uint64_t mib = 0;                // seq_write: object size
  uint64_t count = 0;              // put_each: number of objects
  uint64_t size = 0;               // put_each: bytes per object
  uint64_t block = 0;              // random_read: bytes per read
  double seconds = 0;              // random_read: how long
  int jobs = 1;                    // random_read: threads, one read in flight each
  uint64_t seed = 1;               // random_read
  std::optional<uint64_t> expect;  // list, list_head, get_each, delete_each: keys to find
};

// What a workload measured: the timed part only.
struct Outcome {
  double seconds = 0;
  uint64_t bytes = 0;
  uint64_t ops = 0;
  uint64_t requests = 0;
  std::map<std::string, double> extras;  // more figures for the JSON line ("iops", "pages")
};

// The ObjectStore with a count of the requests sent through it: call Send() once per request.
class LimitClient {
 public:
  explicit LimitClient(ObjectStore& store) : store_(store) {}
  // The store, counting one request.
  ObjectStore& Send() {
    requests_.fetch_add(1, std::memory_order_relaxed);
    return store_;
  }
  // The store, for setup and verification that are not measured (not counted).
  ObjectStore& Uncounted() { return store_; }
  uint64_t requests() const { return requests_.load(); }

 private:
  ObjectStore& store_;
  std::atomic<uint64_t> requests_{0};
};

// Runs options.workload. Fails with kInvalidArgument on an unknown workload or missing
// option, and with what went wrong when a request fails or a result does not check out.
Result<Outcome> RunWorkload(const LimitOptions& options, LimitClient& client);

}  // namespace s3mount
