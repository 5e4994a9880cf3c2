// CurlObjectStore: each S3 operation as a request through S3Transport, and its reply decoded.
#include "s3mount/s3/curl_object_store.h"

#include <algorithm>
#include <charconv>

#include "s3/s3_transport.h"
#include "s3/s3_xml.h"
#include "s3mount/aws/crc32c.h"
#include "s3mount/aws/crypto.h"
#include "s3mount/aws/uri_encoding.h"

namespace s3mount {
namespace {

constexpr size_t kMaxKeyBytes = 1024;

Status ValidateKey(const std::string& key) {
  if (key.empty()) return MakeError(ErrorCode::kInvalidArgument, "object key is empty");
  if (key.size() > kMaxKeyBytes) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "object key is longer than 1024 bytes: " + key.substr(0, 64) + "...");
  }
  return OkStatus();
}

Status ValidatePartNumber(int part_number) {
  if (part_number < 1 || part_number > kMaxPartNumber) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "part number " + std::to_string(part_number) + " is outside 1..10000");
  }
  return OkStatus();
}

std::string RangeHeader(const ByteRange& range) {
  std::string value = "bytes=" + std::to_string(range.first) + "-";
  if (range.last.has_value()) value += std::to_string(*range.last);
  return value;
}

void AddMetadataHeaders(const std::string& content_type, const UserMetadata& metadata,
                        HeaderList& headers, const StoredHeaders& stored = {}) {
  if (!content_type.empty()) headers.emplace_back("Content-Type", content_type);
  for (const auto& [name, value] : metadata) {
    headers.emplace_back("x-amz-meta-" + name, value);
  }
  for (const auto& [name, value] : stored) headers.emplace_back(name, value);
}

std::optional<uint64_t> ParseUint(std::string_view text) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Fills body_offset/body_length/object.size from Content-Range ("bytes 0-9/443") or, for a
// whole-object reply, from Content-Length.
Status ReadBodyExtent(const HttpResponse& response, GetObjectResponse& out) {
  out.body_length = out.object.size;
  out.body_offset = 0;
  const auto content_range = response.Header("content-range");
  if (response.status != 206 || !content_range.has_value()) return OkStatus();
  std::string_view text = *content_range;
  const size_t dash = text.find('-');
  const size_t slash = text.find('/');
  if (!text.starts_with("bytes ") || dash == std::string_view::npos ||
      slash == std::string_view::npos || dash > slash) {
    return MakeError(ErrorCode::kInvalidResponse, "bad Content-Range '" + *content_range + "'");
  }
  const auto first = ParseUint(text.substr(6, dash - 6));
  const auto last = ParseUint(text.substr(dash + 1, slash - dash - 1));
  const auto total = ParseUint(text.substr(slash + 1));
  if (!first || !last || *last < *first) {
    return MakeError(ErrorCode::kInvalidResponse, "bad Content-Range '" + *content_range + "'");
  }
  out.body_offset = *first;
  out.body_length = *last - *first + 1;
  if (total.has_value()) out.object.size = *total;
  return OkStatus();
}

// The headers with which S3 verifies a body before storing it.
void AddBodyChecksum(uint32_t crc, HeaderList& headers) {
  headers.emplace_back("x-amz-checksum-crc32c", Crc32cBase64(crc));
  headers.emplace_back("x-amz-sdk-checksum-algorithm", "CRC32C");
}

std::string CopySource(const std::string& bucket, const std::string& key) {
  return UriEncode(bucket + "/" + key, /*encode_slash=*/false);
}

}  // namespace

Result<std::unique_ptr<CurlObjectStore>> CurlObjectStore::Create(S3ClientOptions options,
                                                                 CredentialsProvider& credentials,
                                                                 Clock& clock) {
  auto endpoint = ResolveEndpoint(options.endpoint, options.bucket);
  S3M_RETURN_IF_ERROR(endpoint);
  std::string bucket = options.bucket;
  auto transport = std::make_unique<S3Transport>(std::move(options), std::move(endpoint).value(),
                                                 credentials, clock);
  return std::unique_ptr<CurlObjectStore>(
      new CurlObjectStore(std::move(transport), std::move(bucket)));
}

