"""Headless generation CLI.

    python -m engine.generate compose --rhythm "x...x...x.x.x...|x..." --chords "C Am F G" \
        --bars 8 --seed 1 --out song.mid [--wav song.wav]
    python -m engine.generate interpolate --a A.mid --b B.mid --steps 5 --out-dir DIR \
        [--chords a|b|"C Am F G"] [--morph] [--grid 5]
    python -m engine.generate analogy --pitch-from A.mid --rhythm-from B.mid --out X.mid [--chords ...]
    python -m engine.generate analogy --pitch-from A.mid --chords "C Am F G" --out X.mid   (re-harmonise A)
    python -m engine.generate continue --from A.mid --bars 8 --out X.mid [--chords ...] [--rhythm ...]
    python -m engine.generate infill --from A.mid --blocks 2,3 --out X.mid [--new-rhythm | --rhythm ...]
    python -m engine.generate song --chords "C Am F G" --bars 16 --seed 1 --out X.mid [--rhythm ...]
        [--functions "T S D T"]

    python -m engine.generate emotion --quadrant Q3 --bars 16 --seed 1 --out tune.abc [--midi X.mid] [--wav X.wav]
        [--musicxml X.musicxml]      (or --valence V --arousal A, each -1..1, instead of --quadrant)
    python -m engine.generate style --style "Bach chorale" --bars 4 --seed 1 --out X.mid [--morph-to STYLE --steps 5]
    python -m engine.generate style --model gan --style "Bach chorale" [--chords "C G Am F"] --bars 8 --seed 1
        --out X.mid
    python -m engine.generate style-transfer --from A.mid --to "String quartet" --strength 0.8 --out X.mid
    python -m engine.generate harmonize --from M.mid [--key K] [--alternatives 3] [--progressions 3] --out chords.txt
    python -m engine.generate arrange --from M.mid --style "Bach chorale" [--chords "G C | D G"] --out A.mid
        [--musicxml A.musicxml] [--wav A.wav]

All take --seed and --wav, and --json to print the files and each result's control report (asked vs
measured: onsets, chord tones, key, range, tempo; feeling features and the judge for emotion).
Blocks are 2-bar windows, counted from 0.

Sources (--a, --b, --pitch-from, --rhythm-from) are MIDI files (or .abc, first tune),
or one of the shipped example tunes as "example:TITLE" (see engine.io.examples).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from engine.cli.generate_arrange import add_arrange_commands, run_arrange, run_harmonize
from engine.cli.generate_melody import (
    add_melody_commands,
    run_analogy,
    run_compose,
    run_continue,
    run_emotion,
    run_infill,
    run_interpolate,
    run_song,
)
from engine.cli.generate_style import add_style_commands, run_style, run_style_transfer
from engine.music.errors import CadenzaInputError

TASKS: dict[str, Callable[[argparse.Namespace], list[Path]]] = {
    "compose": run_compose,
    "interpolate": run_interpolate,
    "analogy": run_analogy,
    "continue": run_continue,
    "infill": run_infill,
    "song": run_song,
    "emotion": run_emotion,
    "style": run_style,
    "style-transfer": run_style_transfer,
    "harmonize": run_harmonize,
    "arrange": run_arrange,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine.generate", description="Generate music without the studio.")
    sub = parser.add_subparsers(dest="task", required=True)
    add_melody_commands(sub)
    add_style_commands(sub)
    add_arrange_commands(sub)
    for task_parser in sub.choices.values():  # every task can print its control report
        task_parser.add_argument(
            "--json",
            action="store_true",
            help="print JSON: the files written and each result's control report (asked vs measured)",
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.reports = []  # each task adds one control report per result
    try:
        written = TASKS[args.task](args)
    except (CadenzaInputError, ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"task": args.task, "files": [str(p) for p in written], "reports": args.reports}, indent=2))
        return 0
    for path in written:
        print(path)
    return 0
