// s3_limit's workloads: each does only the S3 requests its job needs, times them, counts them,
// and checks the result (byte counts, key counts) with requests that are neither timed nor
// counted. Parallel requests share the client's pool of kept-alive connections; bodies that
// come back go into a sink that only counts them.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "s3_limit.h"

namespace s3mount {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr uint64_t kMiB = uint64_t{1} << 20;

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// `error` with `what` in front of its message, so that a failure says which step broke.
Error Annotate(Error error, const std::string& what) {
  error.message = what + ": " + error.message;
  return error;
}

Error Mismatch(const std::string& what) { return MakeError(ErrorCode::kInvalidResponse, what); }

Error Missing(const std::string& what) { return MakeError(ErrorCode::kInvalidArgument, what); }

// Throws a GET's body away, counting it, after checking the server sends the bytes asked for.
class DiscardSink final : public ObjectSink {
 public:
  DiscardSink(uint64_t offset, uint64_t length) : offset_(offset), length_(length) {}

  Status Begin(const GetObjectResponse& response) override {
    if (response.body_offset != offset_ || response.body_length != length_) {
      return Mismatch("GET answered " + std::to_string(response.body_length) + " bytes at " +
                      std::to_string(response.body_offset) + ", asked for " +
                      std::to_string(length_) + " at " + std::to_string(offset_));
    }
    return OkStatus();
  }
  Status Append(std::string_view bytes) override {
    bytes_ += bytes.size();
    return OkStatus();
  }
  uint64_t bytes() const { return bytes_; }

 private:
  const uint64_t offset_;
  const uint64_t length_;
  uint64_t bytes_ = 0;
};

// GETs `length` bytes of `key` at `offset` (the whole object when `ranged` is false) into a
// DiscardSink and checks that all of them came.
Status GetDiscarding(LimitClient& client, const std::string& key, uint64_t offset, uint64_t length,
                     bool ranged) {
  DiscardSink sink(offset, length);
  GetObjectRequest request{.key = key};
  if (ranged) request.range = ByteRange{.first = offset, .last = offset + length - 1};
  auto got = client.Send().GetObject(request, sink);
  if (!got.ok()) return Annotate(std::move(got).error(), "GET " + key);
  if (sink.bytes() != length) {
    return Mismatch("GET " + key + " gave " + std::to_string(sink.bytes()) + " bytes, expected " +
                    std::to_string(length));
  }
  return OkStatus();
}

// Runs work(i) for every i in [0, count) on up to `threads` threads, each taking the next
// index when done with one. The first error stops the others from starting new ones.
Status ParallelFor(int threads, size_t count, const std::function<Status(size_t)>& work) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::optional<Error> first_error;
  auto loop = [&] {
    for (size_t i = next++; i < count && !failed.load(); i = next++) {
      Status status = work(i);
      if (status.ok()) continue;
      failed = true;
      const std::scoped_lock lock(mu);
      if (!first_error) first_error = std::move(status).error();
    }
  };
  std::vector<std::jthread> pool;
  const size_t n = std::min(static_cast<size_t>(std::max(threads, 1)), count);
  for (size_t t = 0; t < n; ++t) pool.emplace_back(loop);
  pool.clear();  // joins
  if (first_error) return *first_error;
  return OkStatus();
}

// A buffer of `size` bytes of a repeating, not all-zero pattern.
std::string PatternBuffer(uint64_t size) {
  std::string buffer(size, '\0');
  for (uint64_t i = 0; i < size; ++i) buffer[i] = static_cast<char>((i * 131 + i / 4093) & 0xff);
  return buffer;
}

// --- LIST ------------------------------------------------------------------------------------

struct Listing {
  std::vector<ObjectInfo> objects;
  uint64_t prefixes = 0;
  uint64_t pages = 0;
};

// Lists every page under `prefix`, with delimiter "/" while *delimited is true. When the server
// rejects the delimiter on the first page, says so on stderr, clears *delimited and lists
// without it. `counted` says whether the requests count as measured ones.
Result<Listing> ListAll(LimitClient& client, const std::string& prefix, bool* delimited,
                        bool counted) {
  Listing listing;
  ListObjectsRequest request{.prefix = prefix, .delimiter = *delimited ? "/" : ""};
  while (true) {
    ObjectStore& store = counted ? client.Send() : client.Uncounted();
    auto page = store.ListObjects(request);
    if (!page.ok() && *delimited && listing.pages == 0 && page.error().http_status >= 400 &&
        page.error().http_status < 600) {
      std::cerr << "note: the server rejected LIST with a delimiter (" << page.error().ToString()
                << "); listing without one\n";
      *delimited = false;
      request.delimiter.clear();
      continue;
    }
    if (!page.ok()) return Annotate(std::move(page).error(), "LIST " + prefix);
    ++listing.pages;
    listing.prefixes += page->common_prefixes.size();
    for (auto& object : page->objects) listing.objects.push_back(std::move(object));
    if (!page->is_truncated) return listing;
    request.continuation_token = page->next_continuation_token;
  }
}

