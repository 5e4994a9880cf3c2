#!/usr/bin/env bash
# Client micro-benchmark, side by side with curl on the same local S3 server in the same run:
# PUT and GET of one large object, and of many small objects from N parallel streams.
# Prints each workload's throughput for s3mount's client and for curl, and their ratio.
#
#   bench/client_vs_curl.sh [--threads N] [--large-mib M] [--small-count C] [--small-kib K]
# Needs a build (cmake -S . -B build && ninja -C build client_throughput).
set -euo pipefail
cd "$(dirname "$0")/.."
threads=8 large_mib=64 small_count=400 small_kib=4
while (($#)); do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --large-mib) large_mib=$2; shift 2 ;;
    --small-count) small_count=$2; shift 2 ;;
    --small-kib) small_kib=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
bin=build/bench/client_throughput
[[ -x $bin ]] || { echo "build $bin first" >&2; exit 2; }

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m moto.server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null; wait $moto_pid 2>/dev/null; rm -rf "$work"' EXIT
endpoint="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -sf "$endpoint/moto-api/" >/dev/null && break; sleep 0.1; done
curl -sf -X PUT "$endpoint/bench" >/dev/null
export AWS_ACCESS_KEY_ID=bench-key AWS_SECRET_ACCESS_KEY=bench-secret

"$bin" --endpoint "$endpoint" --bucket bench --threads "$threads" --large-mib "$large_mib" \
  --small-count "$small_count" --small-kib "$small_kib" --prefix ours/ >"$work/ours.txt"

now() { date +%s%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.6f", (b - a) / 1e9 }'; }
curl_sig=(--no-progress-meter --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY")
head -c $((large_mib << 20)) /dev/urandom >"$work/large"
head -c $((small_kib << 10)) /dev/urandom >"$work/small"
{
  t0=$(now); curl -sf "${curl_sig[@]}" -T "$work/large" "$endpoint/bench/curl/large" >/dev/null
  echo "put_large $(since "$t0") $((large_mib << 20)) 1"
  t0=$(now); curl -sf "${curl_sig[@]}" -o /dev/null "$endpoint/bench/curl/large"
  echo "get_large $(since "$t0") $((large_mib << 20)) 1"
  for i in $(seq 0 $((small_count - 1))); do
    printf 'url = "%s/bench/curl/small/%d"\nupload-file = "%s"\noutput = "/dev/null"\n' \
      "$endpoint" "$i" "$work/small"
  done >"$work/put.cfg"
  for i in $(seq 0 $((small_count - 1))); do
    printf 'url = "%s/bench/curl/small/%d"\noutput = "/dev/null"\n' "$endpoint" "$i"
  done >"$work/get.cfg"
  t0=$(now); curl -sf "${curl_sig[@]}" --parallel --parallel-max "$threads" -K "$work/put.cfg"
  echo "put_small $(since "$t0") $((small_count * (small_kib << 10))) $small_count"
  t0=$(now); curl -sf "${curl_sig[@]}" --parallel --parallel-max "$threads" -K "$work/get.cfg"
  echo "get_small $(since "$t0") $((small_count * (small_kib << 10))) $small_count"
} >"$work/curl.txt"

echo "client micro-benchmark on moto_server ($endpoint), $threads streams for small objects"
echo "large object: ${large_mib} MiB; small objects: ${small_count} x ${small_kib} KiB"
python3 - "$work/ours.txt" "$work/curl.txt" <<'PY'
import sys
def load(path):
    rows = {}
    for line in open(path):
        parts = line.split()
        if len(parts) == 4:
            rows[parts[0]] = (float(parts[1]), int(parts[2]), int(parts[3]))
    return rows
ours, theirs = load(sys.argv[1]), load(sys.argv[2])
print(f"{'workload':<10} {'s3mount':>16} {'curl':>16} {'s3mount/curl':>13}")
for name in ("put_large", "get_large", "put_small", "get_small"):
    (t1, b1, n1), (t2, b2, n2) = ours[name], theirs[name]
    if name.endswith("large"):
        a, b, unit = b1 / t1 / 2**20, b2 / t2 / 2**20, "MiB/s"
    else:
        a, b, unit = n1 / t1, n2 / t2, "req/s"
    print(f"{name:<10} {a:>10.1f} {unit} {b:>10.1f} {unit} {a / b:>12.2f}x")
PY
grep connections_opened "$work/ours.txt" | sed 's/^/s3mount /'
