// The `-o` option table (see mount_option_table.h): the value parsers, one row per option
// with what it does to the config and what --help says of it, the options passed to the
// kernel or ignored, and the --help text and option list generated from them.
#include "app/mount_option_table.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <span>
#include <string>

#include "s3mount/aws/url.h"
#include "s3mount/common/logging.h"
#include "s3mount/common/strings.h"

namespace s3mount {
namespace {

using Builder = MountConfigBuilder;

Error Invalid(std::string message) { return InvalidOption(std::move(message)); }

constexpr uint32_t kMaxId = 4'294'967'294U;  // (uid_t)-1 means "no change" to chown
constexpr double kMaxTtlSeconds = 10.0 * 365 * 24 * 3600;
constexpr uint32_t kMaxLowSpeedSeconds = 3600;
constexpr uint64_t kMaxCacheBytes = uint64_t{1} << 40;
constexpr uint64_t kMaxReadaheadBytes = uint64_t{1} << 30;
constexpr uint32_t kMaxDirReadaheadFiles = 1024;
constexpr uint64_t kMaxStagingBytes = uint64_t{1} << 50;
constexpr uint64_t kMaxWriteBufferBytes = uint64_t{64} << 30;
constexpr uint64_t kMinWriteBufferBytes = uint64_t{16} << 20;
constexpr uint32_t kMaxThreads = 1024;

// Accepted and ignored: options mount(8), fstab and systemd pass that mean nothing to us, and
// atime variants (the kernel does not track atime on FUSE mounts we serve).
constexpr std::array<std::string_view, 17> kIgnoredOptions = {
    "defaults",   "auto",        "noauto",        "user",     "nouser", "users",
    "owner",      "group",       "_netdev",       "nofail",   "atime",  "relatime",
    "norelatime", "strictatime", "nostrictatime", "lazytime", "async"};
// Ignored too: every option starting with one of these (as --help shows them).
constexpr std::array<std::string_view, 3> kIgnoredPrefixes = {"x-", "comment=", "user="};
constexpr std::array<std::string_view, 3> kIgnoredPrefixForms = {"x-*", "comment=...", "user=..."};
// Passed on to FUSE, which turns them into mount flags.
constexpr std::array<std::string_view, 10> kKernelFlags = {
    "dev", "nodev", "suid", "nosuid", "exec", "noexec", "noatime", "nodiratime", "sync", "dirsync"};

// ---- value parsers: each returns the reason, and the caller prefixes "name=value: ". ----

Result<uint32_t> ParseId(std::string_view text) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec == std::errc::invalid_argument || end != text.data() + text.size()) {
    return Invalid("not a number");
  }
  if (ec == std::errc::result_out_of_range || value > kMaxId) return Invalid("out of range");
  return static_cast<uint32_t>(value);
}

Result<uint32_t> ParseOctal(std::string_view text, uint32_t max) {
  uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 8);
  if (text.empty() || ec == std::errc::invalid_argument || end != text.data() + text.size()) {
    return Invalid("not an octal number");
  }
  if (ec == std::errc::result_out_of_range || value > max) {
    char limit[16];
    std::snprintf(limit, sizeof(limit), "0%o", max);
    return Invalid(std::string("must be at most ") + limit);
  }
  return value;
}