// Lists `prefix` (timed and counted) and checks the key count against --expect, if given.
Result<Listing> TimedList(LimitClient& client, const LimitOptions& options, Outcome& outcome) {
  bool delimited = true;
  const auto start = SteadyClock::now();
  auto listing = ListAll(client, options.prefix, &delimited, /*counted=*/true);
  outcome.seconds += SecondsSince(start);
  if (listing.ok() && options.expect && listing->objects.size() != *options.expect) {
    return Mismatch("LIST " + options.prefix + " found " + std::to_string(listing->objects.size()) +
                    " keys, expected " + std::to_string(*options.expect));
  }
  if (listing.ok()) {
    outcome.extras["pages"] = static_cast<double>(listing->pages);
    outcome.extras["prefixes"] = static_cast<double>(listing->prefixes);
    outcome.extras["delimiter"] = delimited ? 1 : 0;
  }
  return listing;
}

// Checks that no object is left directly under `prefix` (not timed, not counted).
Status VerifyEmpty(LimitClient& client, const std::string& prefix) {
  bool delimited = true;
  auto listing = ListAll(client, prefix, &delimited, /*counted=*/false);
  if (!listing.ok()) return Annotate(std::move(listing).error(), "verifying");
  if (!listing->objects.empty()) {
    return Mismatch(std::to_string(listing->objects.size()) + " objects are left under " + prefix +
                    ", e.g. " + listing->objects.front().key);
  }
  return OkStatus();
}

// --- the workloads ---------------------------------------------------------------------------

Result<Outcome> SeqRead(const LimitOptions& options, LimitClient& client) {
  if (options.key.empty()) return Missing("seq_read needs --key");
  const uint64_t part_mib = options.part_mib == 0 ? 8 : options.part_mib;
  const uint64_t part = part_mib * kMiB;
  const int parallel = options.parallel == 0 ? 16 : options.parallel;
  Outcome outcome;
  const auto start = SteadyClock::now();
  auto head = client.Send().HeadObject({.key = options.key});
  if (!head.ok()) return Annotate(std::move(head).error(), "HEAD " + options.key);
  const uint64_t size = head->size;
  const size_t parts = (size + part - 1) / part;
  std::atomic<uint64_t> bytes{0};
  Status read = ParallelFor(parallel, parts, [&](size_t i) -> Status {
    const uint64_t offset = i * part;
    const uint64_t length = std::min(part, size - offset);
    S3M_RETURN_IF_ERROR(GetDiscarding(client, options.key, offset, length, /*ranged=*/true));
    bytes += length;
    return OkStatus();
  });
  if (!read.ok()) return std::move(read).error();
  outcome.seconds = SecondsSince(start);
  if (bytes != size)
    return Mismatch("read " + std::to_string(bytes) + " of " + std::to_string(size));
  outcome.bytes = size;
  outcome.ops = parts;
  outcome.extras["part_mib"] = static_cast<double>(part_mib);
  outcome.extras["parallel"] = parallel;
  return outcome;
}

// Uploads `total` bytes as parts of `buffer`'s size (the last one shorter), `parallel` at once.
Status MultipartUpload(LimitClient& client, const std::string& key, const std::string& buffer,
                       uint64_t total, int parallel) {
  const uint64_t part = buffer.size();
  const size_t parts = (total + part - 1) / part;
  if (parts > static_cast<size_t>(kMaxPartNumber)) return Missing("more than 10,000 parts");
  auto upload_id = client.Send().CreateMultipartUpload({.key = key});
  if (!upload_id.ok()) return Annotate(std::move(upload_id).error(), "CreateMultipartUpload");
  std::vector<CompletedPart> completed(parts);
  Status uploaded = ParallelFor(parallel, parts, [&](size_t i) -> Status {
    const int number = static_cast<int>(i) + 1;
    const std::string_view body(buffer.data(), std::min(part, total - i * part));
    auto etag = client.Send().UploadPart(
        {.key = key, .upload_id = *upload_id, .part_number = number, .body = body});
    if (!etag.ok())
      return Annotate(std::move(etag).error(), "UploadPart " + std::to_string(number));
    completed[i] = {.part_number = number, .etag = std::move(*etag)};
    return OkStatus();
  });
  if (uploaded.ok()) {
    auto done = client.Send().CompleteMultipartUpload(
        {.key = key, .upload_id = *upload_id, .parts = std::move(completed)});
    if (done.ok()) return OkStatus();
    uploaded = Annotate(std::move(done).error(), "CompleteMultipartUpload");
  }
  (void)client.Uncounted().AbortMultipartUpload(key, *upload_id);  // best effort
  return uploaded;
}

