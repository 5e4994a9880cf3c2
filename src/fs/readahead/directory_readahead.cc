// DirectoryReadahead: in-order open detection per directory and a bounded queue of whole-file
// prefetches into the block cache.
#include "fs/readahead/directory_readahead.h"

#include <algorithm>
#include <limits>

#include "fs/readahead/readahead_limits.h"
#include "fs/readahead/reader_streams.h"

namespace s3mount {

DirectoryReadahead::DirectoryReadahead(BlockFetcher& fetcher, ListingCache& listings,
                                       ThreadPool& pool, const KeyMapper& keys,
                                       DirectoryReadaheadOptions options)
    : fetcher_(fetcher), listings_(listings), pool_(pool), keys_(keys), options_(options) {}

uint64_t DirectoryReadahead::started() const {
  std::lock_guard lock(mu_);
  return started_;
}

void DirectoryReadahead::WaitIdle() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [&] { return in_flight_ == 0 && queue_.empty(); });
}

void DirectoryReadahead::Opened(const std::string& path, const ObjectVersion& object, MonoTime now,
                                bool kernel_cached) {
  if (options_.max_files == 0 || options_.max_in_flight == 0) return;
  const size_t slash = path.rfind('/');
  const std::string directory = slash == std::string::npos ? std::string() : path.substr(0, slash);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  auto located = listings_.Locate(directory, name, now);
  std::lock_guard lock(mu_);
  ++opens_;
  if (!located.has_value()) {
    // No listing to follow (expired, too large, or the name is new): nothing to guess from.
    DropQueuedLocked(directory, std::numeric_limits<size_t>::max());
    streams_.erase(directory);
    return;
  }
  const auto& [listing, position] = *located;
  Stream& stream = StreamLocked(directory);
  const bool same_listing = stream.listing.lock() == listing;
  if (same_listing && stream.run > 0 && position == stream.last) return;  // opened again
  // A listing that does not describe the version opened is out of date: no guesses from it.
  const bool current = (*listing)[position].entry.object.etag == object.etag;
  const bool in_order = current && same_listing && stream.run > 0 && position > stream.last &&
                        position - stream.last <= readahead::kMaxInOrderStep;
  if (!in_order) {
    DropQueuedLocked(directory, std::numeric_limits<size_t>::max());
    stream.listing = listing;
    stream.run = 0;
    stream.window = 0;
    stream.ahead = position + 1;
  }
  stream.last = position;
  stream.run = current ? stream.run + 1 : 0;
  if (stream.run >= std::max<size_t>(options_.trigger, 1) && !kernel_cached) {
    AdvanceLocked(directory, stream, listing, position);
  }
  PumpLocked();
}

void DirectoryReadahead::AdvanceLocked(const std::string& directory, Stream& stream,
                                       const Listing& listing, size_t position) {
  DropQueuedLocked(directory, position);  // the reader got there first: it fetches them itself
  stream.window =
      readahead::GrowWindow(stream.window, readahead::kDirectoryFirstWindow, options_.max_files);
  stream.ahead = std::max(stream.ahead, position + 1);
  const size_t end = std::min(listing->size(), position + 1 + stream.window);
  uint64_t bytes = 0;  // of the files already asked for ahead of the reader
  for (size_t i = position + 1; i < std::min(stream.ahead, listing->size()); ++i) {
    if (Eligible((*listing)[i])) bytes += (*listing)[i].entry.object.size;
  }
  for (; stream.ahead < end; ++stream.ahead) {
    const ListedEntry& entry = (*listing)[stream.ahead];
    if (!Eligible(entry)) continue;
    if (bytes + entry.entry.object.size > options_.max_bytes) break;
    bytes += entry.entry.object.size;
    queue_.push_back(Job{
        directory, stream.ahead,
        ObjectVersion{keys_.KeyFor(entry.path), entry.entry.object.etag, entry.entry.object.size}});
  }
}

bool DirectoryReadahead::Eligible(const ListedEntry& entry) const {
  const ObjectInfo& object = entry.entry.object;
  return entry.entry.kind == PathKind::kFile && object.size > 0 &&
         object.size <= options_.max_file_size && !object.etag.empty();
}

void DirectoryReadahead::DropQueuedLocked(const std::string& directory, size_t position) {
  std::erase_if(queue_, [&](const Job& job) {
    return job.directory == directory && job.position <= position;
  });
}

DirectoryReadahead::Stream& DirectoryReadahead::StreamLocked(const std::string& directory) {
  return StreamFor(streams_, directory, readahead::kFollowedDirectories, opens_,
                   [&](const std::string& evicted, Stream&) {
                     DropQueuedLocked(evicted, std::numeric_limits<size_t>::max());
                   });
}

void DirectoryReadahead::PumpLocked() {
  while (in_flight_ < options_.max_in_flight && !queue_.empty()) {
    ObjectVersion object = std::move(queue_.front().object);
    queue_.pop_front();
    if (!pool_.Submit([this, object = std::move(object)] { Run(object); }).ok()) {
      queue_.clear();  // shutting down: nothing more is read ahead
      if (in_flight_ == 0) idle_.notify_all();
      return;
    }
    ++in_flight_;
    ++started_;
  }
}

void DirectoryReadahead::Run(const ObjectVersion& object) {
  // The whole object in one GET, as its own first read would ask; errors are left to it.
  (void)fetcher_.Get(object, 0, fetcher_.BlockCount(object));
  std::lock_guard lock(mu_);
  --in_flight_;
  PumpLocked();
  if (in_flight_ == 0 && queue_.empty()) idle_.notify_all();
}

}  // namespace s3mount
