// FakeObjectStore: an in-memory ObjectStore that behaves like one S3 bucket (ETags, conditional
// requests, ranges, ListObjectsV2 paging and delimiters, multipart rules) and counts every
// request, so unit tests of everything above the S3 client can assert both behaviour and cost.
// Where S3's behaviour is subtle, the choice made here is written beside the code in
// fake_object_store.cc. Errors carry the S3 code and HTTP status a real reply would have.
//
// Thread-safety: every method is safe to call concurrently. GET bodies are delivered to the
// sink without holding the store's lock, from a snapshot taken when the GET began (as S3
// streams the version it started with even if the key is overwritten meanwhile).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "s3mount/common/clock.h"
#include "s3mount/s3/object_store.h"
#include "tests/fakes/operation.h"

namespace s3mount::testing {

struct FakeObjectStoreOptions {
  // Bytes per ObjectSink::Append call; small values exercise multi-chunk sinks.
  size_t get_chunk_size = size_t{64} << 10;
  // Minimum size of every multipart part except the last (S3: 5 MiB).
  uint64_t min_part_size = uint64_t{5} << 20;
  // What HeadBucket reports.
  std::string region = "us-east-1";
};

class FakeObjectStore final : public ObjectStore {
  // LOCK ORDERING: one mutex, mu_, guarding all state; it is a leaf. While it is held the
  // store calls no sink, no clock and nothing else that may lock: time is read before mu_ is
  // taken, and GET bodies are delivered after it is released. Callers may therefore call
  // back into the store from a sink.
 public:
  using Options = FakeObjectStoreOptions;

  // `clock` stamps last_modified and must outlive the store.
  explicit FakeObjectStore(Clock& clock, Options options = {});
  FakeObjectStore(const FakeObjectStore&) = delete;
  FakeObjectStore& operator=(const FakeObjectStore&) = delete;

  // ObjectStore.
  Result<BucketInfo> HeadBucket() override;
  Result<ObjectInfo> HeadObject(const HeadObjectRequest& request) override;
  Result<GetObjectResponse> GetObject(const GetObjectRequest& request, ObjectSink& sink) override;
  Result<ListObjectsPage> ListObjects(const ListObjectsRequest& request) override;
  Result<PutObjectResponse> PutObject(const PutObjectRequest& request) override;
  Result<CopyObjectResponse> CopyObject(const CopyObjectRequest& request) override;
  Status DeleteObject(const std::string& key) override;
  Result<DeleteObjectsResponse> DeleteObjects(const std::vector<std::string>& keys) override;
  Result<std::string> CreateMultipartUpload(const CreateMultipartUploadRequest& request) override;
  Result<std::string> UploadPart(const UploadPartRequest& request) override;
  Result<std::string> UploadPartCopy(const UploadPartCopyRequest& request) override;
  Result<PutObjectResponse> CompleteMultipartUpload(
      const CompleteMultipartUploadRequest& request) override;
  Status AbortMultipartUpload(const std::string& key, const std::string& upload_id) override;
  Result<ListPartsPage> ListParts(const ListPartsRequest& request) override;
  Result<ListUploadsPage> ListMultipartUploads(const ListUploadsRequest& request) override;

  // Configuration; may change at any time.
  void SetGetChunkSize(size_t bytes);  // 0 is treated as 1
  void SetMinPartSize(uint64_t bytes);
  void SetRegion(std::string region);

  // Requests made so far, per operation. DeleteObjects counts one per batch of at most
  // kMaxDeleteBatch keys, as a real client would send them (none for an empty key list).
  OperationCounts counts() const;  // NOLINT(readability-identifier-naming): accessor
  void ResetCounts();

  // Test helpers; none of them is counted as a request.
  // Stores an object as a simple PUT would (ETag = quoted MD5) and returns its ETag. An empty
  // content type becomes S3's default, "binary/octet-stream".
  std::string PutForTest(const std::string& key, std::string_view body,
                         UserMetadata user_metadata = {}, std::string content_type = "");
  std::optional<std::string> BodyOf(const std::string& key) const;
  // Gives an existing object system headers (Cache-Control...), as a PUT with them would.
  void SetStoredHeadersForTest(const std::string& key, StoredHeaders headers);
  // What HEAD would return, without conditions.
  std::optional<ObjectInfo> InfoOf(const std::string& key) const;
  size_t ObjectCount() const;
  std::vector<std::string> Keys() const;  // in S3's (byte) order
  // Upload ids of multipart uploads created and neither completed nor aborted, oldest first.
  std::vector<std::string> PendingUploads() const;
  // The keys of those uploads, in the same order.
  std::vector<std::string> PendingUploadKeys() const;

 private:
  struct Object {
    std::shared_ptr<const std::string> body;  // shared with GETs in flight
    std::string etag;                         // quoted
    WallTime last_modified{};
    std::string content_type;
    UserMetadata user_metadata;
    StoredHeaders stored_headers;
  };
  struct Part {
    std::shared_ptr<const std::string> body;
    std::string etag;  // quoted
    WallTime last_modified{};
  };
  struct Upload {
    std::string key;
    std::string content_type;
    UserMetadata user_metadata;
    StoredHeaders stored_headers;
    uint64_t sequence = 0;  // creation order, for PendingUploads
    std::map<int, Part> parts;
  };

  // Helpers named *Locked expect mu_ to be held.
  Result<const Object*> FindObjectLocked(const std::string& key) const;
  Result<Upload*> FindUploadLocked(const std::string& key, const std::string& upload_id);
  Status CheckCompletePartsLocked(const Upload& upload,
                                  const std::vector<CompletedPart>& parts) const;
  // (upload id, key) of pending uploads, oldest first.
  std::vector<std::pair<std::string, std::string>> PendingUploadsLocked() const;
  static Object MakeObject(std::string body, std::string content_type, UserMetadata metadata,
                           WallTime now);
  static ObjectInfo InfoFromObject(const std::string& key, const Object& object);

  Clock& clock_;

  mutable std::mutex mu_;
  Options options_;                        // guarded by mu_
  std::map<std::string, Object> objects_;  // guarded by mu_; std::string orders by bytes
  std::map<std::string, Upload> uploads_;  // guarded by mu_; by upload id
  uint64_t next_upload_sequence_ = 1;      // guarded by mu_
  OperationCounts counts_;                 // guarded by mu_
};

}  // namespace s3mount::testing
