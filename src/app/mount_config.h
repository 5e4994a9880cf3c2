// MountConfig: everything one mount of s3mount is configured with, validated once from the
// command line (RawMountOptions, filled by src/app/mount_options) and then passed as
// `const MountConfig&` to the constructors that need it. Nothing here includes FUSE: the raw
// options are plain strings, and ValidateMountConfig owns the meaning of every `-o` option,
// its syntax, its range and its default, so it is all testable without libfuse.
//
// Thread-safety: plain value types and a pure function (it reads getuid(), getgid(), getcwd()
// and the AWS_REGION / AWS_DEFAULT_REGION environment variables).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "s3mount/common/result.h"
#include "s3mount/fs/attributes.h"
#include "s3mount/s3/curl_object_store.h"

namespace s3mount {

// The command line as typed, split but not interpreted.
struct RawMountOptions {
  std::string source;      // BUCKET[:/PREFIX]; empty when not given
  std::string mountpoint;  // empty when not given
  // Each `-o` option on its own, `name` or `name=value`, in the order given (a later one wins
  // over an earlier one of the same name). Commas are already split and `\,` unescaped.
  std::vector<std::string> options;
  bool foreground = false;       // -f
  bool debug = false;            // -d
  bool single_threaded = false;  // -s
  bool help = false;             // -h, --help
  bool version = false;          // -V, --version
};

// Where the S3 client's credentials come from.
enum class CredentialsSource {
  // The AWS credential chain (auth/credential_chain.h): the environment, the profile named by
  // AWS_PROFILE (or "default") of any kind, web identity, container, instance metadata.
  kDefault,
  // profile=NAME and/or credentials_file=PATH: only that profile (default: as AWS_PROFILE), of
  // any kind, from the shared AWS files, or with PATH in place of the credentials file.
  kProfile,
  kPasswdFile,  // passwd_file=PATH: an s3fs-style passwd file
  kAnonymous,   // anonymous (or public): unsigned requests (public buckets)
  kOptions,     // access_key_id=, secret_access_key= [, session_token=]
};

struct CredentialsConfig {
  CredentialsSource source = CredentialsSource::kDefault;
  std::string profile;           // kProfile only; "" = AWS_PROFILE or "default"
  std::string credentials_file;  // kProfile only; "" = the shared one; absolute
  std::string passwd_file;       // kPasswdFile only; absolute
  // kOptions only. Never logged.
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  // role_arn= (with role_session_name=, external_id=): an STS AssumeRole of this role with the
  // credentials of the source above (any but kAnonymous). Empty: none.
  std::string role_arn;
  std::string role_session_name;
  std::string external_id;
  // sts_endpoint=: where STS calls go; "" = AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the custom
  // S3 endpoint=, else AWS's regional STS endpoint.
  std::string sts_endpoint;
};

// Change notifications (sqs_queue_url=, redis_url= with redis_channel= or redis_list=).
struct EventsConfig {
  std::string sqs_queue_url;
  std::string sqs_region;  // "" = from the queue URL's host
  std::string redis_url;   // redis://[:password@]host:port[/db]; the password is never logged
  std::string redis_channel;
  std::string redis_list;

  bool enabled() const { return !sqs_queue_url.empty() || !redis_url.empty(); }
};

// The metadata TTLs (stat_ttl, negative_ttl, list_ttl) when change notifications keep the
// caches fresh and the options do not set them.
inline constexpr std::chrono::seconds kEventDrivenTtl{3600};

struct MountConfig {
  // What to mount where.
  std::string bucket;
  std::string prefix;      // "" (whole bucket) or "a/b/": no leading '/', one trailing '/'
  std::string mountpoint;  // absolute (made so against the working directory)

  // The S3 client: bucket, endpoint=, region=, path_style, ca_bundle=, no_verify_tls.
  S3ClientOptions s3;
  // Whether the region came from region= or AWS_REGION / AWS_DEFAULT_REGION. When false,
  // s3.endpoint.region is us-east-1, a guess: main may use the profile's region instead, and
  // the client follows S3's region redirects anyway.
  bool region_set = false;
  CredentialsConfig credentials;
  EventsConfig events;

