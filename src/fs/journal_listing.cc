// What the write journals under a cache directory keep, for `s3mount journal list|clear`.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fs/journal_record.h"
#include "s3mount/common/unique_fd.h"
#include "s3mount/fs/journal.h"

namespace s3mount {
namespace {

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> SortedEntries(const std::string& directory) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The `target` file of a journal directory, described as JournalTarget::Describe does.
std::string DescribeTarget(const std::string& directory) {
  JournalTarget target;
  std::istringstream lines(ReadWhole(directory + "/target"));
  std::string line;
  while (std::getline(lines, line)) {
    const size_t space = line.find(' ');
    const std::string field = line.substr(0, space);
    const std::string value = space == std::string::npos ? "" : line.substr(space + 1);
    if (field == "endpoint") target.endpoint = value;
    if (field == "bucket") target.bucket = value;
    if (field == "prefix") target.prefix = value;
  }
  return target.bucket.empty() ? "(unknown bucket)" : target.Describe();
}

// A lock on a mount directory whose mount is gone; invalid while the mount runs.
UniqueFd LockIfDead(const std::string& directory) {
  UniqueFd fd(::open((directory + "/lock").c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid() || ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return UniqueFd();
  return fd;
}

uint64_t SizeOf(const JournalRecord& record) {
  if (record.kind != JournalKind::kMultipart) return record.size;
  return 0;
}

void AddItems(const std::string& root, const std::string& relative, const std::string& target,
              bool pending, std::vector<KeptItem>& out) {
  for (const std::string& name : SortedEntries(root + "/" + relative)) {
    if (name.size() < 4 || name.compare(name.size() - 4, 4, ".rec") != 0) continue;
    const std::string id = relative + "/" + name;
    auto record = DecodeJournalRecord(ReadWhole(root + "/" + id));
    KeptItem item{.id = id, .target = target, .pending = pending};
    if (!record.ok()) {
      item.kind = "unreadable";
      item.reason = record.error().message;
    } else {
      item.key = record->key;
      item.size = SizeOf(*record);
      item.kind = std::string(JournalKindName(record->kind));
      item.data_file = record->data_file;
      item.reason = record->kept_reason;
      if (item.reason.empty()) {
        item.reason =
            record->kind == JournalKind::kUpload
                ? "closed under -o writeback, not uploaded yet: the next mount uploads it"
            : record->kind == JournalKind::kMultipart
                ? "multipart upload " + record->upload_id + " left open: the next mount aborts it"
                : "staged data of a file that was not closed";
      }
    }
    out.push_back(std::move(item));
  }
}

}  // namespace

Result<std::vector<KeptItem>> ListKeptData(const std::string& cache_dir) {
  const std::string root = cache_dir + "/journal";
  std::vector<KeptItem> items;
  for (const std::string& hash : SortedEntries(root)) {
    const std::string target = DescribeTarget(root + "/" + hash);
    AddItems(root, hash + "/kept", target, false, items);
    for (const std::string& name : SortedEntries(root + "/" + hash)) {
      if (name.rfind("mount-", 0) != 0) continue;
      UniqueFd lock = LockIfDead(root + "/" + hash + "/" + name);
      if (lock.valid()) AddItems(root, hash + "/" + name, target, true, items);
    }
  }
  return items;
}

Result<size_t> ClearKeptData(const std::string& cache_dir, const std::vector<std::string>& ids) {
  auto listed = ListKeptData(cache_dir);
  S3M_RETURN_IF_ERROR(listed);
  const std::string root = cache_dir + "/journal";
  size_t cleared = 0;
  for (const KeptItem& item : *listed) {
    const bool named = std::find(ids.begin(), ids.end(), item.id) != ids.end();
    if (!(named || (ids.empty() && !item.pending))) continue;
    const std::string record = root + "/" + item.id;
    UniqueFd lock;
    if (item.pending) {
      lock = LockIfDead(std::filesystem::path(record).parent_path().string());
      if (!lock.valid()) continue;  // mounted again meanwhile: its recovery decides
    }
    if (!item.data_file.empty()) {
      ::unlink(item.data_file.c_str());
      ::rmdir(std::filesystem::path(item.data_file).parent_path().c_str());  // if empty
    }
    if (::unlink(record.c_str()) == 0) ++cleared;
  }
  for (const std::string& id : ids) {
    const bool known = std::any_of(listed->begin(), listed->end(),
                                   [&](const KeptItem& item) { return item.id == id; });
    if (!known) {
      return MakeError(ErrorCode::kNotFound, "no kept journal record '" + id + "'");
    }
  }
  return cleared;
}

}  // namespace s3mount
