#!/usr/bin/env python3
"""Benchmark helper for bench/perf_suite.py (create_small): makes DIR, then creates COUNT
files of SIZE bytes in it one after another from this one process: open(O_CREAT|O_TRUNC),
write, close, next file. Every return value is checked, close() included (a FUSE file system
uploads in flush, whose error close() returns), so a file counts only once its close returned 0.

With SECONDS, stops at the first file not yet opened when SECONDS have passed since the
first open (a file begun is always finished): the run is bounded in time on a slow mount.

Prints "START_NS END_NS DONE" (CLOCK_REALTIME, the clock of `date +%s%N`): just before the
first open, just after the last close, and the number of files created (f00000 to DONE-1);
the mkdir and the making of the data are outside that span.
On the first error prints "<call> <file>: <strerror>" to stderr and exits 1.

  create_files.py DIR COUNT SIZE [SECONDS]
"""
import os
import sys
import time


def main() -> int:
    directory, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else None
    blocks = [os.urandom(size) for _ in range(count)]  # distinct content, made before timing
    names = [os.path.join(directory, f"f{i:05d}") for i in range(count)]
    step = "mkdir"
    name = directory
    done = 0
    try:
        os.mkdir(directory)
        start = time.time_ns()
        deadline = time.monotonic() + seconds if seconds is not None else None
        for name, block in zip(names, blocks):
            if deadline is not None and time.monotonic() >= deadline:
                break
            step = "open"
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
            step = "write"
            try:
                view = memoryview(block)
                while view:
                    view = view[os.write(fd, view):]
            except OSError:
                os.close(fd)  # reports the write's error, not this close's
                raise
            step = "close"
            os.close(fd)
            done += 1
        end = time.time_ns()
    except OSError as e:
        print(f"{step} {os.path.basename(name)}: {e.strerror}", file=sys.stderr)
        return 1
    print(start, end, done)
    return 0


if __name__ == "__main__":
    sys.exit(main())
