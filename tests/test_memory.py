"""The local runner's processes return the memory they free (glibc)."""
import threading

import pytest

from pipelines import memory

pytestmark = pytest.mark.skipif(memory._glibc() is None, reason="glibc's malloc only")


def _resident_mb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmRSS"))


def test_freed_memory_is_returned_to_the_system():
    # 300 MB of page-sized strings freed but for every 50th: glibc keeps the holes for reuse.
    blocks = [bytes(3000) + bytes([n % 256]) for n in range(100_000)]
    kept = blocks[::50]
    del blocks
    before = _resident_mb()
    assert memory.release_freed_memory()
    assert _resident_mb() < before - 150
    assert len(kept) == 2000


def test_tuning_starts_one_trimming_thread():
    memory.tune_malloc()
    memory.tune_malloc()
    assert [t.name for t in threading.enumerate()].count("newsflow-trim") == 1
