// WriteJournal: record files under the cache directory, a flock per mount, orphans of mounts
// that are gone.
#include "fs/write_journal.h"

#include <dirent.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fs/staging.h"

namespace s3mount {
namespace {

Status WriteAll(int fd, const std::string& text, const std::string& path) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return SystemError("cannot write '" + path + "'", n < 0 ? errno : ENOSPC);
    done += static_cast<size_t>(n);
  }
  return OkStatus();
}

Status SyncDirectory(const std::string& directory) {
  UniqueFd fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) != 0) {
    return SystemError("cannot sync directory '" + directory + "'", errno);
  }
  return OkStatus();
}

// Makes `directory` and the directories above it that are missing, each private (0700): the
// journal holds users' data.
Status MakePrivateDirectory(const std::string& directory) {
  std::filesystem::path built;
  for (const auto& part : std::filesystem::path(directory)) {
    built /= part;
    if (::mkdir(built.c_str(), 0700) != 0 && errno != EEXIST) {
      return SystemError("cannot create journal directory '" + built.string() + "'", errno);
    }
  }
  ::chmod(directory.c_str(), 0700);
  return OkStatus();
}

// FNV-1a, 64 bits: a stable name for a target (not a security boundary: the directory is
// private to the user, and `target` inside says what it is for).
std::string HashName(const JournalTarget& target) {
  uint64_t hash = 14695981039346656037ULL;
  const std::string text = target.endpoint + '\n' + target.bucket + '\n' + target.prefix;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  char out[17];
  std::snprintf(out, sizeof(out), "%016llx", static_cast<unsigned long long>(hash));
  return out;
}

std::vector<std::string> EntriesOf(const std::string& directory) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    names.push_back(entry.path().filename().string());
  }
  return names;
}

bool EndsWith(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The lock of a mount directory, if it is free (the mount is gone).
UniqueFd TryLock(const std::string& directory) {
  UniqueFd fd(::open((directory + "/lock").c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) return UniqueFd();
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return UniqueFd();
  // Recovered and removed by another mount between our open and our lock: nothing left.
  struct stat st {};
  if (::stat((directory + "/lock").c_str(), &st) != 0) return UniqueFd();
  return fd;
}

}  // namespace

std::string JournalTarget::Describe() const {
  std::string out = bucket;
  if (!prefix.empty()) out += ":/" + prefix;
  return out + " at " + (endpoint.empty() ? std::string("AWS S3") : endpoint);
}

std::string JournalDirectoryFor(const std::string& cache_dir, const JournalTarget& target) {
  return cache_dir + "/journal/" + HashName(target);
}

Status WriteFileAtomically(const std::string& path, const std::string& text, bool durable) {
  const std::string temporary = path + ".tmp";
  UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return SystemError("cannot create '" + temporary + "'", errno);
  S3M_RETURN_IF_ERROR(WriteAll(fd.get(), text, temporary));
  if (durable && ::fsync(fd.get()) != 0) {
    return SystemError("cannot sync '" + temporary + "'", errno);
  }
  fd.Reset();
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(temporary.c_str());
    return SystemError("cannot rename '" + temporary + "'", saved);
  }
  if (durable) return SyncDirectory(std::filesystem::path(path).parent_path().string());
  return OkStatus();
}

