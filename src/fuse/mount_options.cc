// Command-line splitting with fuse_opt_parse, and the --help / --version texts.
#define FUSE_USE_VERSION 312  // the fuse_loop_cfg_* API (fuse_session.cc)
#include "fuse/mount_options.h"

#include <fuse.h>
#include <fuse_opt.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace s3mount {
namespace {

// The project version; the build may define S3MOUNT_VERSION from CMake's PROJECT_VERSION.
#ifdef S3MOUNT_VERSION
constexpr const char* kVersion = S3MOUNT_VERSION;
#else
constexpr const char* kVersion = "0.1.0";
#endif

enum Key { kKeyForeground, kKeyDebug, kKeySingleThreaded, kKeyHelp, kKeyVersion };

const struct fuse_opt kFuseOptions[] = {
    FUSE_OPT_KEY("-f", kKeyForeground),     FUSE_OPT_KEY("-d", kKeyDebug),
    FUSE_OPT_KEY("-s", kKeySingleThreaded), FUSE_OPT_KEY("-h", kKeyHelp),
    FUSE_OPT_KEY("--help", kKeyHelp),       FUSE_OPT_KEY("-V", kKeyVersion),
    FUSE_OPT_KEY("--version", kKeyVersion), FUSE_OPT_END,
};

struct ParseState {
  RawMountOptions raw;
  std::string error;  // set when ProcessArgument refuses an argument
};

// Frees what fuse_opt_parse leaves in `args` (it replaces them with its own copy).
class FuseArgs {
 public:
  FuseArgs(int argc, const char* const* argv)
      : args_{argc, const_cast<char**>(argv), 0} {}  // NOLINT: fuse_opt_parse only reads argv
  ~FuseArgs() { fuse_opt_free_args(&args_); }
  FuseArgs(const FuseArgs&) = delete;
  FuseArgs& operator=(const FuseArgs&) = delete;
  fuse_args* get() { return &args_; }

 private:
  fuse_args args_;
};

int Refuse(ParseState& state, std::string message) {
  state.error = std::move(message);
  return -1;
}

int ProcessArgument(ParseState& state, const char* arg, int key) {
  RawMountOptions& raw = state.raw;
  switch (key) {
    case kKeyForeground:
      raw.foreground = true;
      return 0;
    case kKeyDebug:
      raw.debug = true;
      return 0;
    case kKeySingleThreaded:
      raw.single_threaded = true;
      return 0;
    case kKeyHelp:
      raw.help = true;
      return 0;
    case kKeyVersion:
      raw.version = true;
      return 0;
    case FUSE_OPT_KEY_NONOPT:
      if (raw.source.empty()) {
        raw.source = arg;
      } else if (raw.mountpoint.empty()) {
        raw.mountpoint = arg;
      } else {
        return Refuse(state, std::string("unexpected argument '") + arg + "'");
      }
      return 0;
    case FUSE_OPT_KEY_OPT:
      if (arg[0] == '-') return Refuse(state, std::string("unknown option '") + arg + "'");
      raw.options.emplace_back(arg);
      return 0;
    default:
      return Refuse(state, std::string("unexpected argument '") + arg + "'");
  }
}

// fuse_opt_parse's callback: 0 consumes the argument, -1 stops with state->error set. No
// exception may unwind through libfuse's C frames.
int ProcessArgumentCallback(void* data, const char* arg, int key, fuse_args* /*outargs*/) {
  auto* state = static_cast<ParseState*>(data);
  try {
    return ProcessArgument(*state, arg, key);
  } catch (const std::bad_alloc&) {
    state->error = "out of memory";
    return -1;
  }
}

}  // namespace

Result<RawMountOptions> ParseMountArguments(int argc, const char* const* argv) {
  // fuse_opt_parse reports a trailing "-o" on stderr by itself; catch it first.
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) break;
    if (std::strcmp(argv[i], "-o") == 0 && i + 1 == argc) {
      return MakeError(ErrorCode::kInvalidArgument, "missing argument after '-o'");
    }
  }
  ParseState state;
  FuseArgs args(argc, argv);
  if (fuse_opt_parse(args.get(), &state, kFuseOptions, ProcessArgumentCallback) != 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     state.error.empty() ? "cannot parse the command line" : state.error);
  }
  return std::move(state.raw);
}

std::string MountUsage(std::string_view program) {
  return "usage: " + std::string(program) +
         " BUCKET[:/PREFIX] MOUNTPOINT [-o OPTION[,OPTION...]] [-f] [-d] [-s]\n";
}

std::string MountUsageHint() { return "Try 's3mount --help' for the options.\n"; }

