"""Keep freed memory in the process for the next population run (glibc's allocator).

A population run allocates and frees tens of MB of NumPy arrays: draws, parameters, modal
coefficients and the results. glibc gives blocks above its mmap threshold (128 kB, growing
to the largest block freed) back to the kernel when they are freed and trims the top of its
heaps above the trim threshold, so the next run takes every page fresh: a page fault per
4 kB. In a virtual machine that was 6 700 faults and 15-20 ms of system CPU per W2 run of
10^5 patients here, about a fifth of its CPU. With the thresholds raised, freed blocks stay
in the heap and are reused.

Process-wide, so only a process's entry point calls it (the web app's start-up, so every
``ketaclinic run`` worker; ``ketaclinic population``; the benchmarks), never the pure
packages. The cost: up to ``trim_threshold_bytes`` of freed memory kept per heap, and blocks
up to ``mmap_threshold_bytes`` served from the heap.
"""

from __future__ import annotations

import ctypes
import ctypes.util

__all__ = ["MMAP_THRESHOLD_BYTES", "TRIM_THRESHOLD_BYTES", "keep_freed_memory"]

# mallopt parameters (glibc's malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# glibc refuses an mmap threshold above 32 MiB on 64-bit systems (HEAP_MAX / 2): larger
# arrays (a million patients' results) are still mapped and unmapped, and a page fault per
# 4 kB is small beside the work that fills them
MMAP_THRESHOLD_BYTES = 32 * 2**20
TRIM_THRESHOLD_BYTES = 256 * 2**20


def keep_freed_memory(
    mmap_threshold_bytes: int = MMAP_THRESHOLD_BYTES,
    trim_threshold_bytes: int = TRIM_THRESHOLD_BYTES,
) -> bool:
    """Raise glibc's mmap and trim thresholds for this process; returns whether the allocator
    took both (False where the C library is not glibc: nothing changes there)."""
    for value, what in ((mmap_threshold_bytes, "mmap"), (trim_threshold_bytes, "trim")):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"the {what} threshold must be a whole number of bytes >= 0")
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    took_mmap = int(mallopt(_M_MMAP_THRESHOLD, mmap_threshold_bytes)) == 1
    took_trim = int(mallopt(_M_TRIM_THRESHOLD, trim_threshold_bytes)) == 1
    return took_mmap and took_trim
