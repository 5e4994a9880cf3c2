// ProfileCredentialsProvider and the small INI reader for the AWS shared files.
#include "s3mount/auth/profile_credentials.h"

#include <fcntl.h>
#include <pwd.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "s3mount/auth/profile_config.h"
#include "s3mount/common/strings.h"
#include "s3mount/common/unique_fd.h"

namespace s3mount {
namespace {

constexpr size_t kMaxFileBytes = size_t{1} << 20;

using IniSection = std::map<std::string, std::string>;

Error CredentialsError(std::string message) {
  return MakeError(ErrorCode::kCredentials, std::move(message));
}

std::string Env(const char* name) {
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read-only use
  return value == nullptr ? std::string() : std::string(value);
}

// The file's contents, or nullopt when it does not exist.
Result<std::optional<std::string>> ReadSmallFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<std::string>();
    return CredentialsError("cannot open " + path + ": " + std::strerror(errno));
  }
  std::string contents;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(fd.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return CredentialsError("cannot read " + path + ": " + std::strerror(errno));
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
    if (contents.size() > kMaxFileBytes) return CredentialsError(path + " is larger than 1 MiB");
  }
  return std::optional<std::string>(std::move(contents));
}

std::string HomeDirectory() {
  std::string home = Env("HOME");
  if (!home.empty()) return home;
  std::vector<char> buffer(16384);
  struct passwd entry {};
  struct passwd* found = nullptr;
  if (getpwuid_r(getuid(), &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr &&
      found->pw_dir != nullptr) {
    return found->pw_dir;
  }
  return {};
}

Result<std::string> ExpandHome(const std::string& path) {
  if (path != "~" && path.rfind("~/", 0) != 0) return path;
  const std::string home = HomeDirectory();
  if (home.empty()) {
    return CredentialsError("cannot expand '" + path + "': no home directory (HOME is unset)");
  }
  return home + path.substr(1);
}

// Cuts an inline comment: '#' or ';' preceded by whitespace.
std::string_view WithoutInlineComment(std::string_view value) {
  for (size_t i = 1; i < value.size(); ++i) {
    if ((value[i] == '#' || value[i] == ';') && IsAsciiSpace(value[i - 1])) {
      return TrimAsciiSpace(value.substr(0, i));
    }
  }
  return value;
}

std::string LineError(std::string_view path, int line, std::string_view what) {
  return std::string(path) + ": line " + std::to_string(line) + ": " + std::string(what);
}

}  // namespace

Result<std::optional<std::string>> ReadFileIfExists(const std::string& path) {
  return ReadSmallFile(path);
}

Result<IniSections> ParseIni(std::string_view text, std::string_view path) {
  IniSections sections;
  IniSection* current = nullptr;
  bool in_nested = false;  // after `key =` with no value: indented lines are its settings
  int line_number = 0;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    ++line_number;
    const std::string_view trimmed = TrimAsciiSpace(line);
    if (trimmed.empty() || trimmed.front() == '#' || trimmed.front() == ';') continue;
    if (in_nested && IsAsciiSpace(line.front())) continue;
    in_nested = false;
    if (trimmed.front() == '[') {
      const size_t close = trimmed.find(']');
      const std::string_view rest =
          close == std::string_view::npos ? "" : TrimAsciiSpace(trimmed.substr(close + 1));
      const std::string_view name =
          close == std::string_view::npos ? "" : TrimAsciiSpace(trimmed.substr(1, close - 1));
      if (name.empty() || (!rest.empty() && rest.front() != '#' && rest.front() != ';')) {
        return CredentialsError(LineError(path, line_number, "malformed [section] header"));
      }
      current = &sections[std::string(name)];
      continue;
    }
    const size_t equals = trimmed.find('=');
    if (equals == std::string_view::npos) {
      return CredentialsError(LineError(path, line_number, "expected 'key = value'"));
    }
    if (current == nullptr) {
      return CredentialsError(LineError(path, line_number, "setting outside any [section]"));
    }
    const std::string key = AsciiLower(TrimAsciiSpace(trimmed.substr(0, equals)));
    if (key.empty()) return CredentialsError(LineError(path, line_number, "empty key"));
    std::string value(WithoutInlineComment(TrimAsciiSpace(trimmed.substr(equals + 1))));
    in_nested = value.empty();
    (*current)[key] = std::move(value);
  }
  return sections;
}

Result<AwsSharedFiles> DefaultAwsSharedFiles() {
  std::string credentials = Env("AWS_SHARED_CREDENTIALS_FILE");
  std::string config = Env("AWS_CONFIG_FILE");
  if (credentials.empty()) credentials = "~/.aws/credentials";
  if (config.empty()) config = "~/.aws/config";
  AwsSharedFiles files;
  auto expanded_credentials = ExpandHome(credentials);
  if (!expanded_credentials.ok()) return std::move(expanded_credentials).error();
  auto expanded_config = ExpandHome(config);
  if (!expanded_config.ok()) return std::move(expanded_config).error();
  files.credentials_file = std::move(expanded_credentials).value();
  files.config_file = std::move(expanded_config).value();
  return files;
}

std::string DefaultProfileName() {
  for (const char* name : {"AWS_PROFILE", "AWS_DEFAULT_PROFILE"}) {
    std::string value = Env(name);
    if (!value.empty()) return value;
  }
  return "default";
}

std::string ProfileCredentialsProvider::SignatureOf(const std::string& path) {
  struct stat st = {};
  if (::stat(path.c_str(), &st) != 0) return "";
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
         std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

std::string ProfileCredentialsProvider::FilesSignature() const {
  return SignatureOf(files_.credentials_file) + "|" + SignatureOf(files_.config_file);
}

Result<Credentials> ProfileCredentialsProvider::GetCredentials() {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string signature = FilesSignature();
  if (loaded_.has_value() && signature == loaded_signature_) return *loaded_;
  auto credentials = LoadProfileCredentials(files_, profile_);
  if (!credentials.ok()) {
    if (!loaded_.has_value()) return credentials;
    spdlog::warn(
        "profile '{}' changed on disk but could not be read again ({}); the keys read "
        "before stay in use",
        profile_, credentials.error().message);
    loaded_signature_ = signature;  // warn once per change
    return *loaded_;
  }
  if (loaded_.has_value())
    spdlog::info("profile '{}' changed on disk: using its new keys", profile_);
  loaded_ = *credentials;
  loaded_signature_ = signature;
  return credentials;
}

}  // namespace s3mount
