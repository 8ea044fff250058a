"""The melody commands of ``python -m engine.generate``: compose, interpolate, analogy, continue, infill, song and
emotion (parsers and runners)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from engine.cli.files import load_source, melody_writer, numbered, write_all, write_audio
from engine.eval.report import emotion_report, melody_report
from engine.music import LeadSheet
from engine.music.limits import INTERPOLATION_STEPS, MAP_SIZE, SONG_BARS
from engine.music.representation import parse_rhythm_pattern
from engine.paths import default_checkpoint
from engine.pipelines.compose import ComposePipeline
from engine.pipelines.emotion import EmotionPipeline
from engine.pipelines.emotion_template import quadrant_of_point
from engine.pipelines.explore import ExplorePipeline
from engine.pipelines.explore_latents import ExploreInputError
from engine.pipelines.song import ContinuePipeline, InfillPipeline, SongPipeline, parse_blocks
from engine.pipelines.song_model import block_count
from engine.render.export import leadsheet_to_pretty_midi, save_midi
from engine.render.instruments import program_for
from engine.render.score import abc_to_musicxml


def add_melody_commands(sub: argparse._SubParsersAction) -> None:
    """The melody commands' parsers."""
    p = sub.add_parser("compose", help="a melody for a drawn rhythm over a chord progression")
    p.add_argument(
        "--rhythm",
        required=True,
        help="one char per sixteenth: 'x' onset, '.' none; bars split by '|' (repeats to fill --bars)",
    )
    p.add_argument("--chords", required=True, help='e.g. "C Am F G" (one per bar) or "C Am | F G"')
    p.add_argument("--bars", type=int, default=8)
    p.add_argument("--key", default="C")
    p.add_argument("--tempo", type=float, default=120.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--temperature",
        type=float,
        default=None,
        help="0..3: low = safe, high = adventurous (default: the model's own)",
    )
    p.add_argument("--variations", type=int, default=1, help="more than one writes song_2.mid, song_3.mid, ...")
    p.add_argument("--out", required=True, help="MIDI file to write")
    p.add_argument("--wav", default=None, help="also render audio to this WAV file")
    _add_common(p)

    p = sub.add_parser("interpolate", help="melodies on the way from A to B in EC2-VAE's latent space")
    p.add_argument("--a", required=True, help="melody A: a MIDI file, or example:TITLE")
    p.add_argument("--b", required=True, help="melody B: a MIDI file, or example:TITLE")
    _add_source_options(p, "a", "A")
    _add_source_options(p, "b", "B")
    p.add_argument("--steps", type=int, default=5, help="melodies from A to B, both included (2..12)")
    p.add_argument("--chords", default="a", help="'a' (A's chords), 'b' (B's) or a progression such as \"C Am F G\"")
    p.add_argument("--morph", action="store_true", help="also write morph.mid: all steps end to end")
    p.add_argument(
        "--grid",
        type=int,
        default=None,
        metavar="SIZE",
        help="also write the SIZE x SIZE pitch/rhythm map (2..7) as grid/pitch_I_rhythm_J.mid",
    )
    p.add_argument("--out-dir", required=True, help="folder for step_01.mid, step_02.mid, ...")
    _add_common(p)

    p = sub.add_parser("analogy", help="A's tune with B's rhythm, or A re-harmonised (no --rhythm-from)")
    p.add_argument("--pitch-from", required=True, help="melody A, whose tune is kept: a MIDI file, or example:TITLE")
    p.add_argument(
        "--rhythm-from", default=None, help="melody B, whose rhythm is used; leave out to re-harmonise A under --chords"
    )
    _add_source_options(p, "pitch", "the pitch source")
    _add_source_options(p, "rhythm", "the rhythm source")
    p.add_argument(
        "--chords",
        default=None,
        help="'a' (the pitch source's chords, the default), 'b' (the rhythm source's) "
        'or a progression such as "C Am F G"',
    )
    p.add_argument("--out", required=True, help="MIDI file to write")
    p.add_argument("--wav", default=None, help="also render audio to this WAV file")
    _add_common(p)

    p = sub.add_parser("continue", help="a tune followed by N new bars (latent sequence model)")
    p.add_argument("--from", dest="source", required=True, help="the tune: a MIDI or ABC file, or example:TITLE")
    _add_source_options(p, "from", "the tune", max_bars=32)
    p.add_argument("--bars", type=int, default=8, help="bars to add (even; the tune and the new bars make at most 32)")
    p.add_argument(
        "--chords", default=None, help="chords of the new bars (default: the tune's own again from its first bar)"
    )
    p.add_argument("--rhythm", default=None, help="rhythm of the new bars as in compose (default: the model's own)")
    _add_song_common(p)

    p = sub.add_parser("infill", help="rewrite chosen 2-bar blocks of a tune so they join both neighbours")
    p.add_argument("--from", dest="source", required=True, help="the tune: a MIDI or ABC file, or example:TITLE")
    _add_source_options(p, "from", "the tune", max_bars=32)
    p.add_argument("--blocks", required=True, help="0-based 2-bar blocks to rewrite, e.g. 2,3")
    p.add_argument(
        "--rhythm", default=None, help="a new 2-bar rhythm for every rewritten block (default: each keeps its own)"
    )
    p.add_argument("--new-rhythm", action="store_true", help="let the model write the blocks' rhythm too")
    _add_song_common(p)

    p = sub.add_parser("song", help="a new tune of 8..32 bars over a chord progression")
    p.add_argument("--chords", required=True, help='e.g. "C Am F G" (one per bar, repeats) or "C Am | F G"')
    p.add_argument("--bars", type=int, default=16, help="8..32, even")
    p.add_argument("--key", default="C")
    p.add_argument(
        "--rhythm", default=None, help="a rhythm for every bar as in compose (repeats; default: the model's own)"
    )
    p.add_argument(
        "--functions",
        default=None,
        help='chord functions per bar, e.g. "T S D T" (default: from the chords in the key)',
    )
    p.add_argument("--tempo", type=float, default=120.0)
    _add_song_common(p)

    p = sub.add_parser(
        "emotion", help="a melody in ABC that carries a feeling (a quadrant, or a valence-arousal point)"
    )
    p.add_argument("--quadrant", default=None, help="Q1 happy, Q2 tense, Q3 sad, Q4 calm")
    p.add_argument(
        "--valence",
        type=float,
        default=None,
        help="-1 (negative) .. 1 (positive), with --arousal instead of --quadrant",
    )
    p.add_argument("--arousal", type=float, default=None, help="-1 (calm) .. 1 (excited)")
    p.add_argument("--bars", type=int, default=16, help="8..32")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--variations", type=int, default=1, help="more than one writes X_2.abc, X_3.abc, ...")
    p.add_argument("--out", required=True, help="ABC file to write")
    p.add_argument("--midi", default=None, help="also write MIDI")
    p.add_argument("--wav", default=None, help="also render audio to this WAV file")
    p.add_argument("--musicxml", default=None, help="also write MusicXML")
    p.add_argument(
        "--checkpoint",
        default=None,
        help="ABC emotion model (default: checkpoints/abc_emotion; 'debug' for a tiny untrained one)",
    )
    p.add_argument("--instrument", default="Acoustic Grand Piano", help="GM instrument of the melody")
    p.add_argument("--device", default="auto")


