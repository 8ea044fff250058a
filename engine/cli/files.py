"""What the generation commands share: numbered output files, writing a melody (MIDI, WAV) with its control report,
loading a source."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from engine.eval.report import melody_report
from engine.io.examples import load_example
from engine.io.sources import cut_note, prepare_source, read_piece
from engine.music import LeadSheet
from engine.render.export import leadsheet_to_pretty_midi, save_midi, write_wav
from engine.render.instruments import program_for


def numbered(path: Path, index: int) -> Path:
    """``path`` for the first result, ``stem_2.ext``, ``stem_3.ext``, ... for the next."""
    return path if index == 0 else path.with_name(f"{path.stem}_{index + 1}{path.suffix}")


def write_audio(pm: object, path: str | Path) -> Path:
    """Render a PrettyMIDI with the warm synthesizer (started on first use) to a WAV file."""
    from engine.render.audio import get_synthesizer  # FluidSynth only when audio is asked for

    synth = get_synthesizer()
    return write_wav(path, synth.render(pm), synth.sample_rate)


def load_source(spec: str, track: int | None, start_bar: int, bars: int | None, max_bars: int = 16) -> LeadSheet:
    """A prepared LeadSheet from a file path or "example:TITLE" (at most ``max_bars`` bars of 4/4). When the whole
    piece is not used (longer than the command takes, a start bar, a pickup), says which part is on stderr."""
    if spec.startswith("example:"):
        whole = load_example(spec[len("example:") :])
    else:
        whole = read_piece(spec, melody_track=track)  # the whole file, as read
    used = prepare_source(whole, start_bar, bars, max_bars)
    for note in [*whole.reading_notes, cut_note(whole, used, start_bar)]:
        if note:
            print(f"note: {note}", file=sys.stderr)
    return used


class MelodyWriter(Protocol):
    """Writes one melody to ``path`` (MIDI), and a WAV to ``wav`` when given; returns the paths written."""

    def __call__(self, sheet: LeadSheet, path: Path, wav: str | None = None) -> list[Path]: ...


def melody_writer(args: argparse.Namespace) -> MelodyWriter:
    """A function writing one melody (MIDI, and a WAV when asked) with the instruments of ``args``, and adding its
    control report to ``args.reports``."""
    melody_program = program_for(args.instrument)
    chord_program = None if args.accompaniment.lower() == "none" else program_for(args.accompaniment)

    def write(sheet: LeadSheet, path: Path, wav: str | None = None) -> list[Path]:
        args.reports.append(melody_report(sheet, tempo_bpm=getattr(args, "tempo", None)))
        pm = leadsheet_to_pretty_midi(sheet, melody_program, chord_program)
        out = [save_midi(pm, path)]
        if wav:
            out.append(write_audio(pm, wav))
        return out

    return write


def write_all(args: argparse.Namespace, sheets: Sequence[LeadSheet]) -> list[Path]:
    """Every variation to ``args.out`` (numbered), with WAVs beside when ``args.wav`` is given."""
    write, written = melody_writer(args), []
    for index, sheet in enumerate(sheets):
        path = numbered(Path(args.out), index)
        path.parent.mkdir(parents=True, exist_ok=True)
        written += write(sheet, path, str(numbered(Path(args.wav), index)) if args.wav else None)
    return written
