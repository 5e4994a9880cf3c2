// LoadProfileConfig and ResolveSourceChain: an AWS profile's settings merged from the shared
// credentials and config files, and the source_profile chain of an AssumeRole profile.
#include "s3mount/auth/profile_config.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <utility>

#include "s3mount/common/strings.h"

namespace s3mount {
namespace {

constexpr int kMinDurationSeconds = 900;
constexpr int kMaxDurationSeconds = 43200;

using IniSection = std::map<std::string, std::string>;

Error CredentialsError(std::string message) {
  return MakeError(ErrorCode::kCredentials, std::move(message));
}

std::string Quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

struct SharedFile {
  std::string path;
  bool exists = false;
  IniSections sections;

  std::string Describe() const { return path + (exists ? "" : " (does not exist)"); }
};

struct SharedFiles {
  SharedFile credentials;
  SharedFile config;
};

Result<SharedFile> LoadSharedFile(const std::string& path) {
  SharedFile file;
  file.path = path;
  auto text = ReadFileIfExists(path);
  if (!text.ok()) return std::move(text).error();
  if (!text->has_value()) return file;
  file.exists = true;
  auto sections = ParseIni(**text, path);
  if (!sections.ok()) return std::move(sections).error();
  file.sections = std::move(sections).value();
  return file;
}

Result<SharedFiles> LoadSharedFiles(const AwsSharedFiles& files) {
  auto credentials = LoadSharedFile(files.credentials_file);
  if (!credentials.ok()) return std::move(credentials).error();
  auto config = LoadSharedFile(files.config_file);
  if (!config.ok()) return std::move(config).error();
  return SharedFiles{std::move(credentials).value(), std::move(config).value()};
}

// `[PREFIX NAME]` with any whitespace between the two words (ParseIni keeps it as written).
const IniSection* FindPrefixed(const IniSections& sections, std::string_view prefix,
                               std::string_view name) {
  for (const auto& [section_name, section] : sections) {
    const std::string_view header(section_name);
    if (header.size() > prefix.size() && header.substr(0, prefix.size()) == prefix &&
        IsAsciiSpace(header[prefix.size()]) &&
        TrimAsciiSpace(header.substr(prefix.size())) == name) {
      return &section;
    }
  }
  return nullptr;
}

// The profile's section in the config file: `[profile NAME]`; for "default", `[profile
// default]` if present, else `[default]` (see the header for why).
const IniSection* FindConfigProfile(const IniSections& sections, std::string_view profile) {
  if (const IniSection* section = FindPrefixed(sections, "profile", profile)) return section;
  if (profile != "default") return nullptr;
  auto it = sections.find(profile);
  return it == sections.end() ? nullptr : &it->second;
}

const IniSection* FindCredentialsProfile(const IniSections& sections, std::string_view profile) {
  auto it = sections.find(profile);
  return it == sections.end() ? nullptr : &it->second;
}

// A profile's keys merged from both files, remembering which file each value came from.
class MergedProfile {
 public:
  MergedProfile(std::string_view name, const SharedFile& credentials, const IniSection* from_creds,
                const SharedFile& config, const IniSection* from_config)
      : name_(name) {
    // Config first, then the credentials file over it; empty values do not count.
    for (const auto& [section, file] :
         {std::pair{from_config, &config}, std::pair{from_creds, &credentials}}) {
      if (section == nullptr) continue;
      for (const auto& [key, value] : *section) {
        if (value.empty()) continue;
        values_[key] = value;
        origin_[key] = file->path;
      }
    }
  }

  std::string Get(const std::string& key) const {
    auto it = values_.find(key);
    return it == values_.end() ? std::string() : it->second;
  }
  // "profile 'x' in FILE: KEY" for messages about one key.
  std::string Where(const std::string& key) const {
    auto it = origin_.find(key);
    return "profile " + Quoted(name_) + (it == origin_.end() ? "" : " in " + it->second) + ": " +
           key;
  }

