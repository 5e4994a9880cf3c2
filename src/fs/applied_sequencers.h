// AppliedSequencers: the newest S3 event `sequencer` applied per key, so that change events
// arriving late or twice (SQS delivers at least once, in no particular order) are skipped.
// Bounded: past `capacity` keys, the key remembered first is forgotten first.
//
// Thread-safety: every method may be called from any thread.
// LOCK ORDERING: mu_ is a leaf.
#pragma once

#include <cstddef>
#include <list>
#include <map>
#include <mutex>
#include <string>

namespace s3mount {

class AppliedSequencers {
 public:
  explicit AppliedSequencers(size_t capacity = 10000) : capacity_(capacity) {}

  // Whether an event with `sequencer` for `key` is older than (or the same as) one already
  // applied; records it otherwise. An empty sequencer is never "already applied".
  bool AlreadyApplied(const std::string& key, const std::string& sequencer);

 private:
  const size_t capacity_;
  std::mutex mu_;
  std::map<std::string, std::string> newest_;  // guarded by mu_: key -> sequencer
  std::list<std::string> order_;               // guarded by mu_: keys, oldest first
};

}  // namespace s3mount
