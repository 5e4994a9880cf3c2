// PasswdFileCredentialsProvider: keys from an s3fs-style passwd file (passwd_file=PATH), so
// existing s3fs set-ups keep working. Lines are `ACCESS_KEY:SECRET` (any bucket) or
// `BUCKET:ACCESS_KEY:SECRET` (that bucket; wins over the any-bucket line); s3fs's AWS format
// (`AWSAccessKeyId=...`, `AWSSecretKey=...`, optional `AWSSessionToken=...`) is accepted too.
// Blank lines and lines starting with '#' are skipped. As s3fs does, a file that its group or
// others may access is refused.
//
// Errors (kCredentials) name the file and the line, never a key or a secret.
//
// Thread-safety: PasswdFileCredentialsProvider::GetCredentials may be called from any thread;
// the free functions are pure apart from reading the file.
// LOCK ORDERING: mu_ is a leaf, held while the file is read (local I/O, no network).
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "s3mount/aws/credentials.h"
#include "s3mount/common/result.h"

namespace s3mount {

// The credentials `contents` gives `bucket`; `path` is only for messages.
Result<Credentials> ParsePasswdFile(std::string_view contents, std::string_view bucket,
                                    std::string_view path);

// Opens `path`, refuses it unless it is a regular file without group or other permissions,
// and parses it.
Result<Credentials> LoadPasswdFile(const std::string& path, std::string_view bucket);

class PasswdFileCredentialsProvider final : public CredentialsProvider {
 public:
  PasswdFileCredentialsProvider(std::string path, std::string bucket)
      : path_(std::move(path)), bucket_(std::move(bucket)) {}

  // Reads the file until it yields credentials once; they are then kept.
  Result<Credentials> GetCredentials() override;

 private:
  const std::string path_;
  const std::string bucket_;
  std::mutex mu_;
  std::optional<Credentials> loaded_;  // guarded by mu_
};

}  // namespace s3mount
