// Journal recovery: upload, keep or abort what dead mounts left in the journal.
#include "fs/journal_recovery.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "s3mount/common/unique_fd.h"
#include "s3mount/s3/object_sinks.h"

namespace s3mount {
namespace {

// The bytes of a journaled file: its data file's ranges, the replaced object below
// `base_limit` (read pinned to its ETag), zeros elsewhere.
class RecordSource final : public UploadSource {
 public:
  RecordSource(ObjectStore& store, const JournalRecord& record, int fd)
      : store_(store), record_(record), fd_(fd) {
    for (const ByteSpan& span : record.written) written_.Add(span.begin, span.end);
  }
  uint64_t size() const override { return record_.size; }
  Status Read(uint64_t offset, size_t size, char* out) override {
    for (const RangeSet::Piece& piece : written_.Split(offset, offset + size)) {
      char* at = out + (piece.span.begin - offset);
      if (piece.present) {
        S3M_RETURN_IF_ERROR(ReadLocal(piece.span, at));
        continue;
      }
      const uint64_t base_end = std::min(piece.span.end, record_.base_limit);
      if (record_.replaces_etag && piece.span.begin < base_end) {
        BufferSink sink(std::span<char>(at, base_end - piece.span.begin));
        auto got = store_.GetObject({.key = record_.key,
                                     .range = ByteRange{piece.span.begin, base_end - 1},
                                     .if_match = record_.replaces_etag},
                                    sink);
        S3M_RETURN_IF_ERROR(got);
        at += base_end - piece.span.begin;
      }
      const uint64_t zeros_from = std::max(piece.span.begin, base_end);
      if (zeros_from < piece.span.end) std::memset(at, 0, piece.span.end - zeros_from);
    }
    return OkStatus();
  }
  bool Unchanged(uint64_t offset, uint64_t size) const override {
    return record_.replaces_etag && offset + size <= record_.base_limit &&
           !written_.Overlaps(offset, offset + size);
  }

