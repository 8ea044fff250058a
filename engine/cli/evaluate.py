"""Evaluation CLI: one subcommand per suite (engine/eval/suites/), each saying what data it needs.

    python -m engine.evaluate ec2vae --data DIR [--checkpoint DIR] [--split all|val] [--json]
    python -m engine.evaluate explore --data DIR [--checkpoint DIR] [--pairs 50] [--steps 5] [--json]
    python -m engine.evaluate song --data DIR [--vae DIR] [--latent DIR] [--split val|all] [--bars 8] [--json]
    python -m engine.evaluate cross-corpus --model NAME=DIR [--model ...] --data NAME=DIR [--data ...] [--json]
    python -m engine.evaluate emotion [--checkpoint DIR] [--samples 100] [--json]
    python -m engine.evaluate style [--data data_cache/style_windows.npz] [--json]
    python -m engine.evaluate arrange [--data DIR] [--cache data_cache/harmony.npz] [--checkpoint DIR] [--json]
    python -m engine.evaluate card CHECKPOINT [--eval EVAL.json]      (the model card: engine/cli/card.py)

What each suite measures is in its module's docstring; ``--help`` on a subcommand says what data it needs and how
to make it. Without ``--json`` the melody suites print a short summary (the others always print JSON).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from engine.cli.card import add_card_arguments, write_model_card
from engine.eval.suites import arrange, cross_corpus, ec2vae, emotion, explore, harmony, song, style
from engine.music.errors import CadenzaInputError
from engine.paths import DATA_CACHE_DIR, HARMONY_CACHE, STYLE_CACHE, default_checkpoint


def _suite_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, module: Any, help_text: str
) -> argparse.ArgumentParser:
    """A subcommand whose description says what the suite measures and the data it needs."""
    summary = (module.__doc__ or "").strip().splitlines()[0]
    parser = sub.add_parser(
        name,
        help=help_text,
        description=f"{summary}\n\nData: {module.DATA}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print JSON only")
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine.evaluate", description="Evaluate Cadenza's models.")
    sub = parser.add_subparsers(dest="model", required=True)
    p = _suite_parser(sub, "ec2vae", ec2vae, "EC2-VAE: reconstruction and Compose's control adherence")
    p.add_argument("--data", required=True, help="folder of .mid/.midi/.abc files")
    p.add_argument("--checkpoint", default=None, help="EC2-VAE checkpoint (default: checkpoints/ec2vae)")
    p.add_argument(
        "--split", choices=["all", "val"], default="all", help="'val': only the tunes the training split held out"
    )
    p.add_argument("--max-windows", type=int, default=2000)
    p.add_argument("--compose-windows", type=int, default=300)
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    p = _suite_parser(
        sub, "explore", explore, "latent exploration: interpolation endpoints and gradualness, analogy onsets"
    )
    p.add_argument("--data", required=True, help="folder of .mid/.midi/.abc files")
    p.add_argument("--checkpoint", default=None, help="EC2-VAE checkpoint (default: checkpoints/ec2vae)")
    p.add_argument("--pairs", type=int, default=50, help="random pairs of 2-bar windows from different tunes")
    p.add_argument("--steps", type=int, default=5, help="interpolation steps, endpoints included (2..12)")
    p.add_argument("--max-files", type=int, default=1000, help="read at most this many files (chosen at random)")
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    p = _suite_parser(sub, "song", song, "the latent sequence model: infill, continuation, Compose's melodies")
    p.add_argument("--data", required=True, help="folder of .mid/.midi/.abc files")
    p.add_argument("--vae", default=None, help="EC2-VAE checkpoint (default: checkpoints/ec2vae)")
    p.add_argument("--latent", default=None, help="latent sequence model checkpoint (default: checkpoints/latent)")
    p.add_argument(
        "--split", choices=["all", "val"], default="val", help="'val': only the tunes the training split held out"
    )
    p.add_argument("--bars", type=int, default=8, help="bars of each tune that Compose writes for the melody figures")
    p.add_argument("--max-tunes", type=int, default=None)
    p.add_argument("--temperature", type=float, default=0.5, help="Compose's temperature (the studio's default)")
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    p = _suite_parser(sub, "cross-corpus", cross_corpus, "held-out loss of latent models trained on other corpora")
    p.add_argument(
        "--model",
        dest="models",
        action="append",
        required=True,
        metavar="NAME=DIR",
        help="a latent model checkpoint (repeat)",
    )
    p.add_argument("--data", action="append", required=True, metavar="NAME=DIR", help="a corpus folder (repeat)")
    p.add_argument("--vae", default=None, help="the EC2-VAE all of them use (default: checkpoints/ec2vae)")
    p.add_argument("--cache-dir", default=str(DATA_CACHE_DIR), help="where each corpus's encoded latents are kept")
    p.add_argument("--device", default="auto")
    p = _suite_parser(sub, "emotion", emotion, "the emotion pipeline: ABC, mode, arousal, template, judge")
    p.add_argument(
        "--checkpoint",
        default=None,
        help="ABC emotion model (default: checkpoints/abc_emotion; 'debug' for a tiny untrained one)",
    )
    p.add_argument("--samples", type=int, default=100, help="melodies in all, a quarter per quadrant")
    p.add_argument("--bars", type=int, default=16)
    p.add_argument(
        "--unconstrained", type=int, default=20, help="also sample this many tunes without the token grammar"
    )
    p.add_argument(
        "--real",
        nargs="*",
        default=None,
        help="ABC folders of real tunes for the form figures (labelled as for training)",
    )
    p.add_argument("--real-cache", default=None, help="their labels' cache (JSON lines; made on the first run)")
    p.add_argument(
        "--variant",
        action="append",
        default=None,
        metavar='"NAME=VALUE ..."',
        help="sampling settings to compare on the first draw beside the shipped ones (repeat), "
        'e.g. "guidance=0 keep_mode_third=false"',
    )
    p.add_argument("--sweep-samples", type=int, default=100, help="tunes per variant (and the shipped settings)")
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    p = _suite_parser(sub, "style", style, "the style judge, MusAE and its VAE, the style GAN, MuseGAN's figures")
    p.add_argument("--data", default=str(STYLE_CACHE), help="the style cache (python -m engine.data style)")
    p.add_argument("--judge", default=None, help="style judge checkpoint (default: checkpoints/style_judge)")
    p.add_argument("--musae", default=None, help="MusAE checkpoint (default: checkpoints/musae; '' to skip)")
    p.add_argument("--vae", default=None, help="the VAE baseline (default: checkpoints/musae_vae; '' to skip)")
    p.add_argument("--gan", default=None, help="the style GAN (default: checkpoints/stylegan; '' to skip)")
    p.add_argument("--samples", type=int, default=100, help="samples per style")
    p.add_argument("--recon-windows", type=int, default=1000, help="held-out windows reconstructed greedily")
    p.add_argument(
        "--metric-windows",
        type=int,
        default=style.METRIC_WINDOWS,
        help="windows per style behind MuseGAN's metrics (real, each model's)",
    )
    p.add_argument("--seed", type=int, default=0)
    p = _suite_parser(sub, "arrange", harmony, "chord suggestion against real chords, an HMM and chord inference")
    p.add_argument("--data", default=None, help="the Nottingham MIDI folder (tunes with a chord track)")
    p.add_argument("--cache", default=str(HARMONY_CACHE), help="the harmony cache (the HMM's training tunes)")
    p.add_argument("--checkpoint", default=None, help="the chord suggester (default: checkpoints/harmonizer)")
    p.add_argument("--max-tunes", type=int, default=None, help="at most this many held-out tunes")
    p.add_argument("--device", default="cpu")
    p.add_argument("--workers", type=int, default=2, help="processes reading the held-out tunes")
    p.add_argument("--no-music21", action="store_true", help="leave out the music21 corpus's tunes and chorales")
    p.add_argument("--gan", default=None, help="the style GAN (default: checkpoints/stylegan; '' skips the arranging)")
    p.add_argument(
        "--infiller",
        default=None,
        help="the voice infiller that writes the lower voices (default: checkpoints/voice_infill; '': the GAN writes)",
    )
    p.add_argument("--no-harmony", action="store_true", help="only the accompaniment (not the chord suggestion)")
    p.add_argument("--bars", type=int, default=8, help="bars of each melody arranged")
    p.add_argument("--max-pieces", type=int, default=24, help="held-out chorales and folk tunes arranged (each)")
    p.add_argument("--style-tunes", type=int, default=4, help="folk tunes arranged in every style")
    p.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("card", help="write a checkpoint's model card (README.md, evaluation.json beside it)")
    add_card_arguments(p)
    return parser


def _named(items: list[str], flag: str) -> dict[str, str]:
    """NAME=VALUE pairs of a repeated option -> {NAME: VALUE}."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise CadenzaInputError(f"{flag} takes NAME=DIR (got '{item}')")
        out[name] = value
    return out


