// ProfileCredentialsProvider and the small INI reader for the AWS shared files.
#include "s3mount/auth/profile_credentials.h"

#include <fcntl.h>
#include <pwd.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "s3mount/common/strings.h"

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

class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

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

// The section the profile lives in: `[NAME]` in the credentials file; `[profile NAME]` (or
// `[default]`) in the config file.
const IniSection* FindProfile(const IniSections& sections, std::string_view profile,
                              bool config_file) {
  if (!config_file || profile == "default") {
    auto it = sections.find(profile);
    if (it != sections.end()) return &it->second;
    if (!config_file) return nullptr;
  }
  for (const auto& [name, section] : sections) {
    constexpr std::string_view kProfile = "profile";
    if (name.size() > kProfile.size() && name.compare(0, kProfile.size(), kProfile) == 0 &&
        IsAsciiSpace(name[kProfile.size()]) &&
        TrimAsciiSpace(std::string_view(name).substr(kProfile.size())) == profile) {
      return &section;
    }
  }
  return nullptr;
}

std::string Value(const IniSection& section, const char* key) {
  auto it = section.find(key);
  return it == section.end() ? std::string() : it->second;
}

// nullopt when the section holds neither key; an error when it holds only one.
Result<std::optional<Credentials>> StaticKeys(const IniSection& section, const std::string& path,
                                              std::string_view profile) {
  Credentials credentials;
  credentials.access_key_id = Value(section, "aws_access_key_id");
  credentials.secret_access_key = Value(section, "aws_secret_access_key");
  credentials.session_token = Value(section, "aws_session_token");
  const bool has_id = !credentials.access_key_id.empty();
  const bool has_secret = !credentials.secret_access_key.empty();
  if (!has_id && !has_secret) return std::optional<Credentials>();
  if (!has_secret || !has_id) {
    return CredentialsError("profile '" + std::string(profile) + "' in " + path + " has " +
                            (has_id ? "aws_access_key_id but no aws_secret_access_key"
                                    : "aws_secret_access_key but no aws_access_key_id"));
  }
  return std::optional<Credentials>(std::move(credentials));
}

// What a profile without static keys uses instead, if we know it.
std::string OtherCredentialSource(const IniSection& section) {
  constexpr std::array<const char*, 6> kKeys = {"role_arn",           "source_profile",
                                                "sso_session",        "sso_start_url",
                                                "credential_process", "web_identity_token_file"};
  for (const char* key : kKeys) {
    if (section.count(key) != 0) return key;
  }
  return {};
}

struct LoadedFile {
  std::string path;
  bool exists = false;
  IniSections sections;
};

Result<LoadedFile> LoadIniFile(const std::string& path) {
  LoadedFile file;
  file.path = path;
  auto text = ReadSmallFile(path);
  if (!text.ok()) return std::move(text).error();
  if (!text->has_value()) return file;
  file.exists = true;
  auto sections = ParseIni(**text, path);
  if (!sections.ok()) return std::move(sections).error();
  file.sections = std::move(sections).value();
  return file;
}

Error ProfileNotUsable(const LoadedFile& credentials, const LoadedFile& config,
                       std::string_view profile) {
  const std::string quoted = "profile '" + std::string(profile) + "'";
  for (const LoadedFile* file : {&credentials, &config}) {
    const IniSection* section = FindProfile(file->sections, profile, file == &config);
    if (section == nullptr) continue;
    std::string message =
        quoted + " in " + file->path + " has no aws_access_key_id and aws_secret_access_key";
    const std::string other = OtherCredentialSource(*section);
    if (!other.empty()) {
      message += "; it uses " + other + ", which s3mount does not support yet (static keys only)";
    }
    return CredentialsError(message);
  }
  auto describe = [](const LoadedFile& file) {
    return file.path + (file.exists ? "" : " (does not exist)");
  };
  return CredentialsError(quoted + " not found in " + describe(credentials) + " or " +
                          describe(config));
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

Result<Credentials> LoadProfileCredentials(const AwsSharedFiles& files, std::string_view profile) {
  auto credentials_file = LoadIniFile(files.credentials_file);
  if (!credentials_file.ok()) return std::move(credentials_file).error();
  auto config_file = LoadIniFile(files.config_file);
  if (!config_file.ok()) return std::move(config_file).error();
  for (const LoadedFile* file : {&*credentials_file, &*config_file}) {
    const IniSection* section = FindProfile(file->sections, profile, file == &*config_file);
    if (section == nullptr) continue;
    auto keys = StaticKeys(*section, file->path, profile);
    if (!keys.ok()) return std::move(keys).error();
    if (keys->has_value()) return std::move(**keys);
  }
  return ProfileNotUsable(*credentials_file, *config_file, profile);
}

Result<std::optional<std::string>> LoadProfileRegion(const AwsSharedFiles& files,
                                                     std::string_view profile) {
  auto config_file = LoadIniFile(files.config_file);
  if (!config_file.ok()) return std::move(config_file).error();
  const IniSection* section = FindProfile(config_file->sections, profile, true);
  if (section == nullptr) return std::optional<std::string>();
  std::string region = Value(*section, "region");
  if (region.empty()) return std::optional<std::string>();
  return std::optional<std::string>(std::move(region));
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
