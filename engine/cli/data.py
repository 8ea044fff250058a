"""Build the data caches the trainers and evaluations read, from the corpora (``python -m engine.data``).

    python -m engine.data style --nottingham DIR --out data_cache/style_windows.npz [--procs 2] [--max-files N]
    python -m engine.data harmony --nottingham DIR --out data_cache/harmony.npz [--procs 2] [--max-files N]

``style``: the four-track 2-bar windows in seven styles (engine.data.style), parsed once from the music21 corpus and
the Nottingham MIDI folder ``DIR`` (English folk; left out: no English folk), with a progress bar (about 25 minutes
on two cores). ``harmony``: melodies with their chords as chord slots (engine.data.harmony): the Nottingham tunes,
the O'Neill and Ryan's tunes of the music21 corpus that carry chords, and the Bach chorales. The EC2-VAE, latent
and ABC trainers build their own caches on first use (``--cache``).
"""

from __future__ import annotations

import argparse
import json
import sys

from engine.data.harmony import corpus_jobs, read_harmony_tunes, save_harmony_cache
from engine.data.style import build_style_cache, corpus_root
from engine.paths import HARMONY_CACHE, STYLE_CACHE


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
    p = sub.add_parser("harmony", help="melodies with their chords, as chord slots (the chord suggester)")
    p.add_argument("--out", default=str(HARMONY_CACHE))
    p.add_argument("--nottingham", default=None, help="the Nottingham MIDI folder; left out: the music21 tunes only")
    p.add_argument("--procs", type=int, default=2, help="processes parsing files")
    p.add_argument("--max-files", type=int, default=None, help="at most this many files per source (quick runs)")
    p.add_argument("--no-music21", action="store_true", help="leave out the music21 corpus's tunes and chorales")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.cache == "harmony":
        corpus = None if args.no_music21 else corpus_root()
        tunes = read_harmony_tunes(corpus_jobs(args.nottingham, corpus, args.max_files), args.procs)
        save_harmony_cache(tunes, args.out)
        counts = {s: sum(t.source == s for t in tunes) for s in sorted({t.source for t in tunes})}
        print(json.dumps({"tunes": counts, "slots": int(sum(len(t.labels) for t in tunes))}, indent=2))
        return 0
    counts = build_style_cache(args.out, args.nottingham, args.procs, args.max_files)
    print(json.dumps(counts, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
