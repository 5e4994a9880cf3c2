// ObjectUploader: one PUT, or parallel multipart parts (uploaded or copied), for a whole
// object.
#include "fs/object_uploader.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "s3mount/s3/retry_policy.h"

namespace s3mount {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr auto kMemoryWait = std::chrono::milliseconds(200);

// What the parts of one multipart upload report back to the thread waiting for them.
struct PartResults {
  std::mutex mu;
  std::condition_variable done;
  size_t pending = 0;                // guarded by mu
  std::vector<CompletedPart> parts;  // guarded by mu
  std::optional<Error> first_error;  // guarded by mu

  void Finish(int number, uint64_t size, Result<std::string> etag) {
    std::lock_guard lock(mu);
    if (etag.ok()) {
      parts[static_cast<size_t>(number - 1)] = {number, std::move(etag).value(), size};
    } else if (!first_error) {
      first_error = std::move(etag).error();
    }
    --pending;
    done.notify_all();
  }
  void WaitAll() {
    std::unique_lock lock(mu);
    done.wait(lock, [&] { return pending == 0; });
  }
};

}  // namespace

uint64_t ObjectUploader::PartSizeFor(uint64_t size) const {
  const uint64_t needed = (size + kMaxPartNumber - 1) / kMaxPartNumber;
  const uint64_t rounded = (needed + kMiB - 1) / kMiB * kMiB;
  return std::max(options_.part_size, rounded);
}

Result<PutObjectResponse> ObjectUploader::Upload(const UploadTarget& target, UploadSource& source) {
  const uint64_t size = source.size();
  if (size > kMaxObjectSize) {
    return MakeError(ErrorCode::kEntityTooLarge, "'" + target.key + "' is over S3's 5 TiB limit");
  }
  if (size > options_.part_size) {
    auto uploaded = UploadMultipart(target, source);
    if (uploaded.ok() || uploaded.error().code != ErrorCode::kNoSuchUpload) return uploaded;
    // The upload vanished under us (aborted elsewhere, or completed and then replaced): the
    // source still holds every byte, so a new upload is a clean retry.
    spdlog::warn("upload of '{}' is gone ({}); uploading it again", target.key,
                 uploaded.error().ToString());
    return UploadMultipart(target, source);
  }
  // Charged like a part (see UploadMultipart): waited for when it fits uploads' room.
  bool charged = memory_.AcquireFor(size, kMemoryWait);
  while (!charged && size <= memory_.upload_reserve()) {
    charged = memory_.AcquireFor(size, kMemoryWait);
  }
  std::string body(size, '\0');
  Status read = source.Read(0, size, body.data());
  Result<PutObjectResponse> put = read.ok() ? store_.PutObject({.key = target.key,
                                                                .body = body,
                                                                .content_type = target.content_type,
                                                                .user_metadata = target.metadata})
                                            : Result<PutObjectResponse>(read.error());
  body = std::string();
  if (charged) memory_.Release(size);
  return put;
}

