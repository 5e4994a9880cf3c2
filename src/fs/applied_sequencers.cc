// AppliedSequencers: skips S3 events older than one already applied (applied_sequencers.h).
#include "fs/applied_sequencers.h"

#include <compare>

#include "s3mount/s3/object_change.h"

namespace s3mount {

bool AppliedSequencers::AlreadyApplied(const std::string& key, const std::string& sequencer) {
  if (sequencer.empty()) return false;
  std::lock_guard lock(mu_);
  auto [it, inserted] = newest_.try_emplace(key, sequencer);
  if (!inserted) {
    if (std::is_lteq(CompareSequencers(sequencer, it->second))) return true;
    it->second = sequencer;
    return false;
  }
  order_.push_back(key);
  if (order_.size() > capacity_) {
    newest_.erase(order_.front());
    order_.pop_front();
  }
  return false;
}

}  // namespace s3mount
