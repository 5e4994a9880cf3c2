// CheckBucket: one listing, and the human reading of its failure.
#include "s3mount/fs/bucket_check.h"

namespace s3mount {

Status CheckBucket(ObjectStore& store, const std::string& bucket, const std::string& prefix,
                   const std::string& where, const std::string& virtual_host) {
  auto listed = store.ListObjects({.prefix = prefix, .max_keys = 1});
  if (listed.ok()) return OkStatus();
  const Error& error = listed.error();
  const std::string detail = " (" + error.ToString() + ")";
  std::string message;
  switch (error.code) {
    case ErrorCode::kNoSuchBucket:
    case ErrorCode::kNotFound:
      message = "bucket '" + bucket + "' does not exist at " + where;
      break;
    case ErrorCode::kAccessDenied:
      message = "access to bucket '" + bucket +
                "' was denied: the credentials lack permission "
                "to list it" +
                detail;
      break;
    case ErrorCode::kInvalidAccessKeyId:
      message = where + " does not know the access key ID; check the credentials" + detail;
      break;
    case ErrorCode::kSignatureDoesNotMatch:
      message = "the secret access key is wrong: " + where + " rejected the signature" + detail;
      break;
    case ErrorCode::kExpiredToken:
      message = "the session token has expired or is invalid" + detail;
      break;
    case ErrorCode::kCredentials:
      message = "no usable credentials: " + error.message;
      break;
    case ErrorCode::kNetwork:
    case ErrorCode::kTimeout:
      message = "cannot reach " + where + ": " + error.message;
      break;
    case ErrorCode::kHostNotFound:
      message = "cannot reach " + where + ": " + error.message;
      if (!virtual_host.empty()) {
        message += "; the bucket is addressed virtual-hosted, as host '" + virtual_host +
                   "', which does not resolve: mount with -o path_style to send requests to the "
                   "endpoint's own host, with the bucket in the path";
      }
      break;
    case ErrorCode::kTls:
      message = "TLS failure talking to " + where + ": " + error.message +
                " (use ca_bundle= to trust a private CA)";
      break;
    case ErrorCode::kWrongRegion:
      message = "bucket '" + bucket + "' is in another region; set region=" + detail;
      break;
    default:
      message = "cannot list bucket '" + bucket + "' at " + where + detail;
      break;
  }
  Error out = error;
  out.message = std::move(message);
  return out;
}

}  // namespace s3mount
