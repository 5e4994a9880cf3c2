#!/usr/bin/env bash
# Installs everything s3mount needs to build, test and benchmark, from Debian's packages.
# Idempotent: packages already present are skipped; apt-get update runs only when needed.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libfuse3-dev fuse3
  libcurl4-openssl-dev libssl-dev libxml2-dev
  libspdlog-dev nlohmann-json3-dev libhiredis-dev
  libisal-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-format clang-tidy
  ccache curl ca-certificates openssl
  rsync attr man-db media-types
  # Integration tests: interoperability with s3fs-fuse, and the tools run on the mount.
  s3fs git unzip zip sqlite3 vim
  # Change notifications from Redis (MinIO's target): the integration tests run a server.
  redis-server
)
if [[ "${1:-}" == "--with-peers" ]]; then
  packages+=(rclone fio)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! python3 -c 'import moto, botocore' 2>/dev/null; then
  echo "install-deps: python3 with moto and botocore is required (moto_server is our local S3)" >&2
  exit 1
fi
