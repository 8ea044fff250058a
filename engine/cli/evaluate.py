"""Evaluation CLI.

    python -m engine.evaluate ec2vae --data DIR [--checkpoint DIR] [--split all|val] [--json]
    python -m engine.evaluate explore --data DIR [--checkpoint DIR] [--pairs 50] [--steps 5] [--json]
    python -m engine.evaluate song --data DIR [--vae DIR] [--latent DIR] [--split val|all] [--bars 8] [--json]

Reports, on the 2-bar windows of the tunes in DIR:
* reconstruction accuracy (posterior mean, greedy, no teacher forcing): pitch tokens, rhythm classes;
* control adherence of composition: for each window, the pipeline composes a melody for the
  window's own rhythm and chords; onset F1 against the requested onsets, and the share of
  note time on chord tones, beside the same share for the real windows.

``explore`` draws pairs (A, B) of 2-bar windows from different tunes in DIR (see
:func:`evaluate_explore`) and reports, for the latent exploration of
engine.pipelines.explore:
* interpolation: token accuracy of the endpoints against A and B (each decoded
  under its own chords); gradualness: mean token edit distance between
  neighbouring steps against that between A and B (a linear walk gives 1 / (steps - 1)),
  and the share of the whole path taken by its largest jump;
* analogy (A's pitch, B's rhythm): onset F1 against B's onsets, with the rhythm
  forced (as the studio does; 1.0 by construction) and free (from B's z_rhythm
  through the rhythm decoder: the model's own disentanglement); the correlation of
  the step-wise sounding pitch with A's (the contour should follow A) and with B's.

``song`` measures the latent sequence model on held-out tunes: infill and continuation
token accuracy beside the slerp and prior baselines, and Compose's melodies beside the
real tunes (interval and chord-tone statistics); see engine.eval.suites.song.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.eval.suites.ec2vae import evaluate_ec2vae
from engine.eval.suites.explore import evaluate_explore
from engine.music.errors import CadenzaInputError


def _named(items: list[str], flag: str) -> dict[str, str]:
    """NAME=VALUE pairs of a repeated option -> {NAME: VALUE}."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise CadenzaInputError(f"{flag} takes NAME=DIR (got '{item}')")
        out[name] = value
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m engine.evaluate", description="Evaluate Cadenza's models on a folder of MIDI files."
    )
    sub = parser.add_subparsers(dest="model", required=True)
    p = sub.add_parser("ec2vae")
    p.add_argument("--data", required=True, help="folder of .mid/.midi/.abc files")
    p.add_argument("--checkpoint", default=None)
    p.add_argument(
        "--split", choices=["all", "val"], default="all", help="'val': only the tunes the training split held out"
    )
    p.add_argument("--max-windows", type=int, default=2000)
    p.add_argument("--compose-windows", type=int, default=300)
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print JSON only")
    p = sub.add_parser(
        "explore", help="latent exploration: interpolation endpoints and gradualness, analogy onsets and contour"
    )
    p.add_argument("--data", required=True, help="folder of .mid/.midi/.abc files")
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--pairs", type=int, default=50, help="random pairs of 2-bar windows from different tunes")
    p.add_argument("--steps", type=int, default=5, help="interpolation steps, endpoints included (2..12)")
    p.add_argument("--max-files", type=int, default=1000, help="read at most this many files (chosen at random)")
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print JSON only")
    p = sub.add_parser(
        "song", help="the latent sequence model: infill, continuation, and Compose's melodies against real tunes"
    )
    p.add_argument("--data", required=True, help="folder of .mid/.midi/.abc files")
    p.add_argument("--vae", default=None, help="EC2-VAE checkpoint (default: checkpoints/ec2vae)")
    p.add_argument("--latent", default=None, help="latent sequence model checkpoint (default: checkpoints/latent)")
    p.add_argument(
        "--split", choices=["all", "val"], default="val", help="'val': only the tunes the training split held out"
    )
    p.add_argument(
        "--bars", type=int, default=8, help="bars of each tune that Compose writes for the melody statistics"
    )
    p.add_argument("--max-tunes", type=int, default=None)
    p.add_argument("--temperature", type=float, default=0.5, help="Compose's temperature (the studio's default)")
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print JSON only")
    p = sub.add_parser(
        "cross-corpus", help="held-out NLL of latent models trained on different corpora, on each corpus"
    )
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
    p.add_argument("--cache-dir", default="data_cache", help="where each corpus's encoded latents are kept")
    p.add_argument("--device", default="auto")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p = sub.add_parser(
        "emotion", help="the emotion pipeline: readable ABC, mode before the template, arousal, template, judge"
    )
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
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print JSON only")
    p = sub.add_parser(
        "style",
        help="the style judge on real windows; MusAE and the VAE: reconstruction, samples, transfer, latent purity; "
        "the style GAN: samples; MuseGAN's metrics of real and generated windows",
    )
    p.add_argument(
        "--data", default="data_cache/style_windows.npz", help="the style cache (python -m engine.data.style)"
    )
    p.add_argument("--judge", default="checkpoints/style_judge")
    p.add_argument("--musae", default="checkpoints/musae", help="MusAE checkpoint ('' to skip)")
    p.add_argument("--vae", default="checkpoints/musae_vae", help="the VAE baseline ('' to skip)")
    p.add_argument("--gan", default="checkpoints/stylegan", help="the style GAN ('' to skip)")
    p.add_argument("--samples", type=int, default=100, help="samples per style")
    p.add_argument("--recon-windows", type=int, default=1000, help="held-out windows reconstructed greedily")
    p.add_argument(
        "--metric-windows",
        type=int,
        default=300,
        help="windows per style behind MuseGAN's metrics (real, each model's)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args(argv)
    try:
        if args.model == "style":
            from engine.eval.suites.style import evaluate_style

            present = lambda d: d if d and Path(d, "config.json").exists() else None  # noqa: E731 - a model not trained yet is skipped
            result = evaluate_style(
                args.data,
                args.judge,
                present(args.musae),
                present(args.vae),
                args.samples,
                args.recon_windows,
                args.seed,
                present(args.gan),
                args.metric_windows,
            )
        elif args.model == "emotion":
            from engine.eval.suites.emotion import evaluate_emotion

            result = evaluate_emotion(
                args.checkpoint, args.samples, args.bars, args.seed, args.device, args.unconstrained
            )
        elif args.model == "cross-corpus":
            from engine.eval.suites.cross_corpus import evaluate_cross_corpus

            result = evaluate_cross_corpus(
                _named(args.models, "--model"), _named(args.data, "--data"), args.vae, args.cache_dir, args.device
            )
        elif args.model == "song":
            from engine.eval.suites.song import evaluate_song

            result = evaluate_song(
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
        elif args.model == "explore":
            result = evaluate_explore(
                args.data, args.checkpoint, args.pairs, args.steps, args.device, args.seed, args.max_files
            )
        else:
            result = evaluate_ec2vae(
                args.data, args.checkpoint, args.split, args.max_windows, args.compose_windows, args.device, args.seed
            )
    except (CadenzaInputError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2))
    elif args.model in ("emotion", "style"):
        print(json.dumps(result, indent=2))
    elif args.model == "cross-corpus":
        corpora = list(result["corpora"])
        print("held-out loss (nats per latent dimension; lower is better)")
        print("model \\ corpus".ljust(20) + "".join(c.rjust(14) for c in corpora))
        for name, row in result["loss"].items():
            print(name.ljust(20) + "".join(f"{row[c]:14.4f}" for c in corpora))
    elif args.model == "song":
        m = result["melody_stats"]
        print(f"{result['tunes']} {result['split']} tunes from {result['data']}")
        print(
            f"infill token accuracy {result['infill_token_accuracy']} (slerp {result['infill_token_accuracy_slerp']}, "
            f"prior {result['infill_token_accuracy_prior']}); continuation {result['continuation_token_accuracy']}"
        )
        for name in ("real", "composed", "composed_no_bias", "composed_prior"):
            r = m[name]
            print(
                f"{name:>15}: repeat {r['repeat_share']}, step {r['step_share']}, leap {r['leap_share']}, "
                f"chord tones {r['chord_tone_share']}, histogram overlap with real {r['interval_histogram_overlap']}"
            )
    elif args.model == "explore":
        i, a = result["interpolation"], result["analogy"]
        print(f"{result['pairs']} pairs of 2-bar windows ({result['window_pool']} tunes) from {result['data']}")
        print(
            f"interpolation: endpoint accuracy A {i['endpoint_accuracy_a']}, B {i['endpoint_accuracy_b']}; "
            f"neighbour/A-B edit distance {i['neighbour_to_a_b_ratio']} (linear {i['linear_ratio']}), largest jump share {i['largest_jump_share']}"
        )
        print(
            f"analogy: onset F1 forced {a['onset_f1_forced']}, free {a['onset_f1_free']}; "
            f"pitch contour correlation with A {a['pitch_contour_corr_a']}, with B {a['pitch_contour_corr_b']}"
        )
    else:
        r, c = result["reconstruction"], result["control"]
        print(f"{result['windows']} windows from {result['tunes']} tunes in {result['data']}")
        print(f"reconstruction: pitch {r['pitch_accuracy']:.4f}, rhythm {r['rhythm_accuracy']:.4f}")
        print(
            f"control: onset F1 {c['onset_f1']:.4f}; chord-tone share composed {c['chord_tone_share_composed']:.4f} vs real {c['chord_tone_share_real']:.4f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
