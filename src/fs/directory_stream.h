// DirectoryStream: the entries of one directory, read page by page from ListObjectsV2 (with
// delimiter "/") as readdir asks for them, so a directory of any size streams through a
// bounded buffer. It turns keys into names: the directory's own marker is skipped, names
// POSIX cannot show are skipped with one warning each, and a file shadowed by a directory of
// the same name (`a` and `a/...`) is dropped in favour of the directory (docs/SEMANTICS.md).
// With include=/exclude= filters, a common prefix (a directory without a known marker) is
// shown only if it holds something visible (HasVisibleContents); that check runs with the
// page's own request, in the background for a page read ahead.
// Every entry is also put in the metadata cache, so the lookups and stats that follow a
// listing cost no request, and a listing read to the end goes into the ListingCache.
// ReadAhead asks for the next page in the background (one page ahead at most) while the
// reader works through the current one; a page that failed in the background is asked for
// again when it is needed.
//
// Thread-safety: a DirectoryStream is not thread-safe; its owner (a directory handle) locks
// around it. NameWarnings is thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "fs/listing_cache.h"
#include "s3mount/cache/metadata_cache.h"
#include "s3mount/common/clock.h"
#include "s3mount/common/thread_pool.h"
#include "s3mount/fs/path_rules.h"
#include "s3mount/s3/object_store.h"

namespace s3mount {

// Remembers which keys were already warned about, so each bad key is reported once.
class NameWarnings {
 public:
  void Warn(const std::string& key, const char* why);

 private:
  std::mutex mu_;
  std::set<std::string> warned_;  // guarded by mu_; bounded
};

// Whether the directory at mount-relative `path`, whose keys start with `key_prefix`
// ("logs/"), shows anything through `filter`: its own marker object, or a key below whose path
// the filter shows (a subdirectory's marker counts). Lists the prefix without a delimiter
// until the first such key: one request when the first key below is visible, more only while
// every key seen is hidden.
Result<bool> HasVisibleContents(ObjectStore& store, const PathFilter& filter,
                                const std::string& path, const std::string& key_prefix);

class DirectoryStream {
 public:
  DirectoryStream(ObjectStore& store, Clock& clock, MetadataCache& cache, ListingCache& listings,
                  const KeyMapper& keys, const PathFilter& filter, NameWarnings& warnings,
                  std::string directory_path);

  // Entry number `index` (0-based), or nullopt past the end. An index behind the buffer
  // restarts the listing (rewinddir); one ahead of it reads on.
  Result<std::optional<ListedEntry>> At(uint64_t index);
  // Never waits for S3: takes in a page read ahead if it has arrived, and while fewer than
  // `upto` entries are known starts reading the next page on `pool`. Returns how many entries
  // are known now (index one past the last buffered one); only after At has been called.
  uint64_t ReadAhead(uint64_t upto, ThreadPool& pool);
  // Entry `index` if it is buffered (never asks S3, never moves the buffer), else null.
  const ListedEntry* Peek(uint64_t index) const;

 private:
  struct PendingPage {
    std::future<Result<ListObjectsPage>> page;
    MonoTime sent_at;
  };

  ListObjectsRequest NextRequest() const;
  Status FetchPage();
  void AbsorbPage(const ListObjectsPage& page, MonoTime fetched_at);
  uint64_t known_end() const;
  void Restart();
  void Accept(const std::string& key, std::optional<ObjectInfo> object, MonoTime fetched_at);
  void FlushFilesBefore(const std::string& key);
  void Emit(ListedEntry entry);

  ObjectStore& store_;
  Clock& clock_;
  MetadataCache& cache_;
  ListingCache& listings_;
  const PathFilter& filter_;
  NameWarnings& warnings_;
  const std::string path_;        // "" for the root
  const std::string key_prefix_;  // the listing prefix: "" or "dir/"

  Listing cached_;                  // a whole listing from the ListingCache, if it had one
  std::deque<ListedEntry> buffer_;  // entries [base_, base_ + buffer_.size())
  // Everything listed so far, kept while the directory is small enough to cache whole.
  std::shared_ptr<std::vector<ListedEntry>> complete_;
  MonoTime first_page_at_{};
  uint64_t base_ = 0;
  std::string continuation_token_;
  std::optional<PendingPage> pending_;  // the next page, asked for in the background
  bool started_ = false;
  bool exhausted_ = false;
  // Files held back until the listing passes "name/", where a directory could shadow them.
  std::map<std::string, ListedEntry> held_files_;
};

}  // namespace s3mount