def _add_song_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--temperature",
        type=float,
        default=None,
        help="of the latent sampling (0: the most likely latents; default: the model's own)",
    )
    p.add_argument("--variations", type=int, default=1, help="more than one writes X_2.mid, X_3.mid, ...")
    p.add_argument("--out", required=True, help="MIDI file to write")
    p.add_argument("--wav", default=None, help="also render audio to this WAV file")
    p.add_argument(
        "--vae",
        default=None,
        help="EC2-VAE checkpoint (default: checkpoints/ec2vae; 'debug' for tiny untrained models)",
    )
    p.add_argument("--latent", default=None, help="latent sequence model checkpoint (default: checkpoints/latent)")
    p.add_argument("--device", default="auto")
    p.add_argument("--instrument", default="Acoustic Grand Piano", help="GM instrument of the melody")
    p.add_argument(
        "--accompaniment", default="Acoustic Grand Piano", help="GM instrument of the chord track, or 'none'"
    )


def _add_source_options(p: argparse.ArgumentParser, prefix: str, label: str, max_bars: int = 16) -> None:
    p.add_argument(f"--{prefix}-track", type=int, default=None, help=f"melody track of {label} (default: guessed)")
    p.add_argument(f"--{prefix}-start-bar", type=int, default=0, help=f"first bar of {label} after the pickup, from 0")
    p.add_argument(
        f"--{prefix}-bars",
        type=int,
        default=None,
        help=f"bars of {label} to use (2..{max_bars}, default all up to {max_bars})",
    )


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--checkpoint",
        default=None,
        help="checkpoint folder (default: the shipped checkpoints/ec2vae; 'debug' for a tiny untrained model)",
    )
    p.add_argument("--device", default="auto")
    p.add_argument("--instrument", default="Acoustic Grand Piano", help="GM instrument of the melody")
    p.add_argument(
        "--accompaniment", default="Acoustic Grand Piano", help="GM instrument of the chord track, or 'none'"
    )


