// Ready-made ObjectSinks: into a growing string, or into a caller's fixed buffer.
//
// Thread-safety: a sink belongs to one GET at a time.
#pragma once

#include <span>
#include <string>

#include "s3mount/s3/object_store.h"

namespace s3mount {

// Appends the body to a string (for small objects, XML and tests).
class StringSink final : public ObjectSink {
 public:
  Status Begin(const GetObjectResponse& response) override;
  Status Append(std::string_view bytes) override;
  const std::string& data() const { return data_; }
  std::string Take() { return std::move(data_); }

 private:
  std::string data_;
};

// Writes the body into a caller-owned buffer; fails with kInvalidResponse if the server
// sends more bytes than it holds.
class BufferSink final : public ObjectSink {
 public:
  explicit BufferSink(std::span<char> buffer) : buffer_(buffer) {}
  Status Begin(const GetObjectResponse& response) override;
  Status Append(std::string_view bytes) override;
  size_t size() const { return size_; }

 private:
  std::span<char> buffer_;
  size_t size_ = 0;
};

}  // namespace s3mount
