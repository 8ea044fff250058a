"""Train the voice infiller (``python -m engine.train voice-infill``).

Data: the style cache (engine.data.style) with each window's previous window and chords, drawn, transposed and
style-balanced as the style GAN's (engine.train.stylegan.data). Each example hides some cells and the loss is the
cross-entropy on the hidden ones only. The masks mix what the studio asks of the model:

* ``arrange_share``: the three lower voices (the melody known: Arrange);
* ``voice_share``: one lower voice (the others known: "regenerate this voice");
* the rest: Coconet's orderless masks, every cell hidden with one probability drawn per example from U(0, 1).

The pieces the Arrange evaluation arranges (the chorales and Nottingham tunes the chord suggester holds out,
engine.eval.suites.arrange) are left out of training as well (:func:`arrange_evaluation_pieces`), so they are
melodies the infiller has never seen either.

An epoch is ``steps_per_epoch`` optimiser steps; after each, the held-out windows' loss and accuracy on the Arrange
mask are measured per style and the best epoch (lowest held-out loss) saved; ``--resume`` continues a run.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from engine.io.corpus import is_validation
from engine.models.device import resolve_device
from engine.models.voice_infill import HIDDEN, VoiceInfillConfig, VoiceInfiller
from engine.paths import STYLE_CACHE, default_checkpoint
from engine.train.common import STYLE_CACHE_HELP, RunFolder, TrainConfig, model_field
from engine.train.stylegan.data import StyleGANData


@dataclass(kw_only=True)
class VoiceInfillTrainConfig(TrainConfig[VoiceInfillConfig]):
    """The voice infiller's training settings."""

    data: str = field(default=str(STYLE_CACHE), metadata={"help": STYLE_CACHE_HELP})
    out: str = str(default_checkpoint("voice_infill"))
    epochs: int = 20
    steps_per_epoch: int = field(default=400, metadata={"help": "optimiser steps per epoch"})
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = field(default=1e-2, metadata={"help": "AdamW's weight decay"})
    arrange_share: float = field(default=0.5, metadata={"help": "share of examples with the three lower voices hidden"})
    voice_share: float = field(default=0.2, metadata={"help": "share of examples with one lower voice hidden"})
    chord_drop: float = field(default=0.2, metadata={"help": "probability that a window's chords are left out"})
    previous_drop: float = field(default=0.1, metadata={"help": "probability that the previous window is left out"})
    val_per_style: int = field(default=256, metadata={"help": "held-out windows per style for the epoch's figures"})
    threads: int | None = field(default=None, metadata={"help": "torch threads (default: torch's choice)"})
    model: VoiceInfillConfig = model_field(
        VoiceInfillConfig,
        help="the voice infiller's config",
        fixed=("num_styles", "tracks", "steps"),
        context={"help": "steps of the window before that the model reads"},
        dim={"help": "transformer width"},
        layers={"help": "transformer layers"},
        heads={"help": "attention heads"},
        dropout={"help": "dropout rate"},
    )


def arrange_evaluation_pieces(piece_names: list[str] | np.ndarray) -> np.ndarray:
    """(pieces,) bool: the style cache's pieces ("Bach chorale|bach/bwv10.7.mxl", "English folk|nottingham/x.mid")
    that the harmony data holds out under its own names ("bwv10.7.mxl", "x.mid#0"), i.e. the Arrange evaluation's."""
    out = np.zeros(len(piece_names), dtype=bool)
    for i, name in enumerate(piece_names):
        style, _, path = str(name).partition("|")
        file = PurePosixPath(path).name
        if style == "Bach chorale":
            out[i] = is_validation(file)
        elif style == "English folk":
            out[i] = is_validation(f"{file}#0")
    return out


def training_masks(
    rng: np.random.Generator, size: int, tracks: int, steps: int, arrange_share: float, voice_share: float
) -> np.ndarray:
    """(size, tracks, steps) bool, True where a cell is hidden (see the module docstring); never an empty mask."""
    kind = rng.random(size)
    masks = rng.random((size, tracks, steps)) < rng.random((size, 1, 1))  # Coconet's
    arrange = kind < arrange_share
    masks[arrange] = False
    masks[arrange, 1:] = True
    one = (kind >= arrange_share) & (kind < arrange_share + voice_share)
    masks[one] = False
    masks[np.flatnonzero(one), rng.integers(1, tracks, size=int(one.sum()))] = True
    empty = ~masks.any(axis=(1, 2))
    masks[empty, 1:] = True
    return masks


