"""How well the style models do (``python -m engine.evaluate style``).

On the held-out pieces of the style cache (split by piece, as in training):

* ``judge_accuracy_real``: the style judge on real held-out windows (overall, balanced, per style);
* ``recon_accuracy_musae`` / ``recon_accuracy_vae``: greedy reconstruction (decoded from the code
  alone) of up to ``recon_windows`` held-out windows: share of steps right per track and mean, and
  ``onset_accuracy``, the share of the real onsets decoded with their exact pitch (holds and rests
  are most steps, so the first figure flatters);
* ``sample_style_accuracy_musae``: share of ``samples`` windows per style, drawn from that style's
  prior component narrowed to the pipeline's ``PRIOR_SCALE`` and decoded at its temperature (one
  draw each: the model's own figure as the studio samples it), that the judge assigns to the style
  asked for; ``sample_style_accuracy_musae_full_prior``: the same from the whole component;
* ``sample_style_accuracy_musae_checked``: the same for what the studio delivers, the pipeline's
  draw and check (the best of ``CANDIDATES`` chains by the same judge, so this figure is partly
  the judge agreeing with itself: read the first one as the model's quality);
* ``sample_style_accuracy_musae_by_temperature``: the first-draw figure (mean over styles, another
  seed) at each of ``TEMPERATURES``, greedy (0) to the model's own distribution (1), and
  ``..._by_prior_scale`` at each of ``PRIOR_SCALES`` (yet another seed);
* ``transfer_style_accuracy``: held-out windows of every other style encoded, moved all the way
  (strength 1) to a target style's component and decoded with its code, judged as the target;
* ``latent_style_purity``: k-NN (k=5) style accuracy of held-out encodings against training
  encodings (the means, for the VAE).

With the style GAN (``gan_dir``):

* ``sample_style_accuracy_gan``: share of ``samples`` windows per style generated with no
  conditions (no chords, no previous window: a piece's first window, one draw each) at the
  pipeline's temperature that the judge assigns to the style asked for;
* ``sample_style_accuracy_gan_checked``: the same through the GAN pipeline's draw and check
  (as MusAE's ``_checked`` figure, and as partly the judge agreeing with itself);
* ``musegan_metrics`` (also without the GAN, when MusAE is given): per style, MuseGAN's metrics
  (engine.style_metrics: empty-bar rate, used pitch classes, qualified-note rate per track, tonal
  distance per track pair) of up to ``metric_windows`` (300) real held-out windows, of as many
  of MusAE's and the GAN's samples (drawn as for the first-draw accuracies, with their own seeds),
  of up to as many other real held-out windows (``real_again``: real music scored like a model;
  a style with fewer held-out windows splits them in two halves), and of as many training windows
  (``real_training``: what the models learnt from, scored like a model; the held-out pieces differ
  from the training pieces, so this is the most a perfect model of the training data could score);
  ``within_25_percent`` flags
  per figure (|generated - real| <= 25% of |real|, so a real 0 needs a generated 0), and, since a style's real
  figure depends on which pieces were held out, ``real_interval`` (each real figure's 95% interval when the held-out
  pieces behind the real windows are drawn again, ``BOOTSTRAP_ROUNDS`` times) and ``within_25_percent_of_interval``
  flags (within 25% of some value in it) with their ``within_25_percent_of_interval_share``;
  ``in_scale_share``, ``stepwise_share`` and ``repeat_share`` per source (engine.style_metrics:
  the share of a window's onsets in its best diatonic scale, and of the top voice's intervals of
  1-2 semitones and of 0; beside the 25% flags, not among them); and
  ``chord_tone_share``: the GAN's windows generated over the real windows' own chords (chroma per
  beat, as in training) against the real windows, with the same noise and no chords as the
  baseline.
Seeds are fixed, so two runs print the same figures; the MusAE figures do not depend on whether
the GAN is evaluated too (every part draws from its own seeded generator).
"""

from __future__ import annotations

import numpy as np
import torch

from engine.pipelines.style import CANDIDATES, PRIOR_SCALE, SAMPLE_TEMPERATURE, StylePipeline
from engine.representation import HOLD
from engine.style_metrics import (
    METRICS,
    chord_tone_share,
    in_scale_share,
    metrics_table,
    repeat_share,
    stepwise_share,
    window_metrics,
)
from engine.train.style_data import load_style_cache
from engine.train.style_judge import per_style_accuracy, split_by_piece

