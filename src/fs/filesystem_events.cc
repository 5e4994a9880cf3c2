// Filesystem::ApplyRemoteChange: what a change made by another client (an S3 event) does to
// the caches, and which kernel entries and inodes must be invalidated (see filesystem.h);
// ForgetRemoteState: the same for every path, after a change feed's outage.
#include <spdlog/spdlog.h>

#include "fs/filesystem_impl.h"

namespace s3mount {
bool Filesystem::Impl::AlreadyKnown(const std::string& path, bool marker,
                                    const ObjectChange& change) {
  auto cached = metadata.Lookup(path, clock.Monotonic());
  if (!cached.has_value()) return false;
  if (change.kind == ObjectChangeKind::kRemoved) return cached->kind == PathKind::kMissing;
  // A copy onto itself (chmod, chown, touch by s3fs or another s3mount) keeps the ETag of a
  // single-part object while its metadata changes: never an echo.
  if (change.etag.empty() || change.event_name.ends_with(":Copy")) return false;
  const bool same_kind = marker ? cached->kind == PathKind::kDirectory && cached->marker_present
                                : cached->kind == PathKind::kFile;
  return same_kind && cached->object.etag == change.etag;
}

KernelInvalidations Filesystem::Impl::KernelViewOf(const std::string& path,
                                                   bool with_directories) const {
  KernelInvalidations kernel;
  InodeId parent = kRootInode;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    const size_t end = slash == std::string::npos ? path.size() : slash;
    const std::string name = path.substr(start, end - start);
    kernel.entries.emplace_back(parent, name);
    auto child = inodes.Find(parent, name);
    if (!child.has_value()) break;
    if (end == path.size()) {
      kernel.inodes.push_back(child->id);
      kernel.inodes.push_back(parent);
      break;
    }
    // A directory on the way stays in the kernel unless it may have vanished with the object.
    if (!with_directories) kernel.entries.pop_back();
    parent = child->id;
    start = end + 1;
  }
  return kernel;
}

KernelInvalidations Filesystem::ApplyRemoteChange(const ObjectChange& change) {
  Impl& impl = *impl_;
  auto relative = impl.keys.RelativePathFor(change.key);
  if (!relative.has_value() || relative->empty()) return {};
  const bool marker = relative->back() == '/';
  std::string path = marker ? relative->substr(0, relative->size() - 1) : *relative;
  if (path.empty() || path.find("//") != std::string::npos) return {};
  if (!impl.filter.IsVisible(path, marker)) return {};  // include=/exclude= hide it
  if (impl.sequencers.AlreadyApplied(change.key, change.sequencer)) {
    spdlog::debug("event {} {}: older than one already applied", change.event_name, change.key);
    return {};
  }
  if (impl.AlreadyKnown(path, marker, change)) {
    spdlog::debug("event {} {}: already known (this mount's own change)", change.event_name,
                  change.key);
    return {};
  }
  spdlog::debug("event {} {}: invalidating", change.event_name, change.key);
  const MonoTime now = impl.clock.Monotonic();
  // The path, anything cached below it (it may have been a directory), and every directory
  // above it: an implicit one may have appeared (a negative entry to drop) or vanished.
  impl.metadata.MarkChanged(path, now);
  impl.metadata.InvalidatePrefix(path);
  for (std::string above = Impl::ParentOf(path); !above.empty(); above = Impl::ParentOf(above)) {
    impl.metadata.MarkChanged(above, now);
  }
  impl.listings.Invalidate(Impl::ParentOf(path), now);
  impl.InvalidateListingsAbove(Impl::ParentOf(path));
  if (marker) impl.listings.Invalidate(path, now);
  if (!marker) impl.blocks.EraseObject(change.key);

  // A removal may take implicit directories with it: their dentries go too.
  KernelInvalidations kernel =
      impl.KernelViewOf(path, /*with_directories=*/change.kind == ObjectChangeKind::kRemoved);
  // The kernel drops the inode's pages: the next open must not claim they are still valid.
  if (!kernel.inodes.empty()) impl.inodes.SwapKernelCacheEtag(kernel.inodes.front(), "");
  return kernel;
}

KernelInvalidations Filesystem::ForgetRemoteState() {
  Impl& impl = *impl_;
  const MonoTime now = impl.clock.Monotonic();
  // Cached blocks are keyed by ETag: a new version is fetched as such once its metadata is.
  impl.metadata.MarkAllChanged(now);
  impl.listings.Clear(now);
  return impl.inodes.ForgetKernelCaches();
}

}  // namespace s3mount
