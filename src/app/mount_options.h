// The s3mount command line: argv split into RawMountOptions with libfuse's fuse_opt_parse
// (so `-o a,b`, `-oa,b`, repeated `-o`, `\,` escapes and `--` behave as in every FUSE
// filesystem), plus the --help and --version texts. What each option means is decided by
// ValidateMountConfig (src/app/mount_config.h), which has no FUSE dependency.
//
// main is expected to do:
//   auto raw = ParseMountArguments(argc, argv);
//   if (!raw.ok()) { print "s3mount: " + message and MountUsageHint(); exit 1 }
//   if (raw->help) { print MountHelpText(argv[0]) to stdout; exit 0 }
//   if (raw->version) { print MountVersionText() to stdout; exit 0 }
//   auto config = ValidateMountConfig(std::move(*raw));
//   if (!config.ok()) { print "s3mount: " + message and MountUsageHint(); exit 1 }
// Nothing here prints or exits.
//
// Thread-safety: pure functions (fuse_opt_parse keeps no global state).
#pragma once

#include <string>
#include <string_view>

#include "app/mount_config.h"
#include "s3mount/common/result.h"

namespace s3mount {

// Splits the command line; argv[0] is the program name. Errors are kInvalidArgument and name
// the argument: "unknown option '-x'", "unexpected argument 'extra'", "missing argument after
// '-o'". Does not check the -o options themselves (ValidateMountConfig does).
Result<RawMountOptions> ParseMountArguments(int argc, const char* const* argv);

// Overwrites, in place, the values of secret_access_key= and session_token= in the command
// line with '*', so that ps and /proc/PID/cmdline no longer show them. Returns whether any
// was found (the caller then warns that they were visible until now).
bool ScrubSecretArguments(int argc, char** argv);

// "usage: PROGRAM BUCKET[:/PREFIX] MOUNTPOINT [-o OPTION[,OPTION...]] [-f] [-d] [-s]\n"
std::string MountUsage(std::string_view program);
// One line telling the user where to find the options ("Try 's3mount --help'.\n").
std::string MountUsageHint();
// The usage line and every option, grouped (S3, credentials, permissions, caching, filtering,
// logging, FUSE/mount), with defaults.
std::string MountHelpText(std::string_view program);
// "s3mount VERSION\nFUSE library version X.Y.Z\n".
std::string MountVersionText();

}  // namespace s3mount