WITHIN = 0.25  # a generated figure "matches" the real one within this share of the real value
# Resamples of the held-out pieces behind each real figure's interval (real_figure_intervals).
BOOTSTRAP_ROUNDS = 200
# Windows per style behind MuseGAN's metrics (real, each model's, and real again; a style with fewer held-out windows
# gives half of them to each real set). At 100, sampling noise alone put 8% of real-against-real figures outside 25%:
# an empty-bar rate of 0.035 is 7 bars in 200, give or take 3.
METRIC_WINDOWS = 300


TEMPERATURES = (0.0, 0.5, 0.8, 1.0)
PRIOR_SCALES = (1.0, 0.8, 0.7, 0.6)


def _batches(n: int, size: int):
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


@torch.no_grad()
def encode_all(model, windows: np.ndarray, batch: int = 512) -> np.ndarray:
    """Codes (N, z_dims) of windows (the mean for the VAE)."""
    out = [model.encode(torch.as_tensor(windows[s]))[0].numpy() for s in _batches(len(windows), batch)]
    return np.concatenate(out) if out else np.zeros((0, model.config.z_dims), np.float32)


@torch.no_grad()
def greedy_reconstruction(model, windows: np.ndarray, styles: np.ndarray, batch: int = 256) -> dict:
    """Share of steps right per track (and mean) when windows are decoded greedily from their codes."""
    hits, onset_hits, onsets = [], 0, 0
    for s in _batches(len(windows), batch):
        w = torch.as_tensor(windows[s]).long()
        z, _ = model.encode(w)
        out = model.decode(z, torch.as_tensor(styles[s]))
        hits.append((out == w).float().mean(dim=2).numpy())
        is_onset = w < HOLD
        onset_hits, onsets = onset_hits + int((out[is_onset] == w[is_onset]).sum()), onsets + int(is_onset.sum())
    per_track = np.concatenate(hits).mean(axis=0)
    return {
        "per_track": [round(float(x), 4) for x in per_track],
        "mean": round(float(per_track.mean()), 4),
        "onset_accuracy": round(onset_hits / max(onsets, 1), 4),
        "windows": int(len(windows)),
    }


def knn_purity(
    train_codes: np.ndarray, train_styles: np.ndarray, codes: np.ndarray, styles: np.ndarray, k: int = 5
) -> float:
    """k-NN style accuracy of ``codes`` against the training codes (Euclidean, majority vote)."""
    right = 0
    for s in _batches(len(codes), 256):
        d = ((codes[s, None, :] - train_codes[None, :, :]) ** 2).sum(-1)
        nearest = np.argpartition(d, k, axis=1)[:, :k]
        votes = train_styles[nearest]
        predicted = np.array([np.bincount(v, minlength=train_styles.max() + 1).argmax() for v in votes])
        right += int((predicted == styles[s]).sum())
    return round(right / max(len(codes), 1), 4)


@torch.no_grad()
def sample_accuracy(
    model, judge, num_styles: int, samples: int, seed: int = 0, temperature: float = 0.0, scale: float = 1.0
) -> dict:
    """Judge accuracy on ``samples`` windows per style drawn from the prior (narrowed to ``scale``) and decoded at
    ``temperature``."""
    generator = torch.Generator().manual_seed(seed)
    per_style = {}
    for style in range(num_styles):
        asked = torch.full((samples,), style, dtype=torch.long)
        windows = model.decode(model.prior_sample(asked, generator, scale), asked, temperature, generator)
        per_style[style] = float((judge(windows).argmax(1) == style).float().mean())
    return per_style


@torch.no_grad()
def checked_sample_accuracy(pipeline, samples: int, seed: int = 0) -> dict:
    """Judge accuracy on ``samples`` 2-bar pieces per style from the pipeline's draw and check (seeds seed..)."""
    return {
        index: float(np.mean([pipeline.sample(name, 2, seed + i).agreement for i in range(samples)]))
        for index, name in enumerate(pipeline.styles)
    }


def _summary(per_style: dict, names: list[str]) -> dict:
    return {
        "mean": round(float(np.mean(list(per_style.values()))), 4),
        "per_style": {names[i]: round(v, 4) for i, v in per_style.items()},
    }