CurlObjectStore::CurlObjectStore(std::unique_ptr<S3Transport> transport, std::string bucket)
    : transport_(std::move(transport)), bucket_(std::move(bucket)) {}

CurlObjectStore::~CurlObjectStore() = default;

std::string CurlObjectStore::region() const { return transport_->region(); }

std::chrono::milliseconds CurlObjectStore::clock_skew() const { return transport_->clock_skew(); }

long CurlObjectStore::connections_opened() const { return transport_->connections_opened(); }

Result<BucketInfo> CurlObjectStore::HeadBucket() {
  auto response = transport_->Execute({.method = "HEAD"});
  S3M_RETURN_IF_ERROR(response);
  BucketInfo info;
  info.region = response->Header("x-amz-bucket-region").value_or("");
  return info;
}

Result<ObjectInfo> CurlObjectStore::HeadObject(const HeadObjectRequest& request) {
  S3M_RETURN_IF_ERROR(ValidateKey(request.key));
  S3Request s3_request{.method = "HEAD", .key = request.key};
  if (request.if_match) s3_request.headers.emplace_back("If-Match", *request.if_match);
  if (request.checksum_mode) s3_request.headers.emplace_back("x-amz-checksum-mode", "ENABLED");
  auto response = transport_->Execute(s3_request);
  S3M_RETURN_IF_ERROR(response);
  return ObjectInfoFromHeaders(request.key, *response);
}

Result<GetObjectResponse> CurlObjectStore::GetObject(const GetObjectRequest& request,
                                                     ObjectSink& sink) {
  S3M_RETURN_IF_ERROR(ValidateKey(request.key));
  S3Request s3_request{.method = "GET", .key = request.key};
  if (request.range) s3_request.headers.emplace_back("Range", RangeHeader(*request.range));
  if (request.if_match) s3_request.headers.emplace_back("If-Match", *request.if_match);
  if (request.if_none_match) {
    s3_request.headers.emplace_back("If-None-Match", *request.if_none_match);
  }
  if (request.checksum_mode) s3_request.headers.emplace_back("x-amz-checksum-mode", "ENABLED");

  std::optional<Result<GetObjectResponse>> head;  // parsed once the headers are in
  bool begun = false;
  auto begin = [&]() -> Status {
    begun = true;
    if (!head->ok()) return head->error();
    return sink.Begin(head->value());
  };
  BodyStreamer streamer;
  streamer.stream_if = [&](const HttpResponse& response) {
    if (response.status < 200 || response.status >= 300) return false;
    auto info = ObjectInfoFromHeaders(request.key, response);
    if (!info.ok()) {
      head.emplace(std::move(info).error());
      return true;
    }
    GetObjectResponse parsed{.object = std::move(info).value()};
    Status extent = ReadBodyExtent(response, parsed);
    if (extent.ok() && request.range && parsed.body_offset != request.range->first) {
      // A server that ignores Range would hand a resuming reader bytes it already has.
      extent = MakeError(ErrorCode::kInvalidResponse,
                         "asked for bytes from " + std::to_string(request.range->first) +
                             " but the reply starts at " + std::to_string(parsed.body_offset));
    }
    head.emplace(extent.ok() ? Result<GetObjectResponse>(std::move(parsed))
                             : Result<GetObjectResponse>(std::move(extent).error()));
    return true;
  };
  streamer.on_body = [&](std::string_view chunk) -> Status {
    if (!begun) S3M_RETURN_IF_ERROR(begin());
    return sink.Append(chunk);
  };
  auto response = transport_->Execute(s3_request, &streamer);
  S3M_RETURN_IF_ERROR(response);
  if (!head.has_value()) {
    // An empty body never reached the streamer: decode its headers now.
    (void)streamer.stream_if(*response);
  }
  if (!begun) S3M_RETURN_IF_ERROR(begin());
  return std::move(*head);
}

