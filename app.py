"""Launch the Cadenza studio: ``python app.py [--port 7860] [--checkpoint checkpoints/ec2vae]``.

The server listens on 127.0.0.1 (this machine only) unless ``--host`` says otherwise; serving
beyond it without ``--auth user:password`` (or ``--auth-file``) prints a warning. Every result is
kept in the user's library under ``--data-dir`` (default ``$XDG_DATA_HOME/cadenza``, else
``~/.local/share/cadenza``), at most ``--library-mb`` per owner. The cache of generated and uploaded
files is kept under ``--max-storage-mb`` (default 500, or ``CADENZA_MAX_STORAGE_MB``) and
``--max-file-age`` seconds, oldest first (app/storage.py); that sweep never touches the library.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def parse_auth(text: str | None) -> tuple[str, str] | None:
    """``"user:password"`` -> (user, password); None stays None. Raises ValueError for anything else."""
    if text is None:
        return None
    user, sep, password = text.partition(":")
    if not sep or not user or not password:
        raise ValueError("--auth takes user:password (both non-empty)")
    return user, password


def read_auth_file(path: str | Path) -> list[tuple[str, str]]:
    """The users of an ``--auth-file``: one ``user:password`` a line; blank lines and ``#`` comments are skipped.

    Raises ValueError naming the line that is not ``user:password`` or a user given twice."""
    users: list[tuple[str, str]] = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"--auth-file {path}: cannot read it ({err})") from None
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            user, password = parse_auth(text) or ("", "")
        except ValueError:
            raise ValueError(f"--auth-file {path}, line {number}: expected user:password") from None
        if any(user == known for known, _ in users):
            raise ValueError(f"--auth-file {path}, line {number}: the user {user!r} is given twice")
        users.append((user, password))
    if not users:
        raise ValueError(f"--auth-file {path} names no user")
    return users


def exposure_warning(host: str, auth: tuple[str, str] | list[tuple[str, str]] | None) -> str | None:
    """The warning to print when the studio is reachable from other machines without a password (else None)."""
    if host in LOCAL_HOSTS or auth is not None:
        return None
    return (
        f"WARNING: the studio listens on {host} without a password: anyone who can reach this machine can use it "
        "and its CPU. Add --auth user:password, or drop --host to stay on 127.0.0.1."
    )


def build_parser() -> argparse.ArgumentParser:
    from app.library import DEFAULT_QUOTA_MB, default_data_dir
    from app.storage import DEFAULT_MAX_AGE_S, DEFAULT_MAX_MB
    from engine.pipelines.batching import DEFAULT_MAX_BATCH
    from engine.render.encode import DEFAULT_PLAYER_FORMAT, PLAYER_FORMATS

    parser = argparse.ArgumentParser(description="Cadenza — controllable melody studio")
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1, this machine only)"
    )
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--auth", default=None, metavar="USER:PASSWORD", help="ask for this user name and password")
    parser.add_argument(
        "--auth-file", default=None, metavar="FILE", help="several users: one user:password a line (# comments)"
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help=f"where the library of pieces is kept (default {default_data_dir()})",
    )
    parser.add_argument(
        "--database",
        default=os.environ.get("CADENZA_DATABASE_URL"),
        metavar="URL",
        help="keep the library's rows in this database (e.g. postgresql://user@host/cadenza; default: SQLite in "
        "--data-dir), shared by several studio processes (docs/deploy.md); the files stay in --data-dir",
    )
    parser.add_argument(
        "--library-mb",
        type=float,
        default=DEFAULT_QUOTA_MB,
        help=f"each owner's library is at most this many MB (default {DEFAULT_QUOTA_MB})",
    )
    parser.add_argument(
        "--checkpoint",
        default=None,
        help='EC2-VAE folder (default: the shipped checkpoints/ec2vae), or "debug" for tiny untrained models',
    )
    parser.add_argument("--device", default="auto", help='"auto", "cpu", "cuda", ...')
    parser.add_argument(
        "--max-batch",
        type=int,
        default=int(os.environ.get("CADENZA_MAX_BATCH", DEFAULT_MAX_BATCH)),
        help=f"requests decoded together at most (Compose, Emotion, the style GAN), 1 to 64 "
        f"(default {DEFAULT_MAX_BATCH})",
    )
    parser.add_argument(
        "--no-warmup",
        action="store_true",
        help="skip the warm-up generation (run beside the starting server by default)",
    )
    parser.add_argument(
        "--player-audio",
        default=DEFAULT_PLAYER_FORMAT,
        choices=sorted(PLAYER_FORMATS),
        help="what the page's players get (default opus: about a tenth of the WAV; WAV stays a download)",
    )
    parser.add_argument(
        "--max-storage-mb",
        type=float,
        default=float(os.environ.get("CADENZA_MAX_STORAGE_MB", DEFAULT_MAX_MB)),
        help=f"cap on generated and uploaded files, oldest deleted first (default {DEFAULT_MAX_MB})",
    )
    parser.add_argument(
        "--max-file-age",
        type=float,
        default=DEFAULT_MAX_AGE_S,
        help=f"seconds a generated or uploaded file is kept (default {DEFAULT_MAX_AGE_S})",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    auth: tuple[str, str] | list[tuple[str, str]] | None
    try:
        auth = parse_auth(args.auth)
        if args.auth_file is not None:
            users = read_auth_file(args.auth_file)
            auth = users + ([auth] if isinstance(auth, tuple) and auth[0] not in {u for u, _ in users} else [])
    except ValueError as err:
        parser.error(str(err))
    if not 1 <= args.max_batch <= 64:
        parser.error(f"--max-batch must be between 1 and 64, not {args.max_batch}")
    if args.max_storage_mb <= 0 or args.max_file_age <= 0 or args.library_mb <= 0:
        parser.error("--max-storage-mb, --max-file-age and --library-mb must be positive")
    from app import memory

    # Before the worker threads exist: two malloc arenas, and freed pages given back every 10 s (app/memory.py)
    memory.limit_arenas(2)
    memory.start_trimming(10.0)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    warning = exposure_warning(args.host, auth)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    # A folder of the studio's own for Gradio's uploads and cache (unless the user names one): the storage limit
    # sweeps it whole, so it must not be shared with other Gradio apps. Set before any Blocks is built.
    os.environ.setdefault("GRADIO_TEMP_DIR", str(Path(tempfile.gettempdir()) / "cadenza_gradio"))

    from app.library import Library, default_data_dir
    from app.services import Studio
    from app.services.common import default_cache_root
    from app.storage import StorageLimit
    from app.studio import build_studio, launch_kwargs
    from engine.models.device import use_single_cpu_thread

    use_single_cpu_thread()  # small step-by-step decodes run faster on one thread; the server keeps the other core

    data_dir = (Path(args.data_dir) if args.data_dir else default_data_dir()).expanduser().resolve()
    cache = default_cache_root().parent.resolve()
    if data_dir == cache or cache in data_dir.parents:
        # the cache's sweep deletes old files: the library must never sit inside it
        parser.error(f"--data-dir {data_dir} is inside the cache folder {cache}, which is swept; choose another")
    try:
        library = Library(data_dir, quota_bytes=int(args.library_mb * 1024 * 1024), database_url=args.database)
    except Exception as err:  # noqa: BLE001 - a folder we cannot write, a damaged database, a database not there
        where = f"the database {args.database}" if args.database else data_dir
        parser.exit(2, f"error: cannot open the library in {where}: {err}\n")
    # Unfinished saves swept, rows whose files went missing hidden (and logged); folders younger than ten minutes are
    # left alone: another studio process sharing this library may be placing them.
    report = library.check(min_age_s=600)
    logging.getLogger("cadenza.library").info(
        "library: %s, %d pieces%s",
        data_dir,
        report.pieces,
        "" if report.clean else f"; hidden {len(report.hidden)}, removed {len(report.removed_folders)} folders",
    )
    library.purge_deleted(older_than_s=7 * 24 * 3600)  # deleted pieces can be undone for a week
    try:
        studio = Studio.load(
            args.checkpoint,
            device=None if args.device == "auto" else args.device,
            player_audio=args.player_audio,
            library=library,
            engrave_in_process=True,  # music21 on a thread slows the audio render beside it (app/services/engraver.py)
            max_batch=args.max_batch,
        )
    except (FileNotFoundError, ValueError) as err:
        parser.exit(
            2,
            f"error: cannot load the model: {err}\n"
            "(train one first, or try the tiny untrained model with --checkpoint debug)\n",
        )
    # Everything the studio writes, and Gradio's uploads, live in Gradio's upload folder: one limit bounds them.
    StorageLimit(
        [default_cache_root().parent], max_bytes=int(args.max_storage_mb * 1024 * 1024), max_age_s=args.max_file_age
    ).start()
    demo = build_studio(studio, max_file_age=int(args.max_file_age))
    if not args.no_warmup:
        # Beside the server, not before it: the page comes up about 3.5 s sooner, and a first request waits for the
        # warm-up's turn on the model instead of failing.
        studio.warm_up_in_background()
    demo.queue(default_concurrency_limit=1).launch(
        server_name=args.host, server_port=args.port, auth=auth, **launch_kwargs()
    )


if __name__ == "__main__":
    main()
