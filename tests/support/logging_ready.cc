// Linked into every test executable (not into the support library, where an unreferenced
// object would be dropped): creates spdlog's registry and default logger while the process
// is still single-threaded, as s3mount's main does with ConfigureLogging before it starts a
// thread. Otherwise the first log call of a test may come from two threads at once, and
// ThreadSanitizer reports the registry's construction inside the uninstrumented libspdlog
// racing with the other thread's read of the logger's level (TSan cannot see the
// function-local static's guard in code it did not instrument).
#include <spdlog/spdlog.h>

namespace s3mount::testing {
namespace {

[[maybe_unused]] const bool kLoggingReady = [] {
  return spdlog::default_logger_raw() != nullptr;
}();

}  // namespace
}  // namespace s3mount::testing
