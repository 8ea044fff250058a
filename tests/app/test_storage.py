"""Bounded storage (app/storage.py): age, then size, oldest first; young files stay; empty folders go."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from app.services.common import Shared, default_cache_root
from app.storage import StorageLimit, folder_bytes


def _file(folder: Path, name: str, size: int, age_s: float, now: float) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    os.utime(path, (now - age_s, now - age_s))
    return path


def test_oldest_files_go_first_until_the_total_fits(tmp_path):
    now = time.time()
    files = [_file(tmp_path, f"s{i}/f{i}.ogg", 1000, age_s=600 - 60 * i, now=now) for i in range(8)]  # f0 oldest
    report = StorageLimit([tmp_path], max_bytes=3500, max_age_s=3600, min_age_s=30).sweep(now)
    assert report.bytes_before == 8000 and report.bytes_after == 3000 and report.deleted_files == 5
    assert [f.exists() for f in files] == [False] * 5 + [True] * 3
    assert not (tmp_path / "s0").exists() and (tmp_path / "s7").is_dir()  # emptied folders removed
    assert folder_bytes([tmp_path]) == 3000


def test_old_files_go_even_when_everything_fits(tmp_path):
    now = time.time()
    old = _file(tmp_path, "old.mid", 10, age_s=7200, now=now)
    new = _file(tmp_path, "new.mid", 10, age_s=120, now=now)
    StorageLimit([tmp_path], max_bytes=10**9, max_age_s=3600).sweep(now)
    assert not old.exists() and new.exists()


def test_files_younger_than_min_age_stay_even_over_the_cap(tmp_path):
    now = time.time()
    young = [_file(tmp_path, f"y{i}.wav", 1000, age_s=5, now=now) for i in range(3)]
    report = StorageLimit([tmp_path], max_bytes=1000, min_age_s=60).sweep(now)
    assert report.deleted_files == 0 and all(f.exists() for f in young)


def test_the_background_sweep_runs_and_stops(tmp_path):
    now = time.time()
    old = _file(tmp_path, "a.ogg", 100, age_s=10_000, now=now)
    limit = StorageLimit([tmp_path], max_bytes=10**6, max_age_s=3600, interval_s=0.05).start()
    try:
        deadline = time.time() + 5
        while old.exists() and time.time() < deadline:
            time.sleep(0.05)
    finally:
        limit.stop()
    assert not old.exists() and limit.last is not None


def test_a_bad_limit_is_refused(tmp_path):
    with pytest.raises(ValueError, match="positive"):
        StorageLimit([tmp_path], max_bytes=0)


def test_results_live_inside_gradios_upload_folder(tmp_path, monkeypatch):
    # Gradio serves files inside its upload folder in place (no second copy in its cache).
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "g"))
    assert default_cache_root() == tmp_path / "g" / "cadenza"
    shared = Shared()
    assert shared.cache_dir.parent == tmp_path / "g" / "cadenza"
    folder = shared.session_dir("tab-1")
    (folder / "x.ogg").write_bytes(b"1")
    shared.close_session("tab-1")  # the browser tab closed: its files go
    assert not folder.exists()
