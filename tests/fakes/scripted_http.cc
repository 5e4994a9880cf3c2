// ScriptedHttp: recorded requests and rule-based replies for credential provider tests.
#include "tests/fakes/scripted_http.h"

#include "s3mount/common/strings.h"

namespace s3mount::testing {

std::optional<std::string> SentRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

void ScriptedHttp::On(std::string method, std::string url_prefix, Handler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.push_back({std::move(method), std::move(url_prefix), std::move(handler)});
}

void ScriptedHttp::Reply(std::string method, std::string url_prefix, long status,
                         std::string body) {
  On(std::move(method), std::move(url_prefix),
     [status, body = std::move(body)](const SentRequest&) -> Result<HttpResponse> {
       HttpResponse response;
       response.status = status;
       response.body = body;
       return response;
     });
}

void ScriptedHttp::Fail(std::string method, std::string url_prefix, Error error) {
  On(std::move(method), std::move(url_prefix),
     [error = std::move(error)](const SentRequest&) -> Result<HttpResponse> { return error; });
}

HttpFetch ScriptedHttp::Fetch() {
  return [this](const HttpRequest& request) { return Answer(request); };
}

Result<HttpResponse> ScriptedHttp::Answer(const HttpRequest& request) {
  SentRequest sent{request.method, request.url, request.headers, std::string(request.body)};
  Handler handler;
  {
    std::lock_guard<std::mutex> lock(mu_);
    sent_.push_back(sent);
    for (const Rule& rule : rules_) {
      if ((rule.method.empty() || rule.method == request.method) &&
          request.url.starts_with(rule.url_prefix)) {
        handler = rule.handler;
        break;
      }
    }
  }
  if (handler) return handler(sent);
  HttpResponse response;
  response.status = 404;
  return response;
}

std::vector<SentRequest> ScriptedHttp::sent() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sent_;
}

int ScriptedHttp::Count(std::string_view url_substring) const {
  std::lock_guard<std::mutex> lock(mu_);
  int count = 0;
  for (const SentRequest& request : sent_) {
    if (request.url.find(url_substring) != std::string::npos) ++count;
  }
  return count;
}

}  // namespace s3mount::testing