def masked_loss(
    model: VoiceInfiller, batch: dict[str, np.ndarray], masks: np.ndarray, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean cross-entropy over the hidden cells, share of hidden cells predicted right) of one batch."""
    windows = torch.as_tensor(batch["windows"], device=device)
    hidden = torch.as_tensor(masks, device=device)
    logits = model(
        windows.masked_fill(hidden, HIDDEN),
        torch.as_tensor(batch["previous"], device=device),
        torch.as_tensor(batch["chords"], device=device),
        torch.as_tensor(batch["styles"], device=device),
    )
    loss = F.cross_entropy(logits[hidden], windows[hidden])
    accuracy = (logits[hidden].argmax(-1) == windows[hidden]).float().mean()
    return loss, accuracy


@torch.no_grad()
def held_out_figures(
    model: VoiceInfiller, held: dict[int, dict[str, np.ndarray]], names: list[str], device: torch.device
) -> dict[str, float]:
    """Per style and overall: loss and accuracy on the Arrange mask (the three lower voices hidden)."""
    model.eval()
    out: dict[str, float] = {}
    losses, hits = [], []
    for index, batch in held.items():
        masks = np.zeros(batch["windows"].shape, dtype=bool)
        masks[:, 1:] = True
        loss, accuracy = masked_loss(model, batch, masks, device)
        out[f"{names[index]}_loss"] = round(float(loss), 4)
        out[f"{names[index]}_accuracy"] = round(float(accuracy), 4)
        losses.append(float(loss))
        hits.append(float(accuracy))
    out["loss"] = round(float(np.mean(losses)), 4)
    out["accuracy"] = round(float(np.mean(hits)), 4)
    model.train()
    return out


def train_voice_infill(cfg: VoiceInfillTrainConfig) -> dict[str, Any]:
    """Train, validate each epoch, save the best (lowest held-out loss); returns the best epoch's figures."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    device = resolve_device(cfg.device)
    data = StyleGANData(cfg.data)
    names = data.split.names
    with np.load(cfg.data, allow_pickle=False) as cache:
        excluded = arrange_evaluation_pieces(cache["piece_names"])[cache["piece"]]
    data.split.train_mask = data.split.train_mask & ~excluded
    data.split.__post_init__()  # the style-balanced draws from the remaining training windows
    model = VoiceInfiller(cfg.model_config(VoiceInfillConfig.debug(), num_styles=len(names))).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=cfg.lr, total_steps=cfg.epochs * cfg.steps_per_epoch, pct_start=0.05
    )
    held = data.held_out(cfg.val_per_style, cfg.seed)
    run = RunFolder(cfg.out, "voice_infill")
    start_epoch: int = 0
    best: dict[str, Any] = {"val": {"loss": float("inf")}}
    state = run.load_state(device, cfg.resume, announce=True)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        # The schedule goes on from the step reached, over this run's epochs (a resumed run may ask for more).
        schedule.last_epoch = int(state["schedule"]["last_epoch"])
        schedule._step_count = int(state["schedule"]["_step_count"])
        start_epoch, best = int(state["epoch"]), json.loads(state["best"])
        rng = np.random.default_rng(cfg.seed + start_epoch)
    started = time.time()
    model.train()
    for epoch in range(start_epoch + 1, cfg.epochs + 1):
        losses, hits = [], []
        for _ in range(cfg.steps_per_epoch):
            labels = rng.choice(data.split.present, size=cfg.batch_size)
            picks = np.array([rng.choice(data.split.by_style[label]) for label in labels])
            batch = data.draw(
                rng, picks, labels, cfg.transpose_low, cfg.transpose_high, cfg.chord_drop, cfg.previous_drop
            )
            tracks, steps = batch["windows"].shape[1:]
            masks = training_masks(rng, cfg.batch_size, tracks, steps, cfg.arrange_share, cfg.voice_share)
            loss, accuracy = masked_loss(model, batch, masks, device)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
            hits.append(accuracy.item())
        figures = held_out_figures(model, held, names, device)
        row = {
            "epoch": epoch,
            "step": epoch * cfg.steps_per_epoch,
            "elapsed_s": round(time.time() - started, 1),
            "train_loss": round(float(np.mean(losses)), 4),
            "train_accuracy": round(float(np.mean(hits)), 4),
            **{f"val_{k}": v for k, v in figures.items()},
        }
        run.log(row, echo=True)
        if figures["loss"] < best["val"]["loss"]:
            best = {"epoch": epoch, "step": row["step"], "val": figures}
            training = {
                **cfg.record(),
                "epoch": epoch,
                "step": row["step"],
                "windows": int(data.split.train_mask.sum()),
                "left_out_for_arrange": int(excluded.sum()),
                "val_windows": {names[i]: len(b["windows"]) for i, b in held.items()},
            }
            run.save_best(model, {"styles": names, "training": training, "validation": figures})
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