@torch.no_grad()
def transfer_accuracy(
    model, judge, windows: np.ndarray, styles: np.ndarray, num_styles: int, per_pair: int = 20, seed: int = 0
) -> float:
    """Held-out windows moved fully to each other style's component (z + mean_target - mean_source), judged."""
    rng = np.random.default_rng(seed)
    means = model.prior_means.numpy()
    right = total = 0
    for target in range(num_styles):
        sources = np.flatnonzero(styles != target)
        if not len(sources):
            continue
        pick = rng.choice(sources, size=min(per_pair * (num_styles - 1), len(sources)), replace=False)
        z, _ = model.encode(torch.as_tensor(windows[pick]))
        moved = z + torch.as_tensor(means[target] - means[styles[pick]])
        out = model.decode(moved, torch.full((len(pick),), target, dtype=torch.long))
        right += int((judge(out).argmax(1) == target).sum())
        total += len(pick)
    return round(right / max(total, 1), 4)


@torch.no_grad()
def gan_windows(
    generator, num_styles: int, samples: int, seed: int = 0, temperature: float = 0.0
) -> dict[int, np.ndarray]:
    """{style: (samples, 4, 32)} windows the GAN writes with no conditions (a piece's first window), style by style
    from one seeded generator."""
    rng = torch.Generator().manual_seed(seed)
    out = {}
    for style in range(num_styles):
        asked = torch.full((samples,), style, dtype=torch.long)
        out[style] = generator.generate(asked, temperature=temperature, generator=rng).cpu().numpy()
    return out


@torch.no_grad()
def musae_windows(
    model, num_styles: int, samples: int, seed: int = 0, temperature: float = 0.0, scale: float = 1.0
) -> dict[int, np.ndarray]:
    """{style: (samples, 4, 32)} windows decoded from MusAE's prior (as :func:`sample_accuracy` draws them, from a
    generator of their own so its figures stay as they are)."""
    rng = torch.Generator().manual_seed(seed)
    out = {}
    for style in range(num_styles):
        asked = torch.full((samples,), style, dtype=torch.long)
        out[style] = model.decode(model.prior_sample(asked, rng, scale), asked, temperature, rng).cpu().numpy()
    return out


@torch.no_grad()
def judged_accuracy(judge, windows: dict[int, np.ndarray]) -> dict[int, float]:
    """{style: share of its windows the judge assigns to it}."""
    return {
        style: float((judge(torch.as_tensor(w, dtype=torch.long)).argmax(1) == style).float().mean())
        for style, w in windows.items()
    }


def within(generated: float | None, real: float | None, share: float = WITHIN) -> bool | None:
    """Whether ``generated`` is within ``share`` of ``real`` (relative to |real|; a real 0 needs a generated 0);
    None where either is undefined."""
    if generated is None or real is None:
        return None
    return bool(abs(generated - real) <= share * abs(real))


def real_figure_intervals(
    windows: np.ndarray, pieces: np.ndarray, rounds: int = BOOTSTRAP_ROUNDS, seed: int = 0, level: float = 0.95
) -> dict:
    """How well real windows (N, tracks, 32) pin their style's figures down: per figure of
    engine.style_metrics.window_metrics (shaped like it: a list per track, a dict per track pair), the central ``level``
    interval [low, high] of that figure over ``rounds`` sets of windows drawn by piece (``pieces`` (N,): each window's
    piece; the pieces are drawn with replacement and bring all their windows), widened to hold the figure of the
    windows as they are, None where a figure is undefined.

    Windows of one piece share its tempo, texture and key, so a style's figure depends on which pieces were held out as
    much as on how many windows were: string quartets' held-out movements hold far more sixteenth notes than others."""
    rng = np.random.default_rng(seed)
    pieces = np.asarray(pieces)
    names, members = np.unique(pieces, return_inverse=True)
    by_piece = [np.flatnonzero(members == i) for i in range(len(names))]
    draws: dict[str, list] = {}
    for _ in range(rounds):
        chosen = np.concatenate([by_piece[i] for i in rng.integers(0, len(by_piece), len(by_piece))])
        figures = window_metrics(windows[chosen])
        for metric in METRICS:
            value = figures[metric]
            for key, figure in value.items() if isinstance(value, dict) else enumerate(value):
                draws.setdefault(f"{metric}|{key}", []).append(np.nan if figure is None else figure)
    tail = (1 - level) / 2 * 100
    out: dict = {}
    reference = window_metrics(windows)
    for metric in METRICS:
        value = reference[metric]
        keys = list(value) if isinstance(value, dict) else range(len(value))
        spans = {}
        for key in keys:
            values = np.asarray(draws.get(f"{metric}|{key}", []), dtype=float)
            values = values[np.isfinite(values)]
            if not len(values) or value[key] is None:
                spans[key] = None
                continue
            # The figure of the windows as they are stays inside its own interval (a skewed resampling might leave it).
            spans[key] = [
                round(float(min(np.percentile(values, tail), value[key])), 4),
                round(float(max(np.percentile(values, 100 - tail), value[key])), 4),
            ]
        out[metric] = spans if isinstance(value, dict) else [spans[k] for k in keys]
    return out


