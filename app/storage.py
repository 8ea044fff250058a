"""Bounded storage for generated and uploaded files: a total size and an age, oldest first.

Gradio's ``delete_cache`` removes files by age only, so a busy hour can fill a small disk
(1.3 GB in twenty minutes under load before this module). :class:`StorageLimit` sweeps
folders every ``interval_s`` seconds: files older than ``max_age_s`` go, then the oldest
files until the folders hold at most ``max_bytes``. Files younger than ``min_age_s`` are
never deleted, so a page can still fetch the audio it was just given (under a flood the
total may pass the cap for that long). Empty folders left behind are removed.

The studio keeps its own results inside Gradio's upload folder (see
:func:`app.services.common.default_cache_root`): Gradio then serves them in place instead of
copying them, so one sweep of that folder bounds everything, uploads included.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("cadenza.storage")

DEFAULT_MAX_MB = 500
DEFAULT_MAX_AGE_S = 3600
DEFAULT_MIN_AGE_S = 10
DEFAULT_INTERVAL_S = 5


@dataclass
class SweepReport:
    """What one sweep found and did."""

    files_before: int
    bytes_before: int
    deleted_files: int
    deleted_bytes: int
    bytes_after: int


def folder_bytes(folders: list[Path]) -> int:
    """Total size of the regular files under ``folders`` (missing folders count 0)."""
    return sum(size for _, _, size in _files(folders))


def _files(folders: list[Path]) -> list[tuple[Path, float, int]]:
    """(path, mtime, size) of every regular file under ``folders``; files that vanish meanwhile are skipped."""
    out = []
    for folder in folders:
        for root, _, names in os.walk(folder):
            for name in names:
                path = Path(root) / name
                try:
                    stat = path.lstat()
                except OSError:
                    continue
                if path.is_file() and not path.is_symlink():
                    out.append((path, stat.st_mtime, stat.st_size))
    return out


class StorageLimit:
    """Keeps ``folders`` under ``max_bytes`` and ``max_age_s``; see the module docstring."""

    def __init__(
        self,
        folders: list[str | Path],
        max_bytes: int = DEFAULT_MAX_MB * 1024 * 1024,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        min_age_s: float = DEFAULT_MIN_AGE_S,
        interval_s: float = DEFAULT_INTERVAL_S,
    ):
        if max_bytes <= 0:
            raise ValueError(f"The storage limit must be positive, got {max_bytes} bytes")
        self.folders = [Path(f) for f in folders]
        self.max_bytes = int(max_bytes)
        self.max_age_s = float(max_age_s)
        self.min_age_s = float(min_age_s)
        self.interval_s = float(interval_s)
        self.last: SweepReport | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def sweep(self, now: float | None = None) -> SweepReport:
        """Delete what is too old, then the oldest files until the total fits; returns what was done."""
        now = time.time() if now is None else now
        with self._lock:
            files = sorted(_files(self.folders), key=lambda f: f[1])  # oldest first
            total = before = sum(size for _, _, size in files)
            deleted = deleted_bytes = 0
            for path, mtime, size in files:
                age = now - mtime
                if age < self.min_age_s:
                    break  # the rest are younger still
                if age <= self.max_age_s and total <= self.max_bytes:
                    break  # young enough, and everything fits
                try:
                    path.unlink()
                except OSError:
                    continue
                total -= size
                deleted += 1
                deleted_bytes += size
            if deleted:
                self._remove_empty_folders()
            self.last = SweepReport(len(files), before, deleted, deleted_bytes, total)
        if deleted:
            log.info(
                "storage: deleted %d files (%.1f MB); %.1f MB kept (limit %.0f MB)",
                deleted,
                deleted_bytes / 1e6,
                total / 1e6,
                self.max_bytes / 1e6,
            )
        return self.last

    def _remove_empty_folders(self) -> None:
        for folder in self.folders:
            for root, dirs, files in os.walk(folder, topdown=False):
                if Path(root) != folder and not dirs and not files:
                    try:
                        Path(root).rmdir()
                    except OSError:
                        pass  # something was written meanwhile

    def start(self) -> StorageLimit:
        """Sweep now and then every ``interval_s`` seconds on a daemon thread (until :meth:`stop`)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="cadenza-storage", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sweep()
            except Exception:  # noqa: BLE001 - a failed sweep must not stop the next one
                log.exception("storage sweep failed")
            self._stop.wait(self.interval_s)
