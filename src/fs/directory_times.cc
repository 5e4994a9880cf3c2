// The in-memory times of directories this mount changed (directory_times.h).
#include "fs/directory_times.h"

#include <algorithm>

namespace s3mount {

DirectoryTimes::Times& DirectoryTimes::TouchLocked(const std::string& directory) {
  auto found = times_.find(directory);
  if (found != times_.end()) {
    oldest_first_.splice(oldest_first_.end(), oldest_first_, found->second.age);
    return found->second;
  }
  if (max_directories_ > 0 && times_.size() >= max_directories_) {
    EraseLocked(times_.find(oldest_first_.front()));
  }
  oldest_first_.push_back(directory);
  Times& times = times_[directory];
  times.age = std::prev(oldest_first_.end());
  return times;
}

void DirectoryTimes::EntriesChanged(const std::string& directory, WallTime now) {
  std::lock_guard lock(mu_);
  Times& times = TouchLocked(directory);
  times.mtime = std::max(times.mtime, now);
  times.ctime = std::max(times.ctime, now);
}

void DirectoryTimes::Renamed(const std::string& directory, WallTime now) {
  std::lock_guard lock(mu_);
  Times& times = TouchLocked(directory);
  times.ctime = std::max(times.ctime, now);
}

void DirectoryTimes::EraseLocked(std::map<std::string, Times>::iterator it) {
  oldest_first_.erase(it->second.age);
  times_.erase(it);
}

void DirectoryTimes::Forget(const std::string& directory) {
  std::lock_guard lock(mu_);
  if (auto found = times_.find(directory); found != times_.end()) EraseLocked(found);
  // What is below it sorts together, right after "directory/" ("" is the root: everything).
  const std::string prefix = directory.empty() ? std::string() : directory + "/";
  for (auto it = times_.lower_bound(prefix); it != times_.end() && it->first.starts_with(prefix);) {
    EraseLocked(it++);
  }
}

void DirectoryTimes::Apply(const std::string& directory, Attributes& attributes) const {
  std::lock_guard lock(mu_);
  auto found = times_.find(directory);
  if (found == times_.end()) return;
  attributes.mtime = std::max(attributes.mtime, found->second.mtime);
  attributes.ctime = std::max(attributes.ctime, found->second.ctime);
}

}  // namespace s3mount
