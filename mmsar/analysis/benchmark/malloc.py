"""The process-wide glibc malloc setting of latency measurements."""
import ctypes
import ctypes.util


def keep_freed_memory() -> bool:
    """Stop glibc from returning freed memory to the OS (and from mmapping
    allocations below 32 MiB), so that large intermediates reuse resident
    pages instead of page-faulting on every forward.

    A process-wide setting that helps every model in it alike; on this
    machine's VM a fresh 3 MB tensor costs ~15 ms of page faults. It does
    not cover all of torch's tensors (fresh ones of a few MB still
    page-faulted with it under torch 2.14), hence the benchmark also puts
    torch's large tensors on huge pages (``THP_MEM_ALLOC_ENABLE=1``).
    Returns False where glibc is unavailable.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c'))
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(
            libc.mallopt(m_trim_threshold, 2**30)
            and libc.mallopt(m_mmap_threshold, 32 * 2**20))
    except (OSError, AttributeError, TypeError):
        return False
