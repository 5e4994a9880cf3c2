// FakeObjectStore: an in-memory S3 bucket. Choices where S3's behaviour is subtle:
// - last_modified is the injected clock's time truncated to whole seconds, because that is
//   all HEAD's Last-Modified header can carry; LIST reports the same value.
// - ETags: quoted hex MD5 of the body for PUT, CopyObject and parts; for a completed
//   multipart upload `"<hex MD5 of the concatenated binary part MD5s>-<part count>"`.
// - If-Match / If-None-Match take one quoted or unquoted ETag, or `*` (any existing object).
//   GET evaluates 404, then If-Match (412), then If-None-Match (304), then the range (416).
// - A range whose last byte is before its first is syntactically invalid, and S3 ignores an
//   invalid Range header: the whole object is returned. Any range on an empty object is 416.
// - PUT with If-Match on a missing key is 404 NoSuchKey, as AWS documents for conditional
//   writes; If-None-Match: * on an existing key is 412.
// - ListObjectsV2: continuation tokens encode the first key that may follow the page, so
//   they survive keys being added or removed between pages (as S3's do). StartAfter filters
//   keys first and then groups them, so a common prefix containing keys after StartAfter is
//   returned (moto does the same); a continuation token never repeats a common prefix.
//   max-keys 0 returns an empty, untruncated page; a negative value is InvalidArgument.
// - UploadPartCopy's source range must lie inside the source object (416 otherwise), as
//   x-amz-copy-source-range must; an open-ended range means "to the end".
#include "tests/fakes/fake_object_store.h"

#include <algorithm>
#include <utility>

#include "s3mount/aws/crc32c.h"
#include "tests/fakes/fake_s3_rules.h"

