// DirectoryStream: paging through ListObjectsV2 and turning keys into directory entries.
#include "fs/directory_stream.h"

#include <spdlog/spdlog.h>

#include "fs/path_resolver.h"

namespace s3mount {
namespace {

constexpr size_t kMaxWarnedKeys = 10000;
constexpr uint64_t kKeptBehind = 1024;       // entries kept behind the reader for re-reads
constexpr size_t kMaxCachedListing = 20000;  // larger directories are never cached whole

// Whether every '/'-separated component of `relative` could be a file name.
bool AllRepresentable(std::string_view relative) {
  for (size_t start = 0;;) {
    const size_t slash = relative.find('/', start);
    if (!IsRepresentableName(relative.substr(start, slash - start))) return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

// One page of the listing, without the common prefixes that `filter` leaves empty.
Result<ListObjectsPage> ListFilteredPage(ObjectStore& store, const PathFilter& filter,
                                         const std::string& path, const std::string& key_prefix,
                                         const ListObjectsRequest& request) {
  auto page = store.ListObjects(request);
  if (!page.ok() || filter.empty()) return page;
  std::vector<std::string> shown;
  for (std::string& prefix : page->common_prefixes) {
    const std::string name =
        prefix.substr(key_prefix.size(), prefix.size() - key_prefix.size() - 1);
    auto visible =
        HasVisibleContents(store, filter, path.empty() ? name : path + "/" + name, prefix);
    S3M_RETURN_IF_ERROR(visible);
    if (*visible) shown.push_back(std::move(prefix));
  }
  page->common_prefixes = std::move(shown);
  return page;
}

}  // namespace

Result<bool> HasVisibleContents(ObjectStore& store, const PathFilter& filter,
                                const std::string& path, const std::string& key_prefix) {
  ListObjectsRequest request{.prefix = key_prefix, .max_keys = 1000};
  for (;;) {
    auto page = store.ListObjects(request);
    S3M_RETURN_IF_ERROR(page);
    for (const ObjectInfo& object : page->objects) {
      if (object.key == key_prefix) return true;  // the directory's own marker
      std::string_view below = std::string_view(object.key).substr(key_prefix.size());
      const bool marker = below.ends_with('/');
      if (marker) below.remove_suffix(1);
      if (AllRepresentable(below) && filter.IsVisible(path + "/" + std::string(below), marker)) {
        return true;
      }
    }
    if (!page->is_truncated || page->next_continuation_token.empty()) return false;
    request.continuation_token = page->next_continuation_token;
  }
}

void NameWarnings::Warn(const std::string& key, const char* why) {
  std::lock_guard lock(mu_);
  if (warned_.size() >= kMaxWarnedKeys || !warned_.insert(key).second) return;
  spdlog::warn("key '{}' is not shown: {}", key, why);
}

DirectoryStream::DirectoryStream(ObjectStore& store, Clock& clock, MetadataCache& cache,
                                 ListingCache& listings, const KeyMapper& keys,
                                 const PathFilter& filter, NameWarnings& warnings,
                                 std::string directory_path)
    : store_(store),
      clock_(clock),
      cache_(cache),
      listings_(listings),
      filter_(filter),
      warnings_(warnings),
      path_(std::move(directory_path)),
      key_prefix_(path_.empty() ? keys.prefix() : keys.KeyFor(path_) + "/") {}

void DirectoryStream::Restart() {
  cached_.reset();
  complete_.reset();
  buffer_.clear();
  base_ = 0;
  continuation_token_.clear();
  pending_.reset();  // its task finishes on its own; the answer is dropped
  started_ = false;
  exhausted_ = false;
  held_files_.clear();
}

Result<std::optional<ListedEntry>> DirectoryStream::At(uint64_t index) {
  if (index < base_) Restart();
  if (!started_ && !cached_) cached_ = listings_.Lookup(path_, clock_.Monotonic());
  if (cached_) {
    if (index >= cached_->size()) return std::optional<ListedEntry>();
    return std::optional<ListedEntry>((*cached_)[index]);
  }
  while (index >= base_ + buffer_.size()) {
    if (exhausted_) return std::optional<ListedEntry>();
    S3M_RETURN_IF_ERROR(FetchPage());
  }
  while (base_ + kKeptBehind < index && !buffer_.empty()) {
    buffer_.pop_front();
    ++base_;
  }
  return std::optional<ListedEntry>(buffer_[index - base_]);
}

ListObjectsRequest DirectoryStream::NextRequest() const {
  return {.prefix = key_prefix_,
          .delimiter = "/",
          .continuation_token = continuation_token_,
          .max_keys = 1000};
}

uint64_t DirectoryStream::known_end() const {
  return cached_ ? cached_->size() : base_ + buffer_.size();
}

const ListedEntry* DirectoryStream::Peek(uint64_t index) const {
  if (cached_) return index < cached_->size() ? &(*cached_)[index] : nullptr;
  if (index < base_ || index >= base_ + buffer_.size()) return nullptr;
  return &buffer_[index - base_];
}

uint64_t DirectoryStream::ReadAhead(uint64_t upto, ThreadPool& pool) {
  if (cached_ || !started_) return known_end();
  if (pending_ && known_end() < upto &&
      pending_->page.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    auto page = pending_->page.get();
    const MonoTime sent_at = pending_->sent_at;
    pending_.reset();
    if (page.ok()) AbsorbPage(*page, sent_at);  // a failed one is asked for again when needed
  }
  if (!pending_ && !exhausted_ && known_end() < upto) {
    auto promise = std::make_shared<std::promise<Result<ListObjectsPage>>>();
    pending_ = PendingPage{promise->get_future(), clock_.Monotonic()};
    Status submitted = pool.Submit([&store = store_, &filter = filter_, path = path_,
                                    key_prefix = key_prefix_, request = NextRequest(), promise] {
      promise->set_value(ListFilteredPage(store, filter, path, key_prefix, request));
    });
    if (!submitted.ok()) pending_.reset();  // no read-ahead: FetchPage lists it when needed
  }
  return known_end();
}

Status DirectoryStream::FetchPage() {
  if (!started_) {
    first_page_at_ = clock_.Monotonic();
    complete_ = std::make_shared<std::vector<ListedEntry>>();
  }
  if (pending_) {
    auto page = pending_->page.get();
    const MonoTime sent_at = pending_->sent_at;
    pending_.reset();
    if (page.ok()) {
      AbsorbPage(*page, sent_at);
      return OkStatus();
    }
    // A page that failed in the background is asked for again, now.
  }
  const MonoTime fetched_at = clock_.Monotonic();
  auto page = ListFilteredPage(store_, filter_, path_, key_prefix_, NextRequest());
  S3M_RETURN_IF_ERROR(page);
  AbsorbPage(*page, fetched_at);
  return OkStatus();
}

void DirectoryStream::AbsorbPage(const ListObjectsPage& page, MonoTime fetched_at) {
  started_ = true;
  // Objects and common prefixes arrive as two sorted lists; walk them in key order.
  size_t o = 0;
  size_t p = 0;
  while (o < page.objects.size() || p < page.common_prefixes.size()) {
    const bool take_object =
        p == page.common_prefixes.size() ||
        (o < page.objects.size() && page.objects[o].key < page.common_prefixes[p]);
    const std::string& key = take_object ? page.objects[o].key : page.common_prefixes[p];
    FlushFilesBefore(key);
    if (take_object) {
      Accept(key, page.objects[o++], fetched_at);
    } else {
      Accept(key, std::nullopt, fetched_at);
      ++p;
    }
  }
  if (page.is_truncated && !page.next_continuation_token.empty()) {
    continuation_token_ = page.next_continuation_token;
  } else {
    exhausted_ = true;
    for (auto& [name, entry] : held_files_) Emit(std::move(entry));
    held_files_.clear();
    if (complete_) listings_.Insert(path_, std::move(complete_), first_page_at_);
  }
}

void DirectoryStream::FlushFilesBefore(const std::string& key) {
  for (auto it = held_files_.begin(); it != held_files_.end();) {
    if (key_prefix_ + it->first + "/" < key) {
      Emit(std::move(it->second));
      it = held_files_.erase(it);
    } else {
      ++it;
    }
  }
}

void DirectoryStream::Accept(const std::string& key, std::optional<ObjectInfo> object,
                             MonoTime fetched_at) {
  std::string name = key.substr(key_prefix_.size());
  if (!object.has_value()) name.pop_back();        // a common prefix ends with the delimiter
  if (object.has_value() && name.empty()) return;  // the directory's own marker
  if (!IsRepresentableName(name)) {
    warnings_.Warn(key, "the name cannot be a POSIX file name");
    return;
  }
  ListedEntry listed;
  listed.path = path_.empty() ? name : path_ + "/" + name;
  listed.name = std::move(name);
  listed.entry.fetched_at = fetched_at;
  if (object.has_value()) {
    listed.entry.kind = PathKind::kFile;
    listed.entry.object = std::move(*object);
    held_files_[listed.name] = std::move(listed);
    return;
  }
  listed.entry.kind = PathKind::kDirectory;
  if (auto held = held_files_.find(listed.name); held != held_files_.end()) {
    // A zero-byte key may be this directory's own directory object (application/x-directory,
    // which a LIST does not show): the entry carries it, for a HEAD to tell.
    if (PathResolver::MayBeDirectoryObject(held->second.entry)) {
      listed.entry.object = std::move(held->second.entry.object);
    } else {
      warnings_.Warn(key_prefix_ + listed.name, "a directory of the same name hides this file");
    }
    held_files_.erase(held);
  }
  Emit(std::move(listed));
}

void DirectoryStream::Emit(ListedEntry entry) {
  if (!filter_.IsVisible(entry.path, entry.entry.kind == PathKind::kDirectory)) return;
  cache_.Insert(entry.path, entry.entry);
  if (complete_) {
    if (complete_->size() < kMaxCachedListing) {
      complete_->push_back(entry);
    } else {
      complete_.reset();  // too large to keep whole: stream it every time
    }
  }
  buffer_.push_back(std::move(entry));
}

}  // namespace s3mount
