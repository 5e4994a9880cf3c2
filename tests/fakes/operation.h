// Operation: one value per ObjectStore method, shared by the test doubles that count or script
// calls (FakeObjectStore's request counters, FaultyObjectStore's failure script), plus
// OperationCounts, a per-operation tally with one named field per method.
//
// Thread-safety: plain value types.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace s3mount::testing {

enum class Operation {
  kHeadBucket,
  kHeadObject,
  kGetObject,
  kListObjects,
  kPutObject,
  kCopyObject,
  kDeleteObject,
  kDeleteObjects,
  kCreateMultipart,
  kUploadPart,
  kUploadPartCopy,
  kCompleteMultipart,
  kAbortMultipart,
  kListParts,
  kListUploads,
};

inline constexpr std::array<Operation, 15> kAllOperations = {
    Operation::kHeadBucket,     Operation::kHeadObject,     Operation::kGetObject,
    Operation::kListObjects,    Operation::kPutObject,      Operation::kCopyObject,
    Operation::kDeleteObject,   Operation::kDeleteObjects,  Operation::kCreateMultipart,
    Operation::kUploadPart,     Operation::kUploadPartCopy, Operation::kCompleteMultipart,
    Operation::kAbortMultipart, Operation::kListParts,      Operation::kListUploads,
};

// "GetObject", "DeleteObjects"...: the S3 API action name.
inline std::string_view OperationName(Operation op) {
  switch (op) {
    case Operation::kHeadBucket:
      return "HeadBucket";
    case Operation::kHeadObject:
      return "HeadObject";
    case Operation::kGetObject:
      return "GetObject";
    case Operation::kListObjects:
      return "ListObjectsV2";
    case Operation::kPutObject:
      return "PutObject";
    case Operation::kCopyObject:
      return "CopyObject";
    case Operation::kDeleteObject:
      return "DeleteObject";
    case Operation::kDeleteObjects:
      return "DeleteObjects";
    case Operation::kCreateMultipart:
      return "CreateMultipartUpload";
    case Operation::kUploadPart:
      return "UploadPart";
    case Operation::kUploadPartCopy:
      return "UploadPartCopy";
    case Operation::kCompleteMultipart:
      return "CompleteMultipartUpload";
    case Operation::kAbortMultipart:
      return "AbortMultipartUpload";
    case Operation::kListParts:
      return "ListParts";
    case Operation::kListUploads:
      return "ListMultipartUploads";
  }
  return "Unknown";
}

// How many times each operation happened. Fields are public so tests can write
// `EXPECT_EQ(store.counts().head_object, 0)`; `Of(op)` and `At(op)` reach a field by enum.
struct OperationCounts {
  int64_t head_bucket = 0;
  int64_t head_object = 0;
  int64_t get_object = 0;
  int64_t list_objects = 0;
  int64_t put_object = 0;
  int64_t copy_object = 0;
  int64_t delete_object = 0;
  int64_t delete_objects = 0;
  int64_t create_multipart = 0;
  int64_t upload_part = 0;
  int64_t upload_part_copy = 0;
  int64_t complete_multipart = 0;
  int64_t abort_multipart = 0;
  int64_t list_parts = 0;
  int64_t list_uploads = 0;

  int64_t& At(Operation op);
  int64_t Of(Operation op) const;

  // Sum over all operations: the total number of requests.
  int64_t Total() const {
    int64_t total = 0;
    for (Operation op : kAllOperations) total += Of(op);
    return total;
  }

  bool operator==(const OperationCounts&) const = default;

 private:
  template <typename Self>
  static auto& Field(Self& self, Operation op) {
    switch (op) {
      case Operation::kHeadBucket:
        return self.head_bucket;
      case Operation::kHeadObject:
        return self.head_object;
      case Operation::kGetObject:
        return self.get_object;
      case Operation::kListObjects:
        return self.list_objects;
      case Operation::kPutObject:
        return self.put_object;
      case Operation::kCopyObject:
        return self.copy_object;
      case Operation::kDeleteObject:
        return self.delete_object;
      case Operation::kDeleteObjects:
        return self.delete_objects;
      case Operation::kCreateMultipart:
        return self.create_multipart;
      case Operation::kUploadPart:
        return self.upload_part;
      case Operation::kUploadPartCopy:
        return self.upload_part_copy;
      case Operation::kCompleteMultipart:
        return self.complete_multipart;
      case Operation::kAbortMultipart:
        return self.abort_multipart;
      case Operation::kListParts:
        return self.list_parts;
      case Operation::kListUploads:
        return self.list_uploads;
    }
    return self.head_bucket;  // unreachable: the switch is exhaustive
  }
};

inline int64_t& OperationCounts::At(Operation op) { return Field(*this, op); }
inline int64_t OperationCounts::Of(Operation op) const { return Field(*this, op); }

}  // namespace s3mount::testing
