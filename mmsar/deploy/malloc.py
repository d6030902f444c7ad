"""The process-wide glibc malloc setting for inference on large inputs (torch
path); the benchmark applies it to every model alike."""
import ctypes
import ctypes.util

# Whether keep_freed_memory() succeeded in this process.
_applied = [False]


def keep_freed_memory() -> bool:
    """Stop glibc from returning freed memory to the OS and from serving
    any allocation by ``mmap``, so that large intermediates reuse resident
    heap pages instead of page-faulting on every forward.

    A process-wide setting that helps every model in it alike; on this
    machine's VM a fresh 3 MB tensor costs ~15 ms of page faults. Without
    mmap (``M_MMAP_MAX`` 0: glibc caps ``M_MMAP_THRESHOLD`` at 32 MiB, and
    a 256-channel map at 200x336 is 69 MB) mmsar's dense torch ResNet-50 at
    800x1344 on 2 threads took 490-575 ms against 515-621 in three
    alternating runs, with no page faults left; the SAR path, which writes
    its large maps in place, did not change. The benchmark also puts
    torch's large tensors on huge pages (``THP_MEM_ALLOC_ENABLE=1``).
    Returns False where glibc is unavailable.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c'))
        m_trim_threshold, m_mmap_max = -1, -4
        _applied[0] = bool(
            libc.mallopt(m_trim_threshold, 2**30)
            and libc.mallopt(m_mmap_max, 0))
    except (OSError, AttributeError, TypeError):
        pass
    return _applied[0]


def freed_memory_kept() -> bool:
    """:func:`keep_freed_memory` has succeeded in this process (worker
    processes of the benchmark copy the setting of their parent)."""
    return _applied[0]
