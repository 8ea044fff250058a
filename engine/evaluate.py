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
real tunes (interval and chord-tone statistics); see engine.song_evaluation.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from engine.errors import CadenzaInputError
from engine.representation import HOLD, WINDOW_STEPS, tokens_to_rhythm


def onset_f1(requested: np.ndarray, produced: np.ndarray) -> float:
    """F1 of produced onset steps against requested ones (bool arrays of equal shape)."""
    requested, produced = np.asarray(requested, bool), np.asarray(produced, bool)
    hits = np.sum(requested & produced)
    if requested.sum() == 0 and produced.sum() == 0:
        return 1.0
    precision = hits / max(produced.sum(), 1)
    recall = hits / max(requested.sum(), 1)
    return 0.0 if hits == 0 else float(2 * precision * recall / (precision + recall))


def chord_tone_share(tokens: np.ndarray, chroma: np.ndarray) -> tuple[int, int]:
    """(steps of sounding notes on a chord tone, steps of sounding notes under a chord).

    tokens (T,), chroma (T, 12); steps without a chord are not counted.
    """
    on, total, pitch = 0, 0, None
    for step, token in enumerate(np.asarray(tokens).tolist()):
        if token < HOLD:
            pitch = token
        elif token != HOLD:
            pitch = None
        if pitch is None or chroma[step].sum() == 0:
            continue
        total += 1
        on += int(chroma[step, pitch % 12] > 0)
    return on, total


def evaluate_ec2vae(
    data: str,
    checkpoint: str | None = None,
    split: str = "all",
    max_windows: int = 2000,
    compose_windows: int = 300,
    device: str = "auto",
    seed: int = 0,
) -> dict:
    from engine.corpus import is_validation, music_files, windows_of_file
    from engine.pipelines.compose import DEFAULT_CHECKPOINT, ComposePipeline
    from engine.train.data import WindowSet
    from engine.train.ec2vae import reconstruction_accuracy

    tokens, chroma, tunes = [], [], 0
    for path in music_files(data):
        for name, t, c in windows_of_file(path):
            if split == "val" and not is_validation(name):
                continue
            tokens.append(t)
            chroma.append(c)
            tunes += 1
    if not tokens:
        raise CadenzaInputError(f"No usable tunes in {data} (split '{split}')")
    windows = WindowSet(np.concatenate(tokens), np.concatenate(chroma), np.zeros(0))
    rng = np.random.default_rng(seed)
    if len(windows) > max_windows:
        keep = np.sort(rng.choice(len(windows), max_windows, replace=False))
        windows = WindowSet(windows.tokens[keep], windows.chroma[keep], np.zeros(0))

    pipe = ComposePipeline.from_pretrained(
        checkpoint or DEFAULT_CHECKPOINT, device=device, latent=None
    )  # the VAE alone
    recon = reconstruction_accuracy(pipe.model, windows, pipe.device)

    chromatic = tuple(range(12))  # no key bias: measure the model's own harmony
    f1s, comp_on, comp_total, real_on, real_total = [], 0, 0, 0, 0
    picks = rng.choice(len(windows), min(compose_windows, len(windows)), replace=False)
    for i, index in enumerate(picks):
        real, ch = windows.tokens[index], windows.chroma[index]
        rhythm = tokens_to_rhythm(real)
        generator = torch.Generator().manual_seed(seed + i)
        composed = pipe.sample_tokens(rhythm, ch, chromatic, temperature=0.8, generator=generator)
        f1s.append(onset_f1(rhythm == 0, composed < HOLD))
        on, total = chord_tone_share(composed, ch)
        comp_on, comp_total = comp_on + on, comp_total + total
        on, total = chord_tone_share(real, ch)
        real_on, real_total = real_on + on, real_total + total
    return {
        "model": "ec2vae",
        "checkpoint": str(checkpoint or DEFAULT_CHECKPOINT),
        "data": str(data),
        "split": split,
        "tunes": tunes,
        "windows": len(windows),
        "window_steps": WINDOW_STEPS,
        "reconstruction": {
            "pitch_accuracy": round(recon["pitch_accuracy"], 4),
            "rhythm_accuracy": round(recon["rhythm_accuracy"], 4),
            "onset_pitch_accuracy": round(recon["onset_pitch_accuracy"], 4),
        },
        "control": {
            "composed_windows": len(picks),
            "onset_f1": round(float(np.mean(f1s)), 4),
            "chord_tone_share_composed": round(comp_on / max(comp_total, 1), 4),
            "chord_tone_share_real": round(real_on / max(real_total, 1), 4),
        },
    }


def edit_distance(a: np.ndarray, b: np.ndarray) -> int:
    """Levenshtein distance between two token sequences."""
    a, b = np.asarray(a).tolist(), np.asarray(b).tolist()
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def sounding_pitch(tokens: np.ndarray) -> np.ndarray:
    """The pitch sounding at each step (NaN where none) for melody tokens (T,)."""
    out = np.full(len(tokens), np.nan)
    pitch = np.nan
    for step, token in enumerate(np.asarray(tokens).tolist()):
        if token < HOLD:
            pitch = float(token)
        elif token != HOLD:
            pitch = np.nan
        out[step] = pitch
    return out


