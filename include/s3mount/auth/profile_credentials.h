// ProfileCredentialsProvider: the static keys (aws_access_key_id, aws_secret_access_key,
// aws_session_token) of a named profile in the AWS shared files, re-read when the files change;
// and the shared pieces every profile reader uses: the INI parser, where the two files are
// (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials; AWS_CONFIG_FILE, else ~/.aws/config)
// and which profile is meant. How a profile is found and merged across the two files is
// profile_config.h's job; profiles that get credentials another way (role_arn, SSO,
// credential_process...) are built by credential_chain.h.
//
// Errors (kCredentials) say which file, which profile and what is missing; never a value.
//
// Thread-safety: ProfileCredentialsProvider::GetCredentials may be called from any thread; the
// free functions are pure apart from reading files and the environment.
// LOCK ORDERING: mu_ is a leaf, held while the files are read (local I/O, no network).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "s3mount/aws/credentials.h"
#include "s3mount/common/result.h"

namespace s3mount {

// An INI file: section name (as written, inner whitespace kept) -> lower-cased key -> value.
// Lines are `[section]`, `key = value`, comments starting with '#' or ';' (also after
// whitespace at the end of a value), blank lines, and the indented lines after a key with an
// empty value (AWS nested settings such as `s3 =`), which are kept out of the map.
using IniSections = std::map<std::string, std::map<std::string, std::string>, std::less<>>;

// The contents of a small configuration file (at most 1 MiB), or nullopt when it does not
// exist; other failures are kCredentials errors naming the file (never its contents).
Result<std::optional<std::string>> ReadFileIfExists(const std::string& path);

// Parses `text`; errors (kCredentials) name `path` and the line, never its value.
Result<IniSections> ParseIni(std::string_view text, std::string_view path);

struct AwsSharedFiles {
  std::string credentials_file;
  std::string config_file;
};

// From AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE ("~/" expanded), else under ~/.aws/.
// Fails (kCredentials) only when a home directory is needed and cannot be found.
Result<AwsSharedFiles> DefaultAwsSharedFiles();

// AWS_PROFILE, else AWS_DEFAULT_PROFILE, else "default".
std::string DefaultProfileName();

class ProfileCredentialsProvider final : public CredentialsProvider {
 public:
  ProfileCredentialsProvider(AwsSharedFiles files, std::string profile)
      : files_(std::move(files)), profile_(std::move(profile)) {}

  // Reads the files until they yield credentials, and again whenever either file changes on
  // disk (checked with stat on every call: its inode, size and modification time), so keys
  // rotated in the file are used from the next request without a remount. If a changed
  // file cannot be read or no longer holds the profile, the keys read before stay in use and
  // a warning is logged.
  Result<Credentials> GetCredentials() override;

 private:
  // What stat says of a file, to notice changes ("" when it does not exist).
  static std::string SignatureOf(const std::string& path);
  std::string FilesSignature() const;

  const AwsSharedFiles files_;
  const std::string profile_;
  std::mutex mu_;
  std::optional<Credentials> loaded_;  // guarded by mu_
  std::string loaded_signature_;       // guarded by mu_: the files when loaded_ was read
};

}  // namespace s3mount
