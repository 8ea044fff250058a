"""Generated against real figures, style by style: MuseGAN's figures side by side, which of a model's figures come
within 25% of the real ones, and how tightly the held-out pieces pin each real figure down (by piece, resampled)."""

from __future__ import annotations

import numpy as np

from engine.eval.metrics.musegan import (
    METRICS,
    in_scale_share,
    metrics_table,
    repeat_share,
    stepwise_share,
    window_metrics,
)

WITHIN = 0.25  # a generated figure "matches" the real one within this share of the real value


# Resamples of the held-out pieces behind each real figure's interval (real_figure_intervals).
BOOTSTRAP_ROUNDS = 200


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
    engine.eval.metrics.musegan.window_metrics (shaped like it: a list per track, a dict per track pair), the central
    ``level`` interval [low, high] of that figure over ``rounds`` sets of windows drawn by piece (``pieces`` (N,):
    each window's piece; the pieces are drawn with replacement and bring all their windows), widened to hold the
    figure of the windows as they are, None where a figure is undefined.

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
        spans: dict[str | int, list[float] | None] = {}
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
    """Per style: MuseGAN's metrics (engine.eval.metrics.musegan.window_metrics) of the real windows and of each
    model's, and per model the ``within_25_percent`` flags (shaped like the metrics: a list per track, a dict per track
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
