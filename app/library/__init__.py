"""The user's library of pieces (SQLite and a folder of files): see :mod:`app.library.store`."""

from app.library.paths import default_data_dir
from app.library.store import (
    DEFAULT_QUOTA_MB,
    CheckReport,
    Library,
    LibraryError,
    LibraryFull,
    Piece,
    Version,
    check_piece_id,
    check_title,
)

__all__ = [
    "DEFAULT_QUOTA_MB",
    "CheckReport",
    "Library",
    "LibraryError",
    "LibraryFull",
    "Piece",
    "Version",
    "check_piece_id",
    "check_title",
    "default_data_dir",
]
