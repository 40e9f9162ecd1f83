"""Heap memory a process freed, handed back to the system after a large piece of work.

A render pass that catches up on hundreds of archive pages (a store seeded with 100,000 articles,
say) peaks at tens of MB of article JSON and documents; Python frees them, but glibc keeps the
freed pages in the process, so a worker's RSS stayed at that peak for good (88 -> 140 MB for one
prefork child after 10,000 articles, measured). ``malloc_trim(0)`` returns the free pages; it
costs a walk of the heap, so it is for after the large passes, not after every task.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable


@functools.cache
def _trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return getattr(libc, "malloc_trim", None)  # glibc's; musl and macOS have none


def give_back() -> bool:
    """Return the process's free heap pages to the system; False where the C library cannot."""
    trim = _trim()
    if trim is None:
        return False
    trim(0)
    return True
