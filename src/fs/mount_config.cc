// ValidateMountConfig: the meaning, syntax, range and default of every s3mount option. One
// table row per `-o` option; each row's function parses the value into the config being
// built; cross-option checks and derived settings (FUSE options, absolute paths) come after.
#include "s3mount/fs/mount_config.h"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string_view>
#include <system_error>

#include "s3mount/common/logging.h"
#include "s3mount/common/strings.h"
#include "s3mount/s3/endpoint.h"

namespace s3mount {
namespace {

constexpr uint32_t kMaxId = 4'294'967'294U;  // (uid_t)-1 means "no change" to chown
constexpr double kMaxTtlSeconds = 10.0 * 365 * 24 * 3600;
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
constexpr std::array<std::string_view, 3> kIgnoredPrefixes = {"x-", "comment=", "user="};
// Passed on to FUSE, which turns them into mount flags.
constexpr std::array<std::string_view, 10> kKernelFlags = {
    "dev", "nodev", "suid", "nosuid", "exec", "noexec", "noatime", "nodiratime", "sync", "dirsync"};

bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiAlnum(char c) {
  return IsAsciiDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

// State while the options are applied in order.
struct Builder {
  MountConfig config;
  bool log_level_set = false;
  bool stat_ttl_set = false;
  bool negative_ttl_set = false;
  bool list_ttl_set = false;
  bool anonymous = false;
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  bool auto_unmount = false;
  std::string endpoint_text;
  std::string profile;
  std::string passwd_file;
  std::string credentials_file;
  std::string fsname;
  std::string subtype = "s3mount";
  std::vector<std::string> kernel_flags;
};

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

Status HttpUrl(std::string_view text) {
  if (!text.starts_with("http://") && !text.starts_with("https://")) {
    return Invalid("must be an http:// or https:// URL");
  }
  return OkStatus();
}

// ---- the option table ----

using ApplyFunction = Status (*)(std::string_view value, Builder& b);

struct OptionSpec {
  std::string_view name;
  bool takes_value;
  ApplyFunction apply;
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

// clang-format off
constexpr OptionSpec kOptions[] = {
  // S3.
  {"endpoint", true, [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(NotEmpty(v));
     b.endpoint_text = std::string(v);
     b.config.s3.endpoint.endpoint_url = std::string(v);
     return OkStatus(); }},
  {"region", true, SetRegion},
  {"path_style", false, [](std::string_view, Builder& b) -> Status {
     b.config.s3.endpoint.force_path_style = true; return OkStatus(); }},
  {"ca_bundle", true, [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(NotEmpty(v));
     b.config.s3.http.ca_bundle = std::string(v); return OkStatus(); }},
  {"no_verify_tls", false, [](std::string_view, Builder& b) -> Status {
     b.config.s3.http.verify_tls = false; return OkStatus(); }},
  // Credentials.
  {"profile", true, [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(NotEmpty(v)); b.profile = std::string(v); return OkStatus(); }},
  {"credentials_file", true, [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(NotEmpty(v)); b.credentials_file = std::string(v); return OkStatus(); }},
  {"passwd_file", true, [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(NotEmpty(v)); b.passwd_file = std::string(v); return OkStatus(); }},
  {"anonymous", false, [](std::string_view, Builder& b) -> Status {
     b.anonymous = true; return OkStatus(); }},
  {"public", false, [](std::string_view, Builder& b) -> Status {
     b.anonymous = true; return OkStatus(); }},
  {"role_arn", true, [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(ValidRoleArn(v));
     b.config.credentials.role_arn = std::string(v); return OkStatus(); }},
  {"role_session_name", true, [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(NotEmpty(v));
     b.config.credentials.role_session_name = std::string(v); return OkStatus(); }},
  {"external_id", true, [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(NotEmpty(v));
     b.config.credentials.external_id = std::string(v); return OkStatus(); }},
  {"sts_endpoint", true, [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(HttpUrl(v));
     b.config.credentials.sts_endpoint = std::string(v); return OkStatus(); }},
  {"access_key_id", true, [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(NotEmpty(v)); b.access_key_id = std::string(v); return OkStatus(); }},
  {"secret_access_key", true, [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(NotEmpty(v)); b.secret_access_key = std::string(v); return OkStatus(); }},
  {"session_token", true, [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(NotEmpty(v)); b.session_token = std::string(v); return OkStatus(); }},
  // Permissions.
  {"ro", false, [](std::string_view, Builder& b) -> Status {
     b.config.read_only = true; return OkStatus(); }},
  {"rw", false, [](std::string_view, Builder& b) -> Status {
     b.config.read_only = false; return OkStatus(); }},
  {"allow_other", false, [](std::string_view, Builder& b) -> Status {
     b.config.allow_other = true; return OkStatus(); }},
  {"allow_root", false, [](std::string_view, Builder& b) -> Status {
     b.config.allow_root = true; return OkStatus(); }},
  {"default_permissions", false, [](std::string_view, Builder& b) -> Status {
     b.config.default_permissions = true; return OkStatus(); }},
  {"uid", true, [](std::string_view v, Builder& b) -> Status {
     return Store(ParseId(v), b.config.attributes.uid); }},
  {"gid", true, [](std::string_view v, Builder& b) -> Status {
     return Store(ParseId(v), b.config.attributes.gid); }},
  {"umask", true, [](std::string_view v, Builder& b) -> Status {
     return Store(ParseOctal(v, 0777), b.config.attributes.umask); }},
  {"no_object_metadata", false, [](std::string_view, Builder& b) -> Status {
     b.config.object_metadata = false; return OkStatus(); }},
  {"file_mode", true, [](std::string_view v, Builder& b) -> Status {
     return Store(ParseOctal(v, 07777), b.config.attributes.file_permissions); }},
  {"dir_mode", true, [](std::string_view v, Builder& b) -> Status {
     return Store(ParseOctal(v, 07777), b.config.attributes.dir_permissions); }},
  // Caching.
  {"stat_ttl", true, [](std::string_view v, Builder& b) -> Status {
     b.stat_ttl_set = true; return Store(ParseSeconds(v), b.config.stat_ttl); }},
  {"negative_ttl", true, [](std::string_view v, Builder& b) -> Status {
     b.negative_ttl_set = true; return Store(ParseSeconds(v), b.config.negative_ttl); }},
  {"list_ttl", true, [](std::string_view v, Builder& b) -> Status {
     b.list_ttl_set = true; return Store(ParseSeconds(v), b.config.list_ttl); }},
  // Change notifications.
  {"sqs_queue_url", true, [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(HttpUrl(v));
     b.config.events.sqs_queue_url = std::string(v); return OkStatus(); }},
  {"sqs_region", true, [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(NotEmpty(v));
     b.config.events.sqs_region = std::string(v); return OkStatus(); }},
  {"redis_url", true, [](std::string_view v, Builder& b) -> Status {
     if (!v.starts_with("redis://")) return Invalid("must be a redis:// URL");
     b.config.events.redis_url = std::string(v); return OkStatus(); }},
  {"redis_channel", true, [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(NotEmpty(v));
     b.config.events.redis_channel = std::string(v); return OkStatus(); }},
  {"redis_list", true, [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(NotEmpty(v));
     b.config.events.redis_list = std::string(v); return OkStatus(); }},
  {"cache_size", true, [](std::string_view v, Builder& b) -> Status {
     return Store(ParseByteSize(v, kMaxCacheBytes), b.config.cache_bytes); }},
  {"readahead", true, [](std::string_view v, Builder& b) -> Status {
     return Store(ParseByteSize(v, kMaxReadaheadBytes), b.config.readahead_bytes); }},
  {"dir_readahead", true, [](std::string_view v, Builder& b) -> Status {
     return Store(ParseCount(v, 0, kMaxDirReadaheadFiles), b.config.dir_readahead_files); }},
  {"cache_dir", true, [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(NotEmpty(v));
     if (v.front() != '/') return Invalid("must be an absolute path");
     b.config.cache_dir = std::string(v); return OkStatus(); }},
  {"cache_limit", true, [](std::string_view v, Builder& b) -> Status {
     return Store(ParseByteSize(v, kMaxStagingBytes), b.config.cache_limit); }},
  {"write_buffer", true, [](std::string_view v, Builder& b) -> Status {
     auto size = ParseByteSize(v, kMaxWriteBufferBytes);
     if (size.ok() && *size < kMinWriteBufferBytes) return Invalid("must be at least 16M");
     return Store(std::move(size), b.config.write_buffer); }},
  {"writeback", false, [](std::string_view, Builder& b) -> Status {
     b.config.writeback = true; return OkStatus(); }},
  {"max_threads", true, [](std::string_view v, Builder& b) -> Status {
     return Store(ParseCount(v, 1, kMaxThreads), b.config.max_threads); }},
  // Filtering.
  {"include", true, [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(NotEmpty(v));
     b.config.include.emplace_back(v); return OkStatus(); }},
  {"exclude", true, [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(NotEmpty(v));
     b.config.exclude.emplace_back(v); return OkStatus(); }},
  // Logging.
  {"log_level", true, SetLogLevel},
  {"log_file", true, [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(NotEmpty(v)); b.config.log_file = std::string(v); return OkStatus(); }},
  // FUSE and mount.
  {"fsname", true, [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(NotEmpty(v)); b.fsname = std::string(v); return OkStatus(); }},
  {"subtype", true, [](std::string_view v, Builder& b) -> Status {
     S3M_RETURN_IF_ERROR(NotEmpty(v)); b.subtype = std::string(v); return OkStatus(); }},
  {"auto_unmount", false, [](std::string_view, Builder& b) -> Status {
     b.auto_unmount = true; return OkStatus(); }},
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

Status ApplyOption(std::string_view option, Builder& b) {
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
    if (spec.takes_value && equals == std::string_view::npos) {
      return Invalid("option '" + std::string(name) + "' needs a value (" + std::string(name) +
                     "=...)");
    }
    if (!spec.takes_value && equals != std::string_view::npos) {
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

// ---- the source: BUCKET, BUCKET:/PREFIX, or s3://BUCKET/PREFIX ----

bool IsIpv4Like(std::string_view name) {
  int dots = 0;
  for (char c : name) {
    if (c == '.') {
      ++dots;
    } else if (!IsAsciiDigit(c)) {
      return false;
    }
  }
  return dots == 3;
}

// S3's rules, relaxed to admit legacy names (upper case, '_', up to 255 characters) that
// path-style addressing can still reach.
Status ValidateBucketName(std::string_view bucket) {
  const std::string quoted = "bucket name '" + std::string(bucket) + "': ";
  if (bucket.empty()) return Invalid("missing bucket name");
  if (bucket.size() < 3 || bucket.size() > 255) {
    return Invalid(quoted + "must be 3 to 255 characters long");
  }
  for (char c : bucket) {
    if (!IsAsciiAlnum(c) && c != '.' && c != '-' && c != '_') {
      return Invalid(quoted + "may hold only letters, digits, '.', '-' and '_'");
    }
  }
  if (!IsAsciiAlnum(bucket.front()) || !IsAsciiAlnum(bucket.back())) {
    return Invalid(quoted + "must begin and end with a letter or digit");
  }
  if (bucket.find("..") != std::string_view::npos) {
    return Invalid(quoted + "must not hold two adjacent periods");
  }
  if (IsIpv4Like(bucket)) return Invalid(quoted + "must not look like an IP address");
  return OkStatus();
}

// "", "/", "a/b", "/a/b/" -> "" or "a/b/". Empty, "." and ".." components are errors.
Result<std::string> NormalizePrefix(std::string_view path) {
  std::string prefix;
  std::string_view rest = path;
  if (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    const std::string_view component = rest.substr(0, slash);
    if (component.empty() || component == "." || component == "..") {
      return Invalid("prefix '" + std::string(path) + "': empty, '.' or '..' path component");
    }
    prefix.append(component);
    prefix.push_back('/');
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return prefix;
}

Status ParseSource(std::string_view source, MountConfig& config) {
  std::string_view bucket = source;
  std::string_view path;
  constexpr std::string_view kS3Scheme = "s3://";
  if (source.substr(0, kS3Scheme.size()) == kS3Scheme) {
    bucket = source.substr(kS3Scheme.size());
    const size_t slash = bucket.find('/');
    if (slash != std::string_view::npos) {
      path = bucket.substr(slash);
      bucket = bucket.substr(0, slash);
    }
  } else if (const size_t colon = source.find(':'); colon != std::string_view::npos) {
    bucket = source.substr(0, colon);
    path = source.substr(colon + 1);
  }
  S3M_RETURN_IF_ERROR(ValidateBucketName(bucket));
  auto prefix = NormalizePrefix(path);
  if (!prefix.ok()) return std::move(prefix).error();
  config.bucket = std::string(bucket);
  config.prefix = std::move(prefix).value();
  return OkStatus();
}

// ---- derived settings and cross-option checks ----

Result<std::string> Absolute(const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  std::string cwd(4096, '\0');
  if (getcwd(cwd.data(), cwd.size()) == nullptr) {
    return Invalid("cannot make '" + path + "' absolute: " + std::strerror(errno));
  }
  cwd.resize(std::strlen(cwd.c_str()));
  if (cwd.back() != '/') cwd.push_back('/');
  return cwd + path;
}

Status MakePathsAbsolute(Builder& b) {
  for (std::string* path : {&b.config.mountpoint, &b.passwd_file, &b.credentials_file,
                            &b.config.log_file, &b.config.s3.http.ca_bundle}) {
    auto absolute = Absolute(*path);
    if (!absolute.ok()) return std::move(absolute).error();
    *path = std::move(absolute).value();
  }
  while (b.config.mountpoint.size() > 1 && b.config.mountpoint.back() == '/') {
    b.config.mountpoint.pop_back();
  }
  return OkStatus();
}

Status ChooseCredentials(Builder& b) {
  const CredentialsConfig& role = b.config.credentials;
  if (role.role_arn.empty() && (!role.role_session_name.empty() || !role.external_id.empty())) {
    return Invalid(std::string(role.external_id.empty() ? "role_session_name=" : "external_id=") +
                   " needs role_arn=");
  }
  if (!role.role_arn.empty() && b.anonymous) {
    return Invalid("role_arn= needs credentials to assume the role with; anonymous has none");
  }
  std::vector<std::string> chosen;
  if (!b.profile.empty() || !b.credentials_file.empty()) {
    chosen.emplace_back(b.profile.empty() ? "credentials_file=" : "profile=");
  }
  if (!b.passwd_file.empty()) chosen.emplace_back("passwd_file=");
  if (b.anonymous) chosen.emplace_back("anonymous");
  const bool keys = !b.access_key_id.empty() || !b.secret_access_key.empty();
  if (keys || !b.session_token.empty()) chosen.emplace_back("access_key_id=");
  if (chosen.size() > 1) {
    std::string names = chosen[0];
    for (size_t i = 1; i < chosen.size(); ++i) names += " and " + chosen[i];
    return Invalid(names + " cannot be used together");
  }
  CredentialsConfig& credentials = b.config.credentials;
  if (!b.profile.empty() || !b.credentials_file.empty()) {
    credentials.source = CredentialsSource::kProfile;
    credentials.profile = b.profile;
    credentials.credentials_file = b.credentials_file;
  } else if (!b.passwd_file.empty()) {
    credentials.source = CredentialsSource::kPasswdFile;
    credentials.passwd_file = b.passwd_file;
  } else if (b.anonymous) {
    credentials.source = CredentialsSource::kAnonymous;
  } else if (keys || !b.session_token.empty()) {
    if (b.access_key_id.empty() || b.secret_access_key.empty()) {
      return Invalid("access_key_id= and secret_access_key= go together" +
                     std::string(b.session_token.empty() ? "" : " (and with session_token=)"));
    }
    credentials.source = CredentialsSource::kOptions;
    credentials.access_key_id = b.access_key_id;
    credentials.secret_access_key = b.secret_access_key;
    credentials.session_token = b.session_token;
  }
  return OkStatus();
}

void UseEnvironmentRegion(MountConfig& config) {
  if (config.region_set) return;
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read-only use
    if (value != nullptr && *value != '\0') {
      config.s3.endpoint.region = value;
      config.region_set = true;
      return;
    }
  }
}

// One fuse_opt option with the characters fuse_opt_parse would split on escaped.
std::string EscapeFuseOption(std::string_view option) {
  std::string escaped;
  for (char c : option) {
    if (c == ',' || c == '\\') escaped.push_back('\\');
    escaped.push_back(c);
  }
  return escaped;
}

void BuildFuseOptions(const std::string& source, Builder& b) {
  MountConfig& c = b.config;
  std::vector<std::string>& out = c.fuse_options;
  out.push_back(EscapeFuseOption("fsname=" + (b.fsname.empty() ? source : b.fsname)));
  out.push_back(EscapeFuseOption("subtype=" + b.subtype));
  if (c.read_only) out.emplace_back("ro");
  if (c.allow_other) out.emplace_back("allow_other");
  if (c.allow_root) out.emplace_back("allow_root");
  if (c.default_permissions) out.emplace_back("default_permissions");
  if (b.auto_unmount) out.emplace_back("auto_unmount");
  for (const std::string& flag : b.kernel_flags) out.push_back(flag);
  if (c.debug) out.emplace_back("debug");
}

Status CheckCombinations(const Builder& b) {
  const MountConfig& c = b.config;
  if (c.allow_other && c.allow_root) {
    return Invalid("allow_other and allow_root cannot be used together");
  }
  if (!c.s3.endpoint.endpoint_url.empty() || !c.bucket.empty()) {
    auto resolved = ResolveEndpoint(c.s3.endpoint, c.bucket);
    if (!resolved.ok()) {
      const std::string what =
          b.endpoint_text.empty() ? "bucket '" + c.bucket + "'" : "endpoint=" + b.endpoint_text;
      return Invalid(what + ": " + resolved.error().message);
    }
  }
  return OkStatus();
}

}  // namespace

// One source of change notifications at most, complete; with one, the metadata caches default
// to an hour, since freshness then comes from the events.
Status CheckChangeNotifications(Builder& b) {
  EventsConfig& events = b.config.events;
  const bool redis = !events.redis_url.empty();
  if (!events.sqs_queue_url.empty() && redis) {
    return Invalid("sqs_queue_url= and redis_url= cannot be used together");
  }
  if (!events.sqs_region.empty() && events.sqs_queue_url.empty()) {
    return Invalid("sqs_region= needs sqs_queue_url=");
  }
  const bool channel = !events.redis_channel.empty();
  const bool list = !events.redis_list.empty();
  if (!redis && (channel || list)) {
    return Invalid(std::string(channel ? "redis_channel=" : "redis_list=") + " needs redis_url=");
  }
  if (redis && channel == list) {
    return Invalid(
        "redis_url= needs exactly one of redis_channel= (SUBSCRIBE) and redis_list= "
        "(MinIO's access format)");
  }
  if (!events.enabled()) return OkStatus();
  if (!b.stat_ttl_set) b.config.stat_ttl = kEventDrivenTtl;
  if (!b.negative_ttl_set) b.config.negative_ttl = kEventDrivenTtl;
  if (!b.list_ttl_set) b.config.list_ttl = kEventDrivenTtl;
  return OkStatus();
}

Result<MountConfig> ValidateMountConfig(RawMountOptions raw) {
  Builder b;
  b.config.attributes.uid = static_cast<uint32_t>(getuid());
  b.config.attributes.gid = static_cast<uint32_t>(getgid());
  for (const std::string& option : raw.options) S3M_RETURN_IF_ERROR(ApplyOption(option, b));
  if (raw.source.empty()) return Invalid("missing BUCKET[:/PREFIX] and MOUNTPOINT");
  if (raw.mountpoint.empty()) return Invalid("missing MOUNTPOINT");
  S3M_RETURN_IF_ERROR(ParseSource(raw.source, b.config));
  b.config.s3.bucket = b.config.bucket;
  b.config.mountpoint = std::move(raw.mountpoint);
  S3M_RETURN_IF_ERROR(MakePathsAbsolute(b));
  S3M_RETURN_IF_ERROR(ChooseCredentials(b));
  UseEnvironmentRegion(b.config);
  S3M_RETURN_IF_ERROR(CheckCombinations(b));
  S3M_RETURN_IF_ERROR(CheckChangeNotifications(b));

  b.config.single_threaded = raw.single_threaded;
  b.config.debug = raw.debug;
  b.config.foreground = raw.foreground || raw.debug;
  if (raw.debug && !b.log_level_set) b.config.log_level = "debug";
  BuildFuseOptions(raw.source, b);
  return std::move(b.config);
}

}  // namespace s3mount
