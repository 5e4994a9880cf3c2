// RandomOps (see random_ops.h): drawing each operation from the seed and the local side's
// state, running it on both sides and comparing the results.
#include "tests/integration/random_ops.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

namespace s3mount::random_ops {
namespace {

Outcome Call(int64_t result) {
  Outcome outcome;
  outcome.value = result < 0 ? -1 : result;
  if (result < 0) outcome.err = errno;
  return outcome;
}

std::string Describe(const Outcome& outcome) {
  std::string text = outcome.value == -1 ? std::string("-1 ") + strerrorname_np(outcome.err)
                                         : std::to_string(outcome.value);
  return outcome.detail.empty() ? text : text + " (" + outcome.detail + ")";
}

std::string StatDetail(const struct stat& st) {
  const char* type = S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "dir" : "other";
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
  std::string detail = std::string(type) + " " + mode;
  if (S_ISREG(st.st_mode)) detail += " size " + std::to_string(st.st_size);
  return detail;
}

}  // namespace

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  return std::strtoull(text, nullptr, 10);
}

RandomOps::~RandomOps() {
  for (const auto& file : open_) {
    for (const int fd : file.fd) close(fd);
  }
}

void RandomOps::Scan(const std::string& relative) {
  DIR* dir = opendir(Full(kLocal, relative).c_str());
  if (dir == nullptr) return;
  std::vector<std::string> subdirs;
  while (const dirent* item = readdir(dir)) {
    const std::string name = item->d_name;
    if (name == "." || name == "..") continue;
    const std::string child = relative.empty() ? name : relative + "/" + name;
    (item->d_type == DT_DIR ? subdirs : files_).push_back(child);
  }
  closedir(dir);
  std::sort(subdirs.begin(), subdirs.end());
  for (const auto& subdir : subdirs) {
    dirs_.push_back(subdir);
    Scan(subdir);
  }
}

bool RandomOps::Step(int index) {
  index_ = index;
  files_.clear();
  dirs_ = {""};
  Scan("");
  std::sort(files_.begin(), files_.end());
  using Operation = bool (RandomOps::*)();
  static const std::vector<std::pair<int, Operation>> kWeighted = {
      {10, &RandomOps::Create},  {6, &RandomOps::Open},       {16, &RandomOps::Write},
      {6, &RandomOps::Append},   {12, &RandomOps::Read},      {5, &RandomOps::Ftruncate},
      {4, &RandomOps::Truncate}, {7, &RandomOps::RenameFile}, {2, &RandomOps::RenameDir},
      {5, &RandomOps::Unlink},   {3, &RandomOps::Mkdir},      {3, &RandomOps::Rmdir},
      {4, &RandomOps::Chmod},    {5, &RandomOps::Utimens},    {3, &RandomOps::Fsync},
      {8, &RandomOps::Close},    {5, &RandomOps::Stat}};
  int total = 0;
  for (const auto& [weight, op] : kWeighted) total += weight;
  int roll = static_cast<int>(Uniform(1, total));
  for (const auto& [weight, op] : kWeighted) {
    roll -= weight;
    if (roll <= 0) return (this->*op)();
  }
  return true;
}

bool RandomOps::Both(const std::string& what, const std::function<Outcome(int side)>& call) {
  const Outcome local = call(kLocal);
  const Outcome mount = call(kMount);
  std::string line = "#" + std::to_string(index_) + " " + what + " => local " + Describe(local);
  if (!(local == mount)) line += ", MOUNT " + Describe(mount);
  if (verbose_) std::cerr << line << "\n";
  log_.push_back(line);
  if (log_.size() > kLogLines) log_.pop_front();
  if (local == mount) return true;
  return Fail(what + ": local " + Describe(local) + " but mount " + Describe(mount));
}

bool RandomOps::Fail(const std::string& what) {
  failure_ = Report("operation #" + std::to_string(index_) + " " + what);
  return false;
}

std::string RandomOps::Report(const std::string& what) const {
  std::string text = "seed " + std::to_string(seed_) + ", " + what +
                     "\nreplay: S3MOUNT_RANDOM_SEED=" + std::to_string(seed_) +
                     " S3MOUNT_RANDOM_OPS=" + std::to_string(index_ + 1) +
                     " S3MOUNT_RANDOM_VERBOSE=1\nlast operations:\n";
  for (const auto& line : log_) text += "  " + line + "\n";
  return text;
}

std::string RandomOps::RandomData(size_t size) {
  std::mt19937_64 words(rng_());
  std::string data(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    const uint64_t word = words();
    std::memcpy(data.data() + i, &word, std::min<size_t>(8, size - i));
  }
  return data;
}

