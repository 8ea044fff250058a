"""EC2-VAE training loop: Adam, batch 128, loss = pitch CE + rhythm CE + 0.1 KL, teacher forcing annealed.

Teacher forcing is annealed per batch: a batch is teacher-forced with probability
p (annealed from ``tf_start`` to ``tf_end``), else decoded free-running. Every epoch
the model is validated with the posterior mean, greedy decoding and no teacher
forcing on held-out tunes; the best epoch is saved as the checkpoint.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from engine.data.windows import WindowSet, build_windows, make_rhythm, transpose_batch
from engine.eval.metrics.ec2vae import reconstruction_accuracy
from engine.models.ec2vae import EC2VAE, EC2VAEConfig, ec2vae_loss
from engine.paths import default_checkpoint
from engine.pipelines.decoding import EC2VAEGenerationConfig
from engine.train.common import ParallelTrainConfig, RunFolder, launch, model_field
from engine.train.distributed import Rank, barrier, wrap_model

log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class EC2VAETrainConfig(ParallelTrainConfig[EC2VAEConfig]):
    """EC2-VAE's training settings (``python -m engine.train ec2vae``)."""

    data: str = field(metadata={"help": "folder of .mid/.midi/.abc files (searched recursively)"})
    out: str = str(default_checkpoint("ec2vae"))
    epochs: int = 40
    batch_size: int = 128
    lr: float = 1e-3
    transpose_low: int = field(
        default=-5,
        metadata={"help": "random transposition range in semitones (augmentation); 0 0 turns it off"},
    )
    lr_decay: float = field(default=0.95, metadata={"help": "learning-rate factor per epoch"})
    kl_weight: float = field(default=0.1, metadata={"help": "weight of the KL terms in the loss"})
    tf_start: float = field(default=1.0, metadata={"help": "teacher-forcing probability at the start"})
    tf_end: float = field(default=0.5, metadata={"help": "teacher-forcing probability at the end"})
    max_train_windows: int | None = field(default=None, metadata={"help": "use only the first N windows (quick runs)"})
    cache: str | None = field(default=None, metadata={"help": "cache parsed windows in this .npz file"})
    # Training has always used 256 hidden units (EC2VAEConfig's own default is 512).
    model: EC2VAEConfig = model_field(
        lambda: EC2VAEConfig(encoder_hidden=256, decoder_hidden=256, z_pitch=128, z_rhythm=128),
        help="EC2-VAE's config",
        fixed=("num_steps", "num_tokens", "chord_dims", "num_rhythm"),
        encoder_hidden={"help": "GRU units of the encoder"},
        decoder_hidden={"help": "GRU units of the decoders"},
        z_pitch={"help": "size of the pitch latent"},
        z_rhythm={"help": "size of the rhythm latent"},
    )


def train(cfg: EC2VAETrainConfig) -> dict[str, Any]:
    """Train EC2-VAE: alone, as ``cfg.procs`` data-parallel CPU processes (DDP, gloo), or as one
    rank of a torchrun job (``torchrun --nnodes N --nproc_per_node M -m engine.train ec2vae ...``).

    On a small CPU, N single-threaded processes each taking 1/N of every batch beat one
    process with N intra-op threads: the GRU's matrices are small, so threads spend their
    time synchronising (and collapse when anything else runs), while DDP only averages
    gradients once per step.
    """

    def summarise(history: list[dict[str, Any]], data: tuple[Any, ...]) -> dict[str, Any]:
        best = max(r["val_pitch_accuracy"] for r in history) if history else -1.0
        return {"best_val_pitch_accuracy": best, "history": history, "data": data[-1]}

    return launch(cfg, lambda device, announce: _load_data(cfg, announce), _train_rank, summarise)


def _load_data(cfg: EC2VAETrainConfig, announce: bool = True) -> tuple[WindowSet, WindowSet, dict]:
    train_set, val_set, stats = build_windows(cfg.data, cache=cfg.cache, workers=cfg.workers)
    if cfg.max_train_windows:
        n = cfg.max_train_windows
        train_set = WindowSet(train_set.tokens[:n], train_set.chroma[:n], train_set.tune[:n])
        val_set = WindowSet(val_set.tokens[:n], val_set.chroma[:n], val_set.tune[:n])
    if announce:
        print(f"data: {len(train_set)} training windows, {len(val_set)} validation windows ({stats})", flush=True)
    return train_set, val_set, stats