 private:
  Status ReadLocal(const ByteSpan& span, char* out) const {
    size_t done = 0;
    while (done < span.size()) {
      const ssize_t n =
          ::pread(fd_, out + done, span.size() - done, static_cast<off_t>(span.begin + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return MakeError(ErrorCode::kUnknown, "journaled data file '" + record_.data_file +
                                                  "' is shorter than its record says");
      }
      done += static_cast<size_t>(n);
    }
    return OkStatus();
  }

  ObjectStore& store_;
  const JournalRecord& record_;
  RangeSet written_;
  int fd_;
};

void RemoveDataFile(const JournalRecord& record) {
  if (record.data_file.empty()) return;
  ::unlink(record.data_file.c_str());
  ::rmdir(std::filesystem::path(record.data_file).parent_path().c_str());  // if empty
}

Status Upload(const JournalRecord& record, ObjectStore& store, ObjectUploader& uploader) {
  UniqueFd fd;
  if (!record.written.empty()) {
    fd.Reset(::open(record.data_file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
      return MakeError(ErrorCode::kNotFound, "its data file '" + record.data_file +
                                                 "' cannot be opened: " + std::strerror(errno));
    }
  }
  RecordSource source(store, record, fd.get());
  UploadTarget target{
      .key = record.key, .content_type = record.content_type, .metadata = record.metadata};
  if (record.replaces_etag && record.base_limit > 0) {
    target.copy_source_key = record.key;
    target.copy_source_etag = *record.replaces_etag;
  }
  auto uploaded = uploader.Upload(target, source);
  S3M_RETURN_IF_ERROR(uploaded);
  return OkStatus();
}

std::string Where(const JournalRecord& record) {
  return record.data_file.empty() ? std::string("(no local bytes)") : "'" + record.data_file + "'";
}

// What became of one record: done (its file removed), left for the next mount, or to keep
// (with why).
struct Outcome {
  enum { kDone, kLeft, kKeep } what;
  std::string why;
};

Outcome AbortUpload(const JournalRecord& record, ObjectStore& store) {
  Status aborted = store.AbortMultipartUpload(record.key, record.upload_id);
  if (aborted.ok() || aborted.error().code == ErrorCode::kNoSuchUpload) {
    spdlog::info("journal: aborted orphaned multipart upload {} of '{}'", record.upload_id,
                 record.key);
    return {Outcome::kDone, ""};
  }
  spdlog::warn(
      "journal: abort of multipart upload {} of '{}' failed ({}); the next mount tries "
      "again",
      record.upload_id, record.key, aborted.error().ToString());
  return {Outcome::kLeft, ""};
}

Outcome UploadClosed(const JournalRecord& record, ObjectStore& store, ObjectUploader& uploader) {
  Status uploaded = Upload(record, store, uploader);
  if (uploaded.ok()) {
    spdlog::info("journal: uploaded '{}' ({} bytes), closed before the mount died", record.key,
                 record.size);
    RemoveDataFile(record);
    return {Outcome::kDone, ""};
  }
  const ErrorCode code = uploaded.error().code;
  if (code != ErrorCode::kNotFound && code != ErrorCode::kPreconditionFailed) {
    spdlog::error("journal: upload of '{}' failed ({}); its data {} is uploaded by the next mount",
                  record.key, uploaded.error().ToString(), Where(record));
    return {Outcome::kLeft, ""};
  }
  return {Outcome::kKeep, "closed under -o writeback, but recovery could not upload it: " +
                              uploaded.error().ToString()};
}

Outcome Recover(const JournalRecord& record, ObjectStore& store, ObjectUploader& uploader) {
  Result<ObjectInfo> head = MakeError(ErrorCode::kNotFound, "not asked");
  if (record.kind == JournalKind::kUpload) head = store.HeadObject({.key = record.key});
  switch (DecideRecovery(record, head)) {
    case RecoveryAction::kAbortUpload:
      return AbortUpload(record, store);
    case RecoveryAction::kRetryLater:
      spdlog::error(
          "journal: cannot check '{}' in S3 ({}); its closed data {} is uploaded by "
          "the next mount",
          record.key, head.error().ToString(), Where(record));
      return {Outcome::kLeft, ""};
    case RecoveryAction::kUpload:
      return UploadClosed(record, store, uploader);
    case RecoveryAction::kKeepChanged:
      return {Outcome::kKeep,
              record.replaces_etag
                  ? "closed under -o writeback, but S3 changed since (the object it replaced, " +
                        *record.replaces_etag + ", is not there any more)"
                  : std::string("closed under -o writeback, but an object appeared in S3 since")};
    case RecoveryAction::kKeepStaged:
      if (record.data_file.empty() || !std::filesystem::exists(record.data_file)) {
        return {Outcome::kDone, ""};  // nothing of it is on disk
      }
      return {Outcome::kKeep, record.kept_reason.empty()
                                  ? "staged data of a file that was not closed when the mount died"
                                  : record.kept_reason};
  }
  return {Outcome::kLeft, ""};
}

}  // namespace

RecoveryAction DecideRecovery(const JournalRecord& record, const Result<ObjectInfo>& head) {
  switch (record.kind) {
    case JournalKind::kMultipart:
      return RecoveryAction::kAbortUpload;
    case JournalKind::kStaged:
      return RecoveryAction::kKeepStaged;
    case JournalKind::kUpload:
      break;
  }
  if (!head.ok() && head.error().code != ErrorCode::kNotFound) return RecoveryAction::kRetryLater;
  if (!record.replaces_etag) {
    return head.ok() ? RecoveryAction::kKeepChanged : RecoveryAction::kUpload;
  }
  return head.ok() && head->etag == *record.replaces_etag ? RecoveryAction::kUpload
                                                          : RecoveryAction::kKeepChanged;
}

RecoveryReport RecoverJournal(WriteJournal& journal, ObjectStore& store, ObjectUploader& uploader) {
  RecoveryReport report;
  for (WriteJournal::Orphan& orphan : journal.TakeOrphans()) {
    spdlog::info("journal: recovering '{}', left by a mount of {} that is gone", orphan.directory(),
                 journal.target().Describe());
    for (const WriteJournal::Orphan::Entry& entry : orphan.records) {
      const JournalRecord& record = entry.record;
      const Outcome outcome = Recover(record, store, uploader);
      if (outcome.what == Outcome::kLeft) {
        ++report.left;
        continue;
      }
      if (outcome.what == Outcome::kDone) {
        ::unlink(entry.file.c_str());
        if (record.kind == JournalKind::kUpload) ++report.uploaded;
        if (record.kind == JournalKind::kMultipart) ++report.aborted;
        continue;
      }
      spdlog::warn(
          "journal: '{}' ({} bytes) kept, not uploaded: {}; its data is in {} "
          "(`s3mount journal list` shows it, `s3mount journal clear` deletes it)",
          record.key, record.size, outcome.why, Where(record));
      if (Status kept = journal.Keep(entry.file, record, outcome.why); !kept.ok()) {
        spdlog::error("journal: cannot set '{}' aside: {}", entry.file, kept.error().ToString());
      }
      ++report.kept;
    }
  }
  if (report.uploaded + report.kept + report.aborted + report.left > 0) {
    spdlog::info(
        "journal: {} file(s) uploaded, {} kept, {} multipart upload(s) aborted, {} "
        "left for the next mount",
        report.uploaded, report.kept, report.aborted, report.left);
  }
  return report;
}

}  // namespace s3mount
