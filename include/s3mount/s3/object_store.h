// ObjectStore: the one seam between s3mount and an S3 bucket. One method per S3 operation,
// bound to one bucket. Implementations: CurlObjectStore (the real client), FakeObjectStore
// (in memory, for tests), and decorators (RetryingObjectStore, fault and latency injection).
// Every method returns an Error value on failure; nothing here knows of errno or FUSE.
//
// Thread-safety: every implementation must accept concurrent calls from many threads.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "s3mount/common/clock.h"
#include "s3mount/common/result.h"

namespace s3mount {

// User metadata: the part after `x-amz-meta-`, lower-cased, to its value.
using UserMetadata = std::map<std::string, std::string>;
// The system headers a REPLACE copy would drop unless sent again, by their names below.
using StoredHeaders = std::map<std::string, std::string>;
inline constexpr std::array<std::string_view, 5> kStoredHeaderNames = {
    "Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires"};

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string etag;  // as S3 sends it, quotes included
  WallTime last_modified{};
  std::string content_type;   // HEAD/GET only
  std::string storage_class;  // LIST only
  std::string version_id;
  UserMetadata user_metadata;    // HEAD/GET only
  StoredHeaders stored_headers;  // HEAD/GET only
  // x-amz-checksum-crc32c as S3 sends it (HEAD/GET with checksum_mode only): base64 of the
  // full object's CRC32C, or "<base64>-N" for a composite multipart checksum; empty if none.
  std::string checksum_crc32c;
  // x-amz-server-side-encryption ("AES256", "aws:kms"...), or "SSE-C" when the object is
  // encrypted with a customer key; empty if the server did not say (HEAD/GET only). The ETag
  // of an aws:kms or SSE-C object is not the MD5 of its bytes.
  std::string server_side_encryption;
};

// An inclusive byte range, as in `Range: bytes=first-last`; `last` absent means "to the end".
struct ByteRange {
  uint64_t first = 0;
  std::optional<uint64_t> last;
};

struct HeadObjectRequest {
  std::string key;
  std::optional<std::string> if_match;
  bool checksum_mode = false;  // `x-amz-checksum-mode: ENABLED`: ObjectInfo::checksum_crc32c
};

struct GetObjectRequest {
  std::string key;
  std::optional<ByteRange> range;
  std::optional<std::string> if_match;
  std::optional<std::string> if_none_match;
  // `x-amz-checksum-mode: ENABLED`: S3 then returns the object's stored checksum
  // (ObjectInfo::checksum_crc32c) with a whole-object reply (never with a ranged one).
  bool checksum_mode = false;
};

// What a GET returned: the object's metadata (size is the whole object's size) and which
// bytes of it the body holds.
struct GetObjectResponse {
  ObjectInfo object;
  uint64_t body_offset = 0;
  uint64_t body_length = 0;
};

// Where a GET's body goes, chunk by chunk as it arrives: no whole-object copies.
class ObjectSink {
 public:
  virtual ~ObjectSink() = default;
  // Called once before the body with what the server said. An error aborts the transfer.
  virtual Status Begin(const GetObjectResponse& response) = 0;
  // Called for each chunk of the body, in order. An error aborts the transfer.
  virtual Status Append(std::string_view bytes) = 0;
};

struct ListObjectsRequest {
  std::string prefix;
  std::string delimiter;
  std::string continuation_token;
  std::string start_after;
  int max_keys = 1000;
};

struct ListObjectsPage {
  std::vector<ObjectInfo> objects;
  std::vector<std::string> common_prefixes;
  bool is_truncated = false;
  std::string next_continuation_token;
};

enum class MetadataDirective { kCopy, kReplace };

struct PutObjectRequest {
  std::string key;
  std::string_view body;  // not owned; must outlive the call
  std::string content_type;
  UserMetadata user_metadata;
  bool if_none_match_any = false;  // `If-None-Match: *`: fail if the key exists
  std::optional<std::string> if_match;
};

struct PutObjectResponse {
  std::string etag;
  std::string version_id;
};

struct CopyObjectRequest {
  std::string source_key;
  std::string destination_key;
  MetadataDirective metadata_directive = MetadataDirective::kCopy;
  std::string content_type;      // with kReplace
  UserMetadata user_metadata;    // with kReplace
  StoredHeaders stored_headers;  // with kReplace
  std::optional<std::string> source_if_match;
};