def run_compose(args: argparse.Namespace) -> list[Path]:
    pipe = ComposePipeline.from_pretrained(args.checkpoint or default_checkpoint("ec2vae"), device=args.device)
    result = pipe(
        args.rhythm,
        args.chords,
        args.bars,
        key=args.key,
        tempo_bpm=args.tempo,
        seed=args.seed,
        temperature=args.temperature,
        num_samples=args.variations,
    )
    melody_program = program_for(args.instrument)
    chord_program = None if args.accompaniment.lower() == "none" else program_for(args.accompaniment)
    written = []
    drawn = np.flatnonzero(np.resize(parse_rhythm_pattern(args.rhythm), args.bars * 16)).tolist()
    for index, sheet in enumerate(result.samples):
        args.reports.append(melody_report(sheet, drawn_onsets=drawn, key=args.key, tempo_bpm=args.tempo))
        pm = leadsheet_to_pretty_midi(sheet, melody_program, chord_program)
        midi_path = numbered(Path(args.out), index)
        midi_path.parent.mkdir(parents=True, exist_ok=True)
        save_midi(pm, midi_path)
        written.append(midi_path)
        if args.wav:
            written.append(write_audio(pm, numbered(Path(args.wav), index)))
    return written


def run_interpolate(args: argparse.Namespace) -> list[Path]:
    INTERPOLATION_STEPS.check("--steps", args.steps, ExploreInputError)
    if args.grid is not None:
        MAP_SIZE.check("--grid", args.grid, ExploreInputError)
    a = load_source(args.a, args.a_track, args.a_start_bar, args.a_bars)
    b = load_source(args.b, args.b_track, args.b_start_bar, args.b_bars)
    pipe = ExplorePipeline.from_pretrained(args.checkpoint, device=args.device)
    steps = pipe.interpolate(a, b, args.steps, chords=args.chords).samples
    grid = pipe.grid(a, b, args.grid, chords=args.chords).rows if args.grid is not None else None
    write, out_dir, written = melody_writer(args), Path(args.out_dir), []
    for index, sheet in enumerate(steps):
        written += write(sheet, out_dir / f"step_{index + 1:02d}.mid")
    if args.morph:
        morph = pipe.morph(steps, title=f"{steps[0].title.split(':')[0]} (morph)").samples[0]
        written += write(morph, out_dir / "morph.mid")
    if grid is not None:
        for i, row in enumerate(grid):
            for j, cell in enumerate(row):
                written += write(cell, out_dir / "grid" / f"pitch_{i + 1}_rhythm_{j + 1}.mid")
    return written


