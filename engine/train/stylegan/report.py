"""Train the style GAN (``python -m engine.train stylegan``): WGAN-GP with an AC-GAN style head.

Data: the style cache (engine.data.style), split by piece like the style judge's. Batches
draw every style equally often and move each window, with its previous window, by one random
interval in -5..+6 semitones. Each real window comes with its conditions:

* **previous window**: the exact 32 steps before it in its piece (:func:`piece_context`). The
  cache keeps windows in order, one per bar, but bars are 16 steps only in 4/4 and 2/2: in 3/4
  and 6/8 windows start 12 steps apart, in 2/4 8, and a window with too few notes is left out,
  so the window two before is the preceding 2 bars for only about half of the cache. The
  preceding steps are therefore rebuilt from the overlapping windows of the same piece (their
  overlaps tell the hop); a window whose 32 steps before are not all covered has none. The
  condition is also dropped (all REST: "none") with probability ``previous_drop``, so the
  generator learns to open a piece too.
* **chords**: the major or minor triads that best fit the window, one per half bar
  (:func:`window_triad_chroma`), as chroma per beat, zeroed with probability ``chord_drop`` so the
  generator also works without chords.
* A note held into a window from before (a HOLD at step 0) is re-struck at step 0 (its pitch is
  known from the windows before) or, where it is not known, the held steps become rests: the
  generator never opens a window with HOLD, and a critic shown real windows that do would tell
  them apart by that alone.

Per generator step: ``critic_steps`` critic updates on fresh real batches against generated
windows under the same conditions (Wasserstein loss, gradient penalty ``gp_weight`` = 10, plus
``ac_weight`` x the style head's cross-entropy on the real windows), then one generator update
(minus the critic's score of its straight-through Gumbel-softmax samples, plus ``ac_weight`` x the
style head's cross-entropy for the style it was asked for, plus ``chord_weight`` x
:func:`chord_share_loss`: each track's expected share of onsets on chord tones against the real
window's track's, on the windows given chords (left to the critic alone, the chords were ignored,
25% of onsets on chord tones after 1,650 steps, chance for a triad), plus ``scale_weight`` x
:func:`scale_share_loss`: the share of its onsets in the diatonic scale that holds most of them
against the real window's, plus ``step_weight`` x :func:`stepwise_loss`: each track's shares of
repeated pitches and of steps of 1-2 semitones between consecutive onsets against the real window's). Adam
(lr 1e-4, betas 0.5/0.9) for both.

Every epoch, on fixed noise and held-out conditions (engine.eval.metrics.musegan): per style, the
style judge's accuracy on ``eval_samples`` windows generated without conditions (when
``judge`` names a checkpoint), MuseGAN's metrics and diversity of those windows, and the share of
onsets on chord tones with and without the held-out windows' chords. The first log row of a
run holds the same metrics of the held-out real windows. The best epoch (judge balanced
accuracy, or 0 without a judge, minus ``metric_gap``: the mean absolute difference of empty-bar
rate, qualified-note rate, used pitch classes / 12 and tonal distance / 4 from the real windows,
over styles and tracks) is saved to ``out``, the last to ``out/last``; ``--resume`` continues.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from engine.eval.metrics.musegan import chord_tone_share, diversity, window_metrics
from engine.models.style_gan import StyleGenerator
from engine.pipelines.style_gan import StyleGANGenerationConfig
from engine.train.stylegan.data import _tensor

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
    judge=None,
    judge_styles: list[str] | None = None,
    settings: StyleGANGenerationConfig | None = None,
) -> dict:
    """Per style: the judge's accuracy (when given) on windows generated with no conditions, their metrics and
    diversity, and chord-tone shares (generated with and without the held-out windows' chords, and real).
    Windows are sampled as ``settings`` say (default: as the studio samples them, engine.pipelines.style_gan)."""
    sampling = (settings or StyleGANGenerationConfig()).sampling()
    report: dict = {"judge_accuracy": {}, "metrics": {}, "diversity": {}, "chord_tone_share": {}}
    with_chords, without_chords, real_share = [], [], []
    for index, batch in held_out.items():
        name, n = names[index], len(batch["windows"])
        if n == 0:
            continue
        t = _tensor(batch, device)
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
            share = lambda w: chord_tone_share(w[chorded], batch["chords"][chorded])  # noqa: E731
            report["chord_tone_share"][name] = {
                "with_chords": share(conditioned)["all"],
                "without_chords": share(free)["all"],
                "real": share(batch["windows"])["all"],
            }
            for out, key in ((with_chords, "with_chords"), (without_chords, "without_chords"), (real_share, "real")):
                if report["chord_tone_share"][name][key] is not None:
                    out.append(report["chord_tone_share"][name][key])
    accuracies = list(report["judge_accuracy"].values())
    report["judge_balanced"] = round(float(np.mean(accuracies)), 4) if accuracies else None
    shares = {"with_chords": with_chords, "without_chords": without_chords, "real": real_share}
    report["chord_tone_share_mean"] = {key: round(float(np.mean(v)), 4) if v else None for key, v in shares.items()}
    return report


def load_judge(path: str, device: torch.device) -> tuple[object | None, list[str] | None]:
    """(style judge, its style names), or (None, None) when there is no checkpoint at ``path``."""
    if not path or not (Path(path) / "config.json").exists():
        return None, None
    from engine.models.registry import load_style_judge

    judge, meta = load_style_judge(path, device)
    return judge, [str(s) for s in meta.get("styles", [])]
