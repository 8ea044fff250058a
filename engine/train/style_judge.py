"""Train the style judge on real windows (``python -m engine.train style-judge``).

Data: the style cache (engine.data.style, ``data_cache/style_windows.npz``). The split is by
piece (a seeded hash, engine.io.corpus.is_validation), so no held-out window shares a piece with a
training one. Batches draw every style equally often (the collections differ a hundredfold in
size) and move each window by a random interval in -5..+6 semitones. After every epoch: the
held-out accuracy, overall and per style (held-out windows untransposed); the best epoch is saved
with its figures, the style names and the per-style counts, and ``--resume`` continues a run.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from engine.data.style import StyleSplit
from engine.eval.suites.style_judge import per_style_accuracy
from engine.models.device import resolve_device
from engine.models.style_judge import StyleJudge, StyleJudgeConfig
from engine.paths import STYLE_CACHE, default_checkpoint
from engine.train.common import STYLE_CACHE_HELP, RunFolder, TrainConfig, model_field


@dataclass(kw_only=True)
class StyleJudgeTrainConfig(TrainConfig[StyleJudgeConfig]):
    """The style judge's training settings (``python -m engine.train style-judge``)."""

    data: str = field(default=str(STYLE_CACHE), metadata={"help": STYLE_CACHE_HELP})
    out: str = str(default_checkpoint("style_judge"))
    epochs: int = 12
    batch_size: int = 64
    lr: float = 2e-3
    steps_per_epoch: int = field(default=300, metadata={"help": "optimiser steps per epoch"})
    weight_decay: float = field(default=1e-2, metadata={"help": "AdamW's weight decay"})
    model: StyleJudgeConfig = model_field(
        StyleJudgeConfig,
        help="the style judge's config",
        fixed=("num_styles", "tracks"),
        embed={"help": "token embedding size"},
        channels={"help": "convolution channels"},
        dropout={"help": "dropout rate"},
    )

    def record(self) -> dict[str, Any]:
        """The settings as config.json records them, with "model_overrides": the judge's fields changed."""
        return {**super().record(), "model_overrides": self.model_changes()}


def train_style_judge(cfg: StyleJudgeTrainConfig) -> dict[str, Any]:
    """Train, validate each epoch, save the best; returns the best epoch's figures."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    device = resolve_device(cfg.device)
    data = StyleSplit.load(cfg.data)
    names, windows, styles, train_mask, val_mask = data.names, data.windows, data.styles, data.train_mask, data.val_mask
    model = StyleJudge(cfg.model_config(StyleJudgeConfig.debug(len(names)), num_styles=len(names))).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    total_steps = cfg.epochs * cfg.steps_per_epoch
    warmup = max(1, total_steps // 10)
    # Warm-up, then cosine decay to the last step of *this* run's epochs (a resumed run may add epochs).
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(step / total_steps, 1.0))),
    )
    run = RunFolder(cfg.out, "style_judge")  # no generation.json: the judge generates nothing
    start_epoch: int = 0
    best: dict[str, Any] = {"val": {"balanced": -1.0}}
    state = run.load_state(device, cfg.resume)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        start_epoch, best = int(state["epoch"]), json.loads(state["best"])
        rng = np.random.default_rng(cfg.seed + start_epoch)
    started = time.time()
    for epoch in range(start_epoch + 1, cfg.epochs + 1):
        model.train()
        losses = []
        bar = tqdm(range(cfg.steps_per_epoch), desc=f"epoch {epoch}/{cfg.epochs}", unit="batch")
        for _ in bar:
            windows_batch, labels = data.batch(rng, cfg.batch_size, cfg.transpose_low, cfg.transpose_high)
            batch = torch.as_tensor(windows_batch, device=device)
            loss = F.cross_entropy(model(batch), torch.as_tensor(labels, device=device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
        val = per_style_accuracy(model, windows[val_mask], styles[val_mask], names, device)
        row = {
            "epoch": epoch,
            "step": epoch * cfg.steps_per_epoch,
            "elapsed_s": round(time.time() - started, 1),
            "train_loss": round(float(np.mean(losses)), 4),
            "val_accuracy": val["overall"],
            "val_balanced": val["balanced"],
            "val_per_style": val["per_style"],
        }
        run.log(row, echo=True)
        if val["balanced"] > best["val"]["balanced"]:
            best = {"epoch": epoch, "step": row["step"], "val": val}
            training = {
                **cfg.record(),
                "epoch": epoch,
                "step": row["step"],
                "data_counts": data.counts,
                "train_windows": int(train_mask.sum()),
                "val_windows": int(val_mask.sum()),
            }
            run.save_best(model, {"styles": names, "training": training, "validation": val})
        run.save_state(
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "schedule": schedule.state_dict(),
                "epoch": epoch,
                "best": json.dumps(best),
            }
        )
    return best
