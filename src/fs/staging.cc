// Staging: private local files for out-of-order writes, under a byte budget.
#include "fs/staging.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace s3mount {
namespace {

// A file name from the mount path: readable, no '/', bounded.
std::string SafeLabel(std::string_view label) {
  std::string out;
  for (char c : label.substr(label.size() > 80 ? label.size() - 80 : 0)) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '-' || c == '_';
    out.push_back(plain ? c : '_');
  }
  return out;
}

}  // namespace

Error SystemError(const std::string& what, int error_number) {
  const ErrorCode code =
      error_number == ENOSPC || error_number == EDQUOT ? ErrorCode::kNoSpace : ErrorCode::kUnknown;
  return MakeError(code, what + ": " + std::strerror(error_number));
}

Result<std::unique_ptr<StagingArea>> StagingArea::Create(const std::string& directory,
                                                         uint64_t capacity) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cannot create cache directory '" + directory + "': " + error.message());
  }
  if (::chmod(directory.c_str(), 0700) != 0) {
    return MakeError(ErrorCode::kInvalidArgument, "cannot make cache directory '" + directory +
                                                      "' private: " + std::strerror(errno));
  }
  if (::access(directory.c_str(), W_OK | X_OK) != 0) {
    return MakeError(ErrorCode::kInvalidArgument, "cache directory '" + directory +
                                                      "' is not writable: " + std::strerror(errno));
  }
  return std::unique_ptr<StagingArea>(new StagingArea(directory, capacity));
}

Result<std::unique_ptr<StagingFile>> StagingArea::NewFile(std::string_view label) {
  uint64_t serial = 0;
  {
    std::lock_guard lock(mu_);
    serial = next_serial_++;
  }
  const std::string path = directory_ + "/staged-" + std::to_string(::getpid()) + "-" +
                           std::to_string(serial) + "-" + SafeLabel(label);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return SystemError("cannot create staging file '" + path + "'", errno);
  return std::unique_ptr<StagingFile>(new StagingFile(*this, path, fd));
}

uint64_t StagingArea::used() const {
  std::lock_guard lock(mu_);
  return used_;
}

bool StagingArea::Charge(uint64_t bytes) {
  std::lock_guard lock(mu_);
  if (used_ + bytes > capacity_) return false;
  used_ += bytes;
  return true;
}

void StagingArea::Refund(uint64_t bytes) {
  std::lock_guard lock(mu_);
  used_ = bytes > used_ ? 0 : used_ - bytes;
}

StagingFile::~StagingFile() {
  if (fd_ >= 0) ::close(fd_);
  if (keep_) {
    spdlog::warn("staging file '{}' kept: it holds data that was not uploaded", path_);
    return;  // its bytes stay charged: the disk space is still in use
  }
  ::unlink(path_.c_str());
  area_.Refund(written_.total());
}

Status StagingFile::Write(uint64_t offset, std::string_view data) {
  RangeSet after = written_;
  const uint64_t fresh = after.Add(offset, offset + data.size());
  if (!area_.Charge(fresh)) {
    return MakeError(ErrorCode::kNoSpace,
                     "the staging area '" + area_.directory() +
                         "' is full (cache_limit=" + std::to_string(area_.capacity()) + " bytes)");
  }
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n =
        ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int saved = errno;
      area_.Refund(fresh);
      return SystemError("write to staging file '" + path_ + "' failed", n < 0 ? saved : ENOSPC);
    }
    done += static_cast<size_t>(n);
  }
  written_ = std::move(after);
  return OkStatus();
}

Status StagingFile::Read(uint64_t offset, size_t size, char* out) const {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd_, out + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return SystemError("read of staging file '" + path_ + "' failed", errno);
    if (n == 0) {  // past the end of what was written: a hole
      std::memset(out + done, 0, size - done);
      break;
    }
    done += static_cast<size_t>(n);
  }
  return OkStatus();
}

Status StagingFile::Sync() {
  if (::fdatasync(fd_) != 0)
    return SystemError("sync of staging file '" + path_ + "' failed", errno);
  return OkStatus();
}

Status StagingFile::TruncateTo(uint64_t size) {
  const uint64_t removed = written_.TruncateTo(size);
  area_.Refund(removed);
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    return SystemError("truncate of staging file '" + path_ + "' failed", errno);
  }
  return OkStatus();
}

}  // namespace s3mount
