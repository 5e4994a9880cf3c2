// Filesystem: write-back (-o writeback): uploads of closed files and DELETEs of unlinked
// ones queued on a WriteBackQueue instead of awaited, the open file kept (and shown) until
// its upload succeeded, and the waits of fsync, rename, rmdir and unmount
// (docs/SEMANTICS.md, "Write-back").
#include <spdlog/spdlog.h>

#include "fs/filesystem_impl.h"

namespace s3mount {

void Filesystem::Impl::QueueUpload(InodeId inode, const std::shared_ptr<OpenFile>& file,
                                   bool wait_for_room) {
  // The inode's path (after renames); the file's for an inode the kernel forgot.
  auto info = inodes.Get(inode);
  const std::string path = info ? info->path : file->path();
  // Coalesced only with a queued upload of this same OpenFile: a queued one of an OpenFile
  // retired since (its upload ran, the file was reopened) has nothing left to upload, and
  // taking it for this one would drop the new version. (The queued operation holds its
  // OpenFile, so the address is not reused while it is queued.)
  writeback->Enqueue(
      WriteBackOperation{
          .path = path,
          .what = "upload",
          .coalesce_tag = fmt::format("upload:{}:{}", inode, fmt::ptr(file.get())),
          .run = [this, inode, file]() -> Status {
            S3M_RETURN_IF_ERROR(FlushFile(inode, *file));
            RetireIfIdle(inode, file);
            return OkStatus();
          },
          .give_up = [this, inode, file](const Error& error) { GaveUpUpload(inode, file, error); }},
      wait_for_room);
}

void Filesystem::Impl::QueueDelete(const std::string& path) {
  overlay.DeleteQueued(path);
  auto done = [this, path] { overlay.DeleteDone(path); };
  writeback->Enqueue(WriteBackOperation{
      .path = path,
      .what = "delete",
      .run = [this, path, done]() -> Status {
        Status deleted = store.DeleteObject(keys.KeyFor(path));
        if (!deleted.ok()) return deleted;
        // A LIST or HEAD that ran while the DELETE was queued cached the object; the name
        // stays gone (a re-create of it is queued after this, and shows as pending). The
        // caches learn it before the overlay lets go, so that no lookup or listing between
        // the two finds the object again.
        Removed(path);
        done();
        return OkStatus();
      },
      .give_up =
          [path, done](const Error& error) {
            spdlog::error(
                "'{}' was unlinked but its object could not be deleted: {}; it stays in S3", path,
                error.ToString());
            done();
          }});
}

void Filesystem::Impl::WaitForWriteBack(const std::string& path) {
  if (writeback) writeback->Wait(path, true);
}

void Filesystem::Impl::WaitForWriteBack(InodeId parent, std::string_view name) {
  if (!writeback) return;
  auto parent_info = InodeOf(parent);
  if (parent_info.ok()) writeback->Wait(ChildPath(*parent_info, name), true);
}

void Filesystem::Impl::HoldInode(InodeId inode) {
  if (!handles.NeedsHold(inode)) return;
  // A reference on the inode itself: its name may lead elsewhere now (unlinked while open,
  // then taken by a directory), and acquiring the name would take it from what is there.
  if (!inodes.Reference(inode)) return;
  // The record no longer needs it: nothing to keep.
  if (!handles.MarkHeld(inode)) inodes.Forget(inode, 1);
}

void Filesystem::Impl::Retired(InodeId inode, const HandleTable::Retired& retired) {
  if (retired.outcome != HandleTable::Retire::kErased) return;
  if (retired.inode_held) inodes.Forget(inode, 1);
  overlay.ForgetCreate(inode);
}

void Filesystem::Impl::RetireIfIdle(InodeId inode, const std::shared_ptr<OpenFile>& file) {
  const HandleTable::Retired retired = handles.RetireIdle(inode, file.get(), true);
  // Open again: the upload queued by its next last close retires it. Erased while clean: a
  // reopen, write and close since then queued its own upload, which holds the file.
  Retired(inode, retired);
  if (retired.outcome != HandleTable::Retire::kDirty) return;
  // Changed again with no handle open (a chmod racing the upload): one more upload, queued
  // from the queue's own worker, so without waiting for room.
  QueueUpload(inode, file, false);
}

void Filesystem::Impl::GaveUpUpload(InodeId inode, const std::shared_ptr<OpenFile>& file,
                                    const Error& error) {
  const HandleTable::Retired retired = handles.RetireIdle(inode, file.get(), false);
  Retired(inode, retired);  // as at a failed last close
  if (retired.outcome == HandleTable::Retire::kErased) {
    spdlog::error("'{}' was closed but could not be uploaded (write-back): {}; {}", file->path(),
                  error.ToString(), file->Salvage());
  } else {
    spdlog::error(
        "write-back upload of '{}' failed: {}; it is open again, its next fsync or close retries",
        file->path(), error.ToString());
  }
}

void Filesystem::Impl::DrainWriteBack() {
  if (!writeback) return;
  writeback->Drain();
  const WriteBackStats stats = writeback->stats();
  const auto log = stats.failed > 0 ? spdlog::level::err : spdlog::level::info;
  spdlog::log(log,
              "write-back: {} queued operation(s) done, {} failed (their data is kept as "
              "logged above), {} retried",
              stats.done, stats.failed, stats.retried);
}

void Filesystem::DrainWriteBack() { impl_->DrainWriteBack(); }

}  // namespace s3mount
