"""app.memory: glibc's allocator kept from hoarding freed pages (a no-op off glibc)."""

import ctypes.util
import sys
import threading

import pytest

from app import memory


@pytest.mark.skipif(not sys.platform.startswith("linux") or not ctypes.util.find_library("c"), reason="glibc only")
def test_arenas_limit_and_trims_on_glibc():
    assert memory.limit_arenas(2) is True
    big = [bytearray(4 << 20) for _ in range(8)]  # 32 MB, freed below: something for the trim to give back
    del big
    assert isinstance(memory.trim(), bool)
    stop = memory.start_trimming(0.05)
    assert stop is not None
    trimmers = [t for t in threading.enumerate() if t.name == "cadenza-malloc-trim"]
    assert trimmers and trimmers[-1].daemon and trimmers[-1].is_alive()
    stop.set()
    trimmers[-1].join(2)
    assert not trimmers[-1].is_alive()


def test_without_glibc_nothing_happens(monkeypatch):
    monkeypatch.setattr(memory, "_libc", lambda: None)
    assert memory.limit_arenas(2) is False and memory.trim() is False and memory.start_trimming() is None
