// OpenFile: where an open file's bytes are (stream, staging file, S3, zeros) and how they get
// back to S3.
#include "fs/open_file.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "fs/attribute_changes.h"
#include "s3mount/fs/metadata_codec.h"
#include "s3mount/s3/object_sinks.h"

namespace s3mount {

// The bytes of the file as the application sees them, for the uploader. Called while the
// flushing thread holds mu_ and waits, so the state it reads does not change underneath.
class OpenFile::Source final : public UploadSource {
 public:
  explicit Source(OpenFile& file) : file_(file) {}
  uint64_t size() const override { return file_.size_; }
  Status Read(uint64_t offset, size_t size, char* out) override {
    return file_.ReadLocked(offset, size, out);
  }
  bool Unchanged(uint64_t offset, uint64_t size) const override {
    const bool written =
        file_.staging_ != nullptr && file_.staging_->written().Overlaps(offset, offset + size);
    return file_.base_.has_value() && offset + size <= file_.base_limit_ && !written;
  }

 private:
  OpenFile& file_;
};

OpenFile::OpenFile(const OpenFileServices& services, OpenFileInit init)
    : services_(services),
      path_(std::move(init.path)),
      key_(std::move(init.key)),
      base_(std::move(init.base)),
      base_limit_(base_ ? base_->size : 0),
      size_(base_limit_),
      attributes_(init.attributes),
      content_type_(std::move(init.content_type)),
      stored_headers_(std::move(init.stored_headers)),
      metadata_(std::move(init.metadata)) {
  // A new file (no object yet) must be uploaded even if nothing is written to it.
  in_store_ = base_.has_value();
  content_dirty_ = !in_store_;
}

OpenFile::~OpenFile() {
  // The record goes before the staging file does (a crash between the two leaves a record
  // whose data is gone, which recovery drops), unless it was kept with the data.
  if (journal_id_ != 0 && !journal_kept_) services_.journal->Remove(journal_id_);
}

Status OpenFile::JournalLocked(bool durable) {
  WriteJournal* journal = services_.journal;
  if (journal == nullptr) return OkStatus();
  if (acknowledged_ && stream_ && !mirrored_) {
    spdlog::warn("'{}' is streamed without a local copy now: the journal no longer covers it",
                 path_);
    acknowledged_ = false;
  }
  const bool upload = acknowledged_ && !detached_;
  if (!upload && (detached_ || !staging_)) {
    if (journal_id_ != 0) journal->Remove(journal_id_);
    journal_id_ = 0;
    return OkStatus();
  }
  JournalRecord record{.kind = upload ? JournalKind::kUpload : JournalKind::kStaged,
                       .key = key_,
                       .path = path_,
                       .size = size_};
  if (staging_) {
    record.data_file = staging_->path();
    record.written = staging_->written().spans();
  }
  if (upload) {
    if (base_) record.replaces_etag = base_->etag;
    record.base_limit = base_ ? base_limit_ : 0;
    record.content_type = content_type_;
    record.metadata = UploadMetadataLocked();
  }
  if (journal_kept_) record.kept_reason = "its upload failed; the mount kept its data";
  if (journal_id_ == 0) journal_id_ = journal->NewId();
  return journal->Put(journal_id_, record, durable);
}

void OpenFile::DropStagingLocked() {
  std::unique_ptr<StagingFile> dropped = std::move(staging_);
  if (Status journaled = JournalLocked(); !journaled.ok()) {
    spdlog::warn("journal of '{}': {}", path_, journaled.error().ToString());
  }
  dropped.reset();
}

Status OpenFile::Acknowledge() {
  if (services_.journal == nullptr) return OkStatus();  // no wait for an upload running now
  // With a journal, a close waits for an upload of this file that is running (as a write
  // does): the record must describe what the close acknowledges.
  std::lock_guard lock(mu_);
  if (detached_ || (!content_dirty_ && !metadata_dirty_)) return OkStatus();
  if (stream_ && !mirrored_) {
    if (stream_->started()) {
      return MakeError(ErrorCode::kNoSpace,
                       "parts of it were sent without a local copy (the staging area was full)");
    }
    S3M_RETURN_IF_ERROR(LeaveStreamingLocked());  // its tail goes to the staging file
  }
  if (staging_) S3M_RETURN_IF_ERROR(staging_->Sync());
  acknowledged_ = true;
  if (Status put = JournalLocked(true); !put.ok()) {
    acknowledged_ = false;
    (void)JournalLocked();
    return put;
  }
  return OkStatus();
}

Status OpenFile::EnsureStagingLocked() {
  if (staging_) return OkStatus();
  auto file = services_.staging.NewFile(path_);
  S3M_RETURN_IF_ERROR(file);
  staging_ = std::move(file).value();
  if (Status journaled = JournalLocked(); !journaled.ok()) {
    spdlog::warn("staging file of '{}' is not journaled: {}", path_, journaled.error().ToString());
  }
  return OkStatus();
}

// Out of streaming mode, publishing nothing: with the stream's local copy, the staging file
// already holds every byte and the multipart upload is abandoned (aborted); a stream that
// uploaded nothing moves its tail to the staging file. A stream that sent parts without a
// local copy cannot leave: those bytes exist only in an upload S3 will not show before it is
// completed, and completing it would publish the file before its close.
Status OpenFile::LeaveStreamingLocked() {
  if (!stream_) return OkStatus();
  if (mirrored_) {
    stream_.reset();
    mirrored_ = false;
    return OkStatus();
  }
  if (!stream_->started()) {
    S3M_RETURN_IF_ERROR(EnsureStagingLocked());
    const std::string tail = stream_->TakeTail();
    S3M_RETURN_IF_ERROR(staging_->Write(0, tail));
    stream_.reset();
    return OkStatus();
  }
  return MakeError(ErrorCode::kNoSpace,
                   "'" + path_ +
                       "' was streamed to S3 without a local copy (the staging area was full): "
                       "until it is closed, only writes at its end are possible");
}

void OpenFile::MirrorLocked(uint64_t offset, std::string_view data) {
  Status copied = staging_->Write(offset, data);
  if (copied.ok()) return;
  spdlog::info(
      "'{}' is streamed without a local copy from now on ({}): until it is closed, only "
      "writes at its end are possible",
      path_, copied.error().ToString());
  mirrored_ = false;
  DropStagingLocked();
}

Result<size_t> OpenFile::Write(uint64_t offset, std::string_view data, WallTime now) {
  std::lock_guard lock(mu_);
  if (offset + data.size() > kMaxObjectSize) {
    return MakeError(ErrorCode::kEntityTooLarge, "files end at S3's 5 TiB limit");
  }
  const bool staged = staging_ != nullptr && !staging_->written().empty();
  if (!stream_ && !detached_ && size_ == 0 && base_limit_ == 0 && offset == 0 && !staged) {
    stream_ =
        std::make_unique<StreamingUpload>(services_.store, services_.upload_pool, services_.memory,
                                          services_.uploader, key_, services_.part_size);
    stream_->SetInitialMetadata(content_type_, UploadMetadataLocked());
    stream_->SetJournal(services_.journal);
    stream_->SetBuffers(services_.buffers);
    // The local copy that lets the file leave streaming without publishing it.
    mirrored_ = EnsureStagingLocked().ok();
  }
  if (stream_) {
    const bool in_tail = offset >= stream_->tail_offset() && offset <= stream_->size();
    Status written = in_tail ? stream_->WriteTail(offset, data)
                             : MakeError(ErrorCode::kNoSpace, "not sequential");
    if (written.ok()) {
      if (mirrored_) MirrorLocked(offset, data);
      ContentChangedLocked(stream_->size(), now);
      return data.size();
    }
    if (written.error().code != ErrorCode::kNoSpace) return written.error();
    S3M_RETURN_IF_ERROR(LeaveStreamingLocked());
  }
  S3M_RETURN_IF_ERROR(EnsureStagingLocked());
  S3M_RETURN_IF_ERROR(staging_->Write(offset, data));
  ContentChangedLocked(std::max<uint64_t>(size_, offset + data.size()), now);
  return data.size();
}

void OpenFile::ContentChangedLocked(uint64_t new_size, WallTime now) {
  {
    std::lock_guard view(view_mu_);
    size_ = new_size;
    content_dirty_ = true;
    attributes_.mtime = attributes_.ctime = now;
  }
  // A file acknowledged and not uploaded yet, written again: the record follows it (a crash
  // then uploads it as it is, as a local file system keeps what reached it before a crash).
  if (acknowledged_) (void)JournalLocked();
}

Status OpenFile::ReadBaseLocked(uint64_t offset, size_t size, char* out) {
  BufferSink sink(std::span<char>(out, size));
  auto got = services_.store.GetObject(
      {.key = base_->key, .range = ByteRange{offset, offset + size - 1}, .if_match = base_->etag},
      sink);
  S3M_RETURN_IF_ERROR(got);
  if (sink.size() != size) {
    return MakeError(ErrorCode::kTruncatedBody, "short read of '" + base_->key + "'");
  }
  return OkStatus();
}

// Bytes [offset, offset + size) of the file (all below size_), outside streaming mode.
Status OpenFile::ReadLocked(uint64_t offset, size_t size, char* out) {
  const uint64_t end = offset + size;
  RangeSet none;
  const RangeSet& written = staging_ ? staging_->written() : none;
  for (const RangeSet::Piece& piece : written.Split(offset, end)) {
    char* at = out + (piece.span.begin - offset);
    if (piece.present) {
      S3M_RETURN_IF_ERROR(staging_->Read(piece.span.begin, piece.span.size(), at));
      continue;
    }
    const uint64_t from_base_end = std::min(piece.span.end, base_limit_);
    if (base_ && piece.span.begin < from_base_end) {
      S3M_RETURN_IF_ERROR(ReadBaseLocked(piece.span.begin, from_base_end - piece.span.begin, at));
      at += from_base_end - piece.span.begin;
    }
    const uint64_t zeros_from = std::max(piece.span.begin, from_base_end);
    if (zeros_from < piece.span.end) std::memset(at, 0, piece.span.end - zeros_from);
  }
  return OkStatus();
}

Result<std::vector<DataSlice>> OpenFile::Read(uint64_t offset, size_t size) {
  std::lock_guard lock(mu_);
  if (offset >= size_) return std::vector<DataSlice>{};
  size = static_cast<size_t>(std::min<uint64_t>(size, size_ - offset));
  if (stream_ && offset >= stream_->tail_offset()) {
    auto bytes = std::make_shared<std::string>(
        stream_->tail().substr(offset - stream_->tail_offset(), size));
    return std::vector<DataSlice>{{std::move(bytes), 0, size}};
  }
  if (!stream_ || !mirrored_) S3M_RETURN_IF_ERROR(LeaveStreamingLocked());
  const bool staged = staging_ && staging_->written().Overlaps(offset, offset + size);
  if (!staged && base_ && offset + size <= base_limit_) {
    // Only S3's bytes: through the block cache, with readahead.
    if (!reader_) {
      reader_ = std::make_unique<FileReader>(services_.fetcher, *base_, services_.max_readahead,
                                             services_.max_request);
    }
    return reader_->Read(offset, size);
  }
  auto bytes = std::make_shared<std::string>(size, '\0');
  S3M_RETURN_IF_ERROR(ReadLocked(offset, size, bytes->data()));
  return std::vector<DataSlice>{{std::move(bytes), 0, size}};
}

Status OpenFile::Truncate(uint64_t size, WallTime now) {
  std::lock_guard lock(mu_);
  return TruncateLocked(size, now);
}

Status OpenFile::TruncateLocked(uint64_t size, WallTime now) {
  if (size > kMaxObjectSize) return MakeError(ErrorCode::kEntityTooLarge, "over 5 TiB");
  if (stream_ && size == 0) {
    stream_.reset();  // abandoned: its multipart upload is aborted
    mirrored_ = false;
  } else if (stream_ && size != stream_->size()) {
    S3M_RETURN_IF_ERROR(LeaveStreamingLocked());
  }
  if (staging_) S3M_RETURN_IF_ERROR(staging_->TruncateTo(size));
  base_limit_ = std::min(base_limit_, size);
  if (size != size_) {
    ContentChangedLocked(size, now);
  } else {
    std::lock_guard view(view_mu_);
    attributes_.mtime = attributes_.ctime = now;
  }
  if (acknowledged_) (void)JournalLocked();
  return OkStatus();
}

UserMetadata OpenFile::UploadMetadataLocked() const {
  return WithAttributes(metadata_, attributes_);
}

ObjectInfo OpenFile::StoredLocked(const PutObjectResponse& put, WallTime now,
                                  UserMetadata metadata) const {
  return ObjectInfo{.key = key_,
                    .size = size_,
                    .etag = put.etag,
                    .last_modified = now,
                    .content_type = content_type_,
                    .version_id = put.version_id,
                    .user_metadata = std::move(metadata),
                    .stored_headers = stored_headers_};
}

std::optional<ObjectInfo> OpenFile::NewBaseLocked(ObjectInfo stored) {
  base_ = ObjectVersion{key_, stored.etag, size_};
  base_limit_ = size_;
  acknowledged_ = false;
  stream_.reset();
  DropStagingLocked();
  mirrored_ = false;
  reader_.reset();
  times_set_ = false;
  // In one step with the flags: the file never looks clean before it is reported.
  std::lock_guard view(view_mu_);
  in_store_ = true;
  content_dirty_ = false;
  metadata_dirty_ = false;
  unreported_ = std::move(stored);
  return unreported_;
}

Result<std::optional<ObjectInfo>> OpenFile::FlushLocked(WallTime now) {
  if (detached_ || (!content_dirty_ && !metadata_dirty_)) return std::optional<ObjectInfo>();
  const UserMetadata metadata = UploadMetadataLocked();
  PutObjectResponse stored;
  if (stream_) {
    auto finished = stream_->Finish(content_type_, metadata, !times_set_);
    if (finished.ok()) {
      stored = std::move(finished->response);
      return NewBaseLocked(StoredLocked(stored, now, std::move(finished->metadata)));
    }
    if (finished.error().code != ErrorCode::kNoSuchUpload || !mirrored_) {
      spdlog::error("upload of '{}' failed: {}; its unsent bytes stay in memory", path_,
                    finished.error().ToString());
      return finished.error();
    }
    // The upload completed without these bytes or vanished: the local copy holds every
    // byte, so the file goes up again as a new upload below.
    spdlog::warn("upload of '{}': {}; uploading it again from its local copy", path_,
                 finished.error().ToString());
    S3M_RETURN_IF_ERROR(LeaveStreamingLocked());
  }
  if (content_dirty_ || !base_) {
    Source source(*this);
    UploadTarget target{.key = key_, .content_type = content_type_, .metadata = metadata};
    if (base_ && base_limit_ > 0) {
      target.copy_source_key = base_->key;
      target.copy_source_etag = base_->etag;
    }
    auto uploaded = services_.uploader.Upload(target, source);
    if (!uploaded.ok()) {
      spdlog::error("upload of '{}' failed: {}{}", path_, uploaded.error().ToString(),
                    staging_ ? "; its data stays in '" + staging_->path() + "'" : "");
      return uploaded.error();
    }
    stored = std::move(uploaded).value();
    stored_headers_.clear();  // new bytes: the old object's encoding and caching do not hold
  } else {
    auto copied = services_.uploader.Copy({.source_key = key_,
                                           .destination_key = key_,
                                           .metadata_directive = MetadataDirective::kReplace,
                                           .content_type = content_type_,
                                           .user_metadata = metadata,
                                           .stored_headers = stored_headers_,
                                           .source_if_match = base_->etag},
                                          base_->size);
    S3M_RETURN_IF_ERROR(copied);
    stored.etag = copied->etag;
  }
  return NewBaseLocked(StoredLocked(stored, now, metadata));
}

Result<std::optional<ObjectInfo>> OpenFile::Flush(WallTime now, const StoredCallback& stored) {
  std::lock_guard lock(mu_);
  S3M_RETURN_IF_ERROR(FlushLocked(now));
  std::optional<ObjectInfo> result;
  {
    std::lock_guard view(view_mu_);
    result = unreported_;
  }
  // Recorded before the file stops counting as dirty: until then, lookups and listings take
  // a file not reported yet from here, not from the caches that are being told.
  if (result && stored) stored(path_, *result);
  std::lock_guard view(view_mu_);
  unreported_.reset();
  return result;
}

bool OpenFile::dirty() const {
  std::lock_guard view(view_mu_);
  return DirtyLocked();
}

bool OpenFile::in_store() const {
  std::lock_guard view(view_mu_);
  return in_store_;
}

Attributes OpenFile::attributes() const {
  std::lock_guard view(view_mu_);
  Attributes attributes = attributes_;
  attributes.size = size_;
  if (detached_) attributes.nlink = 0;  // unlinked or renamed over: no name leads to it
  return attributes;
}

UserMetadata OpenFile::metadata() const {
  std::lock_guard view(view_mu_);
  return metadata_;
}

std::string OpenFile::path() const {
  std::lock_guard view(view_mu_);
  return path_;
}

Result<bool> OpenFile::ChangeAttributes(const AttributeChanges& changes, WallTime now) {
  std::lock_guard lock(mu_);
  const bool was_dirty = DirtyLocked();
  if (changes.size) S3M_RETURN_IF_ERROR(TruncateLocked(*changes.size, now));
  const bool times = changes.mtime || changes.atime || changes.mtime_now || changes.atime_now;
  if (!changes.permissions && !changes.uid && !changes.gid && !times) return was_dirty;
  {
    std::lock_guard view(view_mu_);
    ApplyAttributeChanges(changes, now, attributes_);
    if (changes.mtime || changes.mtime_now) times_set_ = true;
    metadata_dirty_ = true;
  }
  if (acknowledged_) (void)JournalLocked();
  return was_dirty;
}

Result<bool> OpenFile::ChangeMetadata(const MetadataEdit& edit, WallTime now) {
  std::lock_guard lock(mu_);
  const bool was_dirty = DirtyLocked();
  UserMetadata edited = metadata_;
  S3M_RETURN_IF_ERROR(edit(edited));
  {
    std::lock_guard view(view_mu_);
    metadata_ = std::move(edited);
    attributes_.ctime = now;
    metadata_dirty_ = true;
  }
  if (acknowledged_) (void)JournalLocked();
  return was_dirty;
}

void OpenFile::Rename(std::string path, std::string key, const std::string& etag) {
  std::lock_guard lock(mu_);
  key_ = std::move(key);
  if (base_) base_ = ObjectVersion{key_, etag, base_->size};
  reader_.reset();
  {
    std::lock_guard view(view_mu_);
    path_ = std::move(path);
  }
  if (journal_id_ != 0) (void)JournalLocked();
}

Result<bool> OpenFile::RenamePending(std::string path, std::string key,
                                     std::string_view old_name_type,
                                     std::string_view new_name_type) {
  std::lock_guard lock(mu_);
  if (in_store_ || detached_ || (stream_ && stream_->started() && !mirrored_)) return false;
  // The stream was made for the old key: it is abandoned, its bytes are in the staging file.
  S3M_RETURN_IF_ERROR(LeaveStreamingLocked());
  key_ = std::move(key);
  if (content_type_ == old_name_type) content_type_ = std::string(new_name_type);
  {
    std::lock_guard view(view_mu_);
    path_ = std::move(path);
  }
  if (journal_id_ != 0) (void)JournalLocked();
  return true;
}

Status OpenFile::Detach() {
  std::lock_guard lock(mu_);
  if (detached_) return OkStatus();
  S3M_RETURN_IF_ERROR(LeaveStreamingLocked());
  if (base_ && base_limit_ > 0) {
    // Everything only S3 holds comes here before the object goes.
    S3M_RETURN_IF_ERROR(EnsureStagingLocked());
    const RangeSet written = staging_->written();
    constexpr uint64_t kChunk = uint64_t{8} << 20;
    for (const RangeSet::Piece& piece : written.Split(0, base_limit_)) {
      if (piece.present) continue;
      std::string buffer;
      for (uint64_t at = piece.span.begin; at < piece.span.end; at += kChunk) {
        const size_t length = static_cast<size_t>(std::min(kChunk, piece.span.end - at));
        buffer.resize(length);
        S3M_RETURN_IF_ERROR(ReadBaseLocked(at, length, buffer.data()));
        S3M_RETURN_IF_ERROR(staging_->Write(at, buffer));
      }
    }
  }
  base_.reset();
  base_limit_ = 0;
  reader_.reset();
  {
    std::lock_guard view(view_mu_);
    unreported_.reset();  // the object is about to go: the caches must not get it back
    detached_ = true;
  }
  acknowledged_ = false;
  (void)JournalLocked();  // nothing of an unlinked file is to be kept
  return OkStatus();
}

bool OpenFile::detached() const {
  std::lock_guard view(view_mu_);
  return detached_;
}

std::string OpenFile::Salvage() {
  std::lock_guard lock(mu_);
  if (stream_ && !mirrored_) {
    if (!staging_ && !EnsureStagingLocked().ok()) return "nothing could be kept: no staging file";
    std::string where = stream_->Salvage(*staging_);
    staging_->Keep();
    KeepJournalLocked();
    return where;
  }
  if (!staging_ && !acknowledged_) {
    return "no local data to keep (only metadata changes were lost)";
  }
  KeepJournalLocked();
  if (!staging_) return "its upload is retried by the next mount (journal)";
  staging_->Keep();
  std::string ranges;
  for (const ByteSpan& span : staging_->written().spans()) {
    ranges += " " + std::to_string(span.begin) + "-" + std::to_string(span.end);
  }
  return "bytes written locally kept in '" + staging_->path() + "' (ranges" + ranges +
         "; other bytes of the " + std::to_string(size_) + "-byte file are in S3 or zeros)";
}

void OpenFile::KeepJournalLocked() {
  if (services_.journal == nullptr) return;
  journal_kept_ = true;
  if (Status kept = JournalLocked(true); !kept.ok()) {
    spdlog::error("journal of '{}': {}", path_, kept.error().ToString());
  }
}

}  // namespace s3mount
