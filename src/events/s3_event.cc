// Parsing of S3 event notification bodies (see include/s3mount/events/s3_event.h).
#include "s3mount/events/s3_event.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>

#include "s3mount/aws/uri_encoding.h"
#include "s3mount/common/strings.h"
#include "s3mount/common/time_format.h"

namespace s3mount {
namespace {

using nlohmann::json;

constexpr size_t kMaxQuotedBytes = 200;

Error Invalid(std::string what) {
  return MakeError(ErrorCode::kInvalidArgument, "S3 event message: " + std::move(what));
}

// `text` for an error message: at most kMaxQuotedBytes, in quotes.
std::string Quote(std::string_view text) {
  std::string quoted = "'" + std::string(text.substr(0, kMaxQuotedBytes));
  if (text.size() > kMaxQuotedBytes) quoted += "...";
  return quoted + "'";
}

Result<json> ParseJson(std::string_view text, std::string_view what) {
  if (text.size() > kMaxS3EventMessageBytes) {
    return Invalid(std::string(what) + " is " + std::to_string(text.size()) +
                   " bytes, more than the " + std::to_string(kMaxS3EventMessageBytes) +
                   " accepted");
  }
  if (TrimAsciiSpace(text).empty()) return Invalid(std::string(what) + " is empty");
  // nlohmann stops at a NUL byte; valid JSON never holds one.
  if (text.find('\0') != std::string_view::npos) {
    return Invalid(std::string(what) + " is not valid JSON (it holds a NUL byte)");
  }
  json parsed = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return Invalid(std::string(what) + " is not valid JSON");
  return parsed;
}

// The member `name` of `object` if it is a string; nullptr if absent or null; an error naming
// `where` if it has another type.
Result<const std::string*> OptionalString(const json& object, std::string_view name,
                                          std::string_view where) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return static_cast<const std::string*>(nullptr);
  if (!it->is_string()) {
    return Invalid(std::string(where) + std::string(name) + " is a " + it->type_name() +
                   ", not a string");
  }
  return &it->get_ref<const std::string&>();
}

// The member `name` of `object`, which must be a JSON object; `parent` is the path of
// `object` for messages ("s3.").
Result<const json*> RequiredObject(const json& object, std::string_view name,
                                   std::string_view where, std::string_view parent = "") {
  const std::string path = std::string(parent) + std::string(name);
  auto it = object.find(name);
  if (it == object.end()) return Invalid(std::string(where) + "has no " + path);
  if (!it->is_object()) {
    return Invalid(std::string(where) + path + " is a " + it->type_name() + ", not an object");
  }
  return &*it;
}

std::string_view WithoutQuotes(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return etag;
}

// Reads the s3.bucket / s3.object part of a record into `change`.
Status ReadObjectFields(const json& record, const std::string& where, ObjectChange* change) {
  auto s3 = RequiredObject(record, "s3", where);
  S3M_RETURN_IF_ERROR(s3);
  auto bucket = RequiredObject(**s3, "bucket", where, "s3.");
  S3M_RETURN_IF_ERROR(bucket);
  auto bucket_name = OptionalString(**bucket, "name", where + "s3.bucket.");
  S3M_RETURN_IF_ERROR(bucket_name);
  if (*bucket_name == nullptr || (*bucket_name)->empty()) {
    return Invalid(where + "has no s3.bucket.name");
  }
  change->bucket = **bucket_name;
  auto object = RequiredObject(**s3, "object", where, "s3.");
  S3M_RETURN_IF_ERROR(object);
  const std::string object_where = where + "s3.object.";
  auto key = OptionalString(**object, "key", object_where);
  S3M_RETURN_IF_ERROR(key);
  if (*key == nullptr) return Invalid(where + "has no s3.object.key");
  auto decoded = UrlDecode(**key, /*plus_is_space=*/true);
  if (!decoded.ok()) {
    return Invalid(object_where + "key " + Quote(**key) + " has an invalid percent escape");
  }
  if (decoded->empty()) return Invalid(object_where + "key is empty");
  change->key = std::move(*decoded);
  if (auto it = (*object)->find("size"); it != (*object)->end() && !it->is_null()) {
    if (!it->is_number_unsigned()) {
      return Invalid(object_where + "size is not a non-negative integer");
    }
    change->size = it->get<uint64_t>();
  }
  struct Field {
    std::string_view name;
    std::string* target;
  };
  for (Field field : {Field{"eTag", &change->etag}, Field{"sequencer", &change->sequencer},
                      Field{"versionId", &change->version_id}}) {
    auto value = OptionalString(**object, field.name, object_where);
    S3M_RETURN_IF_ERROR(value);
    if (*value != nullptr) *field.target = **value;
  }
  change->etag = std::string(WithoutQuotes(change->etag));
  return OkStatus();
}

// Adds the change one record describes to `out` (or counts it as skipped).
Status AddRecord(const json& record, const std::string& where, S3EventMessage* out) {
  if (!record.is_object()) {
    return Invalid(where + "is a " + std::string(record.type_name()) + ", not an object");
  }
  auto name = OptionalString(record, "eventName", where);
  S3M_RETURN_IF_ERROR(name);
  if (*name == nullptr) return Invalid(where + "has no eventName");
  std::string_view event_name = **name;
  if (event_name.starts_with("s3:")) event_name.remove_prefix(3);
  ObjectChange change;
  if (event_name.starts_with("ObjectCreated:")) {
    change.kind = ObjectChangeKind::kCreated;
  } else if (event_name.starts_with("ObjectRemoved:") ||
             event_name.starts_with("LifecycleExpiration:")) {
    // A lifecycle rule's expiry deletes the object (or hides it behind a delete marker).
    change.kind = ObjectChangeKind::kRemoved;
  } else {
    ++out->skipped_records;
    return OkStatus();
  }
  change.event_name = std::string(event_name);
  S3M_RETURN_IF_ERROR(ReadObjectFields(record, where, &change));
  auto time = OptionalString(record, "eventTime", where);
  S3M_RETURN_IF_ERROR(time);
  if (*time != nullptr) {
    change.event_time = **time;
    auto parsed = ParseIso8601(change.event_time);
    if (parsed.ok()) change.event_wall_time = *parsed;
  }
  out->changes.push_back(std::move(change));
  return OkStatus();
}

Status AddRecords(const json& records, const std::string& where, S3EventMessage* out) {
  if (!records.is_array()) {
    return Invalid(where + " is a " + std::string(records.type_name()) + ", not an array");
  }
  for (size_t i = 0; i < records.size(); ++i) {
    S3M_RETURN_IF_ERROR(AddRecord(records[i], where + "[" + std::to_string(i) + "]: ", out));
  }
  return OkStatus();
}

// MinIO's access format: `[{"Event":[<records>],"EventTime":"..."}, ...]`.
Status AddMinioEntries(const json& entries, S3EventMessage* out) {
  for (size_t i = 0; i < entries.size(); ++i) {
    const json& entry = entries[i];
    const std::string where = "entry " + std::to_string(i);
    if (!entry.is_object()) {
      return Invalid(where + " is a " + std::string(entry.type_name()) + ", not an object");
    }
    auto event = entry.find("Event");
    if (event == entry.end()) return Invalid(where + " has no Event list");
    if (event->is_null()) continue;
    S3M_RETURN_IF_ERROR(AddRecords(*event, where + " Event", out));
  }
  return OkStatus();
}

Status AddDocument(const json& document, bool inside_sns, S3EventMessage* out) {
  if (document.is_array()) return AddMinioEntries(document, out);
  if (!document.is_object()) {
    return Invalid(std::string("the body is a JSON ") + document.type_name() +
                   ", not an object or array");
  }
  if (auto records = document.find("Records"); records != document.end()) {
    return AddRecords(*records, "Records", out);
  }
  auto event = document.find("Event");
  if (event != document.end() && event->is_array()) return AddRecords(*event, "Event", out);
  if (event != document.end() && event->is_string()) {
    if (event->get_ref<const std::string&>() == "s3:TestEvent") {
      out->test_event = true;
      return OkStatus();
    }
    return Invalid("unknown Event " + Quote(event->get_ref<const std::string&>()));
  }
  auto type = OptionalString(document, "Type", "");
  S3M_RETURN_IF_ERROR(type);
  if (*type != nullptr && !inside_sns) {
    if (**type != "Notification") {
      return Invalid("an SNS message of Type " + Quote(**type) + " carries no S3 event");
    }
    auto message = OptionalString(document, "Message", "SNS ");
    S3M_RETURN_IF_ERROR(message);
    if (*message == nullptr) return Invalid("SNS notification has no Message");
    auto inner = ParseJson(**message, "the SNS Message");
    S3M_RETURN_IF_ERROR(inner);
    return AddDocument(*inner, /*inside_sns=*/true, out);
  }
  return Invalid(std::string(inside_sns ? "the SNS Message" : "the body") +
                 " has neither Records, an SNS envelope, nor an s3:TestEvent");
}

}  // namespace

Result<S3EventMessage> ParseS3EventMessage(std::string_view body) {
  auto document = ParseJson(body, "the body");
  S3M_RETURN_IF_ERROR(document);
  S3EventMessage message;
  S3M_RETURN_IF_ERROR(AddDocument(*document, /*inside_sns=*/false, &message));
  return message;
}

bool IsChangeRelevant(const ObjectChange& change, std::string_view bucket,
                      std::string_view prefix) {
  if (change.bucket != bucket) return false;
  if (prefix.empty()) return true;
  std::string_view key = change.key;
  if (prefix.back() == '/') return key.starts_with(prefix);
  return key.size() > prefix.size() && key.starts_with(prefix) && key[prefix.size()] == '/';
}

}  // namespace s3mount