Result<uint32_t> ParseCount(std::string_view text, uint32_t min, uint32_t max) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec == std::errc::invalid_argument || end != text.data() + text.size()) {
    return Invalid("not a number");
  }
  if (ec == std::errc::result_out_of_range || value < min || value > max) {
    return Invalid("must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return static_cast<uint32_t>(value);
}

// A non-negative decimal number ("1", "0.25", "1e3"); never "inf", "nan" or a sign.
Result<double> ParseNonNegative(std::string_view text, size_t* consumed) {
  if (text.empty() || !(IsAsciiDigit(text.front()) || text.front() == '.')) {
    return Invalid("not a number");
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || !std::isfinite(value)) return Invalid("not a number");
  *consumed = static_cast<size_t>(end - text.data());
  return value;
}

Result<std::chrono::nanoseconds> ParseSeconds(std::string_view text) {
  size_t consumed = 0;
  auto seconds = ParseNonNegative(text, &consumed);
  if (!seconds.ok() || consumed != text.size()) return Invalid("not a number of seconds");
  if (*seconds > kMaxTtlSeconds) return Invalid("must be at most 315360000 seconds (10 years)");
  return std::chrono::nanoseconds(std::llround(*seconds * 1e9));
}

// "1048576", "512K", "256M", "1.5G", "1T" (powers of 1024; "KiB", "KB" and lower case too).
Result<uint64_t> ParseByteSize(std::string_view text, uint64_t max) {
  size_t consumed = 0;
  auto number = ParseNonNegative(text, &consumed);
  const Error bad = Invalid("not a size (a number with an optional K, M, G or T suffix)");
  if (!number.ok()) return bad;
  const std::string suffix = AsciiLower(text.substr(consumed));
  double multiplier = 1;
  if (!suffix.empty() && suffix != "b") {
    const size_t unit = std::string_view("kmgt").find(suffix[0]);
    if (unit == std::string_view::npos) return bad;
    const std::string_view rest = std::string_view(suffix).substr(1);
    if (!rest.empty() && rest != "b" && rest != "ib") return bad;
    multiplier = std::ldexp(1.0, 10 * static_cast<int>(unit + 1));
  }
  const double bytes = std::floor(*number * multiplier);
  if (bytes > static_cast<double>(max)) {
    return Invalid("must be at most " + std::to_string(max >> 30) + " GiB");
  }
  return static_cast<uint64_t>(bytes);
}

Status NotEmpty(std::string_view text) {
  if (text.empty()) return Invalid("must not be empty");
  return OkStatus();
}

// "arn:PARTITION:iam::ACCOUNT:role/NAME" (the shape STS accepts).
Status ValidRoleArn(std::string_view text) {
  const size_t role = text.find(":role/");
  if (!text.starts_with("arn:") || text.find(":iam::") == std::string_view::npos ||
      role == std::string_view::npos || role + 6 >= text.size()) {
    return Invalid("not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)");
  }
  return OkStatus();
}

// Parsed by the one URL parser the clients use (aws/url.h), which never repeats the URL.
Status HttpUrl(std::string_view text) {
  auto url = ParseHttpUrl(text);
  if (!url.ok()) {
    return Invalid("not a usable http:// or https:// URL: it " + url.error().message);
  }
  return OkStatus();
}

// ---- the option table ----

using ApplyFunction = Status (*)(std::string_view value, Builder& b);

// The --help groups, in the order shown.
enum class Group {
  kS3,
  kCredentials,
  kPermissions,
  kCaching,
  kWriting,
  kEvents,
  kFiltering,
  kLogging,
  kMount
};

struct GroupSpec {
  Group group;
  std::string_view heading;  // its --help heading, lines split by '\n'
};

constexpr GroupSpec kGroups[] = {
    {Group::kS3, "S3:"},
    {Group::kCredentials,
     "Credentials (default: the AWS CLI's chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,\n"
     "the profile named by AWS_PROFILE or \"default\" (static keys, role_arn with\n"
     "source_profile or credential_source, web identity, SSO, credential_process),\n"
     "AWS_WEB_IDENTITY_TOKEN_FILE, the container endpoint, EC2 instance metadata):"},
    {Group::kPermissions, "Permissions:"},
    {Group::kCaching, "Caching:"},
    {Group::kWriting, "Writing:"},
    {Group::kEvents, "Change notifications (the three TTLs above then default to 3600):"},
    {Group::kFiltering,
     "Filtering (patterns as fnmatch(3) on paths below the mount root; repeatable):"},
    {Group::kLogging, "Logging:"},
    {Group::kMount, "FUSE and mount:"},
};

struct OptionSpec {
  std::string_view name;
  std::string_view value;  // what --help calls the value ("URL"); empty for a flag
  Group group;
  // The --help text, lines split by '\n'; empty: described together with the row before,
  // which names it beside its own.
  std::string_view help;
  ApplyFunction apply;

  bool takes_value() const { return !value.empty(); }
};

// Stores the parsed value of `parsed` into `field`, or returns its error.
template <typename T, typename U>
Status Store(Result<T> parsed, U& field) {
  if (!parsed.ok()) return std::move(parsed).error();
  field = std::move(parsed).value();
  return OkStatus();
}

Status SetLogLevel(std::string_view value, Builder& b) {
  std::string level = AsciiLower(value);
  if (level == "warning") level = "warn";
  constexpr std::array<std::string_view, 7> kLevels = {"trace", "debug",    "info", "warn",
                                                       "error", "critical", "off"};
  for (std::string_view known : kLevels) {
    if (level == known) {
      b.config.log_level = level;
      b.log_level_set = true;
      return OkStatus();
    }
  }
  return Invalid("not a log level (trace, debug, info, warn, error, critical, off)");
}

Status SetRegion(std::string_view value, Builder& b) {
  for (char c : value) {
    if (!IsAsciiAlnum(c) && c != '-' && c != '_' && c != '.') return Invalid("not a region name");
  }
  S3M_RETURN_IF_ERROR(NotEmpty(value));
  b.config.s3.endpoint.region = std::string(value);
  b.config.region_set = true;
  return OkStatus();
}

// A row that stores a non-empty value in the string `field(b)`.
template <auto field>
Status SetText(std::string_view value, Builder& b) {
  S3M_RETURN_IF_ERROR(NotEmpty(value));
  field(b) = std::string(value);
  return OkStatus();
}

// A flag row that sets the bool `field(b)` to `to`.
template <auto field, bool to>
Status SetFlag(std::string_view /*value*/, Builder& b) {
  field(b) = to;
  return OkStatus();
}

constexpr ApplyFunction SetAnonymous =
    SetFlag<[](Builder& b) -> bool& { return b.anonymous; }, true>;

// clang-format off
constexpr OptionSpec kOptions[] = {
  {"endpoint", "URL", Group::kS3,
   "S3-compatible endpoint, http(s)://host[:port][/path]\n(default: AWS for the region)",
   [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(NotEmpty(v));
     b.endpoint_text = std::string(v);
     b.config.s3.endpoint.endpoint_url = std::string(v);
     return OkStatus(); }},
  {"region", "NAME", Group::kS3,
   "signing region (default: AWS_REGION, AWS_DEFAULT_REGION,\nthe profile's region, else "
   "us-east-1; S3's region\nredirects are followed)", SetRegion},
  {"path_style", "", Group::kS3,
   "address the bucket as host/bucket, not bucket.host\n(default for custom endpoints)",
   [](std::string_view, Builder& b) -> Status {
     b.config.s3.endpoint.force_path_style = true; return OkStatus(); }},
  {"virtual_hosted", "", Group::kS3,
   "address the bucket as bucket.host on a custom endpoint\ntoo (default for AWS)",
   [](std::string_view, Builder& b) -> Status {
     b.config.s3.endpoint.force_virtual_hosted = true; return OkStatus(); }},
  {"ca_bundle", "FILE", Group::kS3, "trust the CA certificates in FILE, not the system's",
   [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(NotEmpty(v));
     b.config.s3.http.ca_bundle = std::string(v); return OkStatus(); }},
  {"no_verify_tls", "", Group::kS3, "do not verify the server's TLS certificate (unsafe)",
   [](std::string_view, Builder& b) -> Status {
     b.config.s3.http.verify_tls = false; return OkStatus(); }},
  {"low_speed_time", "SECONDS", Group::kS3,
   "abandon (and retry) a transfer stalled that long\n(default: 30; not a Complete or a copy, "
   "which S3\nmay take minutes to answer: they have 15 minutes)",
   [](std::string_view v, Builder& b) -> Status {
     auto seconds = ParseCount(v, 1, kMaxLowSpeedSeconds); S3M_RETURN_IF_ERROR(seconds);
     b.config.s3.http.low_speed_time = std::chrono::seconds(*seconds); return OkStatus(); }},

  {"profile", "NAME", Group::kCredentials,
   "only profile NAME of ~/.aws/credentials and ~/.aws/config\n(AWS_SHARED_CREDENTIALS_FILE, "
   "AWS_CONFIG_FILE), any kind",
   SetText<[](Builder& b) -> std::string& { return b.profile; }>},
  {"credentials_file", "FILE", Group::kCredentials,
   "read FILE in place of ~/.aws/credentials; changes\nto it are used without a remount",
   SetText<[](Builder& b) -> std::string& { return b.credentials_file; }>},
  {"passwd_file", "FILE", Group::kCredentials,
   "s3fs-style file of ACCESS_KEY:SECRET or\nBUCKET:ACCESS_KEY:SECRET lines; mode 0600 or "
   "stricter",
   SetText<[](Builder& b) -> std::string& { return b.passwd_file; }>},
  {"access_key_id", "ID", Group::kCredentials,
   "keys as options (visible to local users: avoid)",
   SetText<[](Builder& b) -> std::string& { return b.access_key_id; }>},
  {"secret_access_key", "KEY", Group::kCredentials, "",
   SetText<[](Builder& b) -> std::string& { return b.secret_access_key; }>},
  {"session_token", "TOKEN", Group::kCredentials, "",
   SetText<[](Builder& b) -> std::string& { return b.session_token; }>},
  {"role_arn", "ARN", Group::kCredentials,
   "then assume this IAM role with STS (cross-account)",
   [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(ValidRoleArn(v));
     b.config.credentials.role_arn = std::string(v); return OkStatus(); }},
  {"role_session_name", "NAME", Group::kCredentials, "for role_arn=",
   SetText<[](Builder& b) -> std::string& { return b.config.credentials.role_session_name; }>},
  {"external_id", "ID", Group::kCredentials, "",
   SetText<[](Builder& b) -> std::string& { return b.config.credentials.external_id; }>},
  {"sts_endpoint", "URL", Group::kCredentials,
   "STS endpoint (default: AWS_ENDPOINT_URL_STS, the\nendpoint= of a custom store, else "
   "sts.REGION.amazonaws.com)",
   [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(HttpUrl(v));
     b.config.credentials.sts_endpoint = std::string(v); return OkStatus(); }},
  {"anonymous", "", Group::kCredentials, "send unsigned requests (public buckets)",
   SetAnonymous},
  {"public", "", Group::kCredentials, "", SetAnonymous},

  {"ro", "", Group::kPermissions, "mount read-only / read-write (default: rw)",
   SetFlag<[](Builder& b) -> bool& { return b.config.read_only; }, true>},
  {"rw", "", Group::kPermissions, "",
   SetFlag<[](Builder& b) -> bool& { return b.config.read_only; }, false>},
  {"uid", "N", Group::kPermissions, "owner of files without s3fs metadata (default: you)",
   [](std::string_view v, Builder& b) -> Status {
     return Store(ParseId(v), b.config.attributes.uid); }},
  {"gid", "N", Group::kPermissions, "",
   [](std::string_view v, Builder& b) -> Status {
     return Store(ParseId(v), b.config.attributes.gid); }},
  {"file_mode", "OCTAL", Group::kPermissions, "mode of files without metadata (default: 0644)",
   [](std::string_view v, Builder& b) -> Status {
     return Store(ParseOctal(v, 07777), b.config.attributes.file_permissions); }},
  {"dir_mode", "OCTAL", Group::kPermissions,
   "mode of directories without metadata (default: 0755)",
   [](std::string_view v, Builder& b) -> Status {
     return Store(ParseOctal(v, 07777), b.config.attributes.dir_permissions); }},
  {"umask", "OCTAL", Group::kPermissions, "bits cleared from every mode (default: 0)",
   [](std::string_view v, Builder& b) -> Status {
     return Store(ParseOctal(v, 0777), b.config.attributes.umask); }},
  {"no_object_metadata", "", Group::kPermissions,
   "trust listings: no HEAD per file (modes and owners\nare then the defaults)",
   SetFlag<[](Builder& b) -> bool& { return b.config.object_metadata; }, false>},
  {"allow_other", "", Group::kPermissions,
   "let other users access the mount (needs\nuser_allow_other in /etc/fuse.conf unless root)",
   SetFlag<[](Builder& b) -> bool& { return b.config.allow_other; }, true>},
  {"allow_root", "", Group::kPermissions, "let root access the mount too (not with allow_other)",
   SetFlag<[](Builder& b) -> bool& { return b.config.allow_root; }, true>},
  {"default_permissions", "", Group::kPermissions,
   "let the kernel check modes against the caller",
   SetFlag<[](Builder& b) -> bool& { return b.config.default_permissions; }, true>},

  {"stat_ttl", "SECONDS", Group::kCaching,
   "how long attributes are trusted (default: 60; seconds\nmay be fractional; 0 disables it, "
   "as for the next two)",
   [](std::string_view v, Builder& b) -> Status {
     b.stat_ttl_set = true; return Store(ParseSeconds(v), b.config.stat_ttl); }},
  {"negative_ttl", "SECONDS", Group::kCaching,
   "how long \"does not exist\" is trusted (default: 5)",
   [](std::string_view v, Builder& b) -> Status {
     b.negative_ttl_set = true; return Store(ParseSeconds(v), b.config.negative_ttl); }},
  {"list_ttl", "SECONDS", Group::kCaching,
   "how long directory listings are trusted (default: 60)",
   [](std::string_view v, Builder& b) -> Status {
     b.list_ttl_set = true; return Store(ParseSeconds(v), b.config.list_ttl); }},
  {"cache_size", "SIZE", Group::kCaching,
   "memory block cache, e.g. 512M, 2G; 0 disables\n(default: 256M; K, M, G, T are powers of "
   "1024)",
   [](std::string_view v, Builder& b) -> Status {
     return Store(ParseByteSize(v, kMaxCacheBytes), b.config.cache_bytes); }},
  {"readahead", "SIZE", Group::kCaching,
   "most bytes read ahead of sequential reads (default: 64M)",
   [](std::string_view v, Builder& b) -> Status {
     return Store(ParseByteSize(v, kMaxReadaheadBytes), b.config.readahead_bytes); }},
  {"dir_readahead", "N", Group::kCaching,
   "small files fetched ahead of a program opening a\ndirectory's files in listing order, "
   "e.g. cat dir/*\n(default: 32; 0: off)",
   [](std::string_view v, Builder& b) -> Status {
     return Store(ParseCount(v, 0, kMaxDirReadaheadFiles), b.config.dir_readahead_files); }},
  {"max_threads", "N", Group::kCaching,
   "FUSE worker threads: requests served at once, 1 to\n1024 (default: 16)",
   [](std::string_view v, Builder& b) -> Status {
     return Store(ParseCount(v, 1, kMaxThreads), b.config.max_threads); }},

  {"cache_dir", "DIR", Group::kWriting,
   "where files written out of order are staged until\nuploaded (default: "
   "$XDG_CACHE_HOME/s3mount, else\n~/.cache/s3mount, else $TMPDIR/s3mount-UID)",
   [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(NotEmpty(v));
     if (v.front() != '/') return Invalid("must be an absolute path");
     b.config.cache_dir = std::string(v); return OkStatus(); }},
  {"cache_limit", "SIZE", Group::kWriting,
   "most bytes staged at once; beyond it writes fail\nwith ENOSPC (default: 10G)",
   [](std::string_view v, Builder& b) -> Status {
     return Store(ParseByteSize(v, kMaxStagingBytes), b.config.cache_limit); }},
  {"write_buffer", "SIZE", Group::kWriting,
   "memory for parts of files being uploaded while\nwritten (default: 256M; at least 16M)",
   [](std::string_view v, Builder& b) -> Status {
     auto size = ParseByteSize(v, kMaxWriteBufferBytes);
     if (size.ok() && *size < kMinWriteBufferBytes) return Invalid("must be at least 16M");
     return Store(std::move(size), b.config.write_buffer); }},
  {"writeback", "", Group::kWriting,
   "close() and unlink() return before S3 has the change:\nuploads and deletes are queued, "
   "in order per file, and\nsent in the background (like JuiceFS --writeback, rclone\n"
   "--vfs-write-back; not the kernel's writeback cache).\nfsync, rename, rmdir and unmount "
   "wait for them; a crash\nloses what is queued (default: off: close waits for S3)",
   SetFlag<[](Builder& b) -> bool& { return b.config.writeback; }, true>},

  {"sqs_queue_url", "URL", Group::kEvents,
   "apply the bucket's S3 event notifications from this SQS\nqueue (signed like S3)",
   [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(HttpUrl(v));
     b.config.events.sqs_queue_url = std::string(v); return OkStatus(); }},
  {"sqs_region", "NAME", Group::kEvents, "the queue's region, if not in its URL",
   SetText<[](Builder& b) -> std::string& { return b.config.events.sqs_region; }>},
  {"redis_url", "redis://[:PASSWORD@]HOST[:PORT][/DB]", Group::kEvents,
   "... or from Redis, with one of:",
   [](std::string_view v, Builder& b) -> Status {
     if (!v.starts_with("redis://")) return Invalid("must be a redis:// URL");
     b.config.events.redis_url = std::string(v); return OkStatus(); }},
  {"redis_channel", "NAME", Group::kEvents, "SUBSCRIBE: each message is S3 event JSON",
   SetText<[](Builder& b) -> std::string& { return b.config.events.redis_channel; }>},
  {"redis_list", "KEY", Group::kEvents, "MinIO's Redis target, format=access (BLMOVE, reliable)",
   SetText<[](Builder& b) -> std::string& { return b.config.events.redis_list; }>},

  {"include", "GLOB", Group::kFiltering, "show only matching objects",
   [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(NotEmpty(v));
     b.config.include.emplace_back(v); return OkStatus(); }},
  {"exclude", "GLOB", Group::kFiltering, "hide matching objects (wins over include)",
   [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(NotEmpty(v));
     b.config.exclude.emplace_back(v); return OkStatus(); }},

  {"log_level", "LEVEL", Group::kLogging,
   "trace, debug, info, warn, error, critical, off\n(default: info; debug with -d)",
   SetLogLevel},
  {"log_file", "FILE", Group::kLogging,
   "log to FILE (default: stderr in the foreground,\nsyslog in the background)",
   SetText<[](Builder& b) -> std::string& { return b.config.log_file; }>},

  {"fsname", "NAME", Group::kMount, "source shown in /proc/mounts (default: BUCKET[:/PREFIX])",
   SetText<[](Builder& b) -> std::string& { return b.fsname; }>},
  {"subtype", "NAME", Group::kMount, "file system subtype (default: s3mount)",
   SetText<[](Builder& b) -> std::string& { return b.subtype; }>},
  {"auto_unmount", "", Group::kMount, "unmount when s3mount exits",
   SetFlag<[](Builder& b) -> bool& { return b.auto_unmount; }, true>},
};
// clang-format on

bool IsIgnored(std::string_view option) {
  for (std::string_view name : kIgnoredOptions) {
    if (option == name) return true;
  }
  for (std::string_view prefix : kIgnoredPrefixes) {
    if (option.substr(0, prefix.size()) == prefix) return true;
  }
  return false;
}

// ---- --help ----

constexpr size_t kHelpColumn = 25;  // where the help text starts
constexpr size_t kHelpWidth = 80;

// `items` joined by ", " after two spaces, wrapped below kHelpWidth onto lines that start
// with five spaces (where the option list test looks for them). No final '\n'.
std::string WrapSynopsis(const std::vector<std::string>& items) {
  std::string out = "  ";
  size_t line_start = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string piece = items[i] + (i + 1 < items.size() ? "," : "");
    if (i > 0 && out.size() - line_start + 1 + piece.size() >= kHelpWidth - 2) {
      out += "\n";
      line_start = out.size();
      out += "     ";
    } else if (i > 0) {
      out += " ";
    }
    out += piece;
  }
  return out;
}

