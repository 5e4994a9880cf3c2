// HttpFetch: how credential providers that talk HTTP (STS, container endpoints, EC2 instance
// metadata, the SSO portal) send a request. main binds it to an HttpClient; unit tests bind
// a lambda that answers from a script. Replies of any status are values; only transport
// failures are Errors (see aws/http_client.h).
//
// Thread-safety: the bound function must accept concurrent calls.
#pragma once

#include <functional>

#include "s3mount/aws/http_client.h"
#include "s3mount/common/result.h"

namespace s3mount {

using HttpFetch = std::function<Result<HttpResponse>(const HttpRequest& request)>;

// An HttpFetch over `client`, which must outlive it.
inline HttpFetch FetchWith(HttpClient& client) {
  return [&client](const HttpRequest& request) { return client.Perform(request); };
}

}  // namespace s3mount