Result<ListObjectsPage> CurlObjectStore::ListObjects(const ListObjectsRequest& request) {
  S3Request s3_request{.method = "GET"};
  QueryList& query = s3_request.query;
  query = {{"list-type", "2"}, {"encoding-type", "url"}};
  if (!request.prefix.empty()) query.emplace_back("prefix", request.prefix);
  if (!request.delimiter.empty()) query.emplace_back("delimiter", request.delimiter);
  if (!request.continuation_token.empty()) {
    query.emplace_back("continuation-token", request.continuation_token);
  }
  if (!request.start_after.empty()) query.emplace_back("start-after", request.start_after);
  query.emplace_back("max-keys", std::to_string(std::clamp(request.max_keys, 0, 1000)));
  auto response = transport_->Execute(s3_request);
  S3M_RETURN_IF_ERROR(response);
  return ParseListObjectsV2(response->body);
}

Result<PutObjectResponse> CurlObjectStore::PutObject(const PutObjectRequest& request) {
  S3M_RETURN_IF_ERROR(ValidateKey(request.key));
  S3Request s3_request{.method = "PUT", .key = request.key, .body = request.body};
  AddMetadataHeaders(request.content_type, request.user_metadata, s3_request.headers);
  if (request.if_none_match_any) s3_request.headers.emplace_back("If-None-Match", "*");
  if (request.if_match) s3_request.headers.emplace_back("If-Match", *request.if_match);
  AddBodyChecksum(Crc32c(request.body), s3_request.headers);
  auto response = transport_->Execute(s3_request);
  S3M_RETURN_IF_ERROR(response);
  return PutObjectResponse{.etag = response->Header("etag").value_or(""),
                           .version_id = response->Header("x-amz-version-id").value_or("")};
}

Result<CopyObjectResponse> CurlObjectStore::CopyObject(const CopyObjectRequest& request) {
  S3M_RETURN_IF_ERROR(ValidateKey(request.source_key));
  S3M_RETURN_IF_ERROR(ValidateKey(request.destination_key));
  S3Request s3_request{.method = "PUT", .key = request.destination_key, .slow_reply = true};
  HeaderList& headers = s3_request.headers;
  headers.emplace_back("x-amz-copy-source", CopySource(bucket_, request.source_key));
  if (request.metadata_directive == MetadataDirective::kReplace) {
    headers.emplace_back("x-amz-metadata-directive", "REPLACE");
    AddMetadataHeaders(request.content_type, request.user_metadata, headers,
                       request.stored_headers);
  } else {
    headers.emplace_back("x-amz-metadata-directive", "COPY");
  }
  if (request.source_if_match) {
    headers.emplace_back("x-amz-copy-source-if-match", *request.source_if_match);
  }
  auto response = transport_->Execute(s3_request);
  S3M_RETURN_IF_ERROR(response);
  return ParseCopyObjectResult(response->body);
}

Status CurlObjectStore::DeleteObject(const std::string& key) {
  S3M_RETURN_IF_ERROR(ValidateKey(key));
  auto response = transport_->Execute({.method = "DELETE", .key = key});
  S3M_RETURN_IF_ERROR(response);
  return OkStatus();
}

Result<DeleteObjectsResponse> CurlObjectStore::DeleteObjects(const std::vector<std::string>& keys) {
  DeleteObjectsResponse all;
  for (size_t start = 0; start < keys.size(); start += kMaxDeleteBatch) {
    const size_t end = std::min(keys.size(), start + kMaxDeleteBatch);
    std::vector<std::string> batch(keys.begin() + static_cast<std::ptrdiff_t>(start),
                                   keys.begin() + static_cast<std::ptrdiff_t>(end));
    auto body = BuildDeleteObjectsXml(batch, /*quiet=*/true);
    S3M_RETURN_IF_ERROR(body);
    S3Request s3_request{.method = "POST", .query = {{"delete", ""}}, .body = *body};
    s3_request.headers = {{"Content-Type", "application/xml"}, {"Content-MD5", Md5Base64(*body)}};
    auto response = transport_->Execute(s3_request);
    S3M_RETURN_IF_ERROR(response);
    auto result = ParseDeleteResult(response->body);
    S3M_RETURN_IF_ERROR(result);
    for (auto& failure : result->failures) all.failures.push_back(std::move(failure));
  }
  return all;
}

