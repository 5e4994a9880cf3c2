"""The `crc32c` module moto_server looks for, backed by ISA-L's crc32_iscsi through ctypes.

moto computes CRC32C checksums (of multipart uploads created with x-amz-checksum-algorithm
CRC32C) with `crc32c.crc32c(data)` and, when that module is missing, silently uses CRC-32
instead, labelled CRC32C: s3mount would then see every such object fail its check. The
module is not packaged by Debian for moto's Python, so the tests and benchmarks that start
moto put this directory on PYTHONPATH. ISA-L (libisal2) is installed with libisal-dev.
"""

import ctypes
import ctypes.util

_lib = ctypes.CDLL(ctypes.util.find_library("isal") or "libisal.so.2")
_lib.crc32_iscsi.restype = ctypes.c_uint32
_lib.crc32_iscsi.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint32]

_PIECE = 1 << 30


def crc32c(data, value=0):
    """CRC-32C of `data` (bytes-like), continuing from the finished CRC `value`."""
    data = bytes(data)
    register = value ^ 0xFFFFFFFF
    for start in range(0, len(data), _PIECE):
        piece = data[start:start + _PIECE]
        register = _lib.crc32_iscsi(piece, len(piece), register)
    return register ^ 0xFFFFFFFF