std::string MountHelpText(std::string_view program) {
  return MountUsage(program) + R"(
Mounts an S3 bucket, or the PREFIX/ part of it, on MOUNTPOINT.

General:
  -f                     stay in the foreground
  -d                     debug: foreground, FUSE request tracing, log_level=debug
  -s                     serve FUSE requests on a single thread
  -h, --help             print this help and exit
  -V, --version          print the version and exit

S3:
  -o endpoint=URL        S3-compatible endpoint, http(s)://host[:port][/path]
                         (default: AWS for the region)
  -o region=NAME         signing region (default: AWS_REGION, AWS_DEFAULT_REGION,
                         the profile's region, else us-east-1; S3's region
                         redirects are followed)
  -o path_style          address the bucket as host/bucket, not bucket.host
  -o ca_bundle=FILE      trust the CA certificates in FILE, not the system's
  -o no_verify_tls       do not verify the server's TLS certificate (unsafe)

Credentials (default: the AWS CLI's chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
the profile named by AWS_PROFILE or "default" (static keys, role_arn with
source_profile or credential_source, web identity, SSO, credential_process),
AWS_WEB_IDENTITY_TOKEN_FILE, the container endpoint, EC2 instance metadata):
  -o profile=NAME        only profile NAME of ~/.aws/credentials and ~/.aws/config
                         (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE), any kind
  -o credentials_file=FILE  read FILE in place of ~/.aws/credentials; changes
                         to it are used without a remount
  -o passwd_file=FILE    s3fs-style file of ACCESS_KEY:SECRET or
                         BUCKET:ACCESS_KEY:SECRET lines; mode 0600 or stricter
  -o access_key_id=ID,secret_access_key=KEY[,session_token=T]
                         keys as options (visible to local users: avoid)
  -o role_arn=ARN        then assume this IAM role with STS (cross-account)
  -o role_session_name=NAME, -o external_id=ID  for role_arn=
  -o sts_endpoint=URL    STS endpoint (default: AWS_ENDPOINT_URL_STS, the
                         endpoint= of a custom store, else sts.REGION.amazonaws.com)
  -o public              send unsigned requests (public buckets; also anonymous)

Permissions:
  -o ro, -o rw           mount read-only / read-write (default: rw)
  -o uid=N, -o gid=N     owner of files without s3fs metadata (default: you)
  -o file_mode=OCTAL     mode of files without metadata (default: 0644)
  -o no_object_metadata  trust listings: no HEAD per file (modes/owners = defaults)
  -o dir_mode=OCTAL      mode of directories without metadata (default: 0755)
  -o umask=OCTAL         bits cleared from every mode (default: 0)
  -o allow_other         let other users access the mount (needs
                         user_allow_other in /etc/fuse.conf unless root)
  -o allow_root          let root access the mount too (not with allow_other)
  -o default_permissions let the kernel check modes against the caller

Caching:
  -o stat_ttl=SECONDS    how long attributes are trusted (default: 60)
  -o negative_ttl=SECONDS  how long "does not exist" is trusted (default: 5)
  -o list_ttl=SECONDS    how long directory listings are trusted (default: 60)
                         (seconds may be fractional; 0 disables that cache)
  -o cache_size=SIZE     memory block cache, e.g. 512M, 2G; 0 disables
                         (default: 256M; K, M, G, T are powers of 1024)
  -o readahead=SIZE      most bytes read ahead of sequential reads (default: 64M)
  -o dir_readahead=N     small files fetched ahead of a program opening a directory's
                         files in listing order, e.g. cat dir/* (default: 32; 0: off)
  -o max_threads=N       FUSE worker threads, 1 to 1024 (default: 16)

Writing:
  -o writeback           close() and unlink() return before S3 has the change:
                         uploads and deletes are queued, in order per file, and
                         sent in the background (like JuiceFS --writeback, rclone
                         --vfs-write-back; not the kernel's writeback cache).
                         fsync, rename, rmdir and unmount wait for them; a crash
                         loses what is queued (default: off: close waits for S3)

Change notifications (the three TTLs above then default to 3600):
  -o sqs_queue_url=URL   apply the bucket's S3 event notifications from this SQS
                         queue (signed like S3; sqs_region=NAME if not in the URL)
  -o redis_url=redis://[:PASSWORD@]HOST[:PORT][/DB]
                         ... or from Redis, with one of:
  -o redis_channel=NAME  SUBSCRIBE: each message is S3 event JSON
  -o redis_list=KEY      MinIO's Redis target, format=access (BLMOVE, reliable)

Filtering (patterns as fnmatch(3) on paths below the mount root; repeatable):
  -o include=GLOB        show only matching objects
  -o exclude=GLOB        hide matching objects (wins over include)

Logging:
  -o log_level=LEVEL     trace, debug, info, warn, error, critical, off
                         (default: info; debug with -d)
  -o log_file=FILE       log to FILE (default: stderr in the foreground,
                         syslog in the background)

FUSE and mount:
  -o fsname=NAME         source shown in /proc/mounts (default: BUCKET[:/PREFIX])
  -o subtype=NAME        file system subtype (default: s3mount)
  -o auto_unmount        unmount when s3mount exits
  -o dev, nodev, suid, nosuid, exec, noexec, noatime, nodiratime, sync, dirsync
                         passed to the kernel as mount flags
  -o defaults, auto, noauto, user, nouser, users, owner, group, _netdev, nofail,
     atime, relatime, norelatime, strictatime, async, x-*, comment=..., user=...
                         accepted from mount(8) and fstab, and ignored

Options may be given as -o a,b,c or as several -o; a later one wins.
Example: s3mount my-bucket:/photos /mnt/photos -o ro,region=eu-west-1
)";
}

std::string MountVersionText() {
  return std::string("s3mount ") + kVersion + "\nFUSE library version " + fuse_pkgversion() + "\n";
}

bool ScrubSecretArguments(int argc, char** argv) {
  bool found = false;
  for (int i = 1; i < argc; ++i) {
    for (std::string_view name : {"secret_access_key=", "session_token="}) {
      for (char* at = std::strstr(argv[i], name.data()); at != nullptr;
           at = std::strstr(at, name.data())) {
        at += name.size();
        for (; *at != '\0' && *at != ','; ++at) *at = '*';
        found = true;
      }
    }
    // redis_url=redis://[user]:PASSWORD@host...: the password.
    for (char* at = std::strstr(argv[i], "redis://"); at != nullptr;
         at = std::strstr(at, "redis://")) {
      at += std::strlen("redis://");
      char* end = at;
      while (*end != '\0' && *end != ',' && *end != '@' && *end != '/') ++end;
      char* colon = std::find(at, end, ':');
      if (*end != '@' || colon == end) continue;
      for (char* c = colon + 1; c < end; ++c) *c = '*';
      found = true;
    }
  }
  return found;
}

}  // namespace s3mount
