"""Evaluation CLI.

    python -m engine.evaluate ec2vae --data DIR [--checkpoint DIR] [--split all|val] [--json]

Reports, on the 2-bar windows of the tunes in DIR:
* reconstruction accuracy (posterior mean, greedy, no teacher forcing): pitch tokens, rhythm classes;
* control adherence of composition: for each window, the pipeline composes a melody for the
  window's own rhythm and chords; onset F1 against the requested onsets, and the share of
  note time on chord tones, beside the same share for the real windows.
"""

from __future__ import annotations

import argparse
import json
import sys

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


def evaluate_ec2vae(data: str, checkpoint: str | None = None, split: str = "all", max_windows: int = 2000,
                    compose_windows: int = 300, device: str = "auto", seed: int = 0) -> dict:
    from engine.pipelines.compose import DEFAULT_CHECKPOINT, ComposePipeline
    from engine.train.data import WindowSet, _windows_of_file, is_validation, music_files
    from engine.train.ec2vae import reconstruction_accuracy

    tokens, chroma, tunes = [], [], 0
    for path in music_files(data):
        for name, t, c in _windows_of_file(path):
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

    pipe = ComposePipeline.from_pretrained(checkpoint or DEFAULT_CHECKPOINT, device=device)
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
        "reconstruction": {"pitch_accuracy": round(recon["pitch_accuracy"], 4), "rhythm_accuracy": round(recon["rhythm_accuracy"], 4),
                           "onset_pitch_accuracy": round(recon["onset_pitch_accuracy"], 4)},
        "control": {"composed_windows": len(picks), "onset_f1": round(float(np.mean(f1s)), 4),
                    "chord_tone_share_composed": round(comp_on / max(comp_total, 1), 4),
                    "chord_tone_share_real": round(real_on / max(real_total, 1), 4)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.evaluate", description="Evaluate Cadenza's models on a folder of MIDI files.")
    sub = parser.add_subparsers(dest="model", required=True)
    p = sub.add_parser("ec2vae")
    p.add_argument("--data", required=True, help="folder of .mid/.midi/.abc files")
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--split", choices=["all", "val"], default="all", help="'val': only the tunes the training split held out")
    p.add_argument("--max-windows", type=int, default=2000)
    p.add_argument("--compose-windows", type=int, default=300)
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args(argv)
    try:
        result = evaluate_ec2vae(args.data, args.checkpoint, args.split, args.max_windows, args.compose_windows, args.device, args.seed)
    except (CadenzaInputError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        r, c = result["reconstruction"], result["control"]
        print(f"{result['windows']} windows from {result['tunes']} tunes in {result['data']}")
        print(f"reconstruction: pitch {r['pitch_accuracy']:.4f}, rhythm {r['rhythm_accuracy']:.4f}")
        print(f"control: onset F1 {c['onset_f1']:.4f}; chord-tone share composed {c['chord_tone_share_composed']:.4f} vs real {c['chord_tone_share_real']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