  // Ownership and modes of objects without s3fs metadata (uid=, gid=, file_mode=, dir_mode=)
  // and umask=. uid/gid default to the user running s3mount.
  AttributeDefaults attributes;
  // Whether s3fs-style per-object metadata (x-amz-meta-mode...) is read: it costs a HEAD per
  // listed file (many in flight). no_object_metadata trusts listings alone.
  bool object_metadata = true;

  // Caching. Kernel and metadata-cache lifetimes of positive stat results, negative lookups
  // and directory listings; 0 disables that cache.
  std::chrono::nanoseconds stat_ttl{std::chrono::seconds(60)};
  std::chrono::nanoseconds negative_ttl{std::chrono::seconds(5)};
  std::chrono::nanoseconds list_ttl{std::chrono::seconds(60)};
  uint64_t cache_bytes = uint64_t{256} << 20;     // memory block cache; 0 disables it
  uint64_t readahead_bytes = uint64_t{64} << 20;  // most bytes read ahead of a sequential reader
  uint32_t max_threads = 16;                      // FUSE worker threads (unless -s)
  // Small files fetched ahead of a program opening a directory's files in order; 0: off.
  uint32_t dir_readahead_files = 32;
  // Writes: where staging files go (empty: main picks $XDG_CACHE_HOME/s3mount or
  // ~/.cache/s3mount, else the temp directory), how many bytes they may hold together, and
  // the memory write buffers may take.
  std::string cache_dir;
  uint64_t cache_limit = uint64_t{10} << 30;
  uint64_t write_buffer = uint64_t{256} << 20;
  // writeback: close() and unlink() return before S3 has the change; the uploads and
  // DELETEs are queued and sent in the background (docs/SEMANTICS.md, "Write-back").
  bool writeback = false;

  // Filtering: shell patterns (fnmatch(3)) on paths below the mount root. Empty include: all.
  std::vector<std::string> include;
  std::vector<std::string> exclude;

  // Access.
  bool read_only = false;
  bool allow_other = false;
  bool allow_root = false;
  bool default_permissions = false;

  // Logging.
  std::string log_level = "info";  // trace, debug, info, warn, error, critical, off
  std::string log_file;            // empty: stderr in the foreground, syslog in the background

  // How to run.
  bool foreground = false;  // -f, or implied by -d
  bool debug = false;       // -d: FUSE request tracing too
  bool single_threaded = false;

  // Options for fuse_session_new, one option per entry with ',' and '\' escaped, so each is
  // passed as "-o" ENTRY: fsname=, subtype=s3mount, ro, allow_other, allow_root,
  // default_permissions, auto_unmount, debug, and the kernel flags mount(8) passes (nodev,
  // nosuid, noexec, noatime...).
  std::vector<std::string> fuse_options;
};

// Interprets and checks every option. Errors are kInvalidArgument with a message that names
// the offending option as given, without the program name: "unknown option 'foo'",
// "uid=abc: not a number", "allow_other and allow_root cannot be used together". The caller
// prints "s3mount: MESSAGE" and exits with status 1. `raw.help` and `raw.version` are the
// caller's to handle first; they are ignored here.
Result<MountConfig> ValidateMountConfig(RawMountOptions raw);

// The `-o` options part of --help, grouped (S3, credentials, permissions, caching, writing,
// change notifications, filtering, logging, FUSE/mount), from the table ValidateMountConfig
// parses with: each option's synopsis ("  -o name=VALUE", wrapped lines indented by five
// spaces) with its help from column 25.
std::string MountOptionsHelp();

// Every `-o` option ValidateMountConfig accepts, as written in --help and the man page:
// "name=" for one that takes a value, "name" for a flag (kernel flags and the mount(8)
// options it ignores included), and the prefixes it ignores ("x-", "comment=", "user=").
std::vector<std::string> AcceptedMountOptions();

}  // namespace s3mount
