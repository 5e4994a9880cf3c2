#!/usr/bin/env bash
# Sets up a fresh machine, builds s3mount and runs every check: formatting, clang-tidy, the
# unit and integration tests, and all of them again under AddressSanitizer+UBSan.
# Usage: scripts/test.sh [--quick]   (--quick: skip clang-tidy and the sanitizer build)
set -euo pipefail
cd "$(dirname "$0")/.."
quick=false
[[ "${1:-}" == "--quick" ]] && quick=true
jobs=$(nproc)

bash scripts/install-deps.sh --with-peers

step() { printf '\n== %s\n' "$*"; }

step "format check (clang-format)"
mapfile -t sources < <(git ls-files '*.cc' '*.h' 2>/dev/null || find src include tests bench -name '*.cc' -o -name '*.h')
clang-format --dry-run --Werror "${sources[@]}"

step "build (RelWithDebInfo, warnings are errors)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build -j "$jobs"

if ! $quick; then
  step "clang-tidy"
  mapfile -t tidy_sources < <(git ls-files 'src/*.cc' 2>/dev/null || find src -name '*.cc')
  if ! printf '%s\n' "${tidy_sources[@]}" |
      xargs -P "$jobs" -n 4 clang-tidy -p build --quiet >build/clang-tidy.log 2>&1; then
    grep -v 'warnings generated' build/clang-tidy.log
    echo "clang-tidy found problems (above)" >&2
    exit 1
  fi
fi

step "unit and integration tests"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 600

step "benchmark smoke test (bench/perf_suite.py --quick: every workload runs and checks its result; no timing is asserted)"
bench/perf_suite.py --quick --build build --json build/bench-quick.json

if ! $quick; then
  step "unit and integration tests under AddressSanitizer + UndefinedBehaviorSanitizer"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DS3MOUNT_SANITIZE=ON \
    -DS3MOUNT_BUILD_BENCH=OFF >/dev/null
  ninja -C build-asan -j "$jobs" unit_tests integration_tests
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs" --timeout 900
fi
step "all checks passed"
