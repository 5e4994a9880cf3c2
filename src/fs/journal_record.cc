// JournalRecord's text form: a header line, `field value` lines, an end line.
#include "fs/journal_record.h"

#include <charconv>
#include <cstdio>

namespace s3mount {
namespace {

constexpr std::string_view kHeader = "s3mount-journal 1";
constexpr std::string_view kEnd = "end";

std::string Escape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == '%' || byte >= 0x7f) {
      char hex[4];
      std::snprintf(hex, sizeof(hex), "%%%02X", byte);
      out += hex;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::string> Unescape(std::string_view value) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '%') {
      out.push_back(value[i]);
      continue;
    }
    unsigned int byte = 0;
    if (i + 2 >= value.size()) return std::nullopt;
    const auto [end, error] = std::from_chars(value.data() + i + 1, value.data() + i + 3, byte, 16);
    if (error != std::errc() || end != value.data() + i + 3) return std::nullopt;
    out.push_back(static_cast<char>(byte));
    i += 2;
  }
  return out;
}

std::optional<uint64_t> Number(std::string_view text) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

std::optional<JournalKind> KindNamed(std::string_view name) {
  for (JournalKind kind : {JournalKind::kUpload, JournalKind::kStaged, JournalKind::kMultipart}) {
    if (JournalKindName(kind) == name) return kind;
  }
  return std::nullopt;
}

void Line(std::string& out, std::string_view field, std::string_view value) {
  out.append(field).append(" ").append(Escape(value)).append("\n");
}

// Applies one `field value` line; false when the field is unknown or its value malformed.
bool Apply(JournalRecord& record, std::string_view field, const std::string& value) {
  if (field == "kind") {
    auto kind = KindNamed(value);
    if (kind) record.kind = *kind;
    return kind.has_value();
  }
  if (field == "key") return record.key = value, true;
  if (field == "path") return record.path = value, true;
  if (field == "data") return record.data_file = value, true;
  if (field == "content-type") return record.content_type = value, true;
  if (field == "upload-id") return record.upload_id = value, true;
  if (field == "kept") return record.kept_reason = value, true;
  if (field == "replaces") return record.replaces_etag = value, true;
  if (field == "size" || field == "base-limit") {
    auto number = Number(value);
    if (number) (field == "size" ? record.size : record.base_limit) = *number;
    return number.has_value();
  }
  if (field == "range") {
    const size_t dash = value.find('-');
    if (dash == std::string::npos) return false;
    auto begin = Number(std::string_view(value).substr(0, dash));
    auto end = Number(std::string_view(value).substr(dash + 1));
    if (!begin || !end || *end < *begin) return false;
    record.written.push_back({*begin, *end});
    return true;
  }
  if (field == "meta") {
    const size_t space = value.find(' ');
    if (space == std::string::npos) return false;
    auto name = Unescape(std::string_view(value).substr(0, space));
    auto meta = Unescape(std::string_view(value).substr(space + 1));
    if (!name || !meta) return false;
    record.metadata[*name] = *meta;
    return true;
  }
  return false;
}

}  // namespace

std::string_view JournalKindName(JournalKind kind) {
  switch (kind) {
    case JournalKind::kUpload:
      return "upload";
    case JournalKind::kStaged:
      return "staged";
    case JournalKind::kMultipart:
      return "multipart";
  }
  return "staged";
}

std::string EncodeJournalRecord(const JournalRecord& record) {
  std::string out(kHeader);
  out += "\n";
  Line(out, "kind", JournalKindName(record.kind));
  Line(out, "key", record.key);
  if (!record.path.empty()) Line(out, "path", record.path);
  if (!record.data_file.empty()) Line(out, "data", record.data_file);
  for (const ByteSpan& span : record.written) {
    Line(out, "range", std::to_string(span.begin) + "-" + std::to_string(span.end));
  }
  Line(out, "size", std::to_string(record.size));
  if (record.replaces_etag) Line(out, "replaces", *record.replaces_etag);
  if (record.base_limit > 0) Line(out, "base-limit", std::to_string(record.base_limit));
  if (!record.content_type.empty()) Line(out, "content-type", record.content_type);
  for (const auto& [name, value] : record.metadata) {
    // Both halves escaped once more, so the space between them is the only one.
    Line(out, "meta", Escape(name) + " " + Escape(value));
  }
  if (!record.upload_id.empty()) Line(out, "upload-id", record.upload_id);
  if (!record.kept_reason.empty()) Line(out, "kept", record.kept_reason);
  out.append(kEnd).append("\n");
  return out;
}

Result<JournalRecord> DecodeJournalRecord(std::string_view text) {
  auto refuse = [](std::string_view why) {
    return MakeError(ErrorCode::kInvalidResponse, "not a journal record: " + std::string(why));
  };
  JournalRecord record;
  bool header = false;
  bool end = false;
  size_t at = 0;
  while (at < text.size()) {
    size_t newline = text.find('\n', at);
    if (newline == std::string_view::npos) return refuse("a line is cut short");
    const std::string_view line = text.substr(at, newline - at);
    at = newline + 1;
    if (!header) {
      if (line != kHeader) return refuse("unknown header");
      header = true;
      continue;
    }
    if (end) return refuse("text after the end");
    if (line == kEnd) {
      end = true;
      continue;
    }
    const size_t space = line.find(' ');
    if (space == std::string_view::npos) return refuse("a line without a value");
    auto value = Unescape(line.substr(space + 1));
    if (!value || !Apply(record, line.substr(0, space), *value)) {
      return refuse("bad field '" + std::string(line.substr(0, space)) + "'");
    }
  }
  if (!end) return refuse("no end line (cut short)");
  if (record.key.empty()) return refuse("no key");
  return record;
}

}  // namespace s3mount
