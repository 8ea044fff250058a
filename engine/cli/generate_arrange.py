"""The Arrange commands of ``python -m engine.generate``: harmonize (chords for a melody in a MIDI file) and arrange
(the melody on top, three lower voices in a style).

    python -m engine.generate harmonize --from M.mid [--key K] [--bars N] [--alternatives 3] [--progressions 1]
        [--seed S] --out chords.txt [--json]
    python -m engine.generate arrange --from M.mid --style "Bach chorale" [--chords "G C | D G"] [--bars N]
        [--seed S] --out A.mid [--musicxml A.musicxml] [--wav A.wav] [--json]

The text file holds one line per progression (the most likely first, then seeded alternatives), bars joined by
"|" as Compose and Song read them, then one line per chord slot with its alternatives and their probabilities.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli.files import write_audio
from engine.io.sources import read_piece
from engine.music.notes import ChordProgression, Melody
from engine.pipelines.harmonize import HarmonizeOutput, HarmonizePipeline, melody_for_chords, progression_bars


def add_arrange_commands(sub: argparse._SubParsersAction) -> None:
    """The Arrange commands' parsers."""
    p = sub.add_parser("harmonize", help="chords for a melody: the most likely progression and alternatives")
    p.add_argument("--from", dest="source", required=True, help="a MIDI (or .abc) file: its melody track is used")
    p.add_argument("--track", type=int, default=None, help="the melody's track (default: guessed)")
    p.add_argument("--key", default=None, help="the melody's key (default: the file's, else estimated)")
    p.add_argument("--bars", type=int, default=None, help="harmonise the first N bars only (1..32)")
    p.add_argument("--alternatives", type=int, default=3, help="chords offered per slot (1..5)")
    p.add_argument("--progressions", type=int, default=1, help="progressions to write: the best, then seeded draws")
    p.add_argument("--temperature", type=float, default=None, help="of the seeded draws (default: the model's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint", default=None, help="the chord suggester (default: checkpoints/harmonizer)")
    p.add_argument("--out", required=True, help="text file to write")

    p = sub.add_parser("arrange", help="a melody on top, note for note, and three lower voices in a style")
    p.add_argument("--from", dest="source", required=True, help="a MIDI (or .abc) file: its melody track is used")
    p.add_argument("--track", type=int, default=None, help="the melody's track (default: guessed)")
    p.add_argument("--style", required=True, help='e.g. "Bach chorale", "English folk"')
    p.add_argument("--chords", default=None, help='"G C | D G" from bar 1 (default: the suggested chords)')
    p.add_argument("--bars", type=int, default=None, help="arrange the first N bars only (1..32)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="MIDI file to write (four tracks, the melody first)")
    p.add_argument("--musicxml", default=None, help="also write the four staves as MusicXML")
    p.add_argument("--wav", default=None, help="also render audio to this WAV file")
    p.add_argument("--gan", default=None, help="style GAN checkpoint (default: checkpoints/stylegan)")
    p.add_argument("--checkpoint", default=None, help="the chord suggester (default: checkpoints/harmonizer)")
    p.add_argument("--judge", default=None, help="style judge checkpoint (default: checkpoints/style_judge)")
    p.add_argument(
        "--infiller",
        default=None,
        help="the voice infiller that writes the lower voices (default: checkpoints/voice_infill; '': the GAN writes)",
    )


def progression_text(progression: ChordProgression, tune: Melody) -> str:
    """A progression as Compose's chord box reads it, from bar 1 ("G | C D | G"); a pickup's chord, if any, is
    written first as "(pickup C)"."""
    text = " | ".join(" ".join(bar) for bar in progression_bars(progression, tune))
    pickup = [c.symbol for c in progression.chords if c.start < tune.pickup_steps]
    return f"(pickup {pickup[0]}) {text}" if pickup else text


def harmonize_report(out: HarmonizeOutput, tune: Melody) -> dict:
    """What ``--json`` prints for a harmonisation: the key, each progression as text and the slots' choices."""
    return {
        "key": out.key,
        "progressions": [progression_text(p, tune) for p in out.samples],
        "seeds": out.seeds,
        "slots": [
            {"start": c.start, "end": c.end, "bar": c.bar + 1 if c.bar >= 0 else "pickup", "options": c.options}
            for c in out.choices
        ],
    }


def run_harmonize(args: argparse.Namespace) -> list[Path]:
    sheet = read_piece(args.source, args.track)
    pipe = HarmonizePipeline.from_pretrained(args.checkpoint)
    out = pipe(
        sheet,
        num_bars=args.bars,
        seed=args.seed,
        num_samples=args.progressions,
        key=args.key,
        temperature=args.temperature,
        alternatives=args.alternatives,
    )
    report = harmonize_report(out, melody_for_chords(sheet, args.bars))
    lines = [f"# key {out.key}; the most likely progression first, then seeded alternatives"]
    lines += report["progressions"]
    lines.append("# per chord slot: bar (step range): alternatives with their probabilities")
    for slot in report["slots"]:
        options = ", ".join(f"{symbol} {p:.2f}" for symbol, p in slot["options"])
        lines.append(f"bar {slot['bar']} ({slot['start']}-{slot['end']}): {options}")
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args.reports.append(report)
    return [path]


def run_arrange(args: argparse.Namespace) -> list[Path]:
    from engine.pipelines.arrange import ArrangePipeline
    from engine.render.multitrack import piece_to_midi, piece_to_musicxml, style_instruments, style_programs

    sheet = read_piece(args.source, args.track)
    pipe = ArrangePipeline.from_pretrained(
        args.gan, harmonizer=args.checkpoint, judge=args.judge, infiller=args.infiller
    )
    out = pipe(sheet, args.style, num_bars=args.bars, seed=args.seed, chords=args.chords)
    arrangement = out.samples[0]
    style = arrangement.style
    tempo = float(sheet.melody.tempo_bpm)
    meter = arrangement.time_signature
    pm = piece_to_midi(arrangement.tokens, tempo, style_programs(style), time_signature=meter)
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    pm.write(str(path))
    written = [path]
    if args.musicxml:
        xml = Path(args.musicxml)
        xml.write_bytes(
            piece_to_musicxml(arrangement.tokens, style_instruments(style), tempo, f"{path.stem} ({style})", meter)
        )
        written.append(xml)
    if args.wav:
        written.append(write_audio(pm, args.wav))
    args.reports.append(
        {
            "style": style,
            "writer": pipe.writer_for(style),
            "key": out.key,
            "chords": args.chords or progression_text(arrangement.chords, melody_for_chords(sheet, args.bars)),
            "chords_suggested": out.suggested,
            "judge_verdicts": arrangement.verdicts,
            "in_style": round(arrangement.agreement, 4),
            "parallels_with_melody": arrangement.parallels,
            "steps": int(arrangement.tokens.shape[1]),
            "offset": arrangement.offset,
            "time_signature": f"{meter[0]}/{meter[1]}",
        }
    )
    return written
