#!/usr/bin/env bash
# Sets up a fresh machine, builds s3mount and runs every check: formatting and file length,
# the layering (scripts/check_layers.py), clang-tidy, the unit and integration tests, all of
# them again under AddressSanitizer+UBSan, and under ThreadSanitizer (see the TSan step for
# which integration suites).
# Usage: scripts/test.sh [--quick]   (--quick: skip clang-tidy and the sanitizer builds)
set -euo pipefail
cd "$(dirname "$0")/.."
quick=false
[[ "${1:-}" == "--quick" ]] && quick=true
jobs=$(nproc)

bash scripts/install-deps.sh --with-peers

# Each step prints how long the one before it took, so slow steps show in the CI log.
started=$SECONDS
step_started=
step() {
  if [[ -n $step_started ]]; then
    printf '   (took %d s; %d s since the start)\n' "$((SECONDS - step_started))" \
      "$((SECONDS - started))"
  fi
  printf '\n== %s\n' "$*"
  step_started=$SECONDS
}

# Caches that survive between CI runs on the same machine, outside the clone: compiled objects
# (ccache; keyed by the preprocessed source and the flags, so a hit is the same object) and the
# files clang-tidy passed (scripts/clang_tidy_cached.py; keyed by every input clang-tidy reads).
# A fresh machine starts with both empty. S3MOUNT_CI_CACHE=DIR moves them.
cache_root=${S3MOUNT_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/s3mount-ci}
launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_DIR=${CCACHE_DIR:-$cache_root/ccache} CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=true
  export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-10G}
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  ccache --zero-stats >/dev/null
fi

step "format check (clang-format; no source file over 600 lines)"
mapfile -t sources < <(git ls-files '*.cc' '*.h' 2>/dev/null || find src include tests bench -name '*.cc' -o -name '*.h')
clang-format --dry-run --Werror "${sources[@]}"
mapfile -t long_files < <({ git ls-files '*.cc' '*.h' '*.py' 2>/dev/null ||
    find src include tests bench -name '*.cc' -o -name '*.h' -o -name '*.py'; } |
  while read -r file; do
    lines=$(wc -l <"$file")
    if ((lines > 600)); then echo "$file ($lines lines)"; fi
  done)
if ((${#long_files[@]} > 0)); then
  printf 'over 600 lines (split it along natural lines):\n' >&2
  printf '  %s\n' "${long_files[@]}" >&2
  exit 1
fi

step "layering check (include graph and CMake layer libraries; docs/ARCHITECTURE.md, Layers)"
python3 scripts/check_layers.py

step "build (RelWithDebInfo, warnings are errors)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
ninja -C build -j "$jobs"

if ! $quick; then
  step "clang-tidy"
  mapfile -t tidy_sources < <(git ls-files 'src/*.cc' 2>/dev/null || find src -name '*.cc')
  if ! python3 scripts/clang_tidy_cached.py --build build --cache "$cache_root/clang-tidy" \
      --jobs "$jobs" "${tidy_sources[@]}"; then
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
    -DS3MOUNT_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
  ninja -C build-asan -j "$jobs" unit_tests integration_tests
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs" --timeout 900

  step "unit and integration tests under ThreadSanitizer (the s3mount daemon the mounts run too)"
  # -O1: TSan's usual level, and a third less compile time than -O2. The integration tests
  # run build-tsan/s3mount, so every FUSE mount checks the daemon's threads as well. All the
  # suites run: on the 2-core machine, shared with three other builds (load 12), all 719
  # tests took 17 minutes under TSan (463 s of unit and 1558 s of integration test time at
  # -j2); alone, the 34 integration suites took 6.5 minutes. The slowest are
  # MountLargeDirectoryTest and MountLargeObjectTest, which also drive the most pool
  # threads; they are the ones to leave out (-E) if CI time ever gets tight.
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1" \
    -DS3MOUNT_TSAN=ON -DS3MOUNT_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
  ninja -C build-tsan -j "$jobs" unit_tests integration_tests
  # Reports go to files (one per process that has any), so the daemon's are not lost in its
  # log and tests that read stderr see no report text; any file fails the step, whatever
  # the tests said. No suppressions: none has been needed.
  tsan_reports="$PWD/build-tsan/tsan-reports"
  rm -rf "$tsan_reports" && mkdir -p "$tsan_reports"
  tsan_status=0
  TSAN_OPTIONS="log_path=$tsan_reports/report second_deadlock_stack=1" \
    ctest --test-dir build-tsan --output-on-failure -j "$jobs" --timeout 900 || tsan_status=$?
  if compgen -G "$tsan_reports/report*" >/dev/null; then
    cat "$tsan_reports"/report* >&2
    echo "ThreadSanitizer reported the problems above (build-tsan/tsan-reports)" >&2
    exit 1
  fi
  ((tsan_status == 0)) || exit "$tsan_status"
fi
step "all checks passed"
if [[ -n ${CCACHE_DIR:-} ]]; then ccache --show-stats | grep -E 'Hits|Misses' || true; fi
