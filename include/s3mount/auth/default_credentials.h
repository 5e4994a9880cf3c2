// DefaultCredentialsChain: where credentials come from when the mount names no source: the
// environment (AWS_ACCESS_KEY_ID...), then the AWS shared files' profile (AWS_PROFILE or
// "default"). When neither yields keys, the error keeps each link's reason. The full AWS chain
// (assume role, web identity, SSO, containers, IMDS) replaces it in a later issue.
//
// Thread-safety: safe to call from many threads.
#pragma once

#include <memory>
#include <vector>

#include "s3mount/auth/credentials.h"

namespace s3mount {

class CredentialsChain final : public CredentialsProvider {
 public:
  struct Link {
    std::string name;  // for messages: "environment", "profile 'default'"
    std::unique_ptr<CredentialsProvider> provider;
  };
  explicit CredentialsChain(std::vector<Link> links) : links_(std::move(links)) {}
  Result<Credentials> GetCredentials() override;

 private:
  std::vector<Link> links_;
};

// The environment, then the default profile.
std::unique_ptr<CredentialsProvider> MakeDefaultCredentialsChain();

}  // namespace s3mount
