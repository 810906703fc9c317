"""Timing keeps freed memory in the process: a large block, freed, stays in malloc's heap."""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

import pytest

pytest.importorskip("torch")  # mbcalc.pytorch, the allocator's package, needs it

from mbcalc.pytorch.allocator import keep_freed_memory

GLIBC = platform.libc_ver()[0] == "glibc"


FIELDS: tuple[str, ...] = ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks")
FIELDS += ("fsmblks", "uordblks", "fordblks", "keepcost")


class MallInfo2(ctypes.Structure):
    """glibc's struct mallinfo2 (2.33 and later): the heap's bytes, in size_t fields."""

    _fields_ = [(name, ctypes.c_size_t) for name in FIELDS]


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    if not hasattr(libc, "mallinfo2"):
        pytest.skip("glibc older than 2.33: no mallinfo2")
    libc.mallinfo2.restype = MallInfo2
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = (ctypes.c_size_t,)
    libc.free.argtypes = (ctypes.c_void_p,)
    return libc


@pytest.mark.skipif(not GLIBC, reason="malloc's policies are set on glibc only")
def test_a_freed_large_block_stays_in_the_heap() -> None:
    assert keep_freed_memory()
    libc = _libc()
    size = 64 << 20  # above any threshold glibc would give pages of their own (32 MiB at most)
    before = libc.mallinfo2()
    block = libc.malloc(size)
    assert block
    during = libc.mallinfo2()
    assert during.hblkhd == before.hblkhd  # not mapped apart: taken from the heap
    libc.free(block)
    after = libc.mallinfo2()
    assert after.fordblks >= size  # kept free in the heap, not handed back to the OS
    assert after.arena >= during.arena


@pytest.mark.skipif(not GLIBC, reason="malloc's policies are set on glibc only")
def test_the_policy_is_set_once_per_process() -> None:
    assert keep_freed_memory() is keep_freed_memory()
    assert keep_freed_memory.cache_info().currsize == 1


@pytest.mark.skipif(GLIBC, reason="elsewhere than on glibc")
def test_elsewhere_nothing_is_set() -> None:
    assert keep_freed_memory() is False
