// The write journal as users see it: where it lives under a cache directory, and what it
// keeps for them (data recovery could not upload, staged data of files never closed), for
// `s3mount journal list` and `s3mount journal clear` (docs/CONFIGURATION.md, "Write journal").
// The journal itself (src/fs/write_journal.h) is used only by the Filesystem.
//
// Thread-safety: plain functions over the file system.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "s3mount/common/result.h"

namespace s3mount {

// What a journal belongs to: mounts of the same endpoint, bucket and prefix share one.
struct JournalTarget {
  std::string endpoint;  // "" for AWS itself
  std::string bucket;
  std::string prefix;  // normalized: "" or "some/prefix/"
  // "bucket:/prefix at endpoint", for people.
  std::string Describe() const;
};

// `cache_dir`/journal/<16 hex digits from a hash of the target>.
std::string JournalDirectoryFor(const std::string& cache_dir, const JournalTarget& target);

struct KeptItem {
  std::string id;      // the record's path relative to `cache_dir`/journal (for `clear`)
  std::string target;  // JournalTarget::Describe() of its mount
  std::string key;
  uint64_t size = 0;      // the file's size
  std::string kind;       // "upload" (to be retried), "staged", "multipart"
  std::string reason;     // why it is kept
  std::string data_file;  // where its bytes are ("" when none are local)
  bool pending = false;   // of a mount that died and was not mounted again yet
};

// What the journals under `cache_dir` keep: records moved aside by recovery, and the records of
// mounts whose process is gone and that no mount has recovered yet (`pending`). Journals of
// live mounts are skipped.
Result<std::vector<KeptItem>> ListKeptData(const std::string& cache_dir);
// Deletes the kept records named by `ids` (all kept ones when empty) and their data files.
// Pending records of dead mounts are cleared only when named. Returns how many went.
Result<size_t> ClearKeptData(const std::string& cache_dir, const std::vector<std::string>& ids);

}  // namespace s3mount
