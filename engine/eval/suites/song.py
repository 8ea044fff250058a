"""How well the latent sequence model writes tunes, measured on held-out tunes (``python -m engine.evaluate song``).

* ``infill_token_accuracy``: one interior 2-bar block of each tune is hidden and its pitch latent
  predicted from the rest (the model's most likely latent, temperature 0) with every block's rhythm
  latent given, as AmMGM does; decoded greedily with the block's real rhythm; the share of its 32
  tokens equal to the real ones. Baselines decoded the same way: ``_slerp`` (the spherical midpoint
  of the two neighbours' pitch latents) and ``_prior`` (a draw from N(0, I)).
  ``infill_onset_accuracy*``: the same, over onset steps only (the rhythm makes the other steps
  right by construction).
* ``continuation_token_accuracy``: the second half of each tune from its first half, block by
  block (most likely latents), rhythm latents given.
* ``melody_stats``: Compose run as a user would (the studio's defaults: temperature 0.5, the key
  of the tune) on each tune's own rhythm and chords over its first ``bars`` bars, beside the real
  tunes: the share of note-to-note intervals that repeat the pitch, move by step (1-2 semitones)
  or leap (5 or more), the share of note time on chord tones, and the overlap of the interval
  histograms (signed intervals -12..+12, larger ones clipped; 1.0 = the same distribution).
  ``song_stats``: the same figures for whole new songs (SongPipeline, up to 32 bars, the model's own
  rhythm) over each tune's chords (the chord at each bar's downbeat) and key, beside the whole real tunes.
  Beside them: ``composed_no_bias`` (the same without the chord-tone bonus and the repeat
  penalty) and ``composed_prior`` (Compose before the latent model: pitch latents from N(0, I)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engine.eval.metrics.melody import histogram_overlap, melody_stats, onset_f1
from engine.music import LeadSheet
from engine.music.constants import HOLD, STEPS_PER_BAR_44, WINDOW_STEPS
from engine.music.errors import CadenzaInputError
from engine.music.representation import melody_to_tokens, tokens_to_rhythm
from engine.pipelines.base import seeded_generator

DATA = (
    "the folder of tunes the latent model was trained on (--data DIR, e.g. the Nottingham MIDI folder): the tunes in "
    "4/4 that training held out are used (--split val)"
)


@dataclass
class HeldOutTune:
    name: str
    sheet: LeadSheet  # from the first downbeat, whole 2-bar blocks, at most 32 bars, 4/4
    key: str


def held_out_tunes(data: str, split: str = "val", min_bars: int = 8, max_tunes: int | None = None) -> list[HeldOutTune]:
    """The tunes of the validation split (or all) in 4/4 with at least ``min_bars`` bars after the pickup,
    cut to whole 2-bar blocks (at most 16) from the first downbeat."""
    from engine.io.corpus import is_validation, music_files, read_tunes
    from engine.music.tonality import estimate_key

    tunes = []
    for path in music_files(data):
        if split == "val" and path.suffix.lower() != ".abc" and not is_validation(f"{path.name}#0"):
            continue  # a MIDI file holds one tune: skip parsing the training tunes
        for name, sheet in read_tunes(path):
            if split == "val" and not is_validation(name):
                continue
            melody = sheet.melody
            if tuple(melody.time_signature) != (4, 4):
                continue
            blocks = min((melody.num_steps - melody.pickup_steps) // WINDOW_STEPS, 16)
            if blocks * WINDOW_STEPS < min_bars * STEPS_PER_BAR_44:
                continue
            cropped = sheet.cropped(melody.pickup_steps, blocks * WINDOW_STEPS)
            cropped.melody.key = melody.key
            cropped.title = name
            tunes.append(HeldOutTune(name, cropped, estimate_key(sheet)))
            if max_tunes and len(tunes) >= max_tunes:
                return tunes
    if not tunes:
        raise CadenzaInputError(f"No {split} tunes in 4/4 with {min_bars} bars under {data}")
    return tunes


# ------------------------------------------------------------------ accuracies
def _accuracy(predicted: np.ndarray, real: np.ndarray) -> tuple[float, float]:
    onsets = real < HOLD
    return float(np.mean(predicted == real)), float(np.mean(predicted[onsets] == real[onsets])) if onsets.any() else 1.0


@torch.no_grad()
def evaluate_song(
    data: str,
    vae: str | None = None,
    latent: str | None = None,
    split: str = "val",
    bars: int = 8,
    max_tunes: int | None = None,
    device: str = "auto",
    seed: int = 0,
    temperature: float = 0.5,
) -> dict:
    """All the figures of the module docstring, as one JSON-ready dict."""
    from engine.music.tonality import scale_pitch_classes
    from engine.paths import default_checkpoint
    from engine.pipelines.compose import ComposePipeline
    from engine.pipelines.decoding import (
        DecodeControls,
        EC2VAEGenerationConfig,
        LatentGenerationConfig,
        decode_windows,
    )
    from engine.pipelines.explore import slerp
    from engine.pipelines.song import SongPipeline
    from engine.pipelines.song_model import SongModel

    tunes = held_out_tunes(data, split, bars, max_tunes)
    vae_path, latent_path = vae or default_checkpoint("ec2vae"), latent or default_checkpoint("latent")
    song = SongModel.from_pretrained(vae_path, latent_path, device)
    generation = LatentGenerationConfig.load(latent_path)
    compose = ComposePipeline(song.vae, song.latent, generation)
    ablation = generation.override(chord_tone_bias=0.0, repeat_penalty=0.0)
    plain_compose = ComposePipeline(song.vae, song.latent, ablation)
    prior_compose = ComposePipeline(song.vae, None, EC2VAEGenerationConfig.load(vae_path))
    free = DecodeControls(pitch_range=(0, 127))  # the models' own choices: no range, key or chord bias
    rng = np.random.default_rng(seed)

    acc: dict[str, list[float]] = {name: [] for name in ("model", "slerp", "prior")}
    onset_acc: dict[str, list[float]] = {name: [] for name in ("model", "slerp", "prior")}
    cont, cont_onset = [], []
    real_tokens, real_chroma = [], []
    composed_tokens: list[np.ndarray] = []
    plain_tokens: list[np.ndarray] = []
    prior_tokens: list[np.ndarray] = []
    whole_real, whole_song, whole_chroma = [], [], []
    song_pipe = SongPipeline(song, generation)
    for index, tune in enumerate(tunes):
        base = song.encode(tune.sheet)
        w = base.num_blocks
        rhythm = tokens_to_rhythm(base.tokens)
        fn = song.functions(tune.sheet.chords, tune.key, w)
        ones = np.ones(w, bool)
        generator = seeded_generator(seed + index, song.device)
        # Infill one interior block.
        hidden = int(rng.integers(1, w - 1)) if w > 2 else 1
        known = ones.copy()
        known[hidden] = False
        z_p, _ = song.fill(
            base.z_pitch, base.z_rhythm, known, ones, rhythm, ones, base.chroma, fn, generator, 0.0, "outside_in", 1
        )
        candidates = {
            "model": z_p[0, hidden],
            "slerp": slerp(base.z_pitch[hidden - 1], base.z_pitch[min(hidden + 1, w - 1)], 0.5),
            "prior": torch.randn(base.z_pitch.shape[1], generator=generator, device=generator.device),
        }
        for name, z in candidates.items():
            tokens, _ = decode_windows(
                song.vae, z[None], base.z_rhythm[hidden][None], base.chroma[hidden][None], rhythm[hidden][None], free
            )
            a, o = _accuracy(tokens[0], base.tokens[hidden])
            acc[name].append(a)
            onset_acc[name].append(o)
        # Continue the second half from the first.
        half = max(1, w // 2)
        known = np.arange(w) < half
        z_p, _ = song.fill(
            base.z_pitch, base.z_rhythm, known, ones, rhythm, ones, base.chroma, fn, generator, 0.0, "left_to_right", 1
        )
        tokens, _ = decode_windows(
            song.vae, z_p[0, half:], base.z_rhythm[half:], base.chroma[half:], rhythm[half:], free
        )
        a, o = _accuracy(tokens.reshape(-1), base.tokens[half:].reshape(-1))
        cont.append(a)
        cont_onset.append(o)
        # Compose over the tune's own rhythm and chords, first `bars` bars.
        steps = bars * STEPS_PER_BAR_44
        real = melody_to_tokens(tune.sheet.melody, 0, steps)
        chroma = tune.sheet.chords.chroma(steps)
        scale = scale_pitch_classes(tune.key)
        blocks = steps // WINDOW_STEPS
        for pipe, out in ((compose, composed_tokens), (plain_compose, plain_tokens), (prior_compose, prior_tokens)):
            g = seeded_generator(seed + index, song.device)
            out.append(pipe.sample_tokens(tokens_to_rhythm(real), chroma, scale, temperature, g, fn[:blocks]))
        real_tokens.append(real)
        real_chroma.append(chroma)
        # A whole new song over the tune's chords, one per bar (downbeats), in its key.
        tune_bars = (tune.sheet.melody.num_steps // STEPS_PER_BAR_44) // 2 * 2
        progression = " ".join(tune.sheet.chords.symbols_per_bar(STEPS_PER_BAR_44, tune_bars))
        made = song_pipe(progression, tune_bars, key=tune.key, seed=seed + index, temperature=temperature).samples[0]
        tune_steps = tune_bars * STEPS_PER_BAR_44
        whole_real.append(melody_to_tokens(tune.sheet.melody, 0, tune_steps))
        whole_song.append(melody_to_tokens(made.melody, 0, tune_steps))
        whole_chroma.append(tune.sheet.chords.chroma(tune_steps))

    stats_real = melody_stats(real_tokens, real_chroma)
    stats_composed = melody_stats(composed_tokens, real_chroma)
    stats_plain = melody_stats(plain_tokens, real_chroma)
    stats_prior = melody_stats(prior_tokens, real_chroma)
    onset_f1s = [onset_f1(r < HOLD, c < HOLD) for r, c in zip(real_tokens, composed_tokens)]
    stats_whole_real = melody_stats(whole_real, whole_chroma)
    stats_whole_song = melody_stats(whole_song, whole_chroma)

    def summary(stats: dict) -> dict:
        out = {k: v for k, v in stats.items() if k != "histogram"}
        out["interval_histogram_overlap"] = round(histogram_overlap(stats["histogram"], stats_real["histogram"]), 4)
        return out

    mean = lambda values: round(float(np.mean(values)), 4)  # noqa: E731
    return {
        "task": "song",
        "vae": str(vae_path),
        "latent": str(latent_path),
        "data": str(data),
        "split": split,
        "tunes": len(tunes),
        "infill_token_accuracy": mean(acc["model"]),
        "infill_token_accuracy_slerp": mean(acc["slerp"]),
        "infill_token_accuracy_prior": mean(acc["prior"]),
        "infill_onset_accuracy": mean(onset_acc["model"]),
        "infill_onset_accuracy_slerp": mean(onset_acc["slerp"]),
        "infill_onset_accuracy_prior": mean(onset_acc["prior"]),
        "continuation_token_accuracy": mean(cont),
        "continuation_onset_accuracy": mean(cont_onset),
        "melody_stats": {
            "bars": bars,
            "temperature": temperature,
            "real": summary(stats_real),
            "composed": summary(stats_composed),
            "composed_no_bias": summary(stats_plain),
            "composed_prior": summary(stats_prior),
            "interval_histogram_overlap": round(
                histogram_overlap(stats_composed["histogram"], stats_real["histogram"]), 4
            ),
            "onset_f1": mean(onset_f1s),
        },
        "song_stats": {
            "bars": "whole tunes, at most 32",
            "real": {k: v for k, v in stats_whole_real.items() if k != "histogram"},
            "song": {
                **{k: v for k, v in stats_whole_song.items() if k != "histogram"},
                "interval_histogram_overlap": round(
                    histogram_overlap(stats_whole_song["histogram"], stats_whole_real["histogram"]), 4
                ),
            },
        },
    }