def _train_rank(
    cfg: EC2VAETrainConfig, train_set: WindowSet, val_set: WindowSet, stats: dict, where: Rank
) -> dict[str, Any]:
    """The training loop of one process. Rank 0 validates, logs and saves; with world > 1
    every rank takes its share of each batch and DDP averages the gradients."""
    rank, world, device = where.rank, where.world, where.device
    # Same seed everywhere for the choices all ranks must share (teacher forcing per batch,
    # batch order); a per-rank seed for transposition and latent noise.
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed + rank)
    run = RunFolder(cfg.out, "ec2vae", EC2VAEGenerationConfig())
    is_main = rank == 0

    model = EC2VAE(cfg.model_config(EC2VAEConfig.debug())).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=cfg.lr_decay)
    start_epoch, best, history, step = 0, -1.0, [], 0
    state = run.load_state(device, cfg.resume, announce=is_main)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, best, step = int(state["epoch"]), float(state["best"]), int(state["step"])
        history = json.loads(state["history"])
    for _ in range(step):  # after a resume, continue the shared random stream where an unbroken run would be
        random.random()
    forward = wrap_model(model, where)

    tokens_all = torch.from_numpy(train_set.tokens)
    chroma_all = torch.from_numpy(train_set.chroma)
    started = time.time()
    for epoch in range(start_epoch, cfg.epochs):
        model.train()
        progress = epoch / max(cfg.epochs - 1, 1)
        tf_ratio = cfg.tf_start + (cfg.tf_end - cfg.tf_start) * progress
        order = torch.randperm(len(train_set), generator=torch.Generator().manual_seed(cfg.seed * 100_003 + epoch))
        sums: dict[str, float] = {}
        batches = [order[lo : lo + cfg.batch_size] for lo in range(0, len(order), cfg.batch_size)]
        batches = [b for b in batches if len(b) >= world]
        bar = tqdm(batches, desc=f"epoch {epoch + 1}/{cfg.epochs}", unit="batch", mininterval=5.0, disable=not is_main)
        for batch in bar:
            index = batch[rank::world]
            shifts = torch.randint(cfg.transpose_low, cfg.transpose_high + 1, (len(index),))
            tokens, chroma = transpose_batch(tokens_all[index], chroma_all[index], shifts)
            tokens, chroma = tokens.to(device), chroma.to(device)
            rhythm = make_rhythm(tokens)
            teacher_forcing = random.random() < tf_ratio
            losses = ec2vae_loss(
                forward(tokens, chroma, rhythm, teacher_forcing=teacher_forcing), tokens, rhythm, cfg.kl_weight
            )
            optimizer.zero_grad(set_to_none=True)
            losses["loss"].backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            step += 1
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + v.item()
            bar.set_postfix(loss=f"{losses['loss'].item():.3f}", tf=f"{tf_ratio:.2f}", refresh=False)
        scheduler.step()
        if is_main:
            n_batches = len(batches)
            metrics = reconstruction_accuracy(model, val_set, device)
            record = {
                "epoch": epoch + 1,
                "step": step,
                "tf_ratio": round(tf_ratio, 3),
                "elapsed_s": round(time.time() - started, 1),
                **{f"train_{k}": round(v / n_batches, 4) for k, v in sums.items()},
                **{f"val_{k}": round(v, 4) for k, v in metrics.items()},
            }
            history.append(record)
            run.log(record, echo=True)
            if metrics["pitch_accuracy"] > best:
                best = metrics["pitch_accuracy"]
                training = {
                    "data": str(cfg.data),
                    "epoch": epoch + 1,
                    "step": step,
                    "data_stats": stats,
                    "batch_size": cfg.batch_size,
                    "lr": cfg.lr,
                    "kl_weight": cfg.kl_weight,
                    "transpose": [cfg.transpose_low, cfg.transpose_high],
                    "processes": world,
                }
                run.save_best(model, {"training": training, "validation": {k: round(v, 4) for k, v in metrics.items()}})
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
        barrier(where)  # the others wait while rank 0 validates and saves
    return {"best_val_pitch_accuracy": best, "history": history, "data": stats}
