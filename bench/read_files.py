#!/usr/bin/env python3
"""Benchmark helper for bench/perf_suite.py (small_cat): reads the files DIR/PREFIX* the way
`cat DIR/PREFIX*` does, from this one process, one file after another: the names in the glob's
order (sorted), then for each file open, read(128 KiB) until end of file, close, next file;
no parallelism. Each file's bytes are checked against MANIFEST (lines "NAME MD5HEX"): the
glob must show exactly the manifest's names, and every file read must have its MD5.

With SECONDS, stops at the first file not yet opened when SECONDS have passed since the start
(a file begun is always finished): the run is bounded in time on a slow mount.

Prints "START_NS END_NS DONE BYTES" (CLOCK_REALTIME): just before the directory is listed
(the glob is part of cat's work), just after the last close, the number of files read and
their bytes. On the first error or wrong content prints the reason to stderr and exits 1.

  read_files.py DIR PREFIX MANIFEST [SECONDS]
"""
import hashlib
import os
import sys
import time

BUF = 128 << 10  # cat's buffer size on Linux (coreutils io_blksize)


def main() -> int:
    directory, prefix, manifest = sys.argv[1], sys.argv[2], sys.argv[3]
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else None
    with open(manifest) as f:
        expected = dict(line.split() for line in f if line.strip())
    done = nbytes = 0
    step, name = "list", directory
    try:
        start = time.time_ns()
        deadline = time.monotonic() + seconds if seconds is not None else None
        names = sorted(n for n in os.listdir(directory) if n.startswith(prefix))
        if names != sorted(expected):
            print(f"the directory shows {len(names)} files, not the {len(expected)} uploaded",
                  file=sys.stderr)
            return 1
        for name in names:
            if deadline is not None and time.monotonic() >= deadline:
                break
            step = "open"
            fd = os.open(os.path.join(directory, name), os.O_RDONLY | os.O_CLOEXEC)
            digest = hashlib.md5()
            try:
                step = "read"
                while chunk := os.read(fd, BUF):
                    digest.update(chunk)
                    nbytes += len(chunk)
            finally:
                step = "close"
                os.close(fd)
            if digest.hexdigest() != expected[name]:
                print(f"wrong content in {name} (md5 differs)", file=sys.stderr)
                return 1
            done += 1
        end = time.time_ns()
    except OSError as e:
        print(f"{step} {name}: {e.strerror}", file=sys.stderr)
        return 1
    print(start, end, done, nbytes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