int64_t RandomOps::LocalSize(const OpenFile& file) const {
  struct stat st = {};
  return fstat(file.fd[kLocal], &st) == 0 ? st.st_size : 0;
}

bool RandomOps::KeepOrClose(std::array<int, 2> fds, const std::string& path, int flags) {
  if (fds[kLocal] < 0 && fds[kMount] < 0) return true;
  if (fds[kLocal] < 0 || fds[kMount] < 0 || open_.size() >= kMaxOpenFiles || Chance(20)) {
    const bool same = fds[kLocal] >= 0 && fds[kMount] >= 0;
    const bool closed = Both("close(" + path + ") right after open",
                             [&](int side) { return Call(fds[side] < 0 ? 0 : close(fds[side])); });
    return same && closed;
  }
  open_.push_back({fds, path, flags});
  return true;
}

bool RandomOps::Create() {
  const bool fresh = files_.size() < kMaxFiles && (files_.empty() || Chance(80));
  const std::string path = fresh ? NewName(Pick(dirs_), 'f') : Pick(files_);
  int flags = O_RDWR | O_CREAT | O_CLOEXEC;
  if (Chance(25)) flags |= O_EXCL;
  if (Chance(25)) flags |= O_TRUNC;
  if (Chance(15)) flags |= O_APPEND;
  static const std::vector<mode_t> kModes = {0644, 0600, 0640, 0755, 0664};
  const mode_t mode = Pick(kModes);
  std::array<int, 2> fds{-1, -1};
  char what[96];
  std::snprintf(what, sizeof what, "open(O_CREAT%s%s%s, %04o)", (flags & O_EXCL) ? "|O_EXCL" : "",
                (flags & O_TRUNC) ? "|O_TRUNC" : "", (flags & O_APPEND) ? "|O_APPEND" : "", mode);
  const bool same = Both(std::string(what) + " " + path, [&](int side) {
    fds[side] = open(Full(side, path).c_str(), flags, mode);
    return Call(fds[side] < 0 ? -1 : 0);
  });
  return KeepOrClose(fds, path, flags) && same;
}

bool RandomOps::Open() {
  std::string path;
  const int kind = static_cast<int>(Uniform(1, 100));
  if (kind <= 85 && !files_.empty()) {
    path = Pick(files_);
  } else if (kind <= 92) {
    path = Pick(dirs_);  // EISDIR for writing
  } else {
    path = NewName(Pick(dirs_), 'f');  // ENOENT
  }
  static const std::vector<std::pair<int, const char*>> kFlags = {
      {O_RDWR, "O_RDWR"},
      {O_RDWR, "O_RDWR"},
      {O_RDONLY, "O_RDONLY"},
      {O_WRONLY | O_APPEND, "O_WRONLY|O_APPEND"},
      {O_RDWR | O_TRUNC, "O_RDWR|O_TRUNC"}};
  // Directories only for writing (EISDIR): a directory descriptor would be lseek-ed and
  // sized like a file later, where ext4 and FUSE legitimately differ.
  const bool directory = std::find(dirs_.begin(), dirs_.end(), path) != dirs_.end();
  const auto& chosen = directory ? kFlags.front() : Pick(kFlags);
  const int flags = chosen.first;
  const std::string flag_name = chosen.second;
  std::array<int, 2> fds{-1, -1};
  const std::string shown = path.empty() ? "." : path;
  const bool same = Both("open(" + flag_name + ") " + shown, [&](int side) {
    fds[side] = open(Full(side, path).c_str(), flags | O_CLOEXEC);
    return Call(fds[side] < 0 ? -1 : 0);
  });
  return KeepOrClose(fds, path, flags) && same;
}

bool RandomOps::Write() {
  if (open_.empty()) return Create();
  const OpenFile& file = Pick(open_);
  const int64_t size = LocalSize(file);
  const int size_class = static_cast<int>(Uniform(1, 100));
  const int64_t length = size_class <= 75   ? Uniform(1, 16 << 10)
                         : size_class <= 95 ? Uniform(16 << 10, 512 << 10)
                                            : Uniform(512 << 10, kMaxWrite);
  const int where = static_cast<int>(Uniform(1, 10));
  int64_t offset = where <= 5 ? Uniform(0, size) : where <= 8 ? size : size + Uniform(1, kMiB);
  if (offset + length > kMaxFileSize) offset = Uniform(0, kMaxFileSize - length);
  const std::string data = RandomData(static_cast<size_t>(length));
  return Both(
      "pwrite(" + file.path + ", " + std::to_string(length) + " bytes at " +
          std::to_string(offset) + ", size " + std::to_string(size) + ")",
      [&](int side) { return Call(pwrite(file.fd[side], data.data(), data.size(), offset)); });
}

