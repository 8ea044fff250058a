"""Headless generation CLI.

    python -m engine.generate compose --rhythm "x...x...x.x.x...|x..." --chords "C Am F G" \
        --bars 8 --seed 1 --out song.mid [--wav song.wav]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.errors import CadenzaInputError


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", default=None, help="checkpoint folder (default: the shipped checkpoints/ec2vae; 'debug' for a tiny untrained model)")
    p.add_argument("--device", default="auto")
    p.add_argument("--instrument", default="Acoustic Grand Piano", help="GM instrument of the melody")
    p.add_argument("--accompaniment", default="Acoustic Grand Piano", help="GM instrument of the chord track, or 'none'")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine.generate", description="Generate music without the studio.")
    sub = parser.add_subparsers(dest="task", required=True)
    p = sub.add_parser("compose", help="a melody for a drawn rhythm over a chord progression")
    p.add_argument("--rhythm", required=True, help="one char per sixteenth: 'x' onset, '.' none; bars split by '|' (repeats to fill --bars)")
    p.add_argument("--chords", required=True, help="e.g. \"C Am F G\" (one per bar) or \"C Am | F G\"")
    p.add_argument("--bars", type=int, default=8)
    p.add_argument("--key", default="C")
    p.add_argument("--tempo", type=float, default=120.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--variations", type=int, default=1, help="more than one writes song_2.mid, song_3.mid, ...")
    p.add_argument("--out", required=True, help="MIDI file to write")
    p.add_argument("--wav", default=None, help="also render audio to this WAV file")
    _add_common(p)
    return parser


def _numbered(path: Path, index: int) -> Path:
    return path if index == 0 else path.with_name(f"{path.stem}_{index + 1}{path.suffix}")


def run_compose(args: argparse.Namespace) -> list[Path]:
    from engine.pipelines.compose import DEFAULT_CHECKPOINT, ComposePipeline
    from engine.render.export import leadsheet_to_pretty_midi, save_midi
    from engine.render.instruments import program_for

    melody_program = program_for(args.instrument)
    chord_program = None if args.accompaniment.lower() == "none" else program_for(args.accompaniment)
    pipe = ComposePipeline.from_pretrained(args.checkpoint or DEFAULT_CHECKPOINT, device=args.device)
    result = pipe(args.rhythm, args.chords, args.bars, key=args.key, tempo_bpm=args.tempo, seed=args.seed,
                  temperature=args.temperature, num_samples=args.variations)
    written = []
    for index, sheet in enumerate(result.leadsheets):
        pm = leadsheet_to_pretty_midi(sheet, melody_program, chord_program)
        midi_path = _numbered(Path(args.out), index)
        midi_path.parent.mkdir(parents=True, exist_ok=True)
        save_midi(pm, midi_path)
        written.append(midi_path)
        if args.wav:
            from engine.render.audio import get_synthesizer
            from engine.render.export import write_wav

            synth = get_synthesizer()
            wav_path = _numbered(Path(args.wav), index)
            write_wav(wav_path, synth.render(pm), synth.sample_rate)
            written.append(wav_path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        written = {"compose": run_compose}[args.task](args)
    except (CadenzaInputError, ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
