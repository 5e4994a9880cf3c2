// CredentialsChain and the default chain.
#include "s3mount/auth/default_credentials.h"

#include "s3mount/auth/environment_credentials.h"
#include "s3mount/auth/profile_credentials.h"

namespace s3mount {

Result<Credentials> CredentialsChain::GetCredentials() {
  std::string reasons;
  for (auto& link : links_) {
    auto credentials = link.provider->GetCredentials();
    if (credentials.ok()) return credentials;
    reasons += (reasons.empty() ? "" : "; ") + link.name + ": " + credentials.error().message;
  }
  return MakeError(ErrorCode::kCredentials, "no credentials found (" + reasons + ")");
}

std::unique_ptr<CredentialsProvider> MakeDefaultCredentialsChain() {
  std::vector<CredentialsChain::Link> links;
  links.push_back({"environment", std::make_unique<EnvironmentCredentialsProvider>()});
  auto files = DefaultAwsSharedFiles();
  if (files.ok()) {
    const std::string profile = DefaultProfileName();
    links.push_back({"profile '" + profile + "'",
                     std::make_unique<ProfileCredentialsProvider>(*files, profile)});
  }
  return std::make_unique<CredentialsChain>(std::move(links));
}

}  // namespace s3mount