bool RandomOps::Append() {
  if (open_.empty()) return Create();
  const OpenFile& file = Pick(open_);
  if (LocalSize(file) > kMaxFileSize - kMiB) return Ftruncate();
  if (!Both("lseek(" + file.path + ", 0, SEEK_END)",
            [&](int side) { return Call(lseek(file.fd[side], 0, SEEK_END)); })) {
    return false;
  }
  const std::string data = RandomData(static_cast<size_t>(Uniform(1, 256 << 10)));
  return Both("write(" + file.path + ", " + std::to_string(data.size()) + " bytes)",
              [&](int side) { return Call(write(file.fd[side], data.data(), data.size())); });
}

bool RandomOps::Read() {
  if (open_.empty()) return Open();
  const OpenFile& file = Pick(open_);
  const int64_t size = LocalSize(file);
  const int64_t offset = Uniform(0, size + 1000);
  const int64_t length = Chance(70) ? Uniform(1, 64 << 10) : Uniform(1, 2 * kMiB);
  const bool same = Both("pread(" + file.path + ", " + std::to_string(length) + " bytes at " +
                             std::to_string(offset) + ", size " + std::to_string(size) + ")",
                         [&](int side) {
                           buffers_[side].assign(static_cast<size_t>(length), '\0');
                           const ssize_t got =
                               pread(file.fd[side], buffers_[side].data(), length, offset);
                           buffers_[side].resize(got < 0 ? 0 : static_cast<size_t>(got));
                           return Call(got);
                         });
  if (!same || buffers_[kLocal] == buffers_[kMount]) return same;
  size_t at = 0;
  while (buffers_[kLocal][at] == buffers_[kMount][at]) ++at;
  return Fail("pread(" + file.path + ") returned different bytes, first at file offset " +
              std::to_string(offset + static_cast<int64_t>(at)));
}

bool RandomOps::Ftruncate() {
  if (open_.empty()) return Truncate();
  const OpenFile& file = Pick(open_);
  const int64_t length = NewSize(LocalSize(file));
  return Both("ftruncate(" + file.path + ", " + std::to_string(length) + ")",
              [&](int side) { return Call(ftruncate(file.fd[side], length)); });
}

bool RandomOps::Truncate() {
  const std::string path = files_.empty() || Chance(5) ? Pick(dirs_) : Pick(files_);
  struct stat st = {};
  const int64_t size = lstat(Full(kLocal, path).c_str(), &st) == 0 ? st.st_size : 0;
  const int64_t length = NewSize(S_ISREG(st.st_mode) ? size : 0);
  return Both("truncate(" + path + ", " + std::to_string(length) + ")",
              [&](int side) { return Call(truncate(Full(side, path).c_str(), length)); });
}

bool RandomOps::RenameFile() {
  if (files_.empty()) return Create();
  const std::string from = Chance(5) ? NewName(Pick(dirs_), 'f') : Pick(files_);
  const std::string to = Chance(40) ? Pick(files_) : NewName(Pick(dirs_), 'f');
  return Both("rename(" + from + ", " + to + ")", [&](int side) {
    return Call(rename(Full(side, from).c_str(), Full(side, to).c_str()));
  });
}

bool RandomOps::RenameDir() {
  if (dirs_.size() < 2) return Mkdir();
  std::string from = Pick(dirs_);
  if (from.empty()) from = dirs_[1];
  const std::string to = NewName(Pick(dirs_), 'd');  // EINVAL if inside `from`
  return Both("rename(" + from + "/, " + to + ")", [&](int side) {
    return Call(rename(Full(side, from).c_str(), Full(side, to).c_str()));
  });
}

bool RandomOps::Unlink() {
  const int kind = static_cast<int>(Uniform(1, 100));
  std::string path;
  if (kind <= 85 && !files_.empty()) {
    path = Pick(files_);
  } else if (kind <= 92 && dirs_.size() > 1) {
    path = dirs_[static_cast<size_t>(Uniform(1, static_cast<int64_t>(dirs_.size()) - 1))];
  } else {
    path = NewName(Pick(dirs_), 'f');
  }
  return Both("unlink(" + path + ")",
              [&](int side) { return Call(unlink(Full(side, path).c_str())); });
}

