// Command-line splitting with fuse_opt_parse, and the --help / --version texts.
#define FUSE_USE_VERSION 312  // the fuse_loop_cfg_* API (fuse_session.cc)
#include "app/mount_options.h"

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
  // -f/-d/-s/-h/-V are parsed here (kFuseOptions); every -o option comes from the table that
  // ValidateMountConfig parses with.
  return MountUsage(program) + R"(
Mounts an S3 bucket, or the PREFIX/ part of it, on MOUNTPOINT.

General:
  -f                     stay in the foreground
  -d                     debug: foreground, FUSE request tracing, log_level=debug
  -s                     serve FUSE requests on a single thread
  -h, --help             print this help and exit
  -V, --version          print the version and exit
)" + MountOptionsHelp() +
         R"(
Options may be given as -o a,b,c or as several -o; a later one wins.
Example: s3mount my-bucket:/photos /mnt/photos -o ro,region=eu-west-1

What a mount keeps after a crash (the write journal in the cache directory):
  s3mount journal list [--cache-dir DIR]
  s3mount journal clear [--cache-dir DIR] [ID...]
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