// The synopsis of `items`, then `help` (lines split by '\n') from kHelpColumn: its first
// line beside a short synopsis, below a long one.
void AppendEntry(std::string& out, const std::vector<std::string>& items, std::string_view help) {
  const std::string synopsis = WrapSynopsis(items);
  out += synopsis;
  const bool beside =
      synopsis.find('\n') == std::string::npos && synopsis.size() + 2 <= kHelpColumn;
  size_t column = synopsis.size();
  if (!beside) {
    out += '\n';
    column = 0;
  }
  for (size_t start = 0;;) {
    const size_t end = help.find('\n', start);
    out += std::string(kHelpColumn - column, ' ');
    out += help.substr(start, end == std::string_view::npos ? end : end - start);
    out += '\n';
    column = 0;
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
}

}  // namespace

Status ApplyMountOption(std::string_view option, Builder& b) {
  if (option.empty() || IsIgnored(option)) return OkStatus();
  for (std::string_view flag : kKernelFlags) {
    if (option == flag) {
      b.kernel_flags.emplace_back(flag);
      return OkStatus();
    }
  }
  const size_t equals = option.find('=');
  const std::string_view name = option.substr(0, equals);
  for (const OptionSpec& spec : kOptions) {
    if (spec.name != name) continue;
    if (spec.takes_value() && equals == std::string_view::npos) {
      return Invalid("option '" + std::string(name) + "' needs a value (" + std::string(name) +
                     "=...)");
    }
    if (!spec.takes_value() && equals != std::string_view::npos) {
      return Invalid("option '" + std::string(name) + "' takes no value");
    }
    const std::string_view value =
        equals == std::string_view::npos ? std::string_view() : option.substr(equals + 1);
    Status applied = spec.apply(value, b);
    if (!applied.ok()) {
      return Invalid(RedactSecrets(std::string(option)) + ": " + applied.error().message);
    }
    return OkStatus();
  }
  // The value of an unknown option is not repeated: it may be a mistyped secret.
  return Invalid("unknown option '" + std::string(name) +
                 (equals == std::string_view::npos ? "'" : "=...'"));
}

