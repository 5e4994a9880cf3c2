// MetadataPrefetcher: a queue of background HEADs on its own threads.
#include "fs/readahead/metadata_prefetcher.h"

#include <utility>

namespace s3mount {

MetadataPrefetcher::MetadataPrefetcher(PathResolver& resolver, size_t threads)
    : resolver_(resolver), pool_(threads == 0 ? 1 : threads) {}

MetadataPrefetcher::~MetadataPrefetcher() { Shutdown(); }

void MetadataPrefetcher::Enqueue(const Group& group, std::string path, PathEntry listed) {
  pending_.fetch_add(1);
  Status submitted =
      pool_.Submit([this, group, path = std::move(path), listed = std::move(listed)] {
        if (!stopping_.load() && !group->load()) {
          // The answer is cached by HeadListed; a failure leaves the path for the reader.
          (void)resolver_.HeadListed(path, listed);
        }
        pending_.fetch_sub(1);
      });
  if (!submitted.ok()) pending_.fetch_sub(1);  // shutting down: the reader HEADs it itself
}

void MetadataPrefetcher::Shutdown() {
  stopping_.store(true);
  pool_.Shutdown();
}

}  // namespace s3mount
