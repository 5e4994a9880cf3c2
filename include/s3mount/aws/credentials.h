// Credentials and the CredentialsProvider seam: where the S3 client gets the keys it signs
// with. Providers return credentials with an optional expiry, or an Error saying why not.
//
// Thread-safety: providers must be safe to call from many threads at once.
#pragma once

#include <optional>
#include <string>

#include "s3mount/common/clock.h"
#include "s3mount/common/result.h"

namespace s3mount {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;  // never logged
  std::string session_token;      // never logged; empty for long-term keys
  std::optional<WallTime> expiration;

  bool anonymous() const { return access_key_id.empty(); }
};

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  virtual Result<Credentials> GetCredentials() = 0;
};

// Always returns the credentials it was built with. Empty keys mean anonymous (unsigned)
// requests, for public buckets.
class StaticCredentialsProvider final : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(Credentials credentials)
      : credentials_(std::move(credentials)) {}
  Result<Credentials> GetCredentials() override { return credentials_; }

 private:
  const Credentials credentials_;
};

}  // namespace s3mount