bool RandomOps::Mkdir() {
  std::string path;
  if (dirs_.size() <= kMaxDirs && Chance(85)) {
    path = NewName(Pick(dirs_), 'd');
  } else if (!files_.empty() && Chance(50)) {
    path = Pick(files_);  // EEXIST
  } else {
    path = Pick(dirs_);  // EEXIST
  }
  if (path.empty()) return true;  // not the mount root
  const mode_t mode = Chance(70) ? 0755 : 0700;
  return Both("mkdir(" + path + ")",
              [&](int side) { return Call(mkdir(Full(side, path).c_str(), mode)); });
}

bool RandomOps::Rmdir() {
  if (dirs_.size() < 2 || (Chance(10) && !files_.empty())) {
    if (files_.empty()) return Mkdir();
    const std::string& path = Pick(files_);
    return Both("rmdir(" + path + ")",
                [&](int side) { return Call(rmdir(Full(side, path).c_str())); });
  }
  const std::string path =
      dirs_[static_cast<size_t>(Uniform(1, static_cast<int64_t>(dirs_.size()) - 1))];
  return Both("rmdir(" + path + ")",
              [&](int side) { return Call(rmdir(Full(side, path).c_str())); });
}

bool RandomOps::Chmod() {
  const bool directory = files_.empty() || Chance(25);
  const std::string path = directory ? Pick(dirs_) : Pick(files_);
  if (path.empty()) return true;  // not the mount root
  static const std::vector<mode_t> kFileModes = {0600, 0640, 0644, 0755, 0700, 0664};
  static const std::vector<mode_t> kDirModes = {0755, 0700, 0750, 0775};
  const mode_t mode = Pick(directory ? kDirModes : kFileModes);
  char what[64];
  std::snprintf(what, sizeof what, ", %04o)", mode);
  return Both("chmod(" + path + what,
              [&](int side) { return Call(chmod(Full(side, path).c_str(), mode)); });
}

bool RandomOps::Utimens() {
  const bool directory = files_.empty() || Chance(15);
  const std::string path = directory ? Pick(dirs_) : Pick(files_);
  if (path.empty()) return true;
  const timespec when = {static_cast<time_t>(Uniform(kPinnedFrom, kPinnedTo - 1)),
                         Chance(30) ? 0 : static_cast<long>(Uniform(0, 999'999'999))};
  const timespec times[2] = {when, when};
  char what[64];
  std::snprintf(what, sizeof what, ", %lld.%09ld)", static_cast<long long>(when.tv_sec),
                when.tv_nsec);
  return Both("utimensat(" + path + what, [&](int side) {
    return Call(utimensat(AT_FDCWD, Full(side, path).c_str(), times, 0));
  });
}

bool RandomOps::Fsync() {
  if (open_.empty()) return Open();
  const OpenFile& file = Pick(open_);
  const bool data_only = Chance(30);
  return Both(std::string(data_only ? "fdatasync(" : "fsync(") + file.path + ")", [&](int side) {
    return Call(data_only ? fdatasync(file.fd[side]) : fsync(file.fd[side]));
  });
}

bool RandomOps::Close() {
  if (open_.empty()) return Open();
  const size_t which = static_cast<size_t>(Uniform(0, static_cast<int64_t>(open_.size()) - 1));
  const OpenFile file = open_[which];
  open_.erase(open_.begin() + static_cast<std::ptrdiff_t>(which));
  return Both("close(" + file.path + ")", [&](int side) { return Call(close(file.fd[side])); });
}

bool RandomOps::Stat() {
  if (!open_.empty() && Chance(40)) {
    const OpenFile& file = Pick(open_);
    return Both("fstat(" + file.path + ")", [&](int side) {
      struct stat st = {};
      Outcome outcome = Call(fstat(file.fd[side], &st));
      if (outcome.value == 0) outcome.detail = StatDetail(st);
      return outcome;
    });
  }
  const std::string path = files_.empty() || Chance(20) ? Pick(dirs_) : Pick(files_);
  if (path.empty()) return true;  // the mount root's attributes are the mount's options
  return Both("lstat(" + path + ")", [&](int side) {
    struct stat st = {};
    Outcome outcome = Call(lstat(Full(side, path).c_str(), &st));
    if (outcome.value == 0) outcome.detail = StatDetail(st);
    return outcome;
  });
}

bool RandomOps::CloseAll() {
  while (!open_.empty()) {
    const OpenFile file = open_.back();
    open_.pop_back();
    if (!Both("close(" + file.path + ") before the checkpoint",
              [&](int side) { return Call(close(file.fd[side])); })) {
      return false;
    }
  }
  return true;
}

}  // namespace s3mount::random_ops
