"""keep_freed_memory: a large tensor allocated again and again, as in an
inference loop, reuses resident pages instead of page-faulting (a
process-wide setting, so each case runs in its own interpreter)."""
import subprocess
import sys

import pytest

ROUNDS, SETTLED = 12, 6
# Page faults of each of ROUNDS allocations of a fresh 64 MB map (above
# glibc's largest mmap threshold), written once and freed.
FAULTS_PER_ROUND = """
import resource, torch
from mmsar.deploy import keep_freed_memory
if {tune}:
    assert keep_freed_memory()
faults = []
for _ in range({rounds}):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    x = torch.ones(2**24)
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    del x
print(*faults)
"""


def faults_per_round(tune: bool) -> list:
    result = subprocess.run(
        [sys.executable, '-c',
         FAULTS_PER_ROUND.format(tune=tune, rounds=ROUNDS)],
        capture_output=True,
        text=True,
        check=True)
    return [int(n) for n in result.stdout.split()]


@pytest.mark.skipif(
    not sys.platform.startswith('linux'), reason='glibc malloc only')
def test_freed_memory_is_reused_without_page_faults():
    map_pages = 2**26 // 4096
    # Without the setting every round maps the tensor afresh: each of its
    # 4 KB pages (or 2 MB huge pages) faults when first written.
    assert min(faults_per_round(False)[-SETTLED:]) >= 32
    # With it the heap settles within a few rounds (glibc places the first
    # ones variously), then the map reuses resident pages: at most one of
    # the last rounds faults (none in every run seen).
    assert sum(faults_per_round(True)[-SETTLED:]) <= map_pages


@pytest.mark.skipif(
    not sys.platform.startswith('linux'), reason='glibc malloc only')
def test_the_setting_is_recorded_for_worker_processes():
    script = """
from mmsar.deploy.malloc import freed_memory_kept, keep_freed_memory
assert not freed_memory_kept()
assert keep_freed_memory()
assert freed_memory_kept()
"""
    subprocess.run([sys.executable, '-c', script], check=True)