def within_interval(generated: float | None, interval: list[float] | None, share: float = WITHIN) -> bool | None:
    """Whether ``generated`` is within ``share`` of some value in ``interval`` [low, high] of non-negative real figures
    (so between (1 - share) * low and (1 + share) * high); None where either is undefined."""
    if generated is None or interval is None:
        return None
    low, high = interval
    return bool((1 - share) * low <= generated <= (1 + share) * high)


def musegan_comparison(
    real: dict[str, np.ndarray], generated: dict[str, dict[str, np.ndarray]], intervals: dict[str, dict] | None = None
) -> dict:
    """Per style: MuseGAN's metrics (engine.style_metrics.window_metrics) of the real windows and of each model's,
    and per model the ``within_25_percent`` flags (shaped like the metrics: a list per track, a dict per track
    pair); plus ``within_25_percent_share``: per model, the share of defined figures within 25% of the real ones.

    With ``intervals`` ({style: :func:`real_figure_intervals` of the real windows}), also each style's
    ``real_interval`` and per model the ``within_25_percent_of_interval`` flags (within 25% of some value the real
    pieces leave possible: :func:`within_interval`), and their ``within_25_percent_of_interval_share``."""
    out: dict = {"per_style": {}, "within_25_percent_share": {}}
    for style, windows in real.items():
        entry = {"real": window_metrics(windows)}
        for name, by_style in generated.items():
            if style in by_style:
                entry[name] = window_metrics(by_style[style])
        entry["within_25_percent"] = {name: {} for name in generated if name in entry}
        out["per_style"][style] = entry
    # metrics_table lines every model's figure up beside the real one, per style, metric and track (or pair).
    kinds = ["within_25_percent"]
    if intervals is not None:
        kinds.append("within_25_percent_of_interval")
        for style, entry in out["per_style"].items():
            entry["real_interval"] = intervals.get(style)
            entry["within_25_percent_of_interval"] = {name: {} for name in entry["within_25_percent"]}
    hits: dict[str, dict[str, list[bool]]] = {kind: {name: [] for name in generated} for kind in kinds}
    for row in metrics_table(real, generated):
        entry = out["per_style"].get(row["style"])
        if entry is None:
            continue
        span = None
        if intervals is not None and entry["real_interval"] is not None:
            span = entry["real_interval"][row["metric"]][row["track"]]
        for name in generated:
            if name not in entry["within_25_percent"]:
                continue
            for kind in kinds:
                flag = (
                    within(row.get(name), row["real"])
                    if kind == "within_25_percent"
                    else within_interval(row.get(name), span)
                )
                flags = entry[kind][name]
                if row["metric"] == "tonal_distance":
                    flags.setdefault(row["metric"], {})[row["track"]] = flag
                else:
                    flags.setdefault(row["metric"], []).append(flag)
                if flag is not None:
                    hits[kind][name].append(flag)
    for entry in out["per_style"].values():  # the metrics in the module's order, as window_metrics lists them
        for kind in kinds:
            for name, flags in entry[kind].items():
                entry[kind][name] = {m: flags[m] for m in METRICS if m in flags}
    for kind in kinds:
        out[f"{kind}_share"] = {name: round(float(np.mean(v)), 4) if v else None for name, v in hits[kind].items()}
    # Beside MuseGAN's figures (not among the 25% flags): how well each source's voices keep to one key, and how often
    # its top voice moves by step, and strikes the same pitch again.
    sources = ["real", *generated]
    for key, figure in (
        ("in_scale_share", in_scale_share),
        ("stepwise_share", stepwise_share),
        ("repeat_share", repeat_share),
    ):
        for style, entry in out["per_style"].items():
            entry[key] = {
                "real": figure(real[style]),
                **{name: figure(by_style[style]) for name, by_style in generated.items() if style in by_style},
            }
        out[f"{key}_mean"] = {
            name: round(float(np.mean(v)), 4)
            if (v := [e[key][name] for e in out["per_style"].values() if e[key].get(name) is not None])
            else None
            for name in sources
        }
    return out


