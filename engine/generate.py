"""Headless generation CLI.

    python -m engine.generate compose --rhythm "x...x...x.x.x...|x..." --chords "C Am F G" \
        --bars 8 --seed 1 --out song.mid [--wav song.wav]
    python -m engine.generate interpolate --a A.mid --b B.mid --steps 5 --out-dir DIR \
        [--chords a|b|"C Am F G"] [--morph] [--grid 5]
    python -m engine.generate analogy --pitch-from A.mid --rhythm-from B.mid --out X.mid [--chords ...]
    python -m engine.generate analogy --pitch-from A.mid --chords "C Am F G" --out X.mid   (re-harmonise A)
    python -m engine.generate continue --from A.mid --bars 8 --out X.mid [--chords ...] [--rhythm ...]
    python -m engine.generate infill --from A.mid --blocks 2,3 --out X.mid [--new-rhythm | --rhythm ...]
    python -m engine.generate song --chords "C Am F G" --bars 16 --seed 1 --out X.mid [--rhythm ...] [--functions "T S D T"]

    python -m engine.generate emotion --quadrant Q3 --bars 16 --seed 1 --out tune.abc [--midi X.mid] [--wav X.wav]
        [--musicxml X.musicxml]      (or --valence V --arousal A, each -1..1, instead of --quadrant)
    python -m engine.generate style --style "Bach chorale" --bars 4 --seed 1 --out X.mid [--morph-to STYLE --steps 5]
    python -m engine.generate style --model gan --style "Bach chorale" [--chords "C G Am F"] --bars 8 --seed 1 --out X.mid
    python -m engine.generate style-transfer --from A.mid --to "String quartet" --strength 0.8 --out X.mid

All take --seed and --wav, and --json to print the files and each result's control report (asked vs
measured: onsets, chord tones, key, range, tempo; feeling features and the judge for emotion).
Blocks are 2-bar windows, counted from 0.

Sources (--a, --b, --pitch-from, --rhythm-from) are MIDI files (or .abc, first tune),
or one of the shipped example tunes as "example:TITLE" (see engine.examples).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from engine.control_report import melody_report
from engine.errors import CadenzaInputError


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine.generate", description="Generate music without the studio.")
    sub = parser.add_subparsers(dest="task", required=True)
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
    p.add_argument("--temperature", type=float, default=0.5, help="0.1..2: low = safe, high = adventurous")
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
        help="'a' (the pitch source's chords, the default), 'b' (the rhythm source's) or a progression such as \"C Am F G\"",
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
    p = sub.add_parser(
        "style",
        help="four-part music in a style (MusAE or the style GAN), or a morph from one style to another (MusAE)",
    )
    p.add_argument(
        "--style", required=True, help='e.g. "Bach chorale" (see checkpoints/musae/README.md for the styles)'
    )
    p.add_argument("--model", choices=["musae", "gan"], default="musae", help="the generator (default musae)")
    p.add_argument("--bars", type=int, default=4, help="2..16, even")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--chords",
        default=None,
        help='with --model gan: a progression such as "C G Am F" (one chord per bar, repeats; '
        '"C Am | F G" for several in a bar); default: no chords',
    )
    p.add_argument(
        "--morph-to", default=None, help="a second style: write a morph from --style to it instead (MusAE only)"
    )
    p.add_argument("--steps", type=int, default=5, help="windows of the morph (2..12)")
    p.add_argument("--tempo", type=float, default=96.0)
    p.add_argument("--out", required=True, help="MIDI file to write (four tracks)")
    p.add_argument("--wav", default=None, help="also render audio to this WAV file")
    p.add_argument("--musae", default=None, help="MusAE checkpoint (default: checkpoints/musae)")
    p.add_argument("--gan", default=None, help="style GAN checkpoint, with --model gan (default: checkpoints/stylegan)")
    p.add_argument("--judge", default=None, help="style judge checkpoint (default: checkpoints/style_judge)")

    p = sub.add_parser("style-transfer", help="a MIDI file with 2..4 voices moved toward another style (MusAE)")
    p.add_argument("--from", dest="source", required=True, help="a MIDI file with 2 to 4 voices")
    p.add_argument("--to", required=True, help="the target style")
    p.add_argument("--strength", type=float, default=0.8, help="0 (unchanged) .. 1 (all the way)")
    p.add_argument("--out", required=True, help="MIDI file to write (four tracks)")
    p.add_argument("--wav", default=None, help="also render audio to this WAV file")
    p.add_argument("--musae", default=None, help="MusAE checkpoint (default: checkpoints/musae)")
    p.add_argument("--judge", default=None, help="style judge checkpoint (default: checkpoints/style_judge)")

    for task_parser in sub.choices.values():  # every task can print its control report
        task_parser.add_argument(
            "--json",
            action="store_true",
            help="print JSON: the files written and each result's control report (asked vs measured)",
        )
    return parser


def _add_song_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--temperature", type=float, default=0.5, help="of the latent sampling (0: the most likely latents)")
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


def _numbered(path: Path, index: int) -> Path:
    return path if index == 0 else path.with_name(f"{path.stem}_{index + 1}{path.suffix}")


def run_compose(args: argparse.Namespace) -> list[Path]:
    from engine.pipelines.compose import DEFAULT_CHECKPOINT, ComposePipeline
    from engine.render.export import leadsheet_to_pretty_midi, save_midi
    from engine.render.instruments import program_for
    from engine.representation import parse_rhythm_pattern

    melody_program = program_for(args.instrument)
    chord_program = None if args.accompaniment.lower() == "none" else program_for(args.accompaniment)
    pipe = ComposePipeline.from_pretrained(args.checkpoint or DEFAULT_CHECKPOINT, device=args.device)
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
    written = []
    drawn = np.flatnonzero(np.resize(parse_rhythm_pattern(args.rhythm), args.bars * 16)).tolist()
    for index, sheet in enumerate(result.leadsheets):
        args.reports.append(melody_report(sheet, drawn_onsets=drawn, key=args.key, tempo_bpm=args.tempo))
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


def _load_source(spec: str, track: int | None, start_bar: int, bars: int | None, max_bars: int = 16):
    """A prepared LeadSheet from a file path or "example:TITLE" (at most ``max_bars`` bars)."""
    from engine.pipelines.explore import prepare_source, read_source

    if spec.startswith("example:"):
        from engine.examples import load_example

        return prepare_source(load_example(spec[len("example:") :]), start_bar, bars, max_bars)
    return read_source(spec, melody_track=track, start_bar=start_bar, num_bars=bars, max_bars=max_bars)


def _writer(args: argparse.Namespace):
    from engine.render.export import leadsheet_to_pretty_midi, save_midi
    from engine.render.instruments import program_for

    melody_program = program_for(args.instrument)
    chord_program = None if args.accompaniment.lower() == "none" else program_for(args.accompaniment)

    def write(sheet, path: Path, wav: str | None = None) -> list[Path]:
        args.reports.append(melody_report(sheet, tempo_bpm=getattr(args, "tempo", None)))
        pm = leadsheet_to_pretty_midi(sheet, melody_program, chord_program)
        out = [save_midi(pm, path)]
        if wav:
            from engine.render.audio import get_synthesizer
            from engine.render.export import write_wav

            synth = get_synthesizer()
            out.append(write_wav(wav, synth.render(pm), synth.sample_rate))
        return out

    return write


def _explore_pipeline(args: argparse.Namespace):
    from engine.pipelines.explore import ExplorePipeline

    return ExplorePipeline.from_pretrained(args.checkpoint, device=args.device)


def run_interpolate(args: argparse.Namespace) -> list[Path]:
    from engine.pipelines.explore import MAX_GRID, MAX_STEPS, MIN_GRID, MIN_STEPS, ExploreInputError

    if not MIN_STEPS <= args.steps <= MAX_STEPS:
        raise ExploreInputError(f"--steps must be between {MIN_STEPS} and {MAX_STEPS} (got {args.steps})")
    if args.grid is not None and not MIN_GRID <= args.grid <= MAX_GRID:
        raise ExploreInputError(f"--grid must be between {MIN_GRID} and {MAX_GRID} (got {args.grid})")
    a = _load_source(args.a, args.a_track, args.a_start_bar, args.a_bars)
    b = _load_source(args.b, args.b_track, args.b_start_bar, args.b_bars)
    pipe = _explore_pipeline(args)
    steps = pipe.interpolate(a, b, args.steps, chords=args.chords)
    grid = pipe.grid(a, b, args.grid, chords=args.chords) if args.grid is not None else None
    write, out_dir, written = _writer(args), Path(args.out_dir), []
    for index, sheet in enumerate(steps):
        written += write(sheet, out_dir / f"step_{index + 1:02d}.mid")
    if args.morph:
        written += write(pipe.morph(steps, title=f"{steps[0].title.split(':')[0]} (morph)"), out_dir / "morph.mid")
    if grid is not None:
        for i, row in enumerate(grid):
            for j, cell in enumerate(row):
                written += write(cell, out_dir / "grid" / f"pitch_{i + 1}_rhythm_{j + 1}.mid")
    return written


def run_analogy(args: argparse.Namespace) -> list[Path]:
    from engine.pipelines.explore import ExploreInputError

    if args.rhythm_from is None and not args.chords:
        raise ExploreInputError("Give --rhythm-from (A's tune with B's rhythm) or --chords (A re-harmonised), or both")
    a = _load_source(args.pitch_from, args.pitch_track, args.pitch_start_bar, args.pitch_bars)
    pipe = _explore_pipeline(args)
    if args.rhythm_from is None:
        sheet = pipe.reharmonise(a, args.chords)
    else:
        b = _load_source(args.rhythm_from, args.rhythm_track, args.rhythm_start_bar, args.rhythm_bars)
        sheet = pipe.analogy(a, b, chords=args.chords or "a")
    return _writer(args)(sheet, Path(args.out), args.wav)


def _song_model(args: argparse.Namespace):
    from engine.pipelines.song import DEFAULT_LATENT, DEFAULT_VAE, SongModel

    if args.vae == "debug" or args.latent == "debug":
        return SongModel.debug()
    return SongModel.from_pretrained(args.vae or DEFAULT_VAE, args.latent or DEFAULT_LATENT, device=args.device)


def _write_all(args: argparse.Namespace, sheets) -> list[Path]:
    write, written = _writer(args), []
    for index, sheet in enumerate(sheets):
        path = _numbered(Path(args.out), index)
        path.parent.mkdir(parents=True, exist_ok=True)
        written += write(sheet, path, str(_numbered(Path(args.wav), index)) if args.wav else None)
    return written


def _tune_source(args: argparse.Namespace):
    return _load_source(args.source, args.from_track, args.from_start_bar, args.from_bars, max_bars=32)


def run_continue(args: argparse.Namespace) -> list[Path]:
    from engine.pipelines.song import ContinuePipeline

    sheet = _tune_source(args)
    out = ContinuePipeline(_song_model(args))(
        sheet,
        args.bars,
        chords=args.chords,
        rhythm=args.rhythm,
        seed=args.seed,
        temperature=args.temperature,
        num_samples=args.variations,
    )
    return _write_all(args, out.leadsheets)


def run_infill(args: argparse.Namespace) -> list[Path]:
    from engine.pipelines.song import InfillPipeline, block_count, parse_blocks

    sheet = _tune_source(args)
    blocks = parse_blocks(args.blocks, block_count(sheet))
    rhythm = {b: args.rhythm for b in blocks} if args.rhythm else None
    out = InfillPipeline(_song_model(args))(
        sheet,
        blocks,
        rhythm=rhythm,
        keep_rhythm=not args.new_rhythm,
        seed=args.seed,
        temperature=args.temperature,
        num_samples=args.variations,
    )
    return _write_all(args, out.leadsheets)


def run_song(args: argparse.Namespace) -> list[Path]:
    from engine.pipelines.song import SongPipeline

    out = SongPipeline(_song_model(args))(
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
    return _write_all(args, out.leadsheets)


def run_emotion(args: argparse.Namespace) -> list[Path]:
    from engine.control_report import emotion_report
    from engine.pipelines.emotion import DEFAULT_CHECKPOINT, EmotionPipeline, quadrant_of_point
    from engine.render.export import leadsheet_to_pretty_midi, save_midi
    from engine.render.instruments import program_for
    from engine.render.score import abc_to_musicxml

    program = program_for(args.instrument)
    pipe = EmotionPipeline.from_pretrained(args.checkpoint or DEFAULT_CHECKPOINT, device=args.device)
    point = pipe.point(args.quadrant, args.valence, args.arousal)
    out = pipe(valence=point[0], arousal=point[1], num_bars=args.bars, seed=args.seed, num_samples=args.variations)
    written: list[Path] = []
    for index, tune in enumerate(out.tunes):
        args.reports.append(
            emotion_report(tune.sheet, tune.abc, quadrant_of_point(*point), pipe.judge, tune.template.tempo_range)
        )
        abc_path = _numbered(Path(args.out), index)
        abc_path.parent.mkdir(parents=True, exist_ok=True)
        abc_path.write_text(tune.abc)
        written.append(abc_path)
        pm = leadsheet_to_pretty_midi(tune.sheet, program, None)
        if args.midi:
            written.append(save_midi(pm, _numbered(Path(args.midi), index)))
        if args.musicxml:
            path = _numbered(Path(args.musicxml), index)
            path.write_bytes(abc_to_musicxml(tune.abc))
            written.append(path)
        if args.wav:
            from engine.render.audio import get_synthesizer
            from engine.render.export import write_wav

            synth = get_synthesizer()
            written.append(write_wav(_numbered(Path(args.wav), index), synth.render(pm), synth.sample_rate))
    return written


def _style_pipeline(args: argparse.Namespace):
    from engine.pipelines.style import DEFAULT_JUDGE, DEFAULT_MUSAE, StylePipeline

    return StylePipeline.from_pretrained(args.musae or DEFAULT_MUSAE, args.judge or DEFAULT_JUDGE)


def _style_gan_pipeline(args: argparse.Namespace):
    from engine.pipelines.style import DEFAULT_JUDGE
    from engine.pipelines.style_gan import DEFAULT_GAN, StyleGANPipeline

    return StyleGANPipeline.from_pretrained(args.gan or DEFAULT_GAN, args.judge or DEFAULT_JUDGE)


def _write_piece(args: argparse.Namespace, piece, style: str, tempo: float, extra: dict | None = None) -> list[Path]:
    from engine.render.multitrack import piece_to_midi, style_programs

    args.reports.append(
        {
            **(extra or {}),
            "styles_asked": piece.asked,
            "judge_verdicts": piece.verdicts,
            "agreement": round(piece.agreement, 4),
        }
    )
    pm = piece_to_midi(piece.tokens, tempo, style_programs(style))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    pm.write(str(out))
    written = [out]
    if args.wav:
        from engine.render.audio import get_synthesizer
        from engine.render.export import write_wav

        synth = get_synthesizer()
        written.append(write_wav(args.wav, synth.render(pm), synth.sample_rate))
    return written


def run_style(args: argparse.Namespace) -> list[Path]:
    if args.model == "gan":
        if args.morph_to:
            raise CadenzaInputError(
                "--morph-to needs --model musae: the morph walks MusAE's latent space (the GAN has none)"
            )
        pipe = _style_gan_pipeline(args)
        piece = pipe.sample(args.style, args.bars, args.seed, args.chords)
        return _write_piece(
            args,
            piece,
            pipe.styles[pipe.style_index(args.style)],
            args.tempo,
            {"generator": "gan", "chords": args.chords},
        )
    if args.chords:  # said, not ignored: the user expects the chords to be heard
        raise CadenzaInputError("--chords needs --model gan: MusAE takes no chords")
    pipe = _style_pipeline(args)
    if args.morph_to:
        piece = pipe.morph(args.style, args.morph_to, args.steps, args.seed)
        return _write_piece(
            args, piece, pipe.styles[pipe.style_index(args.morph_to)], args.tempo, {"generator": "musae"}
        )
    piece = pipe.sample(args.style, args.bars, args.seed)
    return _write_piece(args, piece, pipe.styles[pipe.style_index(args.style)], args.tempo, {"generator": "musae"})


def run_style_transfer(args: argparse.Namespace) -> list[Path]:
    from engine.render.multitrack import midi_windows

    pipe = _style_pipeline(args)
    windows, tempo = midi_windows(args.source)
    piece = pipe.transfer(windows, args.to, args.strength)
    return _write_piece(args, piece, pipe.styles[pipe.style_index(args.to)], tempo)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    tasks = {
        "compose": run_compose,
        "interpolate": run_interpolate,
        "analogy": run_analogy,
        "continue": run_continue,
        "infill": run_infill,
        "song": run_song,
        "emotion": run_emotion,
        "style": run_style,
        "style-transfer": run_style_transfer,
    }
    args.reports = []  # each task adds one control report per result
    try:
        written = tasks[args.task](args)
    except (CadenzaInputError, ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"task": args.task, "files": [str(p) for p in written], "reports": args.reports}, indent=2))
        return 0
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
