// EnvironmentCredentialsProvider.
#include "s3mount/auth/environment_credentials.h"

#include <cstdlib>

namespace s3mount {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read-only use
  return value == nullptr ? std::string() : std::string(value);
}

}  // namespace

Result<Credentials> EnvironmentCredentialsProvider::GetCredentials() {
  Credentials credentials;
  credentials.access_key_id = Env("AWS_ACCESS_KEY_ID");
  credentials.secret_access_key = Env("AWS_SECRET_ACCESS_KEY");
  credentials.session_token = Env("AWS_SESSION_TOKEN");
  if (credentials.access_key_id.empty() && credentials.secret_access_key.empty()) {
    return MakeError(ErrorCode::kCredentials,
                     "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
  }
  if (credentials.access_key_id.empty()) {
    return MakeError(ErrorCode::kCredentials,
                     "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
  }
  if (credentials.secret_access_key.empty()) {
    return MakeError(ErrorCode::kCredentials,
                     "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  }
  return credentials;
}

}  // namespace s3mount
