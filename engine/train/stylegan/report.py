"""The style GAN's epoch report: sample metrics on fixed noise and held-out conditions, and the epoch's score.

Every epoch, on fixed noise and held-out conditions (engine.eval.metrics.musegan): per style, the
style judge's accuracy on ``eval_samples`` windows generated without conditions (when
``judge`` names a checkpoint), MuseGAN's metrics and diversity of those windows, and the share of
onsets on chord tones with and without the held-out windows' chords. The epoch's score, which
picks the best epoch, is the judge's balanced accuracy (0 without a judge) minus :func:`metric_gap`:
the mean absolute difference of empty-bar rate, qualified-note rate, used pitch classes / 12 and
tonal distance / 4 from the real windows, over styles and tracks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.eval.metrics.musegan import diversity, onset_chord_tone_share, window_metrics
from engine.models.registry import CONFIG_FILE, load_style_judge
from engine.models.style_gan import StyleGenerator
from engine.models.style_judge import StyleJudge
from engine.pipelines.style_gan import StyleGANGenerationConfig
from engine.train.stylegan.data import to_tensors

# The figures of the metric gap and their scales (see metric_gap).
GAP_FIGURES = (
    ("empty_bar_rate", 1.0),
    ("qualified_note_rate", 1.0),
    ("used_pitch_classes", 12.0),
    ("tonal_distance", 4.0),
)


def metric_gap(generated: dict, real: dict) -> float:
    """Mean absolute difference of empty-bar rate, qualified-note rate, used pitch classes / 12 and tonal distance
    between tracks / 4 between generated and real windows ({style: window_metrics}), over styles and tracks (pairs)
    where both are defined. The scales bring each to about 0..0.5 (pitch classes per bar lie in 0..~6, tonal
    distances in 0..~2), so no one figure outweighs the others."""
    gaps = []
    for style, figures in generated.items():
        if style not in real:
            continue
        for metric, scale in GAP_FIGURES:
            ours, theirs = figures[metric], real[style][metric]
            pairs = [(ours[k], theirs[k]) for k in ours] if isinstance(ours, dict) else zip(ours, theirs)
            for a, b in pairs:
                if a is not None and b is not None:
                    gaps.append(abs(a - b) / scale)
    return round(float(np.mean(gaps)), 4) if gaps else 1.0


@torch.no_grad()
def sample_report(
    generator: StyleGenerator,
    held_out: dict[int, dict[str, np.ndarray]],
    names: list[str],
    device: torch.device,
    seed: int,
    judge: StyleJudge | None = None,
    judge_styles: list[str] | None = None,
    settings: StyleGANGenerationConfig | None = None,
) -> dict[str, Any]:
    """Per style: the judge's accuracy (when given) on windows generated with no conditions, their metrics and
    diversity, and chord-tone shares (generated with and without the held-out windows' chords, and real).
    Windows are sampled as ``settings`` say (default: as the studio samples them, engine.pipelines.style_gan)."""
    sampling = (settings or StyleGANGenerationConfig()).sampling()
    report: dict[str, Any] = {"judge_accuracy": {}, "metrics": {}, "diversity": {}, "chord_tone_share": {}}
    with_chords: list[float] = []
    without_chords: list[float] = []
    real_share: list[float] = []
    for index, batch in held_out.items():
        name, n = names[index], len(batch["windows"])
        if n == 0:
            continue
        t = to_tensors(batch, device)
        draw = torch.Generator().manual_seed(seed + index)  # the same noise (and Gumbel draws) every epoch
        noise = generator.sample_noise(n, draw)
        free = generator.generate(t["styles"], noise=noise, generator=draw, **sampling).cpu().numpy()
        report["metrics"][name] = window_metrics(free)
        report["diversity"][name] = diversity(free)
        if judge is not None and judge_styles is not None and name in judge_styles:
            predicted = judge(torch.as_tensor(free, device=device)).argmax(1).cpu().numpy()
            report["judge_accuracy"][name] = round(float((predicted == judge_styles.index(name)).mean()), 4)
        chorded = batch["chords"].sum(axis=(1, 2)) > 0
        if chorded.any():
            conditioned = (
                generator.generate(t["styles"], t["chords"], t["previous"], noise=noise, generator=draw, **sampling)
                .cpu()
                .numpy()
            )
            chords = batch["chords"][chorded]
            report["chord_tone_share"][name] = {
                "with_chords": onset_chord_tone_share(conditioned[chorded], chords)["all"],
                "without_chords": onset_chord_tone_share(free[chorded], chords)["all"],
                "real": onset_chord_tone_share(batch["windows"][chorded], chords)["all"],
            }
            for out, key in ((with_chords, "with_chords"), (without_chords, "without_chords"), (real_share, "real")):
                if report["chord_tone_share"][name][key] is not None:
                    out.append(report["chord_tone_share"][name][key])
    accuracies = list(report["judge_accuracy"].values())
    report["judge_balanced"] = round(float(np.mean(accuracies)), 4) if accuracies else None
    shares = {"with_chords": with_chords, "without_chords": without_chords, "real": real_share}
    report["chord_tone_share_mean"] = {key: round(float(np.mean(v)), 4) if v else None for key, v in shares.items()}
    return report


def load_judge_if_present(path: str, device: torch.device) -> tuple[StyleJudge | None, list[str] | None]:
    """(style judge, its style names), or (None, None) when there is no checkpoint at ``path``."""
    if not path or not (Path(path) / CONFIG_FILE).exists():
        return None, None
    judge, meta = load_style_judge(path, device)
    return judge, [str(s) for s in meta.get("styles", [])]
