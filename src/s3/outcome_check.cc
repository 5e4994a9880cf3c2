// Outcome checks: ListParts and HEAD to learn whether an ambiguous request applied.
#include "s3mount/s3/outcome_check.h"

#include <algorithm>
#include <cctype>
#include <span>

#include "s3mount/aws/crypto.h"

namespace s3mount {
namespace {

std::string_view Unquoted(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    return etag.substr(1, etag.size() - 2);
  }
  return etag;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  const int lower = std::tolower(static_cast<unsigned char>(c));
  if (lower >= 'a' && lower <= 'f') return lower - 'a' + 10;
  return -1;
}

// The 16 bytes of an MD5 ETag, or nullopt when it is not 32 hex digits.
std::optional<std::string> Md5Bytes(std::string_view etag) {
  etag = Unquoted(etag);
  if (etag.size() != 32) return std::nullopt;
  std::string bytes;
  for (size_t i = 0; i < etag.size(); i += 2) {
    const int high = HexValue(etag[i]);
    const int low = HexValue(etag[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    bytes.push_back(static_cast<char>(high * 16 + low));
  }
  return bytes;
}

std::string Md5Hex(std::string_view data) {
  auto raw = Base64Decode(Md5Base64(data));
  if (!raw.ok()) return "";  // cannot happen: Md5Base64 is valid base64
  return HexEncode(std::span(reinterpret_cast<const unsigned char*>(raw->data()), raw->size()));
}

std::string Describe(const ObjectInfo& info) {
  return "ETag " + info.etag + ", " + std::to_string(info.size) + " bytes";
}

}  // namespace

std::string MultipartEtag(const std::vector<CompletedPart>& parts) {
  std::string concatenated;
  for (const CompletedPart& part : parts) {
    auto bytes = Md5Bytes(part.etag);
    if (!bytes) return "";
    concatenated += *bytes;
  }
  return "\"" + Md5Hex(concatenated) + "-" + std::to_string(parts.size()) + "\"";
}

std::string PutEtag(std::string_view body) { return "\"" + Md5Hex(body) + "\""; }

bool SameEtag(std::string_view a, std::string_view b) {
  a = Unquoted(a);
  b = Unquoted(b);
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

Result<CompletionCheck> CheckCompletion(ObjectStore& store,
                                        const CompleteMultipartUploadRequest& request) {
  auto listed =
      store.ListParts({.key = request.key, .upload_id = request.upload_id, .max_parts = 1});
  if (listed.ok()) return CompletionCheck{.state = CompletionState::kOpen};
  if (listed.error().code != ErrorCode::kNoSuchUpload) return std::move(listed).error();
  auto head = store.HeadObject({.key = request.key});
  if (!head.ok()) {
    if (head.error().code != ErrorCode::kNotFound) return std::move(head).error();
    return CompletionCheck{.state = CompletionState::kGone, .found = "no object"};
  }
  uint64_t size = 0;
  bool sizes_known = true;
  for (const CompletedPart& part : request.parts) {
    size += part.size;
    sizes_known = sizes_known && part.size > 0;
  }
  const std::string expected = MultipartEtag(request.parts);
  if (!expected.empty() && SameEtag(head->etag, expected) && (!sizes_known || head->size == size)) {
    return CompletionCheck{.state = CompletionState::kOurs,
                           .response = {.etag = head->etag, .version_id = head->version_id}};
  }
  return CompletionCheck{.state = CompletionState::kGone,
                         .found = Describe(*head) + " (ours would be ETag " + expected + ", " +
                                  (sizes_known ? std::to_string(size) : "?") + " bytes)"};
}

Result<std::optional<PutObjectResponse>> CheckPut(ObjectStore& store,
                                                  const PutObjectRequest& request) {
  auto head = store.HeadObject({.key = request.key});
  if (!head.ok()) {
    if (head.error().code != ErrorCode::kNotFound) return std::move(head).error();
    return std::optional<PutObjectResponse>();
  }
  // The metadata (mtime to the nanosecond) tells our object from another client's same bytes.
  if (head->size != request.body.size() || !SameEtag(head->etag, PutEtag(request.body)) ||
      head->user_metadata != request.user_metadata ||
      (!request.content_type.empty() && head->content_type != request.content_type)) {
    return std::optional<PutObjectResponse>();
  }
  return std::optional<PutObjectResponse>(
      PutObjectResponse{.etag = head->etag, .version_id = head->version_id});
}

Result<std::optional<CopyObjectResponse>> CheckCopy(ObjectStore& store,
                                                    const CopyObjectRequest& request) {
  auto destination = store.HeadObject({.key = request.destination_key});
  if (!destination.ok()) {
    if (destination.error().code != ErrorCode::kNotFound) return std::move(destination).error();
    return std::optional<CopyObjectResponse>();
  }
  // The source as the copy read it: unchanged since (when pinned), and not the destination
  // itself (an in-place copy changed it).
  std::optional<ObjectInfo> source;
  if (request.source_key != request.destination_key) {
    auto head = store.HeadObject({.key = request.source_key});
    if (head.ok()) {
      if (!request.source_if_match || SameEtag(head->etag, *request.source_if_match)) {
        source = std::move(head).value();
      }
    } else if (head.error().code != ErrorCode::kNotFound) {
      return std::move(head).error();
    }
  }
  const std::optional<CopyObjectResponse> not_ours;
  if (request.metadata_directive == MetadataDirective::kReplace) {
    if (destination->user_metadata != request.user_metadata) return not_ours;
    if (!request.content_type.empty() && destination->content_type != request.content_type) {
      return not_ours;
    }
  } else {
    if (!source || destination->user_metadata != source->user_metadata ||
        destination->content_type != source->content_type) {
      return not_ours;
    }
  }
  if (source && destination->size != source->size) return not_ours;
  // A copy keeps an MD5 ETag; a multipart one is recomputed, so only MD5s are compared.
  const std::string source_etag = source ? source->etag : request.source_if_match.value_or("");
  if (Md5Bytes(source_etag) && !SameEtag(destination->etag, source_etag)) return not_ours;
  return std::optional<CopyObjectResponse>(
      CopyObjectResponse{.etag = destination->etag, .last_modified = destination->last_modified});
}

Result<std::vector<std::string>> UnknownUploadsOf(
    ObjectStore& store, const std::string& key,
    const std::function<bool(const std::string& upload_id)>& known) {
  // Bounded: a key with more open uploads than this is not one we can reason about.
  constexpr int kMaxPages = 10;
  std::vector<std::string> unknown;
  ListUploadsRequest request{.prefix = key};
  for (int page_number = 0; page_number < kMaxPages; ++page_number) {
    auto page = store.ListMultipartUploads(request);
    if (!page.ok()) return std::move(page).error();
    for (const OpenUpload& upload : page->uploads) {
      if (upload.key == key && !known(upload.upload_id)) unknown.push_back(upload.upload_id);
    }
    // Listed in key order: past `key`, no upload of it follows.
    const bool past_key = !page->uploads.empty() && page->uploads.back().key > key;
    if (!page->is_truncated || past_key) return unknown;
    request.key_marker = page->next_key_marker;
    request.upload_id_marker = page->next_upload_id_marker;
  }
  return MakeError(ErrorCode::kInvalidResponse, "more than " + std::to_string(kMaxPages) +
                                                    " pages of open uploads under '" + key + "'");
}

}  // namespace s3mount
