// ScriptedHttp: an HttpFetch for unit tests of the credential providers. It records every
// request and answers from rules matched by method and URL prefix (the first added rule that
// matches wins; unmatched requests get HTTP 404).
//
//   ScriptedHttp http;
//   http.Reply("PUT", "http://169.254.169.254/latest/api/token", 200, "token");
//   ImdsCredentialsProvider provider(http.Fetch(), options, clock);
//   EXPECT_EQ(http.Count("/latest/meta-data/"), 2);
//
// Thread-safety: Fetch()'s function and every method may be called from any thread.
// LOCK ORDERING: mu_ is a leaf; handlers run without it.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "s3mount/aws/http_fetch.h"

namespace s3mount::testing {

struct SentRequest {
  std::string method;
  std::string url;
  HeaderList headers;
  std::string body;

  // The first header named `name` (compared without regard to case), if any.
  std::optional<std::string> Header(std::string_view name) const;
};

class ScriptedHttp {
 public:
  using Handler = std::function<Result<HttpResponse>(const SentRequest&)>;

  // Requests with `method` ("" = any) whose URL starts with `url_prefix` go to `handler`.
  void On(std::string method, std::string url_prefix, Handler handler);
  // As On, with a fixed reply.
  void Reply(std::string method, std::string url_prefix, long status, std::string body);
  // As On, with a transport failure.
  void Fail(std::string method, std::string url_prefix, Error error);

  HttpFetch Fetch();

  std::vector<SentRequest> sent() const;
  // How many requests had `url_substring` in their URL.
  int Count(std::string_view url_substring) const;

 private:
  struct Rule {
    std::string method;
    std::string url_prefix;
    Handler handler;
  };
  Result<HttpResponse> Answer(const HttpRequest& request);

  mutable std::mutex mu_;
  std::vector<Rule> rules_;        // guarded by mu_
  std::vector<SentRequest> sent_;  // guarded by mu_
};

}  // namespace s3mount::testing
