"""The four-part commands of ``python -m engine.generate``: style (MusAE or the style GAN, or a morph) and
style-transfer (parsers and runners)."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli.files import write_audio
from engine.music.errors import CadenzaInputError
from engine.pipelines.style import StylePiece, StylePipeline
from engine.pipelines.style_gan import StyleGANPipeline
from engine.render.multitrack import piece_to_midi, style_programs


def add_style_commands(sub: argparse._SubParsersAction) -> None:
    """The four-part commands' parsers."""
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


def _style_pipeline(args: argparse.Namespace) -> StylePipeline:
    return StylePipeline.from_pretrained(args.musae, judge=args.judge)


def _style_gan_pipeline(args: argparse.Namespace) -> StyleGANPipeline:
    return StyleGANPipeline.from_pretrained(args.gan, judge=args.judge)


def _write_piece(
    args: argparse.Namespace, piece: StylePiece, style: str, tempo: float, extra: dict | None = None
) -> list[Path]:
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
        written.append(write_audio(pm, args.wav))
    return written


def run_style(args: argparse.Namespace) -> list[Path]:
    if args.model == "gan":
        if args.morph_to:
            raise CadenzaInputError(
                "--morph-to needs --model musae: the morph walks MusAE's latent space (the GAN has none)"
            )
        pipe = _style_gan_pipeline(args)
        piece = pipe(args.style, args.bars, args.seed, chords=args.chords).samples[0]
        return _write_piece(
            args,
            piece,
            pipe.styles[pipe.style_index(args.style)],
            args.tempo,
            {"generator": "gan", "chords": args.chords},
        )
    if args.chords:  # said, not ignored: the user expects the chords to be heard
        raise CadenzaInputError("--chords needs --model gan: MusAE takes no chords")
    musae = _style_pipeline(args)
    if args.morph_to:
        piece = musae.morph(args.style, args.morph_to, args.steps, args.seed).samples[0]
        return _write_piece(
            args, piece, musae.styles[musae.style_index(args.morph_to)], args.tempo, {"generator": "musae"}
        )
    piece = musae(args.style, args.bars, args.seed).samples[0]
    return _write_piece(args, piece, musae.styles[musae.style_index(args.style)], args.tempo, {"generator": "musae"})


def run_style_transfer(args: argparse.Namespace) -> list[Path]:
    from engine.io.multitrack import midi_windows

    pipe = _style_pipeline(args)
    windows, tempo = midi_windows(args.source)
    piece = pipe.transfer(windows, args.to, args.strength).samples[0]
    return _write_piece(args, piece, pipe.styles[pipe.style_index(args.to)], tempo)
