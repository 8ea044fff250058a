"""Training loop of the latent sequence model (AmMGM-style masked prediction of EC2-VAE latents).

    python -m engine.train latent --vae checkpoints/ec2vae --data DIR --out checkpoints/latent

Every batch masks windows in one of the ways the studio later asks for them
(:func:`mask_batch`): random spans (infill), the future (continuation), everything
(free generation), or scattered windows (what is left half-way through filling a
sequence one window at a time). The rhythm is, per sequence, fully known as latents
(AmMGM's setting), known only as a drawn pattern (Compose, a block with a new
rhythm), or unknown. The loss is the mixture NLL of the masked latents.
Every epoch the model is validated on held-out tunes (untransposed) with fixed masks
for three tasks (infill, continuation, free generation over given rhythms); the best
epoch is saved. Data-parallel like EC2-VAE's training (see engine.train.distributed).
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from engine.data.latent import LatentDataset, load_latent_dataset
from engine.eval.metrics.latent import held_out_nll, validation_batches
from engine.models.latent import LatentBatch, LatentModelConfig, LatentSequenceModel, latent_loss
from engine.models.registry import load_ec2vae
from engine.paths import default_checkpoint
from engine.pipelines.decoding import LatentGenerationConfig
from engine.train.common import ParallelTrainConfig, RunFolder, launch, model_field
from engine.train.distributed import Rank, barrier, wrap_model

log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class LatentTrainConfig(ParallelTrainConfig[LatentModelConfig]):
    """The latent sequence model's training settings (``python -m engine.train latent``)."""

    data: str = field(metadata={"help": "folder of .mid/.midi/.abc files (searched recursively)"})
    out: str = str(default_checkpoint("latent"))
    epochs: int = 60
    batch_size: int = field(default=64, metadata={"help": "sequences per step (split across processes)"})
    lr: float = 3e-4
    transpose_low: int = field(
        default=-5,
        metadata={"help": "every tune is encoded at each transposition in LOW..HIGH semitones; 0 0 turns it off"},
    )
    vae: str = field(
        metadata={"help": "EC2-VAE checkpoint folder whose latents the model learns ('debug': the tiny untrained one)"}
    )
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW's weight decay"})
    warmup_steps: int = field(default=200, metadata={"help": "steps of linear learning-rate warm-up"})
    cache: str | None = field(
        default=None, metadata={"help": "keep the encoded latents in this .npz file (reused for the same data and VAE)"}
    )
    max_tunes: int | None = field(default=None, metadata={"help": "use only the first N tunes (quick runs)"})
    # ff 0: four times d_model (the latent sizes come from the VAE).
    model: LatentModelConfig = model_field(
        lambda: LatentModelConfig(ff=0),
        help="the latent sequence model's config",
        fixed=("z_pitch", "z_rhythm", "beats", "steps"),
        d_model={"help": "width of the transformer"},
        layers={"help": "transformer layers"},
        heads={"help": "attention heads"},
        ff={"help": "feed-forward width (0: 4 x d-model)"},
        dropout={"help": "dropout rate"},
        max_windows={"help": "longest sequence in 2-bar windows (16 = 32 bars)"},
        mixtures={"help": "Gaussian components of the mixture density heads"},
    )


