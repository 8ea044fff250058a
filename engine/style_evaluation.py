"""How well the style models do (``python -m engine.evaluate style``).

On the held-out pieces of the style cache (split by piece, as in training):

* ``judge_accuracy_real``: the style judge on real held-out windows (overall, balanced, per style);
* ``recon_accuracy_musae`` / ``recon_accuracy_vae``: greedy reconstruction (decoded from the code
  alone) of up to ``recon_windows`` held-out windows, per track and mean;
* ``sample_style_accuracy_musae``: share of ``samples`` windows per style, drawn from that style's
  prior component and decoded at the pipeline's temperature (one draw each: the model's own
  figure), that the judge assigns to the style asked for;
* ``sample_style_accuracy_musae_checked``: the same for what the studio delivers, the pipeline's
  draw and check (the best of ``CANDIDATES`` chains by the same judge, so this figure is partly
  the judge agreeing with itself: read the first one as the model's quality);
* ``transfer_style_accuracy``: held-out windows of every other style encoded, moved all the way
  (strength 1) to a target style's component and decoded with its code, judged as the target;
* ``latent_style_purity``: k-NN (k=5) style accuracy of held-out encodings against training
  encodings (the means, for the VAE).
Seeds are fixed, so two runs print the same figures.
"""

from __future__ import annotations

import numpy as np
import torch

from engine.pipelines.style import CANDIDATES, SAMPLE_TEMPERATURE, StylePipeline
from engine.train.style_data import load_style_cache
from engine.train.style_judge import per_style_accuracy, split_by_piece


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
    hits = []
    for s in _batches(len(windows), batch):
        w = torch.as_tensor(windows[s])
        z, _ = model.encode(w)
        hits.append((model.decode(z, torch.as_tensor(styles[s])) == w).float().mean(dim=2).numpy())
    per_track = np.concatenate(hits).mean(axis=0)
    return {"per_track": [round(float(x), 4) for x in per_track], "mean": round(float(per_track.mean()), 4), "windows": int(len(windows))}


def knn_purity(train_codes: np.ndarray, train_styles: np.ndarray, codes: np.ndarray, styles: np.ndarray, k: int = 5) -> float:
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
def sample_accuracy(model, judge, num_styles: int, samples: int, seed: int = 0, temperature: float = 0.0) -> dict:
    """Judge accuracy on ``samples`` windows per style drawn from the prior and decoded at ``temperature``."""
    generator = torch.Generator().manual_seed(seed)
    per_style = {}
    for style in range(num_styles):
        asked = torch.full((samples,), style, dtype=torch.long)
        windows = model.decode(model.prior_sample(asked, generator), asked, temperature, generator)
        per_style[style] = float((judge(windows).argmax(1) == style).float().mean())
    return per_style


@torch.no_grad()
def checked_sample_accuracy(pipeline, samples: int, seed: int = 0) -> dict:
    """Judge accuracy on ``samples`` 2-bar pieces per style from the pipeline's draw and check (seeds seed..)."""
    return {index: float(np.mean([pipeline.sample(name, 2, seed + i).agreement for i in range(samples)]))
            for index, name in enumerate(pipeline.styles)}  # fmt: skip


def _summary(per_style: dict, names: list[str]) -> dict:
    return {"mean": round(float(np.mean(list(per_style.values()))), 4), "per_style": {names[i]: round(v, 4) for i, v in per_style.items()}}


@torch.no_grad()
def transfer_accuracy(model, judge, windows: np.ndarray, styles: np.ndarray, num_styles: int, per_pair: int = 20,
                      seed: int = 0) -> float:
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


def evaluate_style(data: str, judge_dir: str, musae_dir: str | None = None, vae_dir: str | None = None,
                   samples: int = 100, recon_windows: int = 1000, seed: int = 0) -> dict:
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
    result: dict = {"task": "style", "styles": names,
                    "judge_accuracy_real": per_style_accuracy(judge, windows[val_mask], styles[val_mask], names, torch.device("cpu"))}
    rng = np.random.default_rng(seed)
    val_idx = np.flatnonzero(val_mask)
    recon_pick = rng.choice(val_idx, size=min(recon_windows, len(val_idx)), replace=False)
    for label, directory in (("musae", musae_dir), ("vae", vae_dir)):
        if not directory:
            continue
        model, _ = load_musae(directory)
        result[f"recon_accuracy_{label}"] = greedy_reconstruction(model, windows[recon_pick], styles[recon_pick])
        train_pick = rng.choice(np.flatnonzero(train_mask), size=min(5000, int(train_mask.sum())), replace=False)
        result[f"latent_style_purity_{label}"] = knn_purity(encode_all(model, windows[train_pick]), styles[train_pick],
                                                            encode_all(model, windows[recon_pick]), styles[recon_pick])  # fmt: skip
        result[f"sample_style_accuracy_{label}"] = _summary(sample_accuracy(model, judge, len(names), samples, seed, SAMPLE_TEMPERATURE), names)
        if label == "musae":
            result["sample_temperature"] = SAMPLE_TEMPERATURE
            result["sample_style_accuracy_musae_checked"] = {
                **_summary(checked_sample_accuracy(StylePipeline(model, judge, names), samples, seed), names), "candidates": CANDIDATES}
            result["transfer_style_accuracy"] = transfer_accuracy(model, judge, windows[recon_pick], styles[recon_pick], len(names), seed=seed)
    return result