Result<std::string> CurlObjectStore::CreateMultipartUpload(
    const CreateMultipartUploadRequest& request) {
  S3M_RETURN_IF_ERROR(ValidateKey(request.key));
  // On a fresh connection: libcurl silently resends a request whose reused connection dies
  // before any reply, and a resent Create opens a second upload nobody knows of.
  S3Request s3_request{
      .method = "POST", .key = request.key, .query = {{"uploads", ""}}, .fresh_connection = true};
  AddMetadataHeaders(request.content_type, request.user_metadata, s3_request.headers,
                     request.stored_headers);
  s3_request.headers.emplace_back("x-amz-checksum-algorithm", "CRC32C");
  s3_request.headers.emplace_back("x-amz-checksum-type", "FULL_OBJECT");
  auto response = transport_->Execute(s3_request);
  S3M_RETURN_IF_ERROR(response);
  return ParseInitiateMultipartUpload(response->body);
}

Result<std::string> CurlObjectStore::UploadPart(const UploadPartRequest& request) {
  S3M_RETURN_IF_ERROR(ValidateKey(request.key));
  S3M_RETURN_IF_ERROR(ValidatePartNumber(request.part_number));
  S3Request s3_request{.method = "PUT",
                       .key = request.key,
                       .query = {{"partNumber", std::to_string(request.part_number)},
                                 {"uploadId", request.upload_id}},
                       .body = request.body};
  const uint32_t crc = Crc32c(request.body);
  AddBodyChecksum(crc, s3_request.headers);
  auto response = transport_->Execute(s3_request);
  S3M_RETURN_IF_ERROR(response);
  auto etag = response->Header("etag");
  if (!etag.has_value()) {
    return MakeError(ErrorCode::kInvalidResponse, "UploadPart reply has no ETag");
  }
  RememberPart(request.upload_id, request.part_number,
               {.crc32c = crc, .size = request.body.size()});
  return *etag;
}

Result<std::string> CurlObjectStore::UploadPartCopy(const UploadPartCopyRequest& request) {
  S3M_RETURN_IF_ERROR(ValidateKey(request.key));
  S3M_RETURN_IF_ERROR(ValidateKey(request.source_key));
  S3M_RETURN_IF_ERROR(ValidatePartNumber(request.part_number));
  S3Request s3_request{.method = "PUT",
                       .key = request.key,
                       .query = {{"partNumber", std::to_string(request.part_number)},
                                 {"uploadId", request.upload_id}},
                       .slow_reply = true};
  HeaderList& headers = s3_request.headers;
  headers.emplace_back("x-amz-copy-source", CopySource(bucket_, request.source_key));
  if (request.source_range) {
    headers.emplace_back("x-amz-copy-source-range", RangeHeader(*request.source_range));
  }
  if (request.source_if_match) {
    headers.emplace_back("x-amz-copy-source-if-match", *request.source_if_match);
  }
  auto response = transport_->Execute(s3_request);
  S3M_RETURN_IF_ERROR(response);
  auto result = ParseCopyObjectResult(response->body);
  S3M_RETURN_IF_ERROR(result);
  if (auto crc = ParseCrc32cBase64(result->checksum_crc32c)) {
    SentPart part{.crc32c = *crc, .size = 0, .size_known = false};
    if (request.source_range && request.source_range->last) {
      part.size = *request.source_range->last - request.source_range->first + 1;
      part.size_known = true;
    }
    RememberPart(request.upload_id, request.part_number, part);
  }
  return result->etag;
}

Result<PutObjectResponse> CurlObjectStore::CompleteMultipartUpload(
    const CompleteMultipartUploadRequest& request) {
  S3M_RETURN_IF_ERROR(ValidateKey(request.key));
  std::vector<CompletedPart> parts = request.parts;
  const std::optional<uint32_t> whole = FillPartChecksums(request.upload_id, parts);
  auto body = BuildCompleteMultipartUploadXml(parts);
  S3M_RETURN_IF_ERROR(body);
  S3Request s3_request{.method = "POST",
                       .key = request.key,
                       .query = {{"uploadId", request.upload_id}},
                       .headers = {{"Content-Type", "application/xml"}},
                       .body = *body,
                       .slow_reply = true,
                       .fresh_connection = true};
  if (whole.has_value()) {
    s3_request.headers.emplace_back("x-amz-checksum-crc32c", Crc32cBase64(*whole));
    s3_request.headers.emplace_back("x-amz-checksum-type", "FULL_OBJECT");
  }
  auto response = transport_->Execute(s3_request);
  S3M_RETURN_IF_ERROR(response);
  auto result = ParseCompleteMultipartUpload(response->body);
  S3M_RETURN_IF_ERROR(result);
  ForgetUpload(request.upload_id);
  if (auto version = response->Header("x-amz-version-id")) result->version_id = *version;
  return result;
}