 private:
  std::string name_;
  std::map<std::string, std::string> values_;
  std::map<std::string, std::string> origin_;
};

Result<std::optional<int>> ParseDuration(const MergedProfile& merged) {
  const std::string text = merged.Get("duration_seconds");
  if (text.empty()) return std::optional<int>();
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return CredentialsError(merged.Where("duration_seconds") + " " + Quoted(text) +
                            " is not a whole number of seconds");
  }
  if (value < kMinDurationSeconds || value > kMaxDurationSeconds) {
    return CredentialsError(merged.Where("duration_seconds") + " " + std::to_string(value) +
                            " is outside 900..43200");
  }
  return std::optional<int>(value);
}

Result<std::optional<CredentialSource>> ParseCredentialSource(const MergedProfile& merged) {
  const std::string text = merged.Get("credential_source");
  if (text.empty()) return std::optional<CredentialSource>();
  for (const CredentialSource source :
       {CredentialSource::kEnvironment, CredentialSource::kEc2InstanceMetadata,
        CredentialSource::kEcsContainer}) {
    if (text == CredentialSourceName(source)) return std::optional<CredentialSource>(source);
  }
  return CredentialsError(merged.Where("credential_source") + " " + Quoted(text) +
                          " is not one of Environment, Ec2InstanceMetadata, EcsContainer");
}

// Fills sso_start_url and sso_region from `[sso-session NAME]`.
Status ResolveSsoSession(const SharedFile& config, const MergedProfile& merged,
                         ProfileConfig& profile) {
  if (profile.sso_session.empty()) return OkStatus();
  const IniSection* session = FindPrefixed(config.sections, "sso-session", profile.sso_session);
  if (session == nullptr) {
    return CredentialsError(merged.Where("sso_session") + " names [sso-session " +
                            profile.sso_session + "], which is not in " + config.Describe());
  }
  for (auto [key, field] : {std::pair{"sso_start_url", &profile.sso_start_url},
                            std::pair{"sso_region", &profile.sso_region}}) {
    auto it = session->find(key);
    if (it == session->end() || it->second.empty()) continue;
    if (!field->empty() && *field != it->second) {
      return CredentialsError(merged.Where(key) + " " + Quoted(*field) +
                              " differs from the value in [sso-session " + profile.sso_session +
                              "] " + Quoted(it->second));
    }
    *field = it->second;
  }
  return OkStatus();
}

void FillStrings(const MergedProfile& merged, ProfileConfig& profile) {
  const std::array<std::pair<const char*, std::string*>, 15> kFields = {{
      {"aws_access_key_id", &profile.access_key_id},
      {"aws_secret_access_key", &profile.secret_access_key},
      {"aws_session_token", &profile.session_token},
      {"role_arn", &profile.role_arn},
      {"source_profile", &profile.source_profile},
      {"external_id", &profile.external_id},
      {"role_session_name", &profile.role_session_name},
      {"web_identity_token_file", &profile.web_identity_token_file},
      {"credential_process", &profile.credential_process},
      {"sso_session", &profile.sso_session},
      {"sso_start_url", &profile.sso_start_url},
      {"sso_region", &profile.sso_region},
      {"sso_account_id", &profile.sso_account_id},
      {"sso_role_name", &profile.sso_role_name},
      {"region", &profile.region},
  }};
  for (const auto& [key, field] : kFields) *field = merged.Get(key);
  // aws_security_token: the legacy name of aws_session_token, still read by botocore.
  if (profile.session_token.empty()) profile.session_token = merged.Get("aws_security_token");
}

Result<ProfileConfig> BuildProfile(const SharedFiles& files, std::string_view name) {
  const IniSection* from_creds = FindCredentialsProfile(files.credentials.sections, name);
  const IniSection* from_config = FindConfigProfile(files.config.sections, name);
  if (from_creds == nullptr && from_config == nullptr) {
    return CredentialsError("profile " + Quoted(name) + " not found in " +
                            files.credentials.Describe() + " or " + files.config.Describe());
  }
  const MergedProfile merged(name, files.credentials, from_creds, files.config, from_config);
  ProfileConfig profile;
  profile.name = std::string(name);
  if (from_creds != nullptr) profile.files.push_back(files.credentials.path);
  if (from_config != nullptr) profile.files.push_back(files.config.path);
  FillStrings(merged, profile);
  auto duration = ParseDuration(merged);
  if (!duration.ok()) return std::move(duration).error();
  profile.duration_seconds = *duration;
  auto source = ParseCredentialSource(merged);
  if (!source.ok()) return std::move(source).error();
  profile.credential_source = *source;
  if (!profile.source_profile.empty() && profile.credential_source.has_value()) {
    return CredentialsError("profile " + Quoted(name) +
                            " sets both source_profile and credential_source; an assume-role "
                            "profile takes one of them");
  }
  S3M_RETURN_IF_ERROR(ResolveSsoSession(files.config, merged, profile));
  return profile;
}

std::string ChainText(const std::vector<ProfileConfig>& chain, std::string_view last) {
  std::string text;
  for (const ProfileConfig& profile : chain) text += profile.name + " -> ";
  return text + std::string(last);
}

// Whether the chain goes on past its last profile.
bool FollowsSource(const std::vector<ProfileConfig>& chain) {
  const ProfileConfig& last = chain.back();
  if (last.role_arn.empty() || last.source_profile.empty()) return false;
  return chain.size() == 1 || !last.has_static_keys();
}

}  // namespace

