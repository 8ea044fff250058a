"""EC2-VAE on held-out tunes (``python -m engine.evaluate ec2vae``).

Reports, on the 2-bar windows of the tunes in a folder:
* reconstruction accuracy (posterior mean, greedy, no teacher forcing): pitch tokens, rhythm classes;
* control adherence of composition: for each window, the pipeline composes a melody for the
  window's own rhythm and chords; onset F1 against the requested onsets, and the share of
  note time on chord tones, beside the same share for the real windows.
"""

from __future__ import annotations

import numpy as np

from engine.eval.metrics.melody import chord_tone_steps, onset_f1
from engine.music.constants import HOLD, WINDOW_STEPS
from engine.music.errors import CadenzaInputError
from engine.music.representation import tokens_to_rhythm
from engine.pipelines.base import seeded_generator

DATA = (
    "a folder of tunes as .mid, .midi or .abc files (--data DIR), e.g. the Nottingham MIDI folder the model was "
    "trained on: --split val keeps the tunes training held out (a seeded hash of each name, "
    "engine.io.corpus.is_validation)"
)


def evaluate_ec2vae(
    data: str,
    checkpoint: str | None = None,
    split: str = "all",
    max_windows: int = 2000,
    compose_windows: int = 300,
    device: str = "auto",
    seed: int = 0,
) -> dict:
    from engine.data.windows import WindowSet
    from engine.eval.metrics.ec2vae import reconstruction_accuracy
    from engine.io.corpus import is_validation, music_files, windows_of_file
    from engine.paths import default_checkpoint
    from engine.pipelines.compose import ComposePipeline

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
        checkpoint or default_checkpoint("ec2vae"), device=device, latent=None
    )  # the VAE alone
    recon = reconstruction_accuracy(pipe.model, windows, pipe.device)

    chromatic = tuple(range(12))  # no key bias: measure the model's own harmony
    f1s, comp_on, comp_total, real_on, real_total = [], 0, 0, 0, 0
    picks = rng.choice(len(windows), min(compose_windows, len(windows)), replace=False)
    for i, index in enumerate(picks):
        real, ch = windows.tokens[index], windows.chroma[index]
        rhythm = tokens_to_rhythm(real)
        generator = seeded_generator(seed + i, pipe.device)
        composed = pipe.sample_tokens(rhythm, ch, chromatic, temperature=0.8, generator=generator)
        f1s.append(onset_f1(rhythm == 0, composed < HOLD))
        on, total = chord_tone_steps(composed, ch)
        comp_on, comp_total = comp_on + on, comp_total + total
        on, total = chord_tone_steps(real, ch)
        real_on, real_total = real_on + on, real_total + total
    return {
        "model": "ec2vae",
        "checkpoint": str(checkpoint or default_checkpoint("ec2vae")),
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