def _style_checkpoint(given: str | None, family: str) -> str | None:
    """A style checkpoint to evaluate: the one given, else the shipped one; '' or a folder without a model: skipped."""
    folder = Path(default_checkpoint(family) if given is None else given) if given != "" else None
    return str(folder) if folder is not None and (folder / "config.json").exists() else None


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The suite ``args.model`` with its arguments: one JSON-ready dict."""
    if args.model == "style":
        judge = args.judge or str(default_checkpoint("style_judge"))
        return style.evaluate_style(
            args.data,
            judge,
            _style_checkpoint(args.musae, "musae"),
            _style_checkpoint(args.vae, "musae_vae"),
            args.samples,
            args.recon_windows,
            args.seed,
            _style_checkpoint(args.gan, "stylegan"),
            args.metric_windows,
        )
    if args.model == "arrange":
        result = {}
        if not args.no_harmony:
            result["harmony"] = harmony.evaluate_harmony(
                args.data, args.cache, args.checkpoint, args.max_tunes, args.device, args.workers, not args.no_music21
            )
        if args.gan != "":
            result["accompaniment"] = arrange.evaluate_arrange(
                args.data,
                args.gan,
                args.checkpoint,
                args.bars,
                args.max_pieces,
                args.style_tunes,
                args.seed,
                args.device,
                not args.no_music21,
                args.infiller,
            )
        return result
    if args.model == "emotion":
        return emotion.evaluate_emotion(
            args.checkpoint,
            args.samples,
            args.bars,
            args.seed,
            args.device,
            args.unconstrained,
            args.real,
            args.real_cache,
            variants=args.variant,
            sweep_samples=args.sweep_samples,
        )
    if args.model == "cross-corpus":
        models, corpora = _named(args.models, "--model"), _named(args.data, "--data")
        return cross_corpus.evaluate_cross_corpus(models, corpora, args.vae, args.cache_dir, args.device)
    if args.model == "song":
        return song.evaluate_song(
            args.data,
            args.vae,
            args.latent,
            args.split,
            args.bars,
            args.max_tunes,
            args.device,
            args.seed,
            args.temperature,
        )
    if args.model == "explore":
        return explore.evaluate_explore(
            args.data, args.checkpoint, args.pairs, args.steps, args.device, args.seed, args.max_files
        )
    return ec2vae.evaluate_ec2vae(
        args.data, args.checkpoint, args.split, args.max_windows, args.compose_windows, args.device, args.seed
    )


def summary(model: str, result: dict[str, Any]) -> list[str]:
    """A few lines a person reads instead of the JSON (the melody suites)."""
    if model == "cross-corpus":
        corpora = list(result["corpora"])
        lines = ["held-out loss (nats per latent dimension; lower is better)"]
        lines.append("model \\ corpus".ljust(20) + "".join(c.rjust(14) for c in corpora))
        lines += [name.ljust(20) + "".join(f"{row[c]:14.4f}" for c in corpora) for name, row in result["loss"].items()]
        return lines
    if model == "song":
        m = result["melody_stats"]
        lines = [
            f"{result['tunes']} {result['split']} tunes from {result['data']}",
            f"infill token accuracy {result['infill_token_accuracy']} (slerp {result['infill_token_accuracy_slerp']}, "
            f"prior {result['infill_token_accuracy_prior']}); continuation {result['continuation_token_accuracy']}",
        ]
        for name in ("real", "composed", "composed_no_bias", "composed_prior"):
            r = m[name]
            lines.append(
                f"{name:>15}: repeat {r['repeat_share']}, step {r['step_share']}, leap {r['leap_share']}, "
                f"chord tones {r['chord_tone_share']}, histogram overlap with real {r['interval_histogram_overlap']}"
            )
        return lines
    if model == "explore":
        i, a = result["interpolation"], result["analogy"]
        return [
            f"{result['pairs']} pairs of 2-bar windows ({result['window_pool']} tunes) from {result['data']}",
            f"interpolation: endpoint accuracy A {i['endpoint_accuracy_a']}, B {i['endpoint_accuracy_b']}; "
            f"neighbour/A-B edit distance {i['neighbour_to_a_b_ratio']} (linear {i['linear_ratio']}), "
            f"largest jump share {i['largest_jump_share']}",
            f"analogy: onset F1 forced {a['onset_f1_forced']}, free {a['onset_f1_free']}; "
            f"pitch contour correlation with A {a['pitch_contour_corr_a']}, with B {a['pitch_contour_corr_b']}",
        ]
    r, c = result["reconstruction"], result["control"]
    return [
        f"{result['windows']} windows from {result['tunes']} tunes in {result['data']}",
        f"reconstruction: pitch {r['pitch_accuracy']:.4f}, rhythm {r['rhythm_accuracy']:.4f}",
        f"control: onset F1 {c['onset_f1']:.4f}; chord-tone share composed {c['chord_tone_share_composed']:.4f} "
        f"vs real {c['chord_tone_share_real']:.4f}",
    ]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.model == "card":
        print(write_model_card(args))
        return 0
    try:
        result = run(args)
    except (CadenzaInputError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.json or args.model in ("emotion", "style", "arrange"):
        print(json.dumps(result, indent=2))
    else:
        print("\n".join(summary(args.model, result)))
    return 0
