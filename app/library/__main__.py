"""``python -m app.library list --data-dir DIR [--json]``: every piece of every owner, for scripts and backups.

``python -m app.library check --data-dir DIR`` runs the start-up check (unfinished folders removed, rows whose
files are missing hidden) and prints what it found. ``--database URL``: the library the studio keeps in that database
(``python app.py --database``), its files still under ``--data-dir``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from app.library.paths import default_data_dir
from app.library.store import Library


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app.library", description="The studio's library of pieces")
    parser.add_argument("command", choices=("list", "check"))
    parser.add_argument("--data-dir", default=None, help=f"the studio's data folder (default {default_data_dir()})")
    parser.add_argument("--database", default=None, help="the database URL the studio was given (default: SQLite)")
    parser.add_argument("--json", action="store_true", help="print JSON (list: one object per piece)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    if args.database is None and not (data_dir / "library.sqlite3").is_file():
        print(f"error: no library in {data_dir} (the studio creates it on first start)", file=sys.stderr)
        return 2
    try:
        library = Library(data_dir, database_url=args.database)
    except Exception as err:  # noqa: BLE001 - a bad URL, a database that does not answer
        print(f"error: cannot open the library: {err}", file=sys.stderr)
        return 2
    try:
        if args.command == "check":
            report = library.check()
            out = {"pieces": report.pieces, "hidden": report.hidden, "removed_folders": report.removed_folders}
            print(
                json.dumps(out, indent=2)
                if args.json
                else f"{report.pieces} pieces; hidden {len(report.hidden)}; "
                f"removed folders {len(report.removed_folders)}"
            )
            return 0
        pieces = library.all_pieces()
        if args.json:
            rows = []
            for piece in pieces:
                row = piece.summary()
                row["files"] = {name: str(path) for name, path in sorted(piece.files.items())}
                rows.append(row)
            print(json.dumps(rows, indent=2))
        else:
            for piece in pieces:
                when = time.strftime("%Y-%m-%d %H:%M", time.localtime(piece.created))
                print(
                    f"{piece.id}  {when}  {piece.tab:8s} v{piece.num_versions:<3d} {piece.owner[:20]:20s} {piece.title}"
                )
        return 0
    finally:
        library.close()


if __name__ == "__main__":
    sys.exit(main())
