// Parsing of the JSON credential documents that credential_process, container endpoints, EC2
// instance metadata and the SSO portal send: a JSON object whose members hold the keys and an
// expiration (an ISO-8601 string, or epoch milliseconds for SSO). Shared by those providers.
//
// Errors (kCredentials) start with the `source` the caller names ("credential_process 'x'",
// "container endpoint http://..."), say which member is missing or malformed and never
// include a member's value or the document.
//
// Thread-safety: pure functions, safe to call from any thread.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string_view>

#include "s3mount/aws/credentials.h"
#include "s3mount/common/result.h"

namespace s3mount {

// Member names of one document format. An empty name means the format has no such member.
struct CredentialJsonFields {
  std::string_view access_key_id;
  std::string_view secret_access_key;
  std::string_view session_token;
  std::string_view expiration;
  bool session_token_required = false;
  bool expiration_required = false;
};

// Parses `text` as a JSON object (anything else is an error).
Result<nlohmann::json> ParseJsonObject(std::string_view text, std::string_view source);

// The credentials in `object` under the member names in `fields`. The access key and secret
// must be non-empty strings; the token, when present, a string; the expiration an ISO-8601
// string or a number of milliseconds since the epoch.
Result<Credentials> CredentialsFromJson(const nlohmann::json& object,
                                        const CredentialJsonFields& fields,
                                        std::string_view source);

// The string member `name` of `object`, or nullptr when absent or not a string.
const std::string* JsonStringMember(const nlohmann::json& object, std::string_view name);

}  // namespace s3mount
