"""Process-wide memory settings for numpy/Arrow work on the driver (the validation without Spark): keep freed
buffers for reuse instead of returning them to the kernel. (Tried on the restore's arrow write too, alternating
with the code without it: no change there — its kernel time is not these faults; not used there.)"""

from __future__ import annotations

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
MMAP_THRESHOLD, TRIM_THRESHOLD = 32 << 20, 64 << 20


def keep_freed_memory() -> bool:
    """glibc's malloc: blocks up to 32 MiB from the heap (not each its own mmap) and up to 64 MiB of free heap
    kept; Arrow's buffers from the same allocator (its default pool keeps more). Each batch's temporaries (a few
    MB per array) would otherwise be fresh pages the kernel zeroes on first touch — measured, that page clearing
    was about 40 % of the validation's archive-side CPU. True when malloc took the settings (glibc only)."""
    import ctypes
    import ctypes.util

    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
            libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
        )
    except (OSError, AttributeError):
        return False
