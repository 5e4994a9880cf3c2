// AssumeRoleProvider and WebIdentityProvider: the STS-backed credential providers (see
// include/s3mount/auth/assume_role_credentials.h).
#include "s3mount/auth/assume_role_credentials.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <utility>

#include "s3mount/common/strings.h"
#include "s3mount/common/unique_fd.h"

namespace s3mount {
namespace {

constexpr size_t kMaxTokenBytes = size_t{1} << 20;

Error TokenError(const std::string& role_arn, const std::string& path, const std::string& why) {
  return MakeError(ErrorCode::kCredentials, "STS AssumeRoleWithWebIdentity of " + role_arn +
                                                " failed: web identity token file '" + path + "' " +
                                                why);
}

// The token in `path`, without surrounding whitespace (files often end with a newline).
Result<std::string> ReadToken(const std::string& role_arn, const std::string& path) {
  if (path.empty()) return TokenError(role_arn, path, "is not set");
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    return TokenError(role_arn, path, std::string("cannot be opened: ") + std::strerror(errno));
  }
  std::string data;
  char buffer[4096];
  while (true) {
    ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      return TokenError(role_arn, path, std::string("cannot be read: ") + std::strerror(errno));
    }
    if (got == 0) break;
    data.append(buffer, static_cast<size_t>(got));
    if (data.size() > kMaxTokenBytes) return TokenError(role_arn, path, "is over 1 MiB");
  }
  std::string token(TrimAsciiSpace(data));
  if (token.empty()) return TokenError(role_arn, path, "is empty");
  return token;
}

std::string SessionName(const std::string& configured, const Clock& clock) {
  return configured.empty() ? DefaultRoleSessionName(clock.Now()) : configured;
}

}  // namespace

std::string DefaultRoleSessionName(WallTime now) {
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch());
  return "s3mount-" + std::to_string(seconds.count());
}

AssumeRoleProvider::AssumeRoleProvider(std::shared_ptr<CredentialsProvider> source, StsClient& sts,
                                       AssumeRoleSettings settings)
    : source_(std::move(source)), sts_(sts), settings_(std::move(settings)) {}

Result<Credentials> AssumeRoleProvider::GetCredentials() {
  const std::string prefix = "STS AssumeRole of " + settings_.role_arn + " failed: ";
  if (source_ == nullptr) {
    return MakeError(ErrorCode::kCredentials, prefix + "no source credentials provider");
  }
  auto source = source_->GetCredentials();
  if (!source.ok()) {
    Error error = std::move(source).error();
    error.message = prefix + "no source credentials: " + error.message;
    return error;
  }
  return sts_.AssumeRole(
      {.role_arn = settings_.role_arn,
       .role_session_name = SessionName(settings_.role_session_name, sts_.clock()),
       .external_id = settings_.external_id,
       .duration_seconds = settings_.duration_seconds},
      *source);
}

WebIdentityProvider::WebIdentityProvider(StsClient& sts, WebIdentitySettings settings)
    : sts_(sts), settings_(std::move(settings)) {}

Result<Credentials> WebIdentityProvider::GetCredentials() {
  auto token = ReadToken(settings_.role_arn, settings_.token_file);
  if (!token.ok()) return std::move(token).error();
  return sts_.AssumeRoleWithWebIdentity(
      {.role_arn = settings_.role_arn,
       .role_session_name = SessionName(settings_.role_session_name, sts_.clock()),
       .web_identity_token = std::move(token).value(),
       .duration_seconds = settings_.duration_seconds});
}

}  // namespace s3mount