struct CopyObjectResponse {
  std::string etag;
  WallTime last_modified{};
  std::string checksum_crc32c;  // <ChecksumCRC32C>, when S3 computed one (base64)
};

struct DeleteObjectsResponse {
  struct Failure {
    std::string key;
    Error error;
  };
  std::vector<Failure> failures;  // keys S3 could not delete; deleted ones are not listed
};

struct CreateMultipartUploadRequest {
  std::string key;
  std::string content_type;
  UserMetadata user_metadata;
  StoredHeaders stored_headers;
};

struct UploadPartRequest {
  std::string key;
  std::string upload_id;
  int part_number = 0;    // 1..10000
  std::string_view body;  // not owned
};

struct UploadPartCopyRequest {
  std::string key;
  std::string upload_id;
  int part_number = 0;
  std::string source_key;
  std::optional<ByteRange> source_range;
  std::optional<std::string> source_if_match;
};

struct CompletedPart {
  int part_number = 0;
  std::string etag;
  uint64_t size = 0;  // filled by ListParts; not sent on Complete
  // The part's CRC32C (base64), as ListParts reports it; sent on Complete. When empty, the
  // client that uploaded the part in this process fills in the checksum it sent.
  std::string checksum_crc32c;
};

struct CompleteMultipartUploadRequest {
  std::string key;
  std::string upload_id;
  std::vector<CompletedPart> parts;  // ascending part numbers
};

struct ListPartsRequest {
  std::string key;
  std::string upload_id;
  int part_number_marker = 0;
  int max_parts = 1000;
};

struct ListPartsPage {
  std::vector<CompletedPart> parts;
  bool is_truncated = false;
  int next_part_number_marker = 0;
};

// ListMultipartUploads (`GET /?uploads`): the uploads open in the bucket whose keys start
// with `prefix`, in key then initiation order; the markers page on.
struct ListUploadsRequest {
  std::string prefix;
  std::string key_marker;
  std::string upload_id_marker;
};

struct OpenUpload {
  std::string key;
  std::string upload_id;
  WallTime initiated{};  // as the server says (moto always says 2010-11-10T20:48:33Z)
};

struct ListUploadsPage {
  std::vector<OpenUpload> uploads;
  bool is_truncated = false;
  std::string next_key_marker;
  std::string next_upload_id_marker;
};

struct BucketInfo {
  std::string region;  // from x-amz-bucket-region; empty if the server does not say
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  virtual Result<BucketInfo> HeadBucket() = 0;
  virtual Result<ObjectInfo> HeadObject(const HeadObjectRequest& request) = 0;
  virtual Result<GetObjectResponse> GetObject(const GetObjectRequest& request,
                                              ObjectSink& sink) = 0;
  virtual Result<ListObjectsPage> ListObjects(const ListObjectsRequest& request) = 0;
  virtual Result<PutObjectResponse> PutObject(const PutObjectRequest& request) = 0;
  virtual Result<CopyObjectResponse> CopyObject(const CopyObjectRequest& request) = 0;
  virtual Status DeleteObject(const std::string& key) = 0;
  // Deletes any number of keys, in batches of at most kMaxDeleteBatch per request.
  virtual Result<DeleteObjectsResponse> DeleteObjects(const std::vector<std::string>& keys) = 0;

  virtual Result<std::string> CreateMultipartUpload(
      const CreateMultipartUploadRequest& request) = 0;  // returns the upload id
  virtual Result<std::string> UploadPart(const UploadPartRequest& request) = 0;  // part ETag
  virtual Result<std::string> UploadPartCopy(const UploadPartCopyRequest& request) = 0;
  virtual Result<PutObjectResponse> CompleteMultipartUpload(
      const CompleteMultipartUploadRequest& request) = 0;
  virtual Status AbortMultipartUpload(const std::string& key, const std::string& upload_id) = 0;
  virtual Result<ListPartsPage> ListParts(const ListPartsRequest& request) = 0;
  virtual Result<ListUploadsPage> ListMultipartUploads(const ListUploadsRequest& request) = 0;
};

inline constexpr size_t kMaxDeleteBatch = 1000;
inline constexpr int kMaxPartNumber = 10000;

}  // namespace s3mount
