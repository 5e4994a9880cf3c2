// EnvironmentCredentialsProvider: credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
// and AWS_SESSION_TOKEN, the first link of the AWS credential chain. Read on every call, so a
// changed environment is seen; fails with kCredentials, saying what is missing.
//
// Thread-safety: safe from any thread as long as nobody modifies the environment meanwhile.
#pragma once

#include "s3mount/aws/credentials.h"

namespace s3mount {

class EnvironmentCredentialsProvider final : public CredentialsProvider {
 public:
  Result<Credentials> GetCredentials() override;
};

}  // namespace s3mount