def contour_correlation(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson correlation of two step-wise pitch sequences over the steps where both sound (None if undefined)."""
    both = ~np.isnan(x) & ~np.isnan(y)
    if both.sum() < 3 or np.std(x[both]) == 0 or np.std(y[both]) == 0:
        return None
    return float(np.corrcoef(x[both], y[both])[0, 1])


def _sheet_tokens(sheet) -> np.ndarray:
    from engine.representation import melody_to_tokens

    return melody_to_tokens(sheet.melody, 0, sheet.melody.num_steps)


def _explore_pool(data: str, max_windows: int, max_files: int, rng: np.random.Generator) -> list:
    """One random 2-bar window (with at least 2 onsets) from each of up to ``max_files`` tunes, as LeadSheets."""
    from engine.corpus import music_files, read_tunes
    from engine.representation import leadsheet_windows

    files = music_files(data)
    pool = []
    for index in rng.permutation(len(files))[:max_files]:
        path = files[int(index)]
        for _, sheet in read_tunes(path):
            windows = leadsheet_windows(sheet, hop=sheet.melody.steps_per_bar, min_notes=2)
            if windows:
                start = windows[int(rng.integers(len(windows)))][0]
                window = sheet.cropped(start, WINDOW_STEPS)
                window.title = f"{path.name}@{start}"
                pool.append(window)
        if len(pool) >= max_windows:
            break
    return pool


def evaluate_explore(
    data: str,
    checkpoint: str | None = None,
    pairs: int = 50,
    steps: int = 5,
    device: str = "auto",
    seed: int = 0,
    max_files: int = 1000,
) -> dict:
    """Interpolation and analogy figures on ``pairs`` random pairs of 2-bar windows from different tunes."""
    from engine.pipelines.compose import DEFAULT_CHECKPOINT
    from engine.pipelines.explore import MAX_STEPS, MIN_STEPS, ExplorePipeline
    from engine.validation import check_number as _check_number

    _check_number("Pairs", pairs, 1, 10_000, integer=True)
    _check_number("Steps", steps, MIN_STEPS, MAX_STEPS, integer=True)
    pairs, steps = int(pairs), int(steps)
    rng = np.random.default_rng(seed)
    pool = _explore_pool(data, 2 * pairs, max_files, rng)
    if len(pool) < 2:
        raise CadenzaInputError(f"Need at least two tunes with a usable 2-bar window in {data} (found {len(pool)})")
    pipe = ExplorePipeline.from_pretrained(checkpoint or DEFAULT_CHECKPOINT, device=device)

    acc_a, acc_b, neighbour, endpoints, jump_share = [], [], [], [], []
    f1_forced, f1_free, corr_a, corr_b = [], [], [], []
    for _ in range(pairs):
        i, j = rng.choice(len(pool), 2, replace=False)
        a, b = pool[int(i)], pool[int(j)]
        tokens_a, tokens_b = _sheet_tokens(a), _sheet_tokens(b)
        path = [_sheet_tokens(s) for s in pipe.interpolate(a, b, steps, chords="a")]
        recon_b = _sheet_tokens(pipe.interpolate(a, b, 2, chords="b")[-1])
        acc_a.append(float(np.mean(path[0] == tokens_a)))
        acc_b.append(float(np.mean(recon_b == tokens_b)))
        jumps = [edit_distance(x, y) for x, y in zip(path[:-1], path[1:])]
        neighbour.extend(jumps)
        endpoints.append(edit_distance(tokens_a, tokens_b))
        if sum(jumps):
            jump_share.append(max(jumps) / sum(jumps))

        forced = _sheet_tokens(pipe.analogy(a, b, chords="a"))
        la, lb = pipe.encode(a), pipe.encode(b)
        free = _sheet_tokens(pipe.decode(la.z_pitch, lb.z_rhythm, la.chroma, chords=a.chords))
        onsets_b = tokens_b < HOLD
        f1_forced.append(onset_f1(onsets_b, forced < HOLD))
        f1_free.append(onset_f1(onsets_b, free < HOLD))
        contour = sounding_pitch(forced)
        for target, out in ((tokens_a, corr_a), (tokens_b, corr_b)):
            value = contour_correlation(contour, sounding_pitch(target))
            if value is not None:
                out.append(value)

    def mean(values) -> float | None:
        return round(float(np.mean(values)), 4) if values else None

    mean_neighbour, mean_endpoints = float(np.mean(neighbour)), float(np.mean(endpoints))
    return {
        "model": "ec2vae",
        "task": "explore",
        "checkpoint": str(checkpoint or DEFAULT_CHECKPOINT),
        "data": str(data),
        "pairs": pairs,
        "steps": steps,
        "window_pool": len(pool),
        "window_steps": WINDOW_STEPS,
        "interpolation": {
            "endpoint_accuracy_a": mean(acc_a),
            "endpoint_accuracy_b": mean(acc_b),
            "neighbour_edit_distance": round(mean_neighbour, 4),
            "a_b_edit_distance": round(mean_endpoints, 4),
            "neighbour_to_a_b_ratio": round(mean_neighbour / mean_endpoints, 4) if mean_endpoints else None,
            "linear_ratio": round(1 / (steps - 1), 4),
            "largest_jump_share": mean(jump_share),
        },
        "analogy": {
            "onset_f1_forced": mean(f1_forced),
            "onset_f1_free": mean(f1_free),
            "pitch_contour_corr_a": mean(corr_a),
            "pitch_contour_corr_b": mean(corr_b),
            "contour_pairs": len(corr_a),
        },
    }


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
        "--data", default="data_cache/style_windows.npz", help="the style cache (python -m engine.train.style_data)"
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
            from engine.style_evaluation import evaluate_style

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
            from engine.emotion_evaluation import evaluate_emotion

            result = evaluate_emotion(
                args.checkpoint, args.samples, args.bars, args.seed, args.device, args.unconstrained
            )
        elif args.model == "cross-corpus":
            from engine.song_evaluation import evaluate_cross_corpus

            result = evaluate_cross_corpus(
                _named(args.models, "--model"), _named(args.data, "--data"), args.vae, args.cache_dir, args.device
            )
        elif args.model == "song":
            from engine.song_evaluation import evaluate_song

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
