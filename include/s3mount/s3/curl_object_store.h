// CurlObjectStore: the real S3 client. Each ObjectStore operation becomes one signed HTTP
// request (DeleteObjects: one per 1,000 keys) sent through S3Transport. It does not retry
// transient failures itself: wrap it in RetryingObjectStore for that (main does).
//
// Checksums (docs/S3-CLIENT.md, "Checksums"): every PutObject and UploadPart carries the
// body's CRC32C (x-amz-checksum-crc32c), which S3 verifies before it stores anything; uploads
// are created with the FULL_OBJECT CRC32C type and their Complete lists each part's CRC32C and
// the whole object's (combined from the parts'). The client remembers the checksum and size of
// each part it sent, per upload id, until the upload is completed or aborted.
//
// Thread-safety: every method may be called from many threads at once.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "s3mount/aws/credentials.h"
#include "s3mount/aws/http_client.h"
#include "s3mount/common/clock.h"
#include "s3mount/s3/endpoint.h"
#include "s3mount/s3/object_store.h"

namespace s3mount {

class S3Transport;

enum class PayloadSigning {
  kAuto,      // sign bodies over http, UNSIGNED-PAYLOAD over https (TLS protects them)
  kAlways,    // always hash and sign bodies
  kUnsigned,  // never hash bodies
};

struct S3ClientOptions {
  std::string bucket;
  EndpointOptions endpoint;
  HttpClientOptions http;
  PayloadSigning payload_signing = PayloadSigning::kAuto;
};

class CurlObjectStore final : public ObjectStore {
 public:
  // Fails with kInvalidArgument when the bucket or endpoint cannot work.
  // `credentials` and `clock` must outlive the store.
  static Result<std::unique_ptr<CurlObjectStore>> Create(S3ClientOptions options,
                                                         CredentialsProvider& credentials,
                                                         Clock& clock);
  ~CurlObjectStore() override;

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

  // The region requests are signed for now (it changes after a cross-region redirect).
  std::string region() const;
  // Server time minus local time, as learnt from a RequestTimeTooSkewed reply (else zero).
  std::chrono::milliseconds clock_skew() const;
  // Connections opened so far (for tests and benchmarks of connection reuse).
  long connections_opened() const;

 private:
  explicit CurlObjectStore(std::unique_ptr<S3Transport> transport, std::string bucket);

  struct SentPart {
    uint32_t crc32c = 0;
    uint64_t size = 0;
    bool size_known = true;  // false for a copied part without a source range
  };
  void RememberPart(const std::string& upload_id, int part_number, SentPart part);
  void ForgetUpload(const std::string& upload_id);
  // The parts as Complete sends them (checksums filled in) and the whole object's CRC32C,
  // when every part's checksum and size is known.
  std::optional<uint32_t> FillPartChecksums(const std::string& upload_id,
                                            std::vector<CompletedPart>& parts);

  std::unique_ptr<S3Transport> transport_;
  const std::string bucket_;
  // LOCK ORDERING: parts_mu_ is a leaf, never held across a request.
  std::mutex parts_mu_;
  // upload id -> part number -> what was sent; guarded by parts_mu_.
  std::map<std::string, std::map<int, SentPart>> sent_parts_;
};

}  // namespace s3mount