Result<PutObjectResponse> ObjectUploader::UploadMultipart(const UploadTarget& target,
                                                          UploadSource& source) {
  const uint64_t size = source.size();
  const uint64_t part_size = PartSizeFor(size);
  auto upload_id = store_.CreateMultipartUpload(
      {.key = target.key, .content_type = target.content_type, .user_metadata = target.metadata});
  S3M_RETURN_IF_ERROR(upload_id);
  const uint64_t note = NoteMultipartUpload(options_.journal, target.key, *upload_id);
  const auto count = static_cast<int>((size + part_size - 1) / part_size);
  auto results = std::make_shared<PartResults>();
  results->parts.resize(static_cast<size_t>(count));
  for (int number = 1; number <= count; ++number) {
    const uint64_t offset = static_cast<uint64_t>(number - 1) * part_size;
    const uint64_t length = std::min(part_size, size - offset);
    {
      std::lock_guard lock(results->mu);
      if (results->first_error) break;
      ++results->pending;
    }
    if (target.copy_source_key && source.Unchanged(offset, length)) {
      UploadPartCopyRequest copy{.key = target.key,
                                 .upload_id = *upload_id,
                                 .part_number = number,
                                 .source_key = *target.copy_source_key,
                                 .source_range = ByteRange{offset, offset + length - 1},
                                 .source_if_match = target.copy_source_etag};
      Status submitted = pool_.Submit([this, results, length, copy = std::move(copy)] {
        results->Finish(copy.part_number, length, store_.UploadPartCopy(copy));
      });
      if (!submitted.ok()) results->Finish(number, length, std::move(submitted).error());
      continue;
    }
    // Memory for the part's bytes, taken here so pool tasks never wait for it. A part that
    // fits the room streams leave to uploads always gets it in the end (what uploads hold
    // comes back when their requests end): wait. Only a part larger than that room (a file
    // over 78 GiB has parts over 8 MiB) goes on over budget, when none of this upload's
    // parts is running, rather than wait for files that may stay open.
    const bool guaranteed = length <= memory_.upload_reserve();
    bool charged = false;
    while (!charged) {
      charged = memory_.AcquireFor(length, kMemoryWait);
      std::lock_guard lock(results->mu);
      if (!charged && !guaranteed && results->pending == 1) break;
    }
    Status submitted = pool_.Submit(
        [this, results, &target, &source, upload_id = *upload_id, number, offset, length, charged] {
          std::string body(length, '\0');
          Status read = source.Read(offset, length, body.data());
          Result<std::string> etag = read.ok() ? store_.UploadPart({.key = target.key,
                                                                    .upload_id = upload_id,
                                                                    .part_number = number,
                                                                    .body = body})
                                               : Result<std::string>(read.error());
          body = std::string();
          if (charged) memory_.Release(length);
          results->Finish(number, length, std::move(etag));
        });
    if (!submitted.ok()) {
      if (charged) memory_.Release(length);
      results->Finish(number, length, std::move(submitted).error());
    }
  }
  results->WaitAll();
  if (results->first_error) {
    if (Status aborted = store_.AbortMultipartUpload(target.key, *upload_id); !aborted.ok()) {
      spdlog::warn("abort of the failed upload of '{}' failed: {}", target.key,
                   aborted.error().ToString());
    } else {
      ForgetJournalRecord(options_.journal, note);
    }
    return *results->first_error;
  }
  auto completed = store_.CompleteMultipartUpload(
      {.key = target.key, .upload_id = *upload_id, .parts = std::move(results->parts)});
  // An ambiguous failure the store could not resolve may hide an applied Complete: that upload
  // is left as it is (its journal record too: the next mount aborts what is still open). Any
  // other failure leaves no upload behind.
  if (completed.ok()) {
    ForgetJournalRecord(options_.journal, note);
  } else if (!MayHaveApplied(completed.error()) &&
             completed.error().code != ErrorCode::kNoSuchUpload) {
    if (store_.AbortMultipartUpload(target.key, *upload_id).ok()) {
      ForgetJournalRecord(options_.journal, note);
    }
  }
  return completed;
}

Result<CopyObjectResponse> ObjectUploader::Copy(const CopyObjectRequest& request, uint64_t size) {
  if (size <= kMaxCopySize) return store_.CopyObject(request);
  return CopyMultipart(request, size);
}

Result<CopyObjectResponse> ObjectUploader::CopyMultipart(const CopyObjectRequest& request,
                                                         uint64_t size) {
  UserMetadata metadata = request.user_metadata;
  std::string content_type = request.content_type;
  StoredHeaders stored_headers = request.stored_headers;
  if (request.metadata_directive == MetadataDirective::kCopy) {
    auto head = store_.HeadObject({.key = request.source_key, .if_match = request.source_if_match});
    S3M_RETURN_IF_ERROR(head);
    metadata = head->user_metadata;
    content_type = head->content_type;
    stored_headers = head->stored_headers;
  }
  auto upload_id = store_.CreateMultipartUpload({.key = request.destination_key,
                                                 .content_type = content_type,
                                                 .user_metadata = metadata,
                                                 .stored_headers = stored_headers});
  S3M_RETURN_IF_ERROR(upload_id);
  const uint64_t note = NoteMultipartUpload(options_.journal, request.destination_key, *upload_id);
  const uint64_t part_size = std::max(PartSizeFor(size), uint64_t{512} << 20);
  const auto count = static_cast<int>((size + part_size - 1) / part_size);
  auto results = std::make_shared<PartResults>();
  results->parts.resize(static_cast<size_t>(count));
  results->pending = static_cast<size_t>(count);
  for (int number = 1; number <= count; ++number) {
    const uint64_t offset = static_cast<uint64_t>(number - 1) * part_size;
    const uint64_t last = std::min(size, offset + part_size) - 1;
    UploadPartCopyRequest copy{.key = request.destination_key,
                               .upload_id = *upload_id,
                               .part_number = number,
                               .source_key = request.source_key,
                               .source_range = ByteRange{offset, last},
                               .source_if_match = request.source_if_match};
    const uint64_t length = last - offset + 1;
    Status submitted = pool_.Submit([this, results, length, copy = std::move(copy)] {
      results->Finish(copy.part_number, length, store_.UploadPartCopy(copy));
    });
    if (!submitted.ok()) results->Finish(number, length, std::move(submitted).error());
  }
  results->WaitAll();
  if (results->first_error) {
    if (store_.AbortMultipartUpload(request.destination_key, *upload_id).ok()) {
      ForgetJournalRecord(options_.journal, note);
    }
    return *results->first_error;
  }
  auto completed = store_.CompleteMultipartUpload({.key = request.destination_key,
                                                   .upload_id = *upload_id,
                                                   .parts = std::move(results->parts)});
  S3M_RETURN_IF_ERROR(completed);
  ForgetJournalRecord(options_.journal, note);
  return CopyObjectResponse{.etag = completed->etag};
}

}  // namespace s3mount
