#!/usr/bin/env python3
"""Checks s3mount's layering (docs/ARCHITECTURE.md, "Layers"): the include graph and the
CMake layer libraries.

Every file under src/ and include/ belongs to the layer its path names (include/s3mount/LAYER/,
src/LAYER/; src/main.cc and src/tools/ are the app layer). Every `#include "s3mount/LAYER/..."`
or `#include "LAYER/..."` is an edge from the file's layer to LAYER. An edge is allowed only to
the same layer or to a lower one; an edge between peers (layers of the same rank, auth and s3),
an upward edge, an include cycle between files, or a file in a directory that is not a layer
fails the check. In CMakeLists.txt, each `s3mount_layer(LAYER DEPENDS ...)` (and any
`target_link_libraries(s3mount_LAYER ...)`) may name only lower layers, every layer must have
one, and no layer below fuse may link libfuse (FUSE3).

Usage: scripts/check_layers.py [--root DIR]   (exit status 0: clean; 1: violations, listed)
"""

import argparse
import os
import pathlib
import re
import sys

# Lowest first. Layers with the same rank are peers: neither may include the other.
LAYER_RANKS = {
    "common": 0,
    "aws": 1,
    "auth": 2,
    "s3": 2,
    "cache": 3,
    "fs": 4,
    "events": 5,
    "fuse": 6,
    "app": 7,
}
# The first layer allowed to link libfuse.
FUSE_RANK = LAYER_RANKS["fuse"]

INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
LAYER_CALL_RE = re.compile(r"\bs3mount_layer\(\s*(\w+)([^)]*)\)", re.S)
LINK_CALL_RE = re.compile(r"\btarget_link_libraries\(\s*s3mount_(\w+)([^)]*)\)", re.S)
CMAKE_KEYWORDS = {"DEPENDS", "PUBLIC", "PRIVATE"}


def layer_of(relative):
    """The layer of a file given by its path below the root, or None if it is in none."""
    parts = relative.parts
    if parts[:2] == ("include", "s3mount") and len(parts) > 3:
        return parts[2]
    if parts[0] == "src":
        if len(parts) == 2:
            return "app"  # src/main.cc
        return "app" if parts[1] == "tools" else parts[1]
    return None


def target_of(include, source, root):
    """(layer, path below root or None) that an include names; layer None: not a project file."""
    parts = include.split("/")
    if parts[0] == "s3mount" and len(parts) > 2:
        return parts[1], pathlib.Path("include", include)
    sibling = pathlib.Path(os.path.normpath(source.parent / include))
    if parts[0] in (".", "..") or (len(parts) == 1 and (root / sibling).is_file()):
        return layer_of(sibling), sibling
    if len(parts) > 1 and (parts[0] in LAYER_RANKS or (root / "src" / parts[0]).is_dir()):
        return layer_of(pathlib.Path("src", include)), pathlib.Path("src", include)
    return None, None


def edge_problem(from_layer, to_layer):
    """Why an include from one layer to another is not allowed, or None if it is."""
    if from_layer == to_layer:
        return None
    if to_layer not in LAYER_RANKS:
        return f"'{to_layer}' is not a layer (add it to LAYER_RANKS and docs/ARCHITECTURE.md)"
    if LAYER_RANKS[to_layer] == LAYER_RANKS[from_layer]:
        return f"{from_layer} and {to_layer} are peers and must not include each other"
    if LAYER_RANKS[to_layer] > LAYER_RANKS[from_layer]:
        return f"upward edge: {from_layer} is below {to_layer}"
    return None


def source_files(root):
    for top in ("src", "include"):
        for path in sorted((root / top).rglob("*")):
            if path.suffix in (".h", ".cc") and path.is_file():
                yield path.relative_to(root)


def check_includes(root):
    problems = []
    graph = {}
    for relative in source_files(root):
        layer = layer_of(relative)
        if layer not in LAYER_RANKS:
            problems.append(f"{relative}: in no layer (its directory '{layer}' is not one)")
            continue
        edges = graph.setdefault(relative, [])
        text = (root / relative).read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            match = INCLUDE_RE.match(line)
            if not match:
                continue
            include = match.group(1)
            to_layer, target = target_of(include, relative, root)
            if to_layer is None:
                continue
            problem = edge_problem(layer, to_layer)
            if problem:
                problems.append(f'{relative}:{number}: {layer} -> {to_layer} ("{include}"): {problem}')
            if target is not None and (root / target).is_file():
                edges.append((target, number))
    problems.extend(find_cycles(graph))
    return problems


def find_cycles(graph):
    """Include cycles between files, each reported once as 'a:LINE -> b:LINE -> a'."""
    problems = []
    state = {}  # file -> 1 while on the stack, 2 when done
    stack = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for target, number in graph.get(node, []):
            if state.get(target) == 1:
                cycle = stack[stack.index(target):]
                lines = [f"{f}" for f in cycle] + [str(target)]
                problems.append(f"{node}:{number}: include cycle: " + " -> ".join(lines))
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return problems


def check_cmake(root):
    cmake = root / "CMakeLists.txt"
    if not cmake.is_file():
        return [f"{cmake}: missing"]
    text = re.sub(r"#[^\n]*", "", cmake.read_text(encoding="utf-8"))
    problems = []
    seen = set()
    for match in LAYER_CALL_RE.finditer(text):
        layer, rest = match.group(1), match.group(2).split()
        line = text.count("\n", 0, match.start()) + 1
        where = f"CMakeLists.txt:{line}: s3mount_layer({layer})"
        if layer not in LAYER_RANKS:
            problems.append(f"{where}: '{layer}' is not a layer")
            continue
        seen.add(layer)
        section = None
        for word in rest:
            if word in CMAKE_KEYWORDS:
                section = word
            elif section == "DEPENDS":
                problem = edge_problem(layer, word)
                if problem is None and word == layer:
                    problem = "a layer cannot depend on itself"
                if problem:
                    problems.append(f"{where}: DEPENDS {word}: {problem}")
            elif "FUSE3" in word and LAYER_RANKS[layer] < FUSE_RANK:
                problems.append(f"{where}: links {word}, and only fuse and above may link libfuse")
    # Links added to a layer library outside its s3mount_layer() call obey the same rules.
    for match in LINK_CALL_RE.finditer(text):
        layer = match.group(1)
        if layer not in LAYER_RANKS:
            continue
        line = text.count("\n", 0, match.start()) + 1
        where = f"CMakeLists.txt:{line}: target_link_libraries(s3mount_{layer})"
        for word in match.group(2).split():
            if word.startswith("s3mount_"):
                problem = edge_problem(layer, word[len("s3mount_"):])
                if problem:
                    problems.append(f"{where}: {word}: {problem}")
            elif "FUSE3" in word and LAYER_RANKS[layer] < FUSE_RANK:
                problems.append(f"{where}: links {word}, and only fuse and above may link libfuse")
    for layer in sorted(set(LAYER_RANKS) - seen):
        problems.append(f"CMakeLists.txt: no s3mount_layer({layer} ...) library")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=pathlib.Path(__file__).resolve().parent.parent,
                        type=pathlib.Path, help="the source tree (default: this checkout)")
    root = parser.parse_args().root
    problems = check_includes(root) + check_cmake(root)
    if problems:
        print("check_layers: the layering is broken (docs/ARCHITECTURE.md, \"Layers\"):",
              file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"check_layers: {len(list(source_files(root)))} files, layering clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