Status CurlObjectStore::AbortMultipartUpload(const std::string& key, const std::string& upload_id) {
  S3M_RETURN_IF_ERROR(ValidateKey(key));
  auto response =
      transport_->Execute({.method = "DELETE", .key = key, .query = {{"uploadId", upload_id}}});
  if (response.ok() || response.error().code == ErrorCode::kNoSuchUpload) ForgetUpload(upload_id);
  S3M_RETURN_IF_ERROR(response);
  return OkStatus();
}

Result<ListPartsPage> CurlObjectStore::ListParts(const ListPartsRequest& request) {
  S3M_RETURN_IF_ERROR(ValidateKey(request.key));
  S3Request s3_request{.method = "GET", .key = request.key};
  s3_request.query = {{"uploadId", request.upload_id},
                      {"max-parts", std::to_string(std::clamp(request.max_parts, 1, 1000))}};
  if (request.part_number_marker > 0) {
    s3_request.query.emplace_back("part-number-marker", std::to_string(request.part_number_marker));
  }
  auto response = transport_->Execute(s3_request);
  S3M_RETURN_IF_ERROR(response);
  return ParseListParts(response->body);
}

Result<ListUploadsPage> CurlObjectStore::ListMultipartUploads(const ListUploadsRequest& request) {
  S3Request s3_request{.method = "GET"};
  s3_request.query = {{"uploads", ""}};
  if (!request.prefix.empty()) s3_request.query.emplace_back("prefix", request.prefix);
  if (!request.key_marker.empty()) s3_request.query.emplace_back("key-marker", request.key_marker);
  if (!request.upload_id_marker.empty()) {
    s3_request.query.emplace_back("upload-id-marker", request.upload_id_marker);
  }
  auto response = transport_->Execute(s3_request);
  S3M_RETURN_IF_ERROR(response);
  return ParseListMultipartUploads(response->body);
}

void CurlObjectStore::RememberPart(const std::string& upload_id, int part_number, SentPart part) {
  std::lock_guard lock(parts_mu_);
  sent_parts_[upload_id][part_number] = part;
}

void CurlObjectStore::ForgetUpload(const std::string& upload_id) {
  std::lock_guard lock(parts_mu_);
  sent_parts_.erase(upload_id);
}

std::optional<uint32_t> CurlObjectStore::FillPartChecksums(const std::string& upload_id,
                                                           std::vector<CompletedPart>& parts) {
  std::lock_guard lock(parts_mu_);
  auto upload = sent_parts_.find(upload_id);
  std::optional<uint32_t> whole = 0;
  for (CompletedPart& part : parts) {
    std::optional<SentPart> sent;
    if (upload != sent_parts_.end()) {
      if (auto it = upload->second.find(part.part_number); it != upload->second.end()) {
        sent = it->second;
      }
    }
    if (part.checksum_crc32c.empty() && sent.has_value()) {
      part.checksum_crc32c = Crc32cBase64(sent->crc32c);
    }
    // The whole object's CRC32C needs every part's CRC32C and size.
    const auto crc = ParseCrc32cBase64(part.checksum_crc32c);
    const bool size_known = part.size > 0 || (sent.has_value() && sent->size_known);
    const uint64_t size = part.size > 0 ? part.size : (sent.has_value() ? sent->size : 0);
    if (!whole.has_value() || !crc.has_value() || !size_known) {
      whole.reset();
      continue;
    }
    whole = Crc32cCombine(*whole, *crc, size);
  }
  return whole;
}

}  // namespace s3mount
