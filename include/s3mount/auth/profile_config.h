// ProfileConfig: one AWS profile as the AWS CLI resolves it from the shared files, the input
// of every profile-based credentials provider (static keys, assume role, web identity, SSO,
// credential_process). Reading only: nothing here talks to the network.
//
// How a profile is found and merged (botocore's rules unless noted):
// - Credentials file (AWS_SHARED_CREDENTIALS_FILE, ~/.aws/credentials): section `[NAME]`
//   (`[profile NAME]` there is a different profile, literally named "profile NAME").
// - Config file (AWS_CONFIG_FILE, ~/.aws/config): `[profile NAME]`; the default profile is
//   `[default]` or `[profile default]`. When both exist, `[profile default]` wins and
//   `[default]` is ignored entirely (no key-by-key merge). That is the rule of the AWS SDKs'
//   shared-config reference (Java v2, Rust); botocore instead takes whichever of the two
//   comes later in the file, and the two agree in the usual case where `[profile default]` was
//   added after `aws configure` wrote `[default]`. ParseIni keeps no section order, so the
//   order-independent rule is the one we can implement. Note that LoadProfileCredentials
//   (profile_credentials.h) still prefers `[default]`.
// - Every key set in the credentials file's section wins over the same key in the config
//   file's (botocore merges the credentials file over the config file this way), so static
//   keys from the credentials file win. Empty values (nested blocks such as `s3 =`) count as
//   unset. Key names are case-insensitive (ParseIni lower-cases them).
// - `sso_session = NAME` is resolved from the config file's `[sso-session NAME]` section into
//   sso_start_url and sso_region; the profile may repeat them, but a different value is an
//   error (as in botocore).
//
// Errors are kCredentials, name the profile, the file and the key, never a value of the
// aws_secret_access_key or aws_session_token keys.
//
// Thread-safety: pure functions apart from reading the two files.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "s3mount/auth/profile_credentials.h"
#include "s3mount/common/result.h"

namespace s3mount {

// `credential_source` of an assume-role profile: where the base credentials come from.
enum class CredentialSource { kEnvironment, kEc2InstanceMetadata, kEcsContainer };

// "Environment", "Ec2InstanceMetadata", "EcsContainer" (the config file's spelling).
std::string_view CredentialSourceName(CredentialSource source);

struct ProfileConfig {
  std::string name;
  // Paths of the files that have a section for this profile (credentials file first).
  std::vector<std::string> files;

  // Static keys (aws_access_key_id, aws_secret_access_key, aws_session_token).
  std::string access_key_id;
  std::string secret_access_key;  // never logged
  std::string session_token;      // never logged

  // Assume role.
  std::string role_arn;
  std::string source_profile;
  std::optional<CredentialSource> credential_source;
  std::string external_id;
  std::string role_session_name;
  std::optional<int> duration_seconds;  // validated to 900..43200

  // Web identity (with role_arn).
  std::string web_identity_token_file;

  // External process.
  std::string credential_process;

  // SSO: sso_start_url and sso_region come from the `[sso-session]` section when sso_session
  // is set, else from the profile itself (legacy SSO profiles).
  std::string sso_session;
  std::string sso_start_url;
  std::string sso_region;
  std::string sso_account_id;
  std::string sso_role_name;

  std::string region;

  // Both static keys are set.
  bool has_static_keys() const { return !access_key_id.empty() && !secret_access_key.empty(); }
  // role_arn with a source_profile or a credential_source (an AssumeRole profile).
  bool assumes_role() const {
    return !role_arn.empty() && (!source_profile.empty() || credential_source.has_value());
  }
};

// Reads the files (a missing file counts as empty) and resolves `profile`. Fails when the
// profile is in neither file ("profile 'x' not found in FILE1 or FILE2"), when a file cannot
// be parsed, on an invalid value (duration_seconds not a number or out of range, an unknown
// credential_source; the message names the key), when role_arn has both source_profile and
// credential_source, and when sso_session names a missing `[sso-session]` section.
Result<ProfileConfig> LoadProfileConfig(const AwsSharedFiles& files, std::string_view profile);

// As LoadProfileConfig, but nullopt (no error) when neither file has the profile: the default
// credential chain skips a missing default profile, while a profile the user named must exist.
Result<std::optional<ProfileConfig>> FindProfileConfig(const AwsSharedFiles& files,
                                                       std::string_view profile);

// The profile's static keys; kCredentials when it has only one of the two keys, or none
// ("profile 'x' in FILE has no aws_access_key_id and aws_secret_access_key").
Result<Credentials> ProfileStaticKeys(const ProfileConfig& profile);

// LoadProfileConfig, then ProfileStaticKeys.
Result<Credentials> LoadProfileCredentials(const AwsSharedFiles& files, std::string_view profile);

// The profile's `region` from the config file, if it has the profile and the profile sets one.
Result<std::optional<std::string>> LoadProfileRegion(const AwsSharedFiles& files,
                                                     std::string_view profile);

// The longest source_profile chain allowed (profiles in the result).
inline constexpr int kMaxSourceProfileChain = 10;

// The profiles an AssumeRole of `profile` goes through, starting with `profile` itself; each
// next element is the source_profile of the one before. Every element but the last assumes
// its role with credentials obtained from the next one. The last one's credentials are its
// static keys when it is not the first and has both keys (in a source profile they win over
// its own role_arn, as in botocore); otherwise they come from its own configuration
// (credential_source + role_arn, web identity, SSO, credential_process, or static keys).
// The chain goes on while the last profile has role_arn and source_profile (and, past the
// first, no static keys). A profile naming itself as source_profile while holding static keys
// (botocore's "assume my role with my own keys" idiom) appears twice: [a, a]. A profile
// reached twice otherwise is an error naming the cycle ("a -> b -> a"); so is a chain longer
// than kMaxSourceProfileChain and a source profile missing from both files.
Result<std::vector<ProfileConfig>> ResolveSourceChain(const AwsSharedFiles& files,
                                                      std::string_view profile);

}  // namespace s3mount