@torch.no_grad()
def gan_chord_tone_share(generator, windows: np.ndarray, style: int, seed: int = 0, temperature: float = 0.0) -> dict:
    """Share of onsets on chord tones, the chords being the triads that best fit each real window (as in training):
    in the real windows, in the GAN's windows generated over those chords, and in the GAN's windows from the same
    noise without chords (the baseline). Windows without any chord are left out."""
    from engine.style_metrics import window_triad_chroma

    chords = window_triad_chroma(windows)
    chorded = chords.sum(axis=(1, 2)) > 0
    windows, chords = windows[chorded], chords[chorded]
    if not len(windows):
        return {"windows": 0, "real": None, "gan_with_chords": None, "gan_without_chords": None}
    asked = torch.full((len(windows),), style, dtype=torch.long)
    noise = generator.sample_noise(len(windows), torch.Generator().manual_seed(seed))
    rng = torch.Generator().manual_seed(seed + 1)
    with_chords = (
        generator.generate(asked, torch.as_tensor(chords), temperature=temperature, generator=rng, noise=noise)
        .cpu()
        .numpy()
    )
    without = generator.generate(asked, temperature=temperature, generator=rng, noise=noise).cpu().numpy()
    return {
        "windows": int(len(windows)),
        "real": chord_tone_share(windows, chords)["all"],
        "gan_with_chords": chord_tone_share(with_chords, chords)["all"],
        "gan_without_chords": chord_tone_share(without, chords)["all"],
    }