namespace s3mount::testing {
namespace {

constexpr uint64_t kMaxSinglePutSize = 5ULL * 1024 * 1024 * 1024;
constexpr int kMaxListKeys = 1000;
constexpr int kMaxListParts = 1000;
constexpr char kDefaultContentType[] = "binary/octet-stream";

}  // namespace

FakeObjectStore::FakeObjectStore(Clock& clock, Options options)
    : clock_(clock), options_(std::move(options)) {
  if (options_.get_chunk_size == 0) options_.get_chunk_size = 1;
}

// --- Lookup helpers -----------------------------------------------------------------------

Result<const FakeObjectStore::Object*> FakeObjectStore::FindObjectLocked(
    const std::string& key) const {
  auto it = objects_.find(key);
  if (it == objects_.end()) {
    return S3Error(ErrorCode::kNotFound, 404, "NoSuchKey", "The specified key does not exist");
  }
  return &it->second;
}

Result<FakeObjectStore::Upload*> FakeObjectStore::FindUploadLocked(const std::string& key,
                                                                   const std::string& upload_id) {
  auto it = uploads_.find(upload_id);
  // S3 also rejects a valid upload id sent with another key.
  if (it == uploads_.end() || it->second.key != key) return NoSuchUpload();
  return &it->second;
}

FakeObjectStore::Object FakeObjectStore::MakeObject(std::string body, std::string content_type,
                                                    UserMetadata metadata, WallTime now) {
  Object object;
  object.etag = SimpleEtag(body);
  object.body = std::make_shared<const std::string>(std::move(body));
  object.last_modified = TruncateToSeconds(now);
  object.content_type = content_type.empty() ? kDefaultContentType : std::move(content_type);
  object.user_metadata = std::move(metadata);
  return object;
}

ObjectInfo FakeObjectStore::InfoFromObject(const std::string& key, const Object& object) {
  ObjectInfo info;
  info.key = key;
  info.size = object.body->size();
  info.etag = object.etag;
  info.last_modified = object.last_modified;
  info.content_type = object.content_type;
  info.user_metadata = object.user_metadata;
  info.stored_headers = object.stored_headers;
  return info;
}

// --- Bucket and object reads ----------------------------------------------------------------

Result<BucketInfo> FakeObjectStore::HeadBucket() {
  std::lock_guard lock(mu_);
  ++counts_.head_bucket;
  return BucketInfo{options_.region};
}

Result<ObjectInfo> FakeObjectStore::HeadObject(const HeadObjectRequest& request) {
  std::lock_guard lock(mu_);
  ++counts_.head_object;
  S3M_RETURN_IF_ERROR(ValidateKey(request.key));
  auto it = objects_.find(request.key);
  // HEAD replies have no body, hence no S3 error code.
  if (it == objects_.end()) return S3Error(ErrorCode::kNotFound, 404, "", "Not Found");
  if (request.if_match && !EtagMatches(*request.if_match, it->second.etag)) {
    return S3Error(ErrorCode::kPreconditionFailed, 412, "", "Precondition Failed");
  }
  ObjectInfo info = InfoFromObject(request.key, it->second);
  if (request.checksum_mode) info.checksum_crc32c = Crc32cBase64(Crc32c(*it->second.body));
  return info;
}

Result<GetObjectResponse> FakeObjectStore::GetObject(const GetObjectRequest& request,
                                                     ObjectSink& sink) {
  GetObjectResponse response;
  std::shared_ptr<const std::string> body;
  size_t chunk_size = 0;
  {
    std::lock_guard lock(mu_);
    ++counts_.get_object;
    S3M_RETURN_IF_ERROR(ValidateKey(request.key));
    auto found = FindObjectLocked(request.key);
    S3M_RETURN_IF_ERROR(found);
    const Object& object = **found;
    if (request.if_match && !EtagMatches(*request.if_match, object.etag)) {
      return S3Error(ErrorCode::kPreconditionFailed, 412, "PreconditionFailed",
                     "At least one of the pre-conditions you specified did not hold");
    }
    if (request.if_none_match && EtagMatches(*request.if_none_match, object.etag)) {
      return S3Error(ErrorCode::kNotModified, 304, "", "Not Modified");
    }
    auto span = ResolveGetRange(object.body->size(), request.range);
    S3M_RETURN_IF_ERROR(span);
    response.object = InfoFromObject(request.key, object);
    response.body_offset = span->offset;
    response.body_length = span->length;
    if (request.checksum_mode && !request.range.has_value()) {
      // S3 returns the stored checksum with whole-object replies only.
      response.object.checksum_crc32c = Crc32cBase64(Crc32c(*object.body));
    }
    body = object.body;
    chunk_size = options_.get_chunk_size;
  }
  // Outside the lock: the sink is the caller's code.
  S3M_RETURN_IF_ERROR(sink.Begin(response));
  const std::string_view bytes =
      std::string_view(*body).substr(response.body_offset, response.body_length);
  for (size_t done = 0; done < bytes.size(); done += chunk_size) {
    S3M_RETURN_IF_ERROR(sink.Append(bytes.substr(done, chunk_size)));
  }
  return response;
}

Result<ListObjectsPage> FakeObjectStore::ListObjects(const ListObjectsRequest& request) {
  std::lock_guard lock(mu_);
  ++counts_.list_objects;
  if (request.max_keys < 0) {
    return S3Error(ErrorCode::kInvalidArgument, 400, "InvalidArgument",
                   "max-keys cannot be negative");
  }
  const std::string& prefix = request.prefix;
  auto it = objects_.begin();
  if (!request.continuation_token.empty()) {
    auto resume = DecodeToken(request.continuation_token);
    S3M_RETURN_IF_ERROR(resume);
    it = objects_.lower_bound(*resume);
  } else if (!request.start_after.empty()) {
    it = objects_.upper_bound(request.start_after);
  }
  if (it != objects_.end() && it->first < prefix) it = objects_.lower_bound(prefix);

  ListObjectsPage page;
  const int limit = std::min(request.max_keys, kMaxListKeys);
  if (limit == 0) return page;
  int count = 0;
  std::string resume;  // the first key that may follow what the page holds
  while (it != objects_.end() && it->first.starts_with(prefix)) {
    if (count == limit) {
      page.is_truncated = true;
      page.next_continuation_token = EncodeToken(resume);
      break;
    }
    ++count;
    const size_t at = request.delimiter.empty() ? std::string::npos
                                                : it->first.find(request.delimiter, prefix.size());
    if (at == std::string::npos) {
      ObjectInfo info = InfoFromObject(it->first, it->second);
      info.content_type.clear();  // LIST reports neither content type nor metadata
      info.user_metadata.clear();
      info.storage_class = "STANDARD";
      page.objects.push_back(std::move(info));
      resume = it->first + '\0';
      ++it;
      continue;
    }
    // A common prefix stands for every key under it and counts once toward max-keys.
    std::string common = it->first.substr(0, at + request.delimiter.size());
    std::optional<std::string> next = PrefixSuccessor(common);
    page.common_prefixes.push_back(std::move(common));
    if (!next) break;  // nothing sorts after this prefix
    resume = *next;
    it = objects_.lower_bound(resume);
  }
  return page;
}

// --- Object writes --------------------------------------------------------------------------

Result<PutObjectResponse> FakeObjectStore::PutObject(const PutObjectRequest& request) {
  const WallTime now = clock_.Now();
  std::lock_guard lock(mu_);
  ++counts_.put_object;
  S3M_RETURN_IF_ERROR(ValidateKey(request.key));
  if (request.body.size() > kMaxSinglePutSize) {
    return S3Error(ErrorCode::kEntityTooLarge, 400, "EntityTooLarge",
                   "Your proposed upload exceeds the maximum allowed size");
  }
  auto existing = objects_.find(request.key);
  if (request.if_none_match_any && existing != objects_.end()) {
    return S3Error(ErrorCode::kPreconditionFailed, 412, "PreconditionFailed",
                   "At least one of the pre-conditions you specified did not hold");
  }
  if (request.if_match) {
    if (existing == objects_.end()) {
      return S3Error(ErrorCode::kNotFound, 404, "NoSuchKey", "The specified key does not exist");
    }
    if (!EtagMatches(*request.if_match, existing->second.etag)) {
      return S3Error(ErrorCode::kPreconditionFailed, 412, "PreconditionFailed",
                     "At least one of the pre-conditions you specified did not hold");
    }
  }
  Object object =
      MakeObject(std::string(request.body), request.content_type, request.user_metadata, now);
  PutObjectResponse response{object.etag, ""};
  objects_[request.key] = std::move(object);
  return response;
}

Result<CopyObjectResponse> FakeObjectStore::CopyObject(const CopyObjectRequest& request) {
  const WallTime now = clock_.Now();
  std::lock_guard lock(mu_);
  ++counts_.copy_object;
  S3M_RETURN_IF_ERROR(ValidateKey(request.source_key));
  S3M_RETURN_IF_ERROR(ValidateKey(request.destination_key));
  auto found = FindObjectLocked(request.source_key);
  S3M_RETURN_IF_ERROR(found);
  const Object& source = **found;
  if (request.source_if_match && !EtagMatches(*request.source_if_match, source.etag)) {
    return S3Error(ErrorCode::kPreconditionFailed, 412, "PreconditionFailed",
                   "At least one of the pre-conditions you specified did not hold");
  }
  const bool replace = request.metadata_directive == MetadataDirective::kReplace;
  if (request.source_key == request.destination_key && !replace) {
    return S3Error(ErrorCode::kBadRequest, 400, "InvalidRequest",
                   "This copy request is illegal because it is trying to copy an object to "
                   "itself without changing the object's metadata, storage class, website "
                   "redirect location or encryption attributes.");
  }
  Object copy = MakeObject(*source.body, replace ? request.content_type : source.content_type,
                           replace ? request.user_metadata : source.user_metadata, now);
  copy.stored_headers = replace ? request.stored_headers : source.stored_headers;
  CopyObjectResponse response{copy.etag, copy.last_modified};
  objects_[request.destination_key] = std::move(copy);
  return response;
}

Status FakeObjectStore::DeleteObject(const std::string& key) {
  std::lock_guard lock(mu_);
  ++counts_.delete_object;
  S3M_RETURN_IF_ERROR(ValidateKey(key));
  objects_.erase(key);  // deleting a missing key succeeds, as in S3
  return OkStatus();
}

Result<DeleteObjectsResponse> FakeObjectStore::DeleteObjects(const std::vector<std::string>& keys) {
  std::lock_guard lock(mu_);
  counts_.delete_objects +=
      static_cast<int64_t>((keys.size() + kMaxDeleteBatch - 1) / kMaxDeleteBatch);
  DeleteObjectsResponse response;
  for (const std::string& key : keys) {
    Status valid = ValidateKey(key);
    if (!valid.ok()) {
      response.failures.push_back({key, valid.error()});
      continue;
    }
    objects_.erase(key);
  }
  return response;
}

// --- Multipart ------------------------------------------------------------------------------

Result<std::string> FakeObjectStore::CreateMultipartUpload(
    const CreateMultipartUploadRequest& request) {
  std::lock_guard lock(mu_);
  ++counts_.create_multipart;
  S3M_RETURN_IF_ERROR(ValidateKey(request.key));
  Upload upload;
  upload.key = request.key;
  upload.content_type = request.content_type;
  upload.user_metadata = request.user_metadata;
  upload.stored_headers = request.stored_headers;
  upload.sequence = next_upload_sequence_++;
  // Opaque, unique, and not derivable from the key, like S3's.
  std::string upload_id = "fake-upload-" + Hex(Md5Raw(std::to_string(upload.sequence)));
  uploads_.emplace(upload_id, std::move(upload));
  return upload_id;
}

Result<std::string> FakeObjectStore::UploadPart(const UploadPartRequest& request) {
  const WallTime now = clock_.Now();
  std::lock_guard lock(mu_);
  ++counts_.upload_part;
  S3M_RETURN_IF_ERROR(ValidatePartNumber(request.part_number));
  auto upload = FindUploadLocked(request.key, request.upload_id);
  S3M_RETURN_IF_ERROR(upload);
  Part part{std::make_shared<const std::string>(request.body), SimpleEtag(request.body),
            TruncateToSeconds(now)};
  std::string etag = part.etag;
  (*upload)->parts[request.part_number] = std::move(part);  // a re-upload replaces the part
  return etag;
}

Result<std::string> FakeObjectStore::UploadPartCopy(const UploadPartCopyRequest& request) {
  const WallTime now = clock_.Now();
  std::lock_guard lock(mu_);
  ++counts_.upload_part_copy;
  S3M_RETURN_IF_ERROR(ValidatePartNumber(request.part_number));
  auto upload = FindUploadLocked(request.key, request.upload_id);
  S3M_RETURN_IF_ERROR(upload);
  S3M_RETURN_IF_ERROR(ValidateKey(request.source_key));
  auto found = FindObjectLocked(request.source_key);
  S3M_RETURN_IF_ERROR(found);
  const Object& source = **found;
  if (request.source_if_match && !EtagMatches(*request.source_if_match, source.etag)) {
    return S3Error(ErrorCode::kPreconditionFailed, 412, "PreconditionFailed",
                   "At least one of the pre-conditions you specified did not hold");
  }
  auto span = ResolveCopyRange(source.body->size(), request.source_range);
  S3M_RETURN_IF_ERROR(span);
  std::string bytes = source.body->substr(span->offset, span->length);
  Part part{nullptr, SimpleEtag(bytes), TruncateToSeconds(now)};
  part.body = std::make_shared<const std::string>(std::move(bytes));
  std::string etag = part.etag;
  (*upload)->parts[request.part_number] = std::move(part);
  return etag;
}

Status FakeObjectStore::CheckCompletePartsLocked(const Upload& upload,
                                                 const std::vector<CompletedPart>& parts) const {
  if (parts.empty()) {
    return S3Error(ErrorCode::kBadRequest, 400, "MalformedXML",
                   "The XML you provided was not well-formed or did not validate");
  }
  int previous = 0;
  for (const CompletedPart& part : parts) {
    if (part.part_number <= previous) {
      return S3Error(ErrorCode::kInvalidPart, 400, "InvalidPartOrder",
                     "The list of parts was not in ascending order");
    }
    previous = part.part_number;
    auto it = upload.parts.find(part.part_number);
    if (it == upload.parts.end() || Unquoted(it->second.etag) != Unquoted(part.etag)) {
      return S3Error(ErrorCode::kInvalidPart, 400, "InvalidPart",
                     "Part " + std::to_string(part.part_number) +
                         " could not be found or its ETag did not match");
    }
  }
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const uint64_t size = upload.parts.at(parts[i].part_number).body->size();
    if (size < options_.min_part_size) {
      return S3Error(ErrorCode::kInvalidPart, 400, "EntityTooSmall",
                     "Your proposed upload is smaller than the minimum allowed size (part " +
                         std::to_string(parts[i].part_number) + " has " + std::to_string(size) +
                         " bytes)");
    }
  }
  return OkStatus();
}

