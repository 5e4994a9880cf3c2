// The `-o` option table behind ValidateMountConfig: one row per option with its value
// parser and its --help text, so that parsing and help cannot drift apart. mount_config.cc
// applies the rows in order and then checks combinations; this header is what the two
// share (the config being built, and the error helpers).
//
// Thread-safety: pure functions over the caller's builder.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "app/mount_config.h"
#include "s3mount/common/result.h"

namespace s3mount {

// State while the options are applied in order.
struct MountConfigBuilder {
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

inline bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsAsciiAlnum(char c) {
  return IsAsciiDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// A kInvalidArgument error with `message`.
inline Error InvalidOption(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

// Applies one `name` or `name=value` option: a table row, a kernel flag, or an ignored
// mount(8) option. Errors name the option (secrets redacted); an unknown option's value is
// never repeated.
Status ApplyMountOption(std::string_view option, MountConfigBuilder& b);

}  // namespace s3mount
