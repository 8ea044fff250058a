"""Putting a piece's files into the library so that a crash never leaves half a piece.

Files are first linked or copied into a hidden ``.tmp-*`` folder beside their final place,
flushed to disk, and only then is the folder renamed to its final name (one atomic step on a
POSIX file system). The database row that points at the folder is committed after the rename
(:mod:`app.library.store`), so a row's files always exist; a crash leaves at most a temporary
folder or a folder without a row, both of which :meth:`app.library.store.Library.check` sweeps.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

TMP_PREFIX = ".tmp-"


def _fsync(path: Path) -> None:
    """Flush ``path`` (a file or a folder) to disk; folders that cannot be opened are skipped."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def place_files(files: Mapping[str, str | Path], folder: Path) -> dict[str, int]:
    """Copy ``files`` (stored name -> source path) into ``folder``, all or nothing; returns name -> bytes.

    ``folder`` must not exist yet. The files are copied, not linked: the library's copy must not change
    when the studio's cache reuses or sweeps the source.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=folder.parent))
    sizes: dict[str, int] = {}
    try:
        for name, source in files.items():
            target = staging / name
            shutil.copyfile(source, target)
            _fsync(target)
            sizes[name] = target.stat().st_size
        _fsync(staging)
        os.rename(staging, folder)  # the atomic step: the folder appears whole or not at all
        _fsync(folder.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return sizes


def remove_folder(folder: Path) -> None:
    """Delete ``folder`` and what it holds, renaming it away first so that no half-deleted folder keeps its name."""
    if not folder.exists():
        return
    doomed = folder.with_name(f"{TMP_PREFIX}gone-{folder.name}")
    try:
        os.rename(folder, doomed)
    except OSError:
        doomed = folder
    shutil.rmtree(doomed, ignore_errors=True)