Result<PutObjectResponse> FakeObjectStore::CompleteMultipartUpload(
    const CompleteMultipartUploadRequest& request) {
  const WallTime now = clock_.Now();
  std::lock_guard lock(mu_);
  ++counts_.complete_multipart;
  auto found = FindUploadLocked(request.key, request.upload_id);
  S3M_RETURN_IF_ERROR(found);
  Upload& upload = **found;
  S3M_RETURN_IF_ERROR(CheckCompletePartsLocked(upload, request.parts));
  std::string body;
  std::string part_digests;
  for (const CompletedPart& part : request.parts) {
    const std::string& bytes = *upload.parts.at(part.part_number).body;
    body += bytes;
    part_digests += Md5Raw(bytes);
  }
  Object object = MakeObject(std::move(body), upload.content_type, upload.user_metadata, now);
  object.stored_headers = upload.stored_headers;
  object.etag =
      "\"" + Hex(Md5Raw(part_digests)) + "-" + std::to_string(request.parts.size()) + "\"";
  PutObjectResponse response{object.etag, ""};
  objects_[request.key] = std::move(object);
  uploads_.erase(request.upload_id);
  return response;
}

Status FakeObjectStore::AbortMultipartUpload(const std::string& key, const std::string& upload_id) {
  std::lock_guard lock(mu_);
  ++counts_.abort_multipart;
  auto found = FindUploadLocked(key, upload_id);
  S3M_RETURN_IF_ERROR(found);
  uploads_.erase(upload_id);
  return OkStatus();
}

