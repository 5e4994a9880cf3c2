#!/usr/bin/env python3
"""Runs clang-tidy on source files, skipping files whose inputs it has already passed.

A file's clang-tidy result depends only on the clang-tidy binary, the .clang-tidy
configuration, the file's compile flags and the contents of every file it includes. This
script hashes exactly those (the include list comes from the compiler's -M output, system
headers included) and keeps one empty marker file per hash that passed, in the cache
directory. A file is skipped only when the same inputs passed before; any change to the file,
to a header it includes, to its flags, to the configuration or to clang-tidy runs it again.
Failures are never cached.

Usage: clang_tidy_cached.py --build BUILD_DIR --cache CACHE_DIR [--jobs N] FILE...
Exit status: 0 when every file passes, 1 otherwise (the findings are printed).
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import shlex
import subprocess
import sys


def compile_arguments(entry):
    """The compiler command of one compile_commands.json entry, as a list."""
    if "arguments" in entry:
        return list(entry["arguments"])
    return shlex.split(entry["command"])


def dependency_command(arguments):
    """The compile command turned into one that prints the file's dependencies (-M)."""
    result = []
    skip_next = False
    for argument in arguments:
        if skip_next:
            skip_next = False
            continue
        if argument in ("-o", "-MF", "-MT", "-MQ"):
            skip_next = True
            continue
        if argument in ("-c", "-MD", "-MMD"):
            continue
        result.append(argument)
    return result + ["-M", "-MT", "dependencies"]


def dependencies(arguments, directory):
    """Every file the compiler reads for this translation unit, from its -M output."""
    output = subprocess.run(
        dependency_command(arguments),
        cwd=directory,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    words = output.replace("\\\n", " ").split()
    return sorted({word for word in words[1:] if word != "\\"})


def input_hash(arguments, directory, context, roots):
    """The hash of everything clang-tidy's verdict on this file depends on."""
    digest = hashlib.sha256(context)

    def relative(text):
        for root in roots:
            text = text.replace(root, "<root>")
        return text

    digest.update(relative(" ".join(arguments)).encode())
    for path in dependencies(arguments, directory):
        absolute = os.path.normpath(os.path.join(directory, path))
        digest.update(relative(absolute).encode() + b"\0")
        with open(absolute, "rb") as handle:
            digest.update(hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True, help="build directory with compile_commands.json")
    parser.add_argument("--cache", required=True, help="directory for the markers of passed inputs")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("files", nargs="+")
    options = parser.parse_args()

    source_root = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
    build_dir = os.path.abspath(options.build)
    with open(os.path.join(build_dir, "compile_commands.json"), encoding="utf-8") as handle:
        entries = {os.path.normpath(os.path.join(e["directory"], e["file"])): e for e in json.load(handle)}
    version = subprocess.run(["clang-tidy", "--version"], check=True, capture_output=True).stdout
    with open(os.path.join(source_root, ".clang-tidy"), "rb") as handle:
        context = version + handle.read()
    os.makedirs(options.cache, exist_ok=True)
    roots = sorted({build_dir, source_root}, key=len, reverse=True)

    def check(file):
        path = os.path.normpath(os.path.abspath(file))
        entry = entries.get(path)
        if entry is None:
            return file, False, f"{file}: not in {build_dir}/compile_commands.json\n", False
        key = input_hash(compile_arguments(entry), entry["directory"], context, roots)
        marker = os.path.join(options.cache, key)
        if os.path.exists(marker):
            return file, True, "", True
        run = subprocess.run(
            ["clang-tidy", "-p", build_dir, "--quiet", path], capture_output=True, text=True
        )
        if run.returncode != 0:
            return file, False, run.stdout + run.stderr, False
        with open(marker, "w", encoding="utf-8"):
            pass
        return file, True, "", False

    failures = 0
    cached = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=options.jobs) as pool:
        for file, passed, output, from_cache in pool.map(check, options.files):
            cached += from_cache
            if not passed:
                failures += 1
                lines = [line for line in output.splitlines() if "warnings generated" not in line]
                print(f"clang-tidy: {file} failed:\n" + "\n".join(lines), file=sys.stderr)
    print(
        f"clang-tidy: {len(options.files)} files, {cached} unchanged since they last passed, "
        f"{failures} failed"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
