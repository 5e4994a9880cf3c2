// StreamingUpload: sequential writes as a multipart upload running beside the writer.
#include "fs/streaming_upload.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "s3mount/fs/metadata_codec.h"
#include "s3mount/s3/outcome_check.h"

namespace s3mount {
namespace {

constexpr auto kMemoryWait = std::chrono::milliseconds(200);
constexpr uint64_t kChargeStep = uint64_t{1} << 20;  // the tail's memory is taken in steps

}  // namespace

StreamingUpload::StreamingUpload(ObjectStore& store, ThreadPool& pool, MemoryBudget& memory,
                                 ObjectUploader& uploader, std::string key,
                                 uint64_t first_part_size)
    : store_(store),
      pool_(pool),
      memory_(memory),
      uploader_(uploader),
      key_(std::move(key)),
      first_part_size_(first_part_size) {}

StreamingUpload::~StreamingUpload() {
  WaitForParts();
  if (upload_id_ && !finished_ && !salvaged_ && !gone_) {
    if (Status aborted = store_.AbortMultipartUpload(key_, *upload_id_); !aborted.ok()) {
      spdlog::warn("abort of the abandoned upload of '{}' failed: {}", key_,
                   aborted.error().ToString());
    } else {
      ForgetJournalRecord(journal_, journal_note_);
    }
  }
  ReleaseAll();
}

namespace {

UserMetadata WithoutWriteTimes(UserMetadata metadata) {
  metadata.erase(std::string(kMetaMtime));
  metadata.erase(std::string(kMetaCtime));
  return metadata;
}

}  // namespace

void StreamingUpload::SetInitialMetadata(std::string content_type, UserMetadata metadata) {
  content_type_ = std::move(content_type);
  initial_metadata_ = WithoutWriteTimes(std::move(metadata));
}

uint64_t StreamingUpload::PartSize(int number) const {
  const int doublings = std::min((number - 1) / 1000, 9);
  return std::min(first_part_size_ << doublings, kMaxPartSize);
}

Status StreamingUpload::ChargeTail(uint64_t bytes) {
  if (tail_charged_ >= bytes) return OkStatus();
  const uint64_t want = std::max(bytes - tail_charged_, kChargeStep);
  while (!memory_.TryAcquire(want, MemoryUse::kStream)) {
    std::unique_lock lock(mu_);
    if (in_flight_ == 0) {
      lock.unlock();
      if (memory_.AcquireFor(want, kMemoryWait, MemoryUse::kStream)) break;
      return MakeError(ErrorCode::kNoSpace, "the write memory budget is exhausted");
    }
    part_done_.wait_for(lock, kMemoryWait);
  }
  tail_charged_ += want;
  return OkStatus();
}

Status StreamingUpload::StartIfNeeded() {
  if (upload_id_) return OkStatus();
  auto id = store_.CreateMultipartUpload(
      {.key = key_, .content_type = content_type_, .user_metadata = initial_metadata_});
  S3M_RETURN_IF_ERROR(id);
  upload_id_ = std::move(id).value();
  journal_note_ = NoteMultipartUpload(journal_, key_, *upload_id_);
  return OkStatus();
}

Result<CompletionState> StreamingUpload::ResolveEarlierComplete() {
  std::vector<CompletedPart> parts;
  {
    std::lock_guard lock(mu_);
    for (const auto& [number, part] : done_) parts.push_back(part);
  }
  auto check = CheckCompletion(store_, {.key = key_, .upload_id = *upload_id_, .parts = parts});
  S3M_RETURN_IF_ERROR(check);
  if (check->state == CompletionState::kOpen) {
    complete_sent_ = false;
  } else {
    // Completed (or gone): nothing may be sent to it any more, nor may it be aborted.
    spdlog::warn(
        "the earlier Complete of '{}' (upload {}) {}", key_, *upload_id_,
        check->state == CompletionState::kOurs ? "applied" : "did not apply: " + check->found);
    gone_ = true;
    resolved_ = check->response;
  }
  return check->state;
}

Status StreamingUpload::HandOffTail() {
  if (complete_sent_) S3M_RETURN_IF_ERROR(ResolveEarlierComplete());
  if (gone_ || resolved_) {
    return MakeError(ErrorCode::kNoSpace, "the multipart upload of '" + key_ +
                                              "' was completed or is gone: no more parts");
  }
  S3M_RETURN_IF_ERROR(StartIfNeeded());
  const int number = next_part_++;
  HeldPart held{.offset = tail_offset_,
                .bytes = buffers_ != nullptr
                             ? buffers_->Share(std::move(tail_))
                             : std::make_shared<const std::string>(std::move(tail_)),
                .charged = tail_charged_};
  tail_ = std::string();
  tail_charged_ = 0;
  tail_offset_ += held.bytes->size();
  {
    std::lock_guard lock(mu_);
    ++in_flight_;
  }
  Status submitted = pool_.Submit([this, number, held] {
    PartDone(
        number, held,
        store_.UploadPart(
            {.key = key_, .upload_id = *upload_id_, .part_number = number, .body = *held.bytes}));
  });
  // A pool that is shutting down takes no more parts: this one is kept as a failed part,
  // which Finish sends itself.
  if (!submitted.ok()) PartDone(number, std::move(held), std::move(submitted).error());
  // A writer faster than S3 waits here instead of queueing its file in memory: more parts in
  // flight than kMaxPartsInFlight would not upload any faster.
  std::unique_lock lock(mu_);
  part_done_.wait(lock, [&] { return in_flight_ < kMaxPartsInFlight; });
  return OkStatus();
}

void StreamingUpload::PartDone(int number, HeldPart held, Result<std::string> etag) {
  std::lock_guard lock(mu_);
  if (etag.ok()) {
    done_[number] = {number, std::move(etag).value(), held.bytes->size()};
    memory_.Release(held.charged, MemoryUse::kStream);
  } else {
    spdlog::warn("upload of part {} of '{}' failed: {}", number, key_, etag.error().ToString());
    if (!part_error_) part_error_ = etag.error();
    failed_[number] = std::move(held);  // its memory stays charged until it is uploaded
  }
  --in_flight_;
  part_done_.notify_all();
}

Status StreamingUpload::Append(std::string_view data) {
  // A failed part does not stop the writer: its bytes are kept and Finish sends them again.
  while (!data.empty()) {
    const uint64_t part = PartSize(next_part_);
    const size_t take = static_cast<size_t>(std::min<uint64_t>(part - tail_.size(), data.size()));
    S3M_RETURN_IF_ERROR(ChargeTail(tail_.size() + take));
    // The whole part at once: only the pages written are resident, and growing by doubling
    // would hold the old and the new buffer at once, uncharged.
    if (tail_.capacity() < part) {
      if (buffers_ != nullptr && tail_.empty()) {
        tail_ = buffers_->Take(static_cast<size_t>(part));
      } else {
        tail_.reserve(part);
      }
    }
    tail_.append(data.substr(0, take));
    data.remove_prefix(take);
    if (tail_.size() == part) S3M_RETURN_IF_ERROR(HandOffTail());
  }
  return OkStatus();
}

Status StreamingUpload::WriteTail(uint64_t offset, std::string_view data) {
  const uint64_t within = offset - tail_offset_;
  const size_t overlap =
      static_cast<size_t>(std::min<uint64_t>(tail_.size() - within, data.size()));
  tail_.replace(within, overlap, data.substr(0, overlap));
  return Append(data.substr(overlap));
}

void StreamingUpload::WaitForParts() {
  std::unique_lock lock(mu_);
  part_done_.wait(lock, [&] { return in_flight_ == 0; });
}

Status StreamingUpload::CompleteUpload() {
  if (complete_sent_) {
    // An earlier Complete failed: nothing more goes to the upload before S3 says it is open.
    S3M_RETURN_IF_ERROR(ResolveEarlierComplete());
    std::lock_guard lock(mu_);
    // Ours, but from before bytes that came since: those cannot join a completed upload.
    if (resolved_ && (!tail_.empty() || !failed_.empty())) resolved_.reset();
  }
  if (resolved_) return OkStatus();
  if (gone_) {
    return MakeError(ErrorCode::kNoSuchUpload,
                     "the multipart upload of '" + key_ + "' was completed or is gone");
  }
  // Parts that failed before: once more, in order, from the bytes kept.
  std::map<int, HeldPart> retry;
  {
    std::lock_guard lock(mu_);
    retry = failed_;
  }
  for (auto& [number, held] : retry) {
    auto etag = store_.UploadPart(
        {.key = key_, .upload_id = *upload_id_, .part_number = number, .body = *held.bytes});
    S3M_RETURN_IF_ERROR(etag);
    std::lock_guard lock(mu_);
    done_[number] = {number, std::move(etag).value(), held.bytes->size()};
    memory_.Release(held.charged, MemoryUse::kStream);
    failed_.erase(number);
  }
  if (!tail_.empty()) {
    auto etag = store_.UploadPart(
        {.key = key_, .upload_id = *upload_id_, .part_number = next_part_, .body = tail_});
    S3M_RETURN_IF_ERROR(etag);
    std::lock_guard lock(mu_);
    done_[next_part_] = {next_part_, std::move(etag).value(), tail_.size()};
    ++next_part_;
    tail_offset_ += tail_.size();
    tail_ = std::string();
  }
  std::vector<CompletedPart> parts;
  {
    std::lock_guard lock(mu_);
    part_error_.reset();
    for (const auto& [number, part] : done_) parts.push_back(part);
  }
  auto completed = store_.CompleteMultipartUpload(
      {.key = key_, .upload_id = *upload_id_, .parts = std::move(parts)});
  if (!completed.ok()) {
    // kNoSuchUpload: the store found the upload gone and the key not holding its object.
    complete_sent_ = completed.error().code != ErrorCode::kNoSuchUpload;
    gone_ = !complete_sent_;
    if (gone_) ForgetJournalRecord(journal_, journal_note_);  // nothing left open to abort
    return std::move(completed).error();
  }
  resolved_ = std::move(completed).value();
  ForgetJournalRecord(journal_, journal_note_);
  return OkStatus();
}

Result<StreamingUpload::Finished> StreamingUpload::Finish(const std::string& content_type,
                                                          const UserMetadata& metadata,
                                                          bool times_from_writes) {
  WaitForParts();
  if (!upload_id_) {
    auto put = store_.PutObject(
        {.key = key_, .body = tail_, .content_type = content_type, .user_metadata = metadata});
    S3M_RETURN_IF_ERROR(put);
    finished_ = true;
    ReleaseAll();
    return Finished{std::move(put).value(), metadata};
  }
  if (resolved_ && !tail_.empty()) {
    return MakeError(ErrorCode::kNoSuchUpload,
                     "the multipart upload of '" + key_ + "' completed before its last bytes");
  }
  if (!resolved_) {
    S3M_RETURN_IF_ERROR(CompleteUpload());
    finished_ = true;
    ReleaseAll();
  }
  if (content_type == content_type_ &&
      (metadata == initial_metadata_ ||
       (times_from_writes && WithoutWriteTimes(metadata) == initial_metadata_))) {
    return Finished{*resolved_, initial_metadata_};
  }
  // The metadata changed while the data streamed (chmod, utimens...): set it in place.
  auto copied = uploader_.Copy({.source_key = key_,
                                .destination_key = key_,
                                .metadata_directive = MetadataDirective::kReplace,
                                .content_type = content_type,
                                .user_metadata = metadata,
                                .source_if_match = resolved_->etag},
                               size());
  S3M_RETURN_IF_ERROR(copied);
  return Finished{PutObjectResponse{.etag = copied->etag, .version_id = ""}, metadata};
}

std::string StreamingUpload::TakeTail() {
  std::string out = std::move(tail_);
  tail_ = std::string();
  memory_.Release(tail_charged_, MemoryUse::kStream);
  tail_charged_ = 0;
  return out;
}

std::string StreamingUpload::Salvage(StagingFile& file) {
  WaitForParts();
  std::string kept;
  std::lock_guard lock(mu_);
  for (const auto& [number, held] : failed_) {
    if (file.Write(held.offset, *held.bytes).ok()) {
      kept += " part " + std::to_string(number) + " (bytes " + std::to_string(held.offset) + "+" +
              std::to_string(held.bytes->size()) + ")";
    }
  }
  if (!tail_.empty() && file.Write(tail_offset_, tail_).ok()) {
    kept +=
        " tail (bytes " + std::to_string(tail_offset_) + "+" + std::to_string(tail_.size()) + ")";
  }
  salvaged_ = true;
  std::string uploaded;
  for (const auto& [number, part] : done_) uploaded += " " + std::to_string(number);
  return "multipart upload " + upload_id_.value_or("(none)") + " of key '" + key_ +
         "' left open with parts" + (uploaded.empty() ? " (none)" : uploaded) +
         "; bytes still held written to '" + file.path() + "':" + kept;
}

void StreamingUpload::ReleaseAll() {
  memory_.Release(tail_charged_, MemoryUse::kStream);
  tail_charged_ = 0;
  std::lock_guard lock(mu_);
  for (const auto& [number, held] : failed_) memory_.Release(held.charged, MemoryUse::kStream);
  failed_.clear();
}

}  // namespace s3mount
