// ForwardingObjectStore: an ObjectStore that passes every call to another one, for test
// stores that watch or hold back a few kinds of request and let the rest through: derive
// from it and override only those (GetObject to record ranges, PutObject to wait at a gate).
//
// Thread-safety: as the inner store.
#pragma once

#include <string>
#include <vector>

#include "s3mount/s3/object_store.h"

namespace s3mount::testing {

class ForwardingObjectStore : public ObjectStore {
 public:
  explicit ForwardingObjectStore(ObjectStore& inner) : inner_(inner) {}

  Result<BucketInfo> HeadBucket() override { return inner_.HeadBucket(); }
  Result<ObjectInfo> HeadObject(const HeadObjectRequest& r) override {
    return inner_.HeadObject(r);
  }
  Result<GetObjectResponse> GetObject(const GetObjectRequest& r, ObjectSink& sink) override {
    return inner_.GetObject(r, sink);
  }
  Result<ListObjectsPage> ListObjects(const ListObjectsRequest& r) override {
    return inner_.ListObjects(r);
  }
  Result<PutObjectResponse> PutObject(const PutObjectRequest& r) override {
    return inner_.PutObject(r);
  }
  Result<CopyObjectResponse> CopyObject(const CopyObjectRequest& r) override {
    return inner_.CopyObject(r);
  }
  Status DeleteObject(const std::string& key) override { return inner_.DeleteObject(key); }
  Result<DeleteObjectsResponse> DeleteObjects(const std::vector<std::string>& keys) override {
    return inner_.DeleteObjects(keys);
  }
  Result<std::string> CreateMultipartUpload(const CreateMultipartUploadRequest& r) override {
    return inner_.CreateMultipartUpload(r);
  }
  Result<std::string> UploadPart(const UploadPartRequest& r) override {
    return inner_.UploadPart(r);
  }
  Result<std::string> UploadPartCopy(const UploadPartCopyRequest& r) override {
    return inner_.UploadPartCopy(r);
  }
  Result<PutObjectResponse> CompleteMultipartUpload(
      const CompleteMultipartUploadRequest& r) override {
    return inner_.CompleteMultipartUpload(r);
  }
  Status AbortMultipartUpload(const std::string& key, const std::string& id) override {
    return inner_.AbortMultipartUpload(key, id);
  }
  Result<ListPartsPage> ListParts(const ListPartsRequest& r) override {
    return inner_.ListParts(r);
  }
  Result<ListUploadsPage> ListMultipartUploads(const ListUploadsRequest& r) override {
    return inner_.ListMultipartUploads(r);
  }

 protected:
  ObjectStore& inner_;
};

}  // namespace s3mount::testing
