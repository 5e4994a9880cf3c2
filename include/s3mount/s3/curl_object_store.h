// CurlObjectStore: the real S3 client. Each ObjectStore operation becomes one signed HTTP
// request (DeleteObjects: one per 1,000 keys) sent through S3Transport. It does not retry
// transient failures itself: wrap it in RetryingObjectStore for that (main does).
//
// Thread-safety: every method may be called from many threads at once.
#pragma once

#include <memory>

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

  // The region requests are signed for now (it changes after a cross-region redirect).
  std::string region() const;
  // Server time minus local time, as learnt from a RequestTimeTooSkewed reply (else zero).
  std::chrono::milliseconds clock_skew() const;
  // Connections opened so far (for tests and benchmarks of connection reuse).
  long connections_opened() const;

 private:
  explicit CurlObjectStore(std::unique_ptr<S3Transport> transport, std::string bucket);

  std::unique_ptr<S3Transport> transport_;
  const std::string bucket_;
};

}  // namespace s3mount
