// ValidateMountConfig: the options applied in order through the option table
// (mount_option_table.cc: the meaning, syntax, range and default of each), then the source,
// the cross-option checks and the derived settings (credentials, FUSE options, absolute
// paths).
#include "app/mount_config.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "app/mount_option_table.h"
#include "s3mount/s3/endpoint.h"

namespace s3mount {
namespace {

using Builder = MountConfigBuilder;

Error Invalid(std::string message) { return InvalidOption(std::move(message)); }

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

}  // namespace

Result<MountConfig> ValidateMountConfig(RawMountOptions raw) {
  Builder b;
  b.config.attributes.uid = static_cast<uint32_t>(getuid());
  b.config.attributes.gid = static_cast<uint32_t>(getgid());
  for (const std::string& option : raw.options) S3M_RETURN_IF_ERROR(ApplyMountOption(option, b));
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