Result<std::unique_ptr<WriteJournal>> WriteJournal::Open(const std::string& cache_dir,
                                                         const JournalTarget& target) {
  const std::string target_directory = JournalDirectoryFor(cache_dir, target);
  S3M_RETURN_IF_ERROR(MakePrivateDirectory(target_directory + "/kept"));
  S3M_RETURN_IF_ERROR(WriteFileAtomically(target_directory + "/target",
                                          "endpoint " + target.endpoint + "\nbucket " +
                                              target.bucket + "\nprefix " + target.prefix + "\n",
                                          false));
  // mount-PID-N: N tells apart mounts of one process (tests); mkdir decides who gets which.
  for (int serial = 0; serial < 1000; ++serial) {
    const std::string directory =
        target_directory + "/mount-" + std::to_string(::getpid()) + "-" + std::to_string(serial);
    if (::mkdir(directory.c_str(), 0700) != 0) {
      if (errno == EEXIST) continue;
      return SystemError("cannot create journal directory '" + directory + "'", errno);
    }
    UniqueFd lock(::open((directory + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!lock.valid() || ::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
      return SystemError("cannot lock journal directory '" + directory + "'", errno);
    }
    return std::unique_ptr<WriteJournal>(
        new WriteJournal(target, target_directory, directory, std::move(lock)));
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "no free journal directory under '" + target_directory + "'");
}

WriteJournal::~WriteJournal() {
  for (const std::string& name : EntriesOf(directory_)) {
    if (EndsWith(name, ".rec")) {
      spdlog::warn(
          "journal '{}' keeps records of data that was not uploaded: the next mount of "
          "{} with this cache directory tries again",
          directory_, target_.Describe());
      return;  // the lock goes with lock_; the directory stays for the next mount
    }
  }
  ::unlink((directory_ + "/lock").c_str());
  ::rmdir(directory_.c_str());
}

std::string WriteJournal::FileOf(uint64_t id) const {
  return directory_ + "/" + std::to_string(id) + ".rec";
}

Status WriteJournal::Put(uint64_t id, const JournalRecord& record, bool durable) {
  return WriteFileAtomically(FileOf(id), EncodeJournalRecord(record), durable);
}

void WriteJournal::Remove(uint64_t id) {
  if (::unlink(FileOf(id).c_str()) != 0 && errno != ENOENT) {
    spdlog::warn("cannot remove journal record '{}': {}", FileOf(id), std::strerror(errno));
  }
}

WriteJournal::Orphan::~Orphan() {
  if (!lock_.valid()) return;  // moved from
  for (const std::string& name : EntriesOf(directory_)) {
    if (name != "lock") return;  // a record left to try again at the next mount
  }
  ::unlink((directory_ + "/lock").c_str());
  ::rmdir(directory_.c_str());
}

std::vector<WriteJournal::Orphan> WriteJournal::TakeOrphans() {
  std::vector<Orphan> orphans;
  for (const std::string& name : EntriesOf(target_directory_)) {
    const std::string directory = target_directory_ + "/" + name;
    if (name.rfind("mount-", 0) != 0 || directory == directory_) continue;
    UniqueFd lock = TryLock(directory);
    if (!lock.valid()) continue;  // a live mount's, or gone meanwhile
    Orphan orphan(directory, std::move(lock));
    for (const std::string& file : EntriesOf(directory)) {
      const std::string path = directory + "/" + file;
      if (EndsWith(file, ".tmp")) {
        ::unlink(path.c_str());  // a record being replaced when the mount died: the old stands
        continue;
      }
      if (!EndsWith(file, ".rec")) continue;
      std::ifstream in(path, std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      auto record = DecodeJournalRecord(text.str());
      if (!record.ok()) {
        const std::string kept = target_directory_ + "/kept/unreadable-" + name + "-" + file;
        spdlog::error("journal record '{}' cannot be read ({}); moved to '{}'", path,
                      record.error().ToString(), kept);
        ::rename(path.c_str(), kept.c_str());
        continue;
      }
      orphan.records.push_back({path, std::move(record).value()});
    }
    orphans.push_back(std::move(orphan));
  }
  return orphans;
}

Status WriteJournal::Keep(const std::string& file, JournalRecord record,
                          const std::string& reason) {
  record.kept_reason = reason;
  const std::string from = std::filesystem::path(file).parent_path().filename().string();
  const std::string kept =
      target_directory_ + "/kept/" + from + "-" + std::filesystem::path(file).filename().string();
  S3M_RETURN_IF_ERROR(WriteFileAtomically(kept, EncodeJournalRecord(record), true));
  ::unlink(file.c_str());
  return OkStatus();
}

uint64_t NoteMultipartUpload(WriteJournal* journal, const std::string& key,
                             const std::string& upload_id) {
  if (journal == nullptr) return 0;
  const uint64_t id = journal->NewId();
  JournalRecord record{.kind = JournalKind::kMultipart, .key = key, .upload_id = upload_id};
  if (Status put = journal->Put(id, record, false); !put.ok()) {
    spdlog::warn("multipart upload {} of '{}' is not journaled ({}): a crash would leave it open",
                 upload_id, key, put.error().ToString());
    return 0;
  }
  return id;
}

void ForgetJournalRecord(WriteJournal* journal, uint64_t id) {
  if (journal != nullptr && id != 0) journal->Remove(id);
}

}  // namespace s3mount