# ------------------------------------------------------------------ masks
def mask_batch(batch: LatentBatch, rng: np.random.Generator) -> LatentBatch:
    """Choose, per sequence, which latents the model must predict (see the module docstring)."""
    valid = batch.valid.numpy()
    rows, width = valid.shape
    known_p = np.ones((rows, width), bool)
    known_r = np.ones((rows, width), bool)
    known_c = np.ones((rows, width), bool)
    for i in range(rows):
        n = int(valid[i].sum())
        masked = np.zeros(n, bool)
        u = rng.random()
        if u < 0.3:  # one or two spans: infill
            for _ in range(int(rng.integers(1, 3))):
                length = int(rng.integers(1, max(1, n // 2) + 1))
                start = int(rng.integers(0, n - length + 1))
                masked[start : start + length] = True
        elif u < 0.55 and n > 1:  # the future: continuation
            masked[int(rng.integers(1, n)) :] = True
        elif u < 0.8:  # everything: free generation
            masked[:] = True
        else:  # scattered: part-way through filling a sequence window by window
            masked = rng.random(n) < rng.uniform(0.2, 0.9)
        if not masked.any():
            masked[int(rng.integers(n))] = True
        known_p[i, :n] = ~masked
        scenario, already = rng.random(), rng.random()
        if scenario < 0.4:
            continue  # every rhythm latent given (AmMGM)
        sampled = rng.random(n) < already  # rhythm latents filled in earlier during sampling
        known_r[i, :n] = ~masked | sampled
        if scenario >= 0.75:
            known_c[i, :n] = ~masked  # no rhythm given for the masked windows
    t = torch.from_numpy
    return batch.replace(known_pitch=t(known_p), known_rhythm=t(known_r), known_pattern=t(known_c))


# ------------------------------------------------------------------ training
def train(cfg: LatentTrainConfig) -> dict[str, Any]:
    """Train alone, as ``cfg.procs`` CPU processes, or as one rank of a torchrun job."""

    def load(device: torch.device, announce: bool) -> tuple[LatentDataset, dict]:
        # rank 0 encodes and caches first
        return load_latent_dataset(
            str(cfg.data),
            load_ec2vae(cfg.vae, device),
            cfg.vae,
            (cfg.transpose_low, cfg.transpose_high),
            cache=cfg.cache,
            max_tunes=cfg.max_tunes,
            workers=cfg.workers,
            announce=announce,
        )

    def summarise(history: list[dict[str, Any]], data: tuple[Any, ...]) -> dict[str, Any]:
        best = min((r["val_loss"] for r in history), default=float("inf"))
        return {"best_val_loss": best, "history": history, "data": data[-1]}

    return launch(cfg, load, _train_rank, summarise)


def model_config(cfg: LatentTrainConfig, dataset: LatentDataset) -> LatentModelConfig:
    """The model to train: ``cfg.model`` (or, with ``debug``, the tiny preset) over the VAE's latent sizes."""
    z_pitch, z_rhythm = dataset.z_pitch.shape[1], dataset.z_rhythm.shape[1]
    model = cfg.model_config(LatentModelConfig.debug(z_pitch, z_rhythm), z_pitch=z_pitch, z_rhythm=z_rhythm)
    return model if model.ff else replace(model, ff=4 * model.d_model)


def _lr_factor(step: int, total: int, warmup: int) -> float:
    """Linear warm-up, then cosine decay to a tenth."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))


def _train_rank(cfg: LatentTrainConfig, dataset: LatentDataset, stats: dict, where: Rank) -> dict[str, Any]:
    """The loop of one process; rank 0 validates, logs and saves."""
    torch.manual_seed(cfg.seed + where.rank)
    run = RunFolder(cfg.out, "latent", LatentGenerationConfig())
    device = where.device
    model = LatentSequenceModel(model_config(cfg, dataset)).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    train_sequences = dataset.split(validation=False)
    steps_per_epoch = max(1, len(train_sequences) // cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: _lr_factor(s, total_steps, cfg.warmup_steps))
    start_epoch, best, history, step = 0, float("inf"), [], 0
    state = run.load_state(device, cfg.resume, announce=where.is_main)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, best, step = int(state["epoch"]), float(state["best"]), int(state["step"])
        history = json.loads(state["history"])
    forward = wrap_model(model, where)
    val_batches = validation_batches(dataset, model.config.max_windows) if where.is_main else {}
    if where.is_main:
        params = sum(p.numel() for p in model.parameters())
        print(
            f"data: {len(train_sequences)} training sequences, {stats.get('val_tunes')} validation tunes; "
            f"model: {params / 1e6:.2f} M parameters; {steps_per_epoch} steps per epoch",
            flush=True,
        )
    started = time.time()
    for epoch in range(start_epoch, cfg.epochs):
        model.train()
        # Same order on every rank (seeded by epoch); each rank masks its own share.
        order = np.random.default_rng(cfg.seed * 100_003 + epoch).permutation(train_sequences)
        rng = np.random.default_rng((cfg.seed, epoch, where.rank))
        sums: dict[str, float] = {}
        batches = [order[i * cfg.batch_size : (i + 1) * cfg.batch_size] for i in range(steps_per_epoch)]
        bar = tqdm(
            batches, desc=f"epoch {epoch + 1}/{cfg.epochs}", unit="batch", mininterval=5.0, disable=not where.is_main
        )
        for sequences in bar:
            share = sequences[where.rank :: where.world]
            batch = mask_batch(dataset.batch(share, model.config.max_windows, rng), rng).to(device)
            pitch, rhythm = forward(batch)
            losses = latent_loss(pitch, rhythm, batch)
            optimizer.zero_grad(set_to_none=True)
            losses["loss"].backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + v.item()
            bar.set_postfix(loss=f"{losses['loss'].item():.3f}", refresh=False)
        if where.is_main:
            metrics = held_out_nll(model, val_batches, device)
            record = {
                "epoch": epoch + 1,
                "step": step,
                "lr": round(float(scheduler.get_last_lr()[0]), 7),
                "elapsed_s": round(time.time() - started, 1),
                **{f"train_{k}": round(v / len(batches), 4) for k, v in sums.items()},
                **{f"val_{k}": round(v, 4) for k, v in metrics.items()},
            }
            history.append(record)
            run.log(record, echo=True)
            if metrics["loss"] < best:
                best = metrics["loss"]
                training = {
                    "data": str(cfg.data),
                    "epoch": epoch + 1,
                    "step": step,
                    "data_stats": stats,
                    "batch_size": cfg.batch_size,
                    "lr": cfg.lr,
                    "weight_decay": cfg.weight_decay,
                    "transpose": [cfg.transpose_low, cfg.transpose_high],
                    "processes": where.world,
                }
                run.save_best(
                    model,
                    {
                        "vae": {"path": str(cfg.vae), "fingerprint": stats["vae_fingerprint"]},
                        "training": training,
                        "validation": {k: round(v, 4) for k, v in metrics.items()},
                    },
                )
            run.save_state(
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "epoch": epoch + 1,
                    "best": best,
                    "step": step,
                    "history": json.dumps(history),
                }
            )
        barrier(where)
    return {"best_val_loss": best, "history": history, "data": stats}
