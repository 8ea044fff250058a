"""Train the chord suggester (``python -m engine.train harmonizer``).

Data: the harmony cache (engine.data.harmony, ``data_cache/harmony.npz``): Nottingham tunes, the O'Neill and
Ryan's tunes of the music21 corpus that carry chords, and the Bach chorales, each as key-relative chord slots (so no
transposition is needed: every tune is already in C). Tunes are split by name (a seeded hash). Each epoch shuffles
the training tunes into padded batches; after it, the held-out tunes' slot accuracy (exact chord and root) is
measured and the best epoch saved; ``--resume`` continues a run.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from engine.data.harmony import HarmonyTune, load_harmony_cache
from engine.models.device import resolve_device
from engine.models.harmonizer import ChordSuggester, HarmonizerConfig
from engine.music.chord_vocab import QUALITIES
from engine.paths import HARMONY_CACHE, default_checkpoint
from engine.train.common import RunFolder, TrainConfig, model_field

IGNORE = -100  # padding in a batch's labels


@dataclass(kw_only=True)
class HarmonizerTrainConfig(TrainConfig[HarmonizerConfig]):
    """The chord suggester's training settings."""

    data: str = field(
        default=str(HARMONY_CACHE), metadata={"help": "the harmony cache (python -m engine.data harmony)"}
    )
    out: str = str(default_checkpoint("harmonizer"))
    epochs: int = 30
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = field(default=1e-2, metadata={"help": "AdamW's weight decay"})
    label_smoothing: float = field(default=0.05, metadata={"help": "cross-entropy label smoothing"})
    model: HarmonizerConfig = model_field(
        HarmonizerConfig,
        help="the chord suggester's config",
        fixed=("num_features", "num_classes"),
        hidden={"help": "GRU width"},
        layers={"help": "GRU layers"},
        dropout={"help": "dropout rate"},
    )


def batch_tensors(tunes: list[HarmonyTune], device: torch.device | str = "cpu") -> tuple[torch.Tensor, ...]:
    """(features (B, S, F) float, labels (B, S) long with IGNORE padding, lengths (B,)) of some tunes."""
    longest = max(len(t.labels) for t in tunes)
    features = np.zeros((len(tunes), longest, tunes[0].features.shape[1]), dtype=np.float32)
    labels = np.full((len(tunes), longest), IGNORE, dtype=np.int64)
    for row, tune in enumerate(tunes):
        features[row, : len(tune.labels)] = tune.features
        labels[row, : len(tune.labels)] = tune.labels
    lengths = torch.tensor([len(t.labels) for t in tunes])
    return torch.as_tensor(features, device=device), torch.as_tensor(labels, device=device), lengths


@torch.no_grad()
def slot_accuracy(model: ChordSuggester, tunes: list[HarmonyTune], device: torch.device | str) -> dict[str, float]:
    """Held-out slot accuracy of the model's most likely chord: exact class and root (per source too)."""
    model.eval()
    hits: dict[str, list[int]] = {}
    roots: dict[str, list[int]] = {}
    for start in range(0, len(tunes), 64):
        chunk = tunes[start : start + 64]
        features, labels, lengths = batch_tensors(chunk, device)
        predicted = model(features, lengths).argmax(-1)
        for row, tune in enumerate(chunk):
            n = len(tune.labels)
            guess, truth = predicted[row, :n].cpu().numpy(), tune.labels
            for source in (tune.source, "all"):
                hits.setdefault(source, []).extend((guess == truth).tolist())
                roots.setdefault(source, []).extend((guess // len(QUALITIES) == truth // len(QUALITIES)).tolist())
    out: dict[str, float] = {}
    for source in hits:
        out[f"{source}_exact"] = round(float(np.mean(hits[source])), 4)
        out[f"{source}_root"] = round(float(np.mean(roots[source])), 4)
    return out


def train_harmonizer(cfg: HarmonizerTrainConfig) -> dict[str, Any]:
    """Train, validate each epoch, save the best (by held-out exact accuracy); returns the best epoch's figures."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    device = resolve_device(cfg.device)
    tunes = load_harmony_cache(cfg.data)
    train = [t for t in tunes if not t.held_out]
    val = [t for t in tunes if t.held_out]
    model = ChordSuggester(cfg.model_config(HarmonizerConfig.debug())).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = -(-len(train) // cfg.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=cfg.lr, total_steps=cfg.epochs * steps_per_epoch, pct_start=0.1
    )
    run = RunFolder(cfg.out, "harmonizer")
    start_epoch: int = 0
    best: dict[str, Any] = {"val": {"all_exact": -1.0}}
    state = run.load_state(device, cfg.resume, announce=True)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        start_epoch, best = int(state["epoch"]), json.loads(state["best"])
        rng = np.random.default_rng(cfg.seed + start_epoch)
    counts = {source: sum(t.source == source for t in tunes) for source in sorted({t.source for t in tunes})}
    started = time.time()
    for epoch in range(start_epoch + 1, cfg.epochs + 1):
        model.train()
        order = rng.permutation(len(train))
        losses = []
        for start in range(0, len(order), cfg.batch_size):
            features, labels, lengths = batch_tensors([train[i] for i in order[start : start + cfg.batch_size]], device)
            logits = model(features, lengths)
            loss = F.cross_entropy(
                logits.reshape(-1, logits.shape[-1]),
                labels.reshape(-1),
                ignore_index=IGNORE,
                label_smoothing=cfg.label_smoothing,
            )
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
        figures = slot_accuracy(model, val, device)
        row = {
            "epoch": epoch,
            "step": epoch * steps_per_epoch,
            "elapsed_s": round(time.time() - started, 1),
            "train_loss": round(float(np.mean(losses)), 4),
            **{f"val_{k}": v for k, v in figures.items()},
        }
        run.log(row, echo=True)
        if figures["all_exact"] > best["val"]["all_exact"]:
            best = {"epoch": epoch, "step": row["step"], "val": figures}
            training = {
                **cfg.record(),
                "epoch": epoch,
                "step": row["step"],
                "tunes": counts,
                "train_tunes": len(train),
                "val_tunes": len(val),
                "train_slots": int(sum(len(t.labels) for t in train)),
                "val_slots": int(sum(len(t.labels) for t in val)),
            }
            run.save_best(model, {"training": training, "validation": figures})
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