std::string MountOptionsHelp() {
  std::string out;
  for (const GroupSpec& group : kGroups) {
    out += "\n";
    out += group.heading;
    out += "\n";
    const std::span<const OptionSpec> rows(kOptions);
    for (size_t i = 0; i < rows.size(); ++i) {
      if (rows[i].group != group.group) continue;
      // This row and the ones after it that it describes (empty help).
      std::vector<std::string> items;
      size_t j = i;
      do {
        const OptionSpec& row = rows[j];
        items.push_back("-o " + std::string(row.name) +
                        (row.takes_value() ? "=" + std::string(row.value) : ""));
        ++j;
      } while (j < rows.size() && rows[j].help.empty());
      AppendEntry(out, items, rows[i].help);
      i = j - 1;
    }
    if (group.group != Group::kMount) continue;
    std::vector<std::string> flags(kKernelFlags.begin(), kKernelFlags.end());
    flags.front() = "-o " + flags.front();
    AppendEntry(out, flags, "passed to the kernel as mount flags");
    std::vector<std::string> ignored(kIgnoredOptions.begin(), kIgnoredOptions.end());
    ignored.insert(ignored.end(), kIgnoredPrefixForms.begin(), kIgnoredPrefixForms.end());
    ignored.front() = "-o " + ignored.front();
    AppendEntry(out, ignored, "accepted from mount(8) and fstab, and ignored");
  }
  return out;
}

std::vector<std::string> AcceptedMountOptions() {
  std::vector<std::string> names;
  for (const OptionSpec& spec : kOptions) {
    names.push_back(std::string(spec.name) + (spec.takes_value() ? "=" : ""));
  }
  names.insert(names.end(), kKernelFlags.begin(), kKernelFlags.end());
  names.insert(names.end(), kIgnoredOptions.begin(), kIgnoredOptions.end());
  names.insert(names.end(), kIgnoredPrefixes.begin(), kIgnoredPrefixes.end());
  return names;
}

}  // namespace s3mount
