"""Build the data caches the trainers and evaluations read, from the corpora (``python -m engine.data``).

    python -m engine.data style --nottingham DIR --out data_cache/style_windows.npz [--procs 2] [--max-files N]

``style``: the four-track 2-bar windows in seven styles (engine.data.style), parsed once from the music21 corpus and
the Nottingham MIDI folder ``DIR`` (English folk; left out: no English folk), with a progress bar (about 25 minutes
on two cores). The EC2-VAE, latent and ABC trainers build their own caches on first use (``--cache``).
"""

from __future__ import annotations

import argparse
import json
import sys

from engine.data.style import build_style_cache
from engine.paths import STYLE_CACHE


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine.data", description="Build the data caches once.")
    sub = parser.add_subparsers(dest="cache", required=True)
    p = sub.add_parser("style", help="four-track windows in seven styles (the style judge, MusAE, the style GAN)")
    p.add_argument("--out", default=str(STYLE_CACHE))
    p.add_argument(
        "--nottingham", default=None, help="the Nottingham MIDI folder (English folk); left out: no English folk"
    )
    p.add_argument("--procs", type=int, default=2, help="processes parsing files")
    p.add_argument("--max-files", type=int, default=None, help="at most this many files per style (quick runs)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    counts = build_style_cache(args.out, args.nottingham, args.procs, args.max_files)
    print(json.dumps(counts, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