def run_analogy(args: argparse.Namespace) -> list[Path]:
    if args.rhythm_from is None and not args.chords:
        raise ExploreInputError("Give --rhythm-from (A's tune with B's rhythm) or --chords (A re-harmonised), or both")
    a = load_source(args.pitch_from, args.pitch_track, args.pitch_start_bar, args.pitch_bars)
    pipe = ExplorePipeline.from_pretrained(args.checkpoint, device=args.device)
    if args.rhythm_from is None:
        sheet = pipe.reharmonise(a, args.chords).samples[0]
    else:
        b = load_source(args.rhythm_from, args.rhythm_track, args.rhythm_start_bar, args.rhythm_bars)
        sheet = pipe.analogy(a, b, chords=args.chords or "a").samples[0]
    return melody_writer(args)(sheet, Path(args.out), args.wav)


def _song_source(args: argparse.Namespace) -> tuple[str | Path | None, str | Path | None]:
    """(latent model, EC2-VAE) checkpoints of the song commands ("debug" for either: tiny untrained ones)."""
    if args.vae == "debug" or args.latent == "debug":
        return "debug", None
    return args.latent, args.vae


def _tune_source(args: argparse.Namespace) -> LeadSheet:
    return load_source(args.source, args.from_track, args.from_start_bar, args.from_bars, max_bars=SONG_BARS.high)


def run_continue(args: argparse.Namespace) -> list[Path]:
    sheet = _tune_source(args)
    latent, vae = _song_source(args)
    out = ContinuePipeline.from_pretrained(latent, device=args.device, vae=vae)(
        sheet,
        args.bars,
        chords=args.chords,
        rhythm=args.rhythm,
        seed=args.seed,
        temperature=args.temperature,
        num_samples=args.variations,
    )
    return write_all(args, out.samples)


def run_infill(args: argparse.Namespace) -> list[Path]:
    sheet = _tune_source(args)
    blocks = parse_blocks(args.blocks, block_count(sheet))
    rhythm = {b: args.rhythm for b in blocks} if args.rhythm else None
    latent, vae = _song_source(args)
    out = InfillPipeline.from_pretrained(latent, device=args.device, vae=vae)(
        sheet,
        blocks,
        rhythm=rhythm,
        keep_rhythm=not args.new_rhythm,
        seed=args.seed,
        temperature=args.temperature,
        num_samples=args.variations,
    )
    return write_all(args, out.samples)


def run_song(args: argparse.Namespace) -> list[Path]:
    latent, vae = _song_source(args)
    out = SongPipeline.from_pretrained(latent, device=args.device, vae=vae)(
        args.chords,
        args.bars,
        key=args.key,
        rhythm=args.rhythm,
        functions=args.functions,
        tempo_bpm=args.tempo,
        seed=args.seed,
        temperature=args.temperature,
        num_samples=args.variations,
    )
    return write_all(args, out.samples)


def run_emotion(args: argparse.Namespace) -> list[Path]:
    program = program_for(args.instrument)
    pipe = EmotionPipeline.from_pretrained(args.checkpoint, device=args.device)
    point = pipe.point(args.quadrant, args.valence, args.arousal)
    out = pipe(valence=point[0], arousal=point[1], num_bars=args.bars, seed=args.seed, num_samples=args.variations)
    written: list[Path] = []
    for index, tune in enumerate(out.samples):
        args.reports.append(
            emotion_report(tune.sheet, tune.abc, quadrant_of_point(*point), pipe.judge, tune.template.tempo_range)
        )
        abc_path = numbered(Path(args.out), index)
        abc_path.parent.mkdir(parents=True, exist_ok=True)
        abc_path.write_text(tune.abc)
        written.append(abc_path)
        pm = leadsheet_to_pretty_midi(tune.sheet, program, None)
        if args.midi:
            written.append(save_midi(pm, numbered(Path(args.midi), index)))
        if args.musicxml:
            path = numbered(Path(args.musicxml), index)
            path.write_bytes(abc_to_musicxml(tune.abc))
            written.append(path)
        if args.wav:
            written.append(write_audio(pm, numbered(Path(args.wav), index)))
    return written
