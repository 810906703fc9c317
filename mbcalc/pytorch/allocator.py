"""Keeping freed memory in the process while networks are timed.

glibc's malloc serves a large block with pages of its own (mmap) and hands freed memory at the
top of its heap back to the OS (trim), and it moves the threshold of both as the program frees
blocks. An eager network allocates and frees tensors of up to tens of MB on every run, so,
depending on what the process ran before, a run may fault every page of its larger tensors in
afresh, or none: MobileNet V2 at 224, PyTorch eager on one thread of a 2-core x86 machine, ran
in 29 ms in a fresh process and in 19 ms once other networks had run in it.

`keep_freed_memory` sets both policies once for the process, as a caching allocator (jemalloc,
tcmalloc, ONNX Runtime's arena) behaves: no block gets pages of its own and the heap is never
trimmed, so a run reuses the memory of the run before. Then a network's time is its ops' time,
whatever ran before it: the same 17-18 ms for MobileNet V2 in both cases. Elsewhere than on
glibc (macOS, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
"""mallopt's parameter numbers (glibc's malloc.h)."""

_NEVER_TRIM = 2**30
"""A trim threshold no heap's free top reaches here (1 GiB)."""


@functools.cache
def keep_freed_memory() -> bool:
    """Make glibc's malloc keep freed memory for reuse (once per process); False where the C
    library is not glibc."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # no C library to load, or not glibc's (no mallopt)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, _NEVER_TRIM))
