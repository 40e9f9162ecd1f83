"""Freed heap pages go back to the system (glibc's ``malloc_trim``), so a large render pass does
not leave a worker at its peak RSS."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from worker.heap import give_back

GLIBC = platform.libc_ver()[0] == "glibc"


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.mark.skipif(not GLIBC, reason="malloc_trim is glibc's; other C libraries return memory their own way")
def test_freed_pages_held_by_the_heap_are_returned() -> None:
    give_back()
    # 60 MB in 20 KB blocks (below the mmap threshold: from the heap), every other one kept, so
    # no free stretch reaches the top of the heap and free() alone can give nothing back.
    blocks = [bytearray(20_000) for _ in range(3_000)]
    for b in blocks:
        b[::4096] = b"x" * len(b[::4096])  # touch every page
    kept = blocks[::2]
    del blocks
    held = rss_kib()
    assert give_back() is True
    freed = held - rss_kib()
    assert freed > 10_000, f"only {freed} KiB returned"  # about 30 MB are free
    assert len(kept) == 1_500


def test_give_back_says_whether_it_could() -> None:
    assert give_back() is GLIBC
