// Outcome checks: what S3 holds after a request whose answer was lost or may follow an
// applied request (a reset, a timeout, a 5xx, a reply that cannot be decoded). Instead of
// guessing, each check asks S3 (ListParts, HEAD) and compares what it finds with what the
// request would have stored. RetryingObjectStore runs them; StreamingUpload runs the
// completion check before it sends anything more to an upload whose Complete failed.
//
// "Ours" compares ETags and sizes: a PUT's ETag is the MD5 of its body; a completed multipart
// upload's is md5(concatenated binary part ETags) + "-" + part count. Objects whose ETags are
// not MD5s (SSE-KMS, SSE-C) never compare equal: their outcome is "not ours", and the caller
// uploads again (a clean new upload) or fails, never claims a success it did not see.
//
// Thread-safety: stateless functions; the store must be thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "s3mount/s3/object_store.h"

namespace s3mount {

// The ETag (quoted) S3 gives the object a Complete of `parts` creates; "" when a part ETag
// is not an MD5 (32 hex digits).
std::string MultipartEtag(const std::vector<CompletedPart>& parts);
// The ETag (quoted) of a single PUT of `body`.
std::string PutEtag(std::string_view body);
// ETags compare without their quotes and case-insensitively.
bool SameEtag(std::string_view a, std::string_view b);

enum class CompletionState {
  kOpen,  // the upload is still open: the Complete did not apply, it may be sent again
  kOurs,  // the upload is gone and the key holds the object it made: the Complete applied
  kGone,  // the upload is gone and the key holds something else (or nothing)
};

struct CompletionCheck {
  CompletionState state = CompletionState::kOpen;
  PutObjectResponse response;  // kOurs: the stored object's ETag and version
  std::string found;           // kGone: what the key holds, for the log
};

// Asks S3 what became of the Complete `request` (parts with their sizes when known).
Result<CompletionCheck> CheckCompletion(ObjectStore& store,
                                        const CompleteMultipartUploadRequest& request);

// Whether the key holds exactly the body of `request`; the object's ETag and version if so.
Result<std::optional<PutObjectResponse>> CheckPut(ObjectStore& store,
                                                  const PutObjectRequest& request);

// Whether the destination holds the copy `request` asked for: the metadata it set (REPLACE)
// or the source's (COPY), the source's size, and its ETag when that is an MD5.
Result<std::optional<CopyObjectResponse>> CheckCopy(ObjectStore& store,
                                                    const CopyObjectRequest& request);

// The open uploads of exactly `key` for which `known` is false: after a CreateMultipartUpload
// whose answer was lost, the upload it may have opened is among them (S3 lists no initiator
// token that would tell it apart; moto lists one fixed Initiated time for every upload).
Result<std::vector<std::string>> UnknownUploadsOf(
    ObjectStore& store, const std::string& key,
    const std::function<bool(const std::string& upload_id)>& known);

}  // namespace s3mount