Result<Outcome> SeqWrite(const LimitOptions& options, LimitClient& client) {
  if (options.key.empty() || options.mib == 0) return Missing("seq_write needs --key and --mib");
  const uint64_t part_mib = options.part_mib == 0 ? 8 : options.part_mib;
  const uint64_t part = part_mib * kMiB;
  const int parallel = options.parallel == 0 ? 8 : options.parallel;
  const uint64_t total = options.mib * kMiB;
  const std::string buffer = PatternBuffer(std::min(part, total));
  Outcome outcome;
  const auto start = SteadyClock::now();
  if (total <= part) {
    auto put = client.Send().PutObject({.key = options.key, .body = buffer});
    if (!put.ok()) return Annotate(std::move(put).error(), "PUT " + options.key);
  } else {
    S3M_RETURN_IF_ERROR(MultipartUpload(client, options.key, buffer, total, parallel));
  }
  outcome.seconds = SecondsSince(start);
  auto head = client.Uncounted().HeadObject({.key = options.key});
  if (!head.ok()) return Annotate(std::move(head).error(), "verifying HEAD " + options.key);
  if (head->size != total) {
    return Mismatch("wrote " + std::to_string(total) + " bytes, HEAD says " +
                    std::to_string(head->size));
  }
  outcome.bytes = total;
  outcome.ops = 1;
  outcome.extras["part_mib"] = static_cast<double>(part_mib);
  outcome.extras["parallel"] = parallel;
  return outcome;
}

Result<Outcome> List(const LimitOptions& options, LimitClient& client) {
  Outcome outcome;
  auto listing = TimedList(client, options, outcome);
  if (!listing.ok()) return std::move(listing).error();
  outcome.ops = listing->objects.size();
  return outcome;
}

Result<Outcome> ListHead(const LimitOptions& options, LimitClient& client) {
  const int parallel = options.parallel == 0 ? 32 : options.parallel;
  Outcome outcome;
  auto listing = TimedList(client, options, outcome);
  if (!listing.ok()) return std::move(listing).error();
  const auto& objects = listing->objects;
  const auto start = SteadyClock::now();
  S3M_RETURN_IF_ERROR(ParallelFor(parallel, objects.size(), [&](size_t i) -> Status {
    auto head = client.Send().HeadObject({.key = objects[i].key});
    if (!head.ok()) return Annotate(std::move(head).error(), "HEAD " + objects[i].key);
    if (head->size != objects[i].size) return Mismatch("HEAD and LIST differ on " + objects[i].key);
    return OkStatus();
  }));
  outcome.seconds += SecondsSince(start);
  outcome.ops = objects.size();
  outcome.extras["parallel"] = parallel;
  return outcome;
}

Result<Outcome> GetEach(const LimitOptions& options, LimitClient& client) {
  Outcome outcome;
  auto listing = TimedList(client, options, outcome);
  if (!listing.ok()) return std::move(listing).error();
  const auto start = SteadyClock::now();
  for (const ObjectInfo& object : listing->objects) {
    S3M_RETURN_IF_ERROR(GetDiscarding(client, object.key, 0, object.size, /*ranged=*/false));
    outcome.bytes += object.size;
  }
  outcome.seconds += SecondsSince(start);
  outcome.ops = listing->objects.size();
  return outcome;
}

std::string NumberedKey(const std::string& prefix, uint64_t i) {
  char name[32];
  std::snprintf(name, sizeof(name), "f%06llu", static_cast<unsigned long long>(i));
  return prefix + name;
}

// Checks that every key put_each wrote is listed with its size (not timed, not counted).
Status VerifyPut(LimitClient& client, const LimitOptions& options) {
  bool delimited = true;
  auto listing = ListAll(client, options.prefix, &delimited, /*counted=*/false);
  if (!listing.ok()) return Annotate(std::move(listing).error(), "verifying");
  std::set<std::string> found;
  for (const ObjectInfo& object : listing->objects) {
    if (object.size == options.size) found.insert(object.key);
  }
  for (uint64_t i = 0; i < options.count; ++i) {
    const std::string key = NumberedKey(options.prefix, i);
    if (!found.contains(key)) return Mismatch(key + " is not listed with its size");
  }
  return OkStatus();
}