std::string_view CredentialSourceName(CredentialSource source) {
  switch (source) {
    case CredentialSource::kEnvironment:
      return "Environment";
    case CredentialSource::kEc2InstanceMetadata:
      return "Ec2InstanceMetadata";
    case CredentialSource::kEcsContainer:
      return "EcsContainer";
  }
  return "unknown";
}

Result<ProfileConfig> LoadProfileConfig(const AwsSharedFiles& files, std::string_view profile) {
  auto loaded = LoadSharedFiles(files);
  if (!loaded.ok()) return std::move(loaded).error();
  return BuildProfile(*loaded, profile);
}

Result<std::optional<ProfileConfig>> FindProfileConfig(const AwsSharedFiles& files,
                                                       std::string_view profile) {
  auto loaded = LoadSharedFiles(files);
  if (!loaded.ok()) return std::move(loaded).error();
  if (FindCredentialsProfile(loaded->credentials.sections, profile) == nullptr &&
      FindConfigProfile(loaded->config.sections, profile) == nullptr) {
    return std::optional<ProfileConfig>();
  }
  auto built = BuildProfile(*loaded, profile);
  if (!built.ok()) return std::move(built).error();
  return std::optional<ProfileConfig>(std::move(built).value());
}

Result<Credentials> ProfileStaticKeys(const ProfileConfig& profile) {
  const bool has_id = !profile.access_key_id.empty();
  const bool has_secret = !profile.secret_access_key.empty();
  std::string where = "profile " + Quoted(profile.name);
  if (!profile.files.empty()) {
    where += " in " + profile.files.front();
    if (profile.files.size() > 1) where += " and " + profile.files.back();
  }
  if (has_id && has_secret) {
    return Credentials{profile.access_key_id, profile.secret_access_key, profile.session_token,
                       std::nullopt};
  }
  if (has_id || has_secret) {
    return CredentialsError(where + " has " +
                            (has_id ? "aws_access_key_id but no aws_secret_access_key"
                                    : "aws_secret_access_key but no aws_access_key_id"));
  }
  return CredentialsError(where + " has no aws_access_key_id and aws_secret_access_key");
}

Result<Credentials> LoadProfileCredentials(const AwsSharedFiles& files, std::string_view profile) {
  auto config = LoadProfileConfig(files, profile);
  if (!config.ok()) return std::move(config).error();
  return ProfileStaticKeys(*config);
}

Result<std::optional<std::string>> LoadProfileRegion(const AwsSharedFiles& files,
                                                     std::string_view profile) {
  auto config = LoadSharedFile(files.config_file);
  if (!config.ok()) return std::move(config).error();
  const IniSection* section = FindConfigProfile(config->sections, profile);
  if (section == nullptr) return std::optional<std::string>();
  auto it = section->find("region");
  if (it == section->end() || it->second.empty()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Result<std::vector<ProfileConfig>> ResolveSourceChain(const AwsSharedFiles& files,
                                                      std::string_view profile) {
  auto loaded = LoadSharedFiles(files);
  if (!loaded.ok()) return std::move(loaded).error();
  auto first = BuildProfile(*loaded, profile);
  if (!first.ok()) return std::move(first).error();
  std::vector<ProfileConfig> chain;
  chain.push_back(std::move(first).value());
  while (FollowsSource(chain)) {
    const ProfileConfig& last = chain.back();
    const std::string next = last.source_profile;
    const bool self_with_keys = next == last.name && last.has_static_keys() && chain.size() == 1;
    const bool seen = std::any_of(chain.begin(), chain.end(),
                                  [&](const ProfileConfig& p) { return p.name == next; });
    if (seen && !self_with_keys) {
      return CredentialsError("source_profile cycle: " + ChainText(chain, next));
    }
    if (static_cast<int>(chain.size()) >= kMaxSourceProfileChain) {
      return CredentialsError("source_profile chain from profile " + Quoted(profile) +
                              " is longer than " + std::to_string(kMaxSourceProfileChain) +
                              " profiles: " + ChainText(chain, next));
    }
    auto source = BuildProfile(*loaded, next);
    if (!source.ok()) {
      Error error = std::move(source).error();
      error.message = "source_profile of profile " + Quoted(last.name) + ": " + error.message;
      return error;
    }
    chain.push_back(std::move(source).value());
  }
  return chain;
}

}  // namespace s3mount