Result<ListPartsPage> FakeObjectStore::ListParts(const ListPartsRequest& request) {
  std::lock_guard lock(mu_);
  ++counts_.list_parts;
  if (request.max_parts < 0 || request.part_number_marker < 0) {
    return S3Error(ErrorCode::kInvalidArgument, 400, "InvalidArgument",
                   "max-parts and part-number-marker must not be negative");
  }
  auto found = FindUploadLocked(request.key, request.upload_id);
  S3M_RETURN_IF_ERROR(found);
  const std::map<int, Part>& parts = (*found)->parts;
  const int limit = std::min(request.max_parts, kMaxListParts);
  ListPartsPage page;
  for (auto it = parts.upper_bound(request.part_number_marker); it != parts.end(); ++it) {
    if (static_cast<int>(page.parts.size()) == limit) {
      page.is_truncated = limit > 0;
      break;
    }
    page.parts.push_back({it->first, it->second.etag, it->second.body->size()});
    page.next_part_number_marker = it->first;
  }
  return page;
}

Result<ListUploadsPage> FakeObjectStore::ListMultipartUploads(const ListUploadsRequest& request) {
  std::lock_guard lock(mu_);
  ++counts_.list_uploads;
  // S3 orders by key, then by initiation: (key, sequence) after the markers.
  std::vector<std::pair<std::pair<std::string, uint64_t>, const std::string*>> order;
  uint64_t marker_sequence = 0;
  if (auto it = uploads_.find(request.upload_id_marker); it != uploads_.end()) {
    marker_sequence = it->second.sequence;
  }
  for (const auto& [id, upload] : uploads_) {
    if (!upload.key.starts_with(request.prefix)) continue;
    const auto position = std::make_pair(upload.key, upload.sequence);
    if (!request.key_marker.empty() &&
        position <= std::make_pair(request.key_marker, marker_sequence)) {
      continue;
    }
    order.emplace_back(position, &id);
  }
  std::sort(order.begin(), order.end());
  ListUploadsPage page;
  for (const auto& [position, id] : order) {
    if (static_cast<int>(page.uploads.size()) == kMaxListParts) {
      page.is_truncated = true;
      break;
    }
    page.uploads.push_back({position.first, *id, WallTime{}});
    page.next_key_marker = position.first;
    page.next_upload_id_marker = *id;
  }
  return page;
}