def evaluate_style(
    data: str,
    judge_dir: str,
    musae_dir: str | None = None,
    vae_dir: str | None = None,
    samples: int = 100,
    recon_windows: int = 1000,
    seed: int = 0,
    gan_dir: str | None = None,
    metric_windows: int = METRIC_WINDOWS,
) -> dict:
    """Every figure of the module docstring that the given checkpoints allow, as one JSON-ready dict."""
    from engine.models.checkpoint import load_musae, load_style_judge

    torch.manual_seed(seed)
    cache = load_style_cache(data)
    names = [str(s) for s in cache["styles"]]
    train_mask, val_mask = split_by_piece(cache)
    windows, styles = cache["windows"], cache["style"].astype(np.int64)
    judge, judge_meta = load_style_judge(judge_dir)
    if judge_meta["styles"] != names:
        raise ValueError(f"the judge knows {judge_meta['styles']}, the data {names}")
    result: dict = {
        "task": "style",
        "styles": names,
        "judge_accuracy_real": per_style_accuracy(
            judge, windows[val_mask], styles[val_mask], names, torch.device("cpu")
        ),
    }
    rng = np.random.default_rng(seed)
    val_idx = np.flatnonzero(val_mask)
    recon_pick = rng.choice(val_idx, size=min(recon_windows, len(val_idx)), replace=False)
    musae_model = None
    for label, directory in (("musae", musae_dir), ("vae", vae_dir)):
        if not directory:
            continue
        model, _ = load_musae(directory)
        result[f"recon_accuracy_{label}"] = greedy_reconstruction(model, windows[recon_pick], styles[recon_pick])
        train_pick = rng.choice(np.flatnonzero(train_mask), size=min(5000, int(train_mask.sum())), replace=False)
        result[f"latent_style_purity_{label}"] = knn_purity(
            encode_all(model, windows[train_pick]),
            styles[train_pick],
            encode_all(model, windows[recon_pick]),
            styles[recon_pick],
        )
        # The studio's first draw: its temperature and its narrowed prior.
        result[f"sample_style_accuracy_{label}"] = _summary(
            sample_accuracy(model, judge, len(names), samples, seed, SAMPLE_TEMPERATURE, PRIOR_SCALE), names
        )
        # The same codes' distribution unnarrowed: the prior the model was trained to fill.
        result[f"sample_style_accuracy_{label}_full_prior"] = _summary(
            sample_accuracy(model, judge, len(names), samples, seed, SAMPLE_TEMPERATURE), names
        )
        if label == "musae":
            result["sample_temperature"] = SAMPLE_TEMPERATURE
            result["sample_prior_scale"] = PRIOR_SCALE
            result["sample_style_accuracy_musae_checked"] = {
                **_summary(checked_sample_accuracy(StylePipeline(model, judge, names), samples, seed), names),
                "candidates": CANDIDATES,
            }
            result["transfer_style_accuracy"] = transfer_accuracy(
                model, judge, windows[recon_pick], styles[recon_pick], len(names), seed=seed
            )
            # How the first draw's figure moves with the decoding temperature (its own seed): the pipeline's is chosen on it.
            result["sample_style_accuracy_musae_by_temperature"] = {
                str(t): _summary(sample_accuracy(model, judge, len(names), samples, seed + 3, t, PRIOR_SCALE), names)[
                    "mean"
                ]
                for t in TEMPERATURES
            }
            # And with the prior's scale (its own seed): the pipeline's PRIOR_SCALE is chosen on it.
            result["sample_style_accuracy_musae_by_prior_scale"] = {
                str(k): _summary(
                    sample_accuracy(model, judge, len(names), samples, seed + 4, SAMPLE_TEMPERATURE, k), names
                )["mean"]
                for k in PRIOR_SCALES
            }
            musae_model = model
    # Everything below draws from its own seeded generators (after the MusAE figures), so those stay as they were.
    generated: dict[str, dict[str, np.ndarray]] = {}
    if musae_model is not None:
        drawn = musae_windows(musae_model, len(names), metric_windows, seed + 1, SAMPLE_TEMPERATURE, PRIOR_SCALE)
        generated["musae"] = {names[i]: w for i, w in drawn.items()}
    gan = None
    if gan_dir:
        from engine.models.style_gan import SAMPLE_TOP_P
        from engine.models.style_gan_checkpoint import load_stylegan
        from engine.pipelines.style_gan import GAN_TEMPERATURE, StyleGANPipeline

        gan, gan_meta = load_stylegan(gan_dir)
        if list(gan_meta.get("styles", [])) != names:
            raise ValueError(f"the style GAN knows {gan_meta.get('styles')}, the data {names}")
        drawn = gan_windows(gan, len(names), samples, seed, GAN_TEMPERATURE)
        result["sample_style_accuracy_gan"] = _summary(judged_accuracy(judge, drawn), names)
        result["gan_temperature"] = GAN_TEMPERATURE
        result["gan_top_p"] = SAMPLE_TOP_P
        result["sample_style_accuracy_gan_checked"] = {
            **_summary(checked_sample_accuracy(StyleGANPipeline(gan, judge, names), samples, seed), names),
            "candidates": CANDIDATES,
        }
        drawn = gan_windows(gan, len(names), metric_windows, seed + 5, GAN_TEMPERATURE)  # as many as the real ones
        generated["gan"] = {names[i]: w for i, w in drawn.items()}
    if generated:
        metric_rng = np.random.default_rng(seed + 2)
        real, real_again, real_pieces = {}, {}, {}
        for index, name in enumerate(names):
            pool = metric_rng.permutation(np.flatnonzero(val_mask & (styles == index)))
            half = min(metric_windows, len(pool) // 2) if len(pool) > 1 else len(pool)
            if half:
                real[name] = windows[np.sort(pool[:half])].astype(np.int64)
                real_pieces[name] = cache["piece"][np.sort(pool[:half])]
            if len(pool) > 1:
                real_again[name] = windows[np.sort(pool[half : 2 * half])].astype(np.int64)
        # Training windows of each style (their own seeded draw), scored like a model: the held-out pieces are other
        # pieces (string quartets' held-out movements are busier), so a model that wrote exactly the training data
        # would score this.
        training_rng = np.random.default_rng(seed + 6)
        real_training = {}
        for index, name in enumerate(names):
            pool = np.flatnonzero(train_mask & (styles == index))
            if name in real and len(pool):
                pick = training_rng.choice(pool, size=min(len(real[name]), len(pool)), replace=False)
                real_training[name] = windows[np.sort(pick)].astype(np.int64)
        # Other held-out windows of the same styles, scored like a model: how close real music comes to the real
        # figures at this sample size (the ceiling of "within 25%": a rate of 0.01 is 2 bars in 200).
        # How much the real figures depend on which pieces were held out (drawn by piece, their own seed).
        intervals = {name: real_figure_intervals(w, real_pieces[name], seed=seed + 7) for name, w in real.items()}
        comparison = musegan_comparison(
            real, {**generated, "real_again": real_again, "real_training": real_training}, intervals
        )
        if gan is not None:
            shares = {
                name: gan_chord_tone_share(gan, w, names.index(name), seed, GAN_TEMPERATURE) for name, w in real.items()
            }
            for name, share in shares.items():
                comparison["per_style"][name]["chord_tone_share"] = share
            comparison["chord_tone_share_mean"] = {
                key: round(float(np.mean(v)), 4)
                if (v := [s[key] for s in shares.values() if s[key] is not None])
                else None
                for key in ("real", "gan_with_chords", "gan_without_chords")
            }
        result["musegan_metrics"] = {"windows_per_style": {name: int(len(w)) for name, w in real.items()}, **comparison}
    return result
