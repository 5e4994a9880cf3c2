// AWS Signature Version 4: signs HTTP requests (Authorization header) and builds presigned
// URL queries for S3 and for other services (sqs, sts, ...). Matches botocore byte for byte:
// S3SigV4Auth / S3SigV4QueryAuth for service "s3", SigV4Auth / SigV4QueryAuth otherwise.
//
//   SigV4Signer signer;
//   HttpRequestToSign req{"GET", "bucket.s3.amazonaws.com", "/dir one/a+b.txt", {}, {},
//                         Sha256Hex("")};
//   SignedRequest signed_req = signer.Sign(req, credentials, {"us-east-1", "s3", clock.Now()});
//   // send req with signed_req.headers_to_add, to SigV4Signer::EncodePath(req.path, "s3")
//
// Differences between services (as botocore does them):
//  - s3: the canonical URI is the path UriEncoded once ('/' kept), not normalized ("//", "."
//    and ".." stay); X-Amz-Content-Sha256 is added and signed.
//  - others: the canonical URI is the wire path with dot segments and empty segments removed
//    (RFC 3986 5.2.4, "//" collapsed) and then UriEncoded again ("%20" becomes "%2520").
//    No X-Amz-Content-Sha256 is added; payload_hash is only used in the canonical request.
//
// Secrets: the signer never logs; canonical_request and string_to_sign hold no secret (but a
// session token is a credential: the canonical request of a request with one contains it, so
// do not log canonical requests of real requests either).
//
// Thread-safety: a SigV4Signer is safe to use from many threads at once (its signing-key
// cache is guarded by a mutex). The free functions are pure.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "s3mount/aws/credentials.h"
#include "s3mount/aws/crypto.h"
#include "s3mount/common/clock.h"

namespace s3mount {

// "20130524T000000Z" (UTC, seconds truncated): the X-Amz-Date format.
std::string FormatAmzDate(WallTime time);

struct HttpRequestToSign {
  std::string method;  // "GET"; used as given
  std::string host;    // Host header value, with :port when non-default
  std::string path;    // DECODED path, e.g. "/bucket/dir one/a+b.txt"; "" means "/"
  // DECODED names/values; value "" allowed (?uploads). Order does not matter.
  std::vector<std::pair<std::string, std::string>> query;
  // Headers to sign besides host (names any case). A name may repeat: the values are joined
  // with ',' in the given order. Headers the signer owns are ignored here: host,
  // authorization, x-amz-date, x-amz-security-token, and for s3 x-amz-content-sha256.
  std::vector<std::pair<std::string, std::string>> headers;
  // Lowercase hex SHA-256 of the body, "UNSIGNED-PAYLOAD" or
  // "STREAMING-AWS4-HMAC-SHA256-PAYLOAD". Required for Sign; Presign treats "" as
  // "UNSIGNED-PAYLOAD".
  std::string payload_hash;
};

struct SigningParams {
  std::string region;   // "us-east-1"
  std::string service;  // "s3", "sqs", "sts"
  WallTime time;        // the signing time: X-Amz-Date and the credential scope date
};

// What the caller adds to / sends with the request.
struct SignedRequest {
  // Authorization, X-Amz-Date, X-Amz-Content-Sha256 (service s3 only), X-Amz-Security-Token
  // (when the credentials have a session token). Empty for anonymous credentials.
  std::vector<std::pair<std::string, std::string>> headers_to_add;
  std::string canonical_request;  // for tests and debug; never logged by the signer
  std::string string_to_sign;
  std::string signature;  // lowercase hex; the seed signature for aws-chunked uploads
};

// A presigned URL's query with the intermediate values, for tests and debugging.
struct PresignedQuery {
  std::string query;  // what Presign returns
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
};

class SigV4Signer {
 public:
  // `key_cache_capacity`: how many derived signing keys (one per secret, date, region and
  // service) are kept; at least 1.
  explicit SigV4Signer(size_t key_cache_capacity = 32);

  // Signs with an Authorization header. Anonymous credentials (empty access key): no
  // signing, empty result.
  SignedRequest Sign(const HttpRequestToSign& request, const Credentials& credentials,
                     const SigningParams& params) const;

  // Presigned URL query auth: returns the full canonical encoded query string to append
  // after '?': the request's query and X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
  // X-Amz-Expires, X-Amz-SignedHeaders (host and request.headers), X-Amz-Security-Token
  // (when a session token is present), sorted, then "&X-Amz-Signature=...". `expires` is
  // clamped to [1 s, 7 days], the range AWS accepts. Anonymous credentials: just the
  // encoded request query.
  std::string Presign(const HttpRequestToSign& request, const Credentials& credentials,
                      const SigningParams& params, std::chrono::seconds expires) const;
  PresignedQuery PresignWithDetails(const HttpRequestToSign& request,
                                    const Credentials& credentials, const SigningParams& params,
                                    std::chrono::seconds expires) const;

  // Signature of one chunk of an aws-chunked upload ("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"):
  // `previous_signature` is the seed signature (from Sign) for the first chunk and the
  // previous chunk's signature after that; the final chunk is empty. Lowercase hex.
  std::string SignChunk(std::string_view previous_signature, std::string_view chunk_data,
                        const Credentials& credentials, const SigningParams& params) const;

  // The encoded path to put on the wire, e.g. "/bucket/dir%20one/a%2Bb.txt": the path
  // UriEncoded once with '/' kept, for every service ("" gives "/"). `service` is accepted
  // for symmetry with the canonical URI rules; no service rewrites the wire path.
  static std::string EncodePath(std::string_view decoded_path, std::string_view service);

  // The canonical URI of the decoded path for `service` (see the top of this file).
  static std::string CanonicalUri(std::string_view decoded_path, std::string_view service);

 private:
  // (SHA-256 of the secret, date "YYYYMMDD", region, service). The raw secret is never a key.
  using KeyCacheKey = std::tuple<Sha256Digest, std::string, std::string, std::string>;

  // kSigning for the credentials' secret and the scope; cached.
  Sha256Digest SigningKey(const Credentials& credentials, const std::string& date,
                          const SigningParams& params) const;

  const size_t key_cache_capacity_;
  // LOCK ORDERING: mu_ is a leaf lock; nothing is called while holding it.
  mutable std::mutex mu_;
  mutable std::map<KeyCacheKey, Sha256Digest> key_cache_;  // guarded by mu_
  mutable std::deque<KeyCacheKey> key_cache_order_;        // insertion order, guarded by mu_
};

}  // namespace s3mount