// --- Configuration, counters and test helpers ------------------------------------------------

void FakeObjectStore::SetGetChunkSize(size_t bytes) {
  std::lock_guard lock(mu_);
  options_.get_chunk_size = std::max<size_t>(bytes, 1);
}

void FakeObjectStore::SetMinPartSize(uint64_t bytes) {
  std::lock_guard lock(mu_);
  options_.min_part_size = bytes;
}

void FakeObjectStore::SetRegion(std::string region) {
  std::lock_guard lock(mu_);
  options_.region = std::move(region);
}

OperationCounts FakeObjectStore::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

void FakeObjectStore::ResetCounts() {
  std::lock_guard lock(mu_);
  counts_ = OperationCounts{};
}

void FakeObjectStore::SetStoredHeadersForTest(const std::string& key, StoredHeaders headers) {
  std::lock_guard lock(mu_);
  if (auto it = objects_.find(key); it != objects_.end())
    it->second.stored_headers = std::move(headers);
}

std::string FakeObjectStore::PutForTest(const std::string& key, std::string_view body,
                                        UserMetadata user_metadata, std::string content_type) {
  Object object = MakeObject(std::string(body), std::move(content_type), std::move(user_metadata),
                             clock_.Now());
  std::string etag = object.etag;
  std::lock_guard lock(mu_);
  objects_[key] = std::move(object);
  return etag;
}

