// StringSink and BufferSink.
#include "s3mount/s3/object_sinks.h"

#include <cstring>

namespace s3mount {

Status StringSink::Begin(const GetObjectResponse& response) {
  data_.clear();
  data_.reserve(response.body_length);
  return OkStatus();
}

Status StringSink::Append(std::string_view bytes) {
  data_.append(bytes);
  return OkStatus();
}

Status BufferSink::Begin(const GetObjectResponse& response) {
  size_ = 0;
  if (response.body_length > buffer_.size()) {
    return MakeError(ErrorCode::kInvalidResponse,
                     "body of " + std::to_string(response.body_length) +
                         " bytes does not fit a buffer of " + std::to_string(buffer_.size()));
  }
  return OkStatus();
}

Status BufferSink::Append(std::string_view bytes) {
  if (bytes.size() > buffer_.size() - size_) {
    return MakeError(ErrorCode::kInvalidResponse, "server sent more bytes than it announced");
  }
  std::memcpy(buffer_.data() + size_, bytes.data(), bytes.size());
  size_ += bytes.size();
  return OkStatus();
}

}  // namespace s3mount
