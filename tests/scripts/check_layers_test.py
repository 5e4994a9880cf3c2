#!/usr/bin/env python3
"""Tests of scripts/check_layers.py: it accepts this checkout, and it rejects a copy of a small
layered tree with an upward include, a peer include, an include cycle, a file outside any
layer, or a CMake layer that depends upward or links libfuse, naming the file, line and edge.

Run by ctest (test check_layers_script) or directly: python3 tests/scripts/check_layers_test.py
"""

import pathlib
import subprocess
import sys
import tempfile
import textwrap
import unittest

REPO = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "check_layers.py"

# A minimal tree that is clean: one library per layer, each including only lower layers.
CLEAN_CMAKE = textwrap.dedent("""\
    s3mount_layer(common PUBLIC Threads::Threads)
    s3mount_layer(aws DEPENDS common PRIVATE CURL::libcurl)
    s3mount_layer(auth DEPENDS aws)
    s3mount_layer(s3 DEPENDS aws)
    s3mount_layer(cache DEPENDS s3)
    s3mount_layer(fs DEPENDS cache)
    s3mount_layer(events DEPENDS auth s3)
    s3mount_layer(fuse DEPENDS fs PUBLIC PkgConfig::FUSE3)
    s3mount_layer(app DEPENDS fs s3 PRIVATE PkgConfig::FUSE3)
    """)
CLEAN_FILES = {
    "include/s3mount/common/result.h": "#pragma once\n",
    "include/s3mount/aws/http_client.h": '#pragma once\n#include "s3mount/common/result.h"\n',
    "include/s3mount/s3/object_store.h": '#pragma once\n#include "s3mount/aws/http_client.h"\n',
    "src/aws/xml_document.h": "#pragma once\n",
    "src/s3/s3_xml.cc": '#include "aws/xml_document.h"\n#include "s3mount/s3/object_store.h"\n',
    "src/auth/sts.cc": '#include "aws/xml_document.h"\n',
    "src/fs/open_file.h": '#pragma once\n#include "s3mount/s3/object_store.h"\n',
    "src/fs/open_file.cc": '#include "fs/open_file.h"\n#include "local.h"\n',
    "src/fs/local.h": "#pragma once\n",
    "src/main.cc": '#include "fs/open_file.h"\n#include "app/config.h"\n',
    "src/app/config.h": '#pragma once\n#include "s3mount/s3/object_store.h"\n',
}


class CheckLayersTest(unittest.TestCase):
    def run_check(self, root):
        return subprocess.run([sys.executable, str(SCRIPT), "--root", str(root)],
                              capture_output=True, text=True, check=False)

    def make_tree(self, extra_files=None, cmake=CLEAN_CMAKE):
        temp = tempfile.TemporaryDirectory()
        self.addCleanup(temp.cleanup)
        root = pathlib.Path(temp.name)
        files = dict(CLEAN_FILES)
        files.update(extra_files or {})
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)
        (root / "CMakeLists.txt").write_text(cmake)
        return root

    def assert_rejected(self, root, *expected):
        result = self.run_check(root)
        self.assertEqual(result.returncode, 1,
                         f"check_layers accepted a broken tree:\n{result.stdout}{result.stderr}")
        for text in expected:
            self.assertIn(text, result.stderr, f"the report does not name '{text}'")

    def test_accepts_this_checkout(self):
        result = self.run_check(REPO)
        self.assertEqual(result.returncode, 0, f"the real tree fails the check:\n{result.stderr}")

    def test_accepts_the_clean_tree(self):
        result = self.run_check(self.make_tree())
        self.assertEqual(result.returncode, 0, f"the clean tree fails the check:\n{result.stderr}")

    def test_rejects_an_upward_include(self):
        root = self.make_tree({"include/s3mount/cache/block_cache.h":
                               '#pragma once\n\n#include "s3mount/fs/attributes.h"\n'})
        self.assert_rejected(
            root, 'include/s3mount/cache/block_cache.h:3: cache -> fs ("s3mount/fs/attributes.h")',
            "upward edge")

    def test_rejects_an_upward_include_of_a_private_header(self):
        root = self.make_tree({"src/fs/events_hook.cc": '#include "events/sqs_queue_url.h"\n'})
        self.assert_rejected(root, "src/fs/events_hook.cc:1: fs -> events", "upward edge")

    def test_rejects_an_upward_relative_include(self):
        root = self.make_tree({"src/cache/sneaky.cc": '#include "../fs/open_file.h"\n'})
        self.assert_rejected(root, 'src/cache/sneaky.cc:1: cache -> fs ("../fs/open_file.h")')

    def test_rejects_peers_including_each_other(self):
        root = self.make_tree({"src/auth/signer_use.cc": '#include "s3mount/s3/object_store.h"\n'})
        self.assert_rejected(root, "src/auth/signer_use.cc:1: auth -> s3",
                             "auth and s3 are peers")

    def test_rejects_an_include_cycle(self):
        root = self.make_tree({"src/fs/a.h": '#pragma once\n#include "fs/b.h"\n',
                               "src/fs/b.h": '#pragma once\n#include "fs/a.h"\n'})
        self.assert_rejected(root, "include cycle", "src/fs/a.h", "src/fs/b.h")

    def test_rejects_a_file_in_no_layer(self):
        root = self.make_tree({"src/misc/helper.cc": "int x;\n"})
        self.assert_rejected(root, "src/misc/helper.cc: in no layer")

    def test_rejects_an_upward_cmake_dependency(self):
        cmake = CLEAN_CMAKE.replace("s3mount_layer(cache DEPENDS s3)",
                                    "s3mount_layer(cache DEPENDS s3 fs)")
        self.assert_rejected(self.make_tree(cmake=cmake),
                             "s3mount_layer(cache): DEPENDS fs: upward edge")

    def test_rejects_an_upward_link_outside_the_layer_call(self):
        cmake = CLEAN_CMAKE + "target_link_libraries(s3mount_s3 PRIVATE s3mount_auth)\n"
        self.assert_rejected(self.make_tree(cmake=cmake),
                             "target_link_libraries(s3mount_s3): s3mount_auth: s3 and auth are peers")

    def test_rejects_libfuse_in_a_core_layer(self):
        cmake = CLEAN_CMAKE.replace("s3mount_layer(fs DEPENDS cache)",
                                    "s3mount_layer(fs DEPENDS cache PRIVATE PkgConfig::FUSE3)")
        self.assert_rejected(self.make_tree(cmake=cmake),
                             "s3mount_layer(fs): links PkgConfig::FUSE3")

    def test_rejects_a_missing_layer_library(self):
        cmake = CLEAN_CMAKE.replace("s3mount_layer(cache DEPENDS s3)\n", "")
        self.assert_rejected(self.make_tree(cmake=cmake), "no s3mount_layer(cache ...)")


if __name__ == "__main__":
    unittest.main()