std::optional<std::string> FakeObjectStore::BodyOf(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return *it->second.body;
}

std::optional<ObjectInfo> FakeObjectStore::InfoOf(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return InfoFromObject(key, it->second);
}

size_t FakeObjectStore::ObjectCount() const {
  std::lock_guard lock(mu_);
  return objects_.size();
}

std::vector<std::string> FakeObjectStore::Keys() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> keys;
  keys.reserve(objects_.size());
  for (const auto& [key, object] : objects_) keys.push_back(key);
  return keys;
}

std::vector<std::pair<std::string, std::string>> FakeObjectStore::PendingUploadsLocked() const {
  std::vector<std::pair<uint64_t, const std::string*>> ordered;
  for (const auto& [id, upload] : uploads_) ordered.emplace_back(upload.sequence, &id);
  std::sort(ordered.begin(), ordered.end());
  std::vector<std::pair<std::string, std::string>> pending;
  pending.reserve(ordered.size());
  for (const auto& [sequence, id] : ordered) pending.emplace_back(*id, uploads_.at(*id).key);
  return pending;
}

std::vector<std::string> FakeObjectStore::PendingUploads() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> ids;
  for (auto& [id, key] : PendingUploadsLocked()) ids.push_back(std::move(id));
  return ids;
}

std::vector<std::string> FakeObjectStore::PendingUploadKeys() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> keys;
  for (auto& [id, key] : PendingUploadsLocked()) keys.push_back(std::move(key));
  return keys;
}

}  // namespace s3mount::testing
