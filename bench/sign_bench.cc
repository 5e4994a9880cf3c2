// sign_bench: CPU cost of SigV4 signing (with the signing-key cache warm, as in steady state,
// and cold, as on the first request of a day), and of hashing a payload for a signed PUT.
#include <benchmark/benchmark.h>

#include <string>

#include "s3mount/aws/crypto.h"
#include "s3mount/aws/sigv4_signer.h"

namespace s3mount {
namespace {

HttpRequestToSign GetRequest() {
  HttpRequestToSign request;
  request.method = "GET";
  request.host = "examplebucket.s3.us-east-1.amazonaws.com";
  request.path = "/photos/2024/holiday snaps/IMG_0042.jpg";
  request.headers = {{"Range", "bytes=0-1048575"}, {"If-Match", "\"0123456789abcdef\""}};
  request.payload_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  return request;
}

Credentials TestCredentials() {
  return {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", std::nullopt};
}

void BM_SignWarmKeyCache(benchmark::State& state) {
  SigV4Signer signer;
  const auto request = GetRequest();
  const auto credentials = TestCredentials();
  const SigningParams params{"us-east-1", "s3", WallTime(std::chrono::seconds(1'700'000'000))};
  for (auto _ : state) benchmark::DoNotOptimize(signer.Sign(request, credentials, params));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SignWarmKeyCache);

void BM_SignColdKeyCache(benchmark::State& state) {
  const auto request = GetRequest();
  const auto credentials = TestCredentials();
  int64_t day = 0;
  SigV4Signer signer;
  for (auto _ : state) {
    // A new date each time: the signing key must be derived again (four more HMACs).
    const SigningParams params{"us-east-1", "s3",
                               WallTime(std::chrono::seconds(1'700'000'000 + 86'400 * ++day))};
    benchmark::DoNotOptimize(signer.Sign(request, credentials, params));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SignColdKeyCache);

void BM_PayloadSha256(benchmark::State& state) {
  const std::string body(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state) benchmark::DoNotOptimize(Sha256Hex(body));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_PayloadSha256)->Arg(4 << 10)->Arg(8 << 20);

}  // namespace
}  // namespace s3mount