Result<Outcome> PutEach(const LimitOptions& options, LimitClient& client) {
  if (options.prefix.empty() || options.count == 0) {
    return Missing("put_each needs --prefix and --count (and --size)");
  }
  const std::string body = PatternBuffer(options.size);
  Outcome outcome;
  const auto start = SteadyClock::now();
  for (uint64_t i = 0; i < options.count; ++i) {
    const std::string key = NumberedKey(options.prefix, i);
    auto put = client.Send().PutObject({.key = key, .body = body});
    if (!put.ok()) return Annotate(std::move(put).error(), "PUT " + key);
  }
  outcome.seconds = SecondsSince(start);
  S3M_RETURN_IF_ERROR(VerifyPut(client, options));
  outcome.bytes = options.count * options.size;
  outcome.ops = options.count;
  return outcome;
}

Result<Outcome> DeleteEach(const LimitOptions& options, LimitClient& client) {
  if (options.prefix.empty()) return Missing("delete_each needs --prefix");
  Outcome outcome;
  auto listing = TimedList(client, options, outcome);
  if (!listing.ok()) return std::move(listing).error();
  const auto start = SteadyClock::now();
  for (const ObjectInfo& object : listing->objects) {
    Status deleted = client.Send().DeleteObject(object.key);
    if (!deleted.ok()) return Annotate(std::move(deleted).error(), "DELETE " + object.key);
  }
  outcome.seconds += SecondsSince(start);
  S3M_RETURN_IF_ERROR(VerifyEmpty(client, options.prefix));
  outcome.ops = listing->objects.size();
  return outcome;
}

// One random_read job: block-aligned ranged GETs, one at a time, until `deadline`.
Status RandomReads(LimitClient& client, const LimitOptions& options, uint64_t blocks, uint64_t seed,
                   SteadyClock::time_point deadline, std::atomic<uint64_t>& reads) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<uint64_t> pick(0, blocks - 1);
  while (SteadyClock::now() < deadline) {
    const uint64_t offset = pick(rng) * options.block;
    S3M_RETURN_IF_ERROR(GetDiscarding(client, options.key, offset, options.block, true));
    ++reads;
  }
  return OkStatus();
}

Result<Outcome> RandomRead(const LimitOptions& options, LimitClient& client) {
  if (options.key.empty() || options.block == 0 || options.seconds <= 0 || options.jobs < 1) {
    return Missing("random_read needs --key, --block, --seconds and --jobs >= 1");
  }
  auto head = client.Uncounted().HeadObject({.key = options.key});
  if (!head.ok()) return Annotate(std::move(head).error(), "HEAD " + options.key);
  const uint64_t blocks = head->size / options.block;
  if (blocks == 0) return Missing(options.key + " is smaller than one block");
  std::atomic<uint64_t> reads{0};
  Outcome outcome;
  const auto start = SteadyClock::now();
  const auto deadline = start + std::chrono::duration_cast<SteadyClock::duration>(
                                    std::chrono::duration<double>(options.seconds));
  S3M_RETURN_IF_ERROR(ParallelFor(options.jobs, options.jobs, [&](size_t job) {
    return RandomReads(client, options, blocks, options.seed * 1'000'003 + job, deadline, reads);
  }));
  outcome.seconds = SecondsSince(start);
  outcome.ops = reads;
  outcome.bytes = reads * options.block;
  outcome.extras["iops"] = static_cast<double>(outcome.ops) / outcome.seconds;
  outcome.extras["mib_s"] = static_cast<double>(outcome.bytes) / kMiB / outcome.seconds;
  outcome.extras["jobs"] = options.jobs;
  return outcome;
}

using Workload = Result<Outcome> (*)(const LimitOptions&, LimitClient&);

Workload FindWorkload(const std::string& name) {
  static const std::pair<const char*, Workload> kWorkloads[] = {
      {"seq_read", &SeqRead},       {"seq_write", &SeqWrite},    {"list", &List},
      {"list_head", &ListHead},     {"get_each", &GetEach},      {"put_each", &PutEach},
      {"delete_each", &DeleteEach}, {"random_read", &RandomRead}};
  for (const auto& [workload_name, workload] : kWorkloads) {
    if (name == workload_name) return workload;
  }
  return nullptr;
}

}  // namespace

Result<Outcome> RunWorkload(const LimitOptions& options, LimitClient& client) {
  const Workload workload = FindWorkload(options.workload);
  if (workload == nullptr) return Missing("unknown workload '" + options.workload + "'");
  auto outcome = workload(options, client);
  if (outcome.ok()) {
    outcome->requests = client.requests();
    if (outcome->bytes > 0 && outcome->seconds > 0 && !outcome->extras.contains("mib_s")) {
      outcome->extras["mib_s"] = static_cast<double>(outcome->bytes) / kMiB / outcome->seconds;
    }
  }
  return outcome;
}

}  // namespace s3mount
