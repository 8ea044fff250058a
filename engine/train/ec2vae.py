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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from engine.data.windows import WindowSet, build_windows, make_rhythm, transpose_batch
from engine.models.ec2vae import EC2VAE, EC2VAEConfig, ec2vae_loss
from engine.models.registry import save_ec2vae
from engine.train.distributed import Rank, barrier, launched_by_torchrun, spawn, torchrun_context, wrap_model

log = logging.getLogger(__name__)
STATE_FILE = "train_state.pt"


@dataclass
class TrainConfig:
    data: str
    out: str
    epochs: int = 40
    batch_size: int = 128
    lr: float = 1e-3
    lr_decay: float = 0.95
    kl_weight: float = 0.1
    tf_start: float = 1.0
    tf_end: float = 0.5
    transpose_low: int = -5
    transpose_high: int = 6
    hidden: int = 256
    z_dims: int = 128
    device: str = "auto"
    resume: bool = False
    debug: bool = False
    max_train_windows: int | None = None
    seed: int = 0
    cache: str | None = None
    workers: int = 2
    procs: int = 1
    threads: int | None = None


@torch.no_grad()
def reconstruction_accuracy(
    model: EC2VAE, windows: WindowSet, device: torch.device, batch_size: int = 512
) -> dict[str, float]:
    """Per-step accuracy of posterior-mean, greedy, free-running reconstructions."""
    model.eval()
    pitch_hits = rhythm_hits = onset_pitch_hits = onsets = total = 0
    for lo in range(0, len(windows), batch_size):
        tokens = torch.from_numpy(windows.tokens[lo : lo + batch_size]).to(device)
        chroma = torch.from_numpy(windows.chroma[lo : lo + batch_size]).to(device)
        rhythm = make_rhythm(tokens)
        predicted, predicted_rhythm = model.reconstruct(tokens, chroma)
        pitch_hits += (predicted == tokens).sum().item()
        rhythm_hits += (predicted_rhythm == rhythm).sum().item()
        is_onset = tokens < 128
        onset_pitch_hits += ((predicted == tokens) & is_onset).sum().item()
        onsets += is_onset.sum().item()
        total += tokens.numel()
    return {
        "pitch_accuracy": pitch_hits / total,
        "rhythm_accuracy": rhythm_hits / total,
        "onset_pitch_accuracy": onset_pitch_hits / max(onsets, 1),
    }


def train(cfg: TrainConfig) -> dict:
    """Train EC2-VAE: alone, as ``cfg.procs`` data-parallel CPU processes (DDP, gloo), or as one
    rank of a torchrun job (``torchrun --nnodes N --nproc_per_node M -m engine.train ec2vae ...``).

    On a small CPU, N single-threaded processes each taking 1/N of every batch beat one
    process with N intra-op threads: the GRU's matrices are small, so threads spend their
    time synchronising (and collapse when anything else runs), while DDP only averages
    gradients once per step.
    """
    from engine.models.device import resolve_device

    if launched_by_torchrun():
        with torchrun_context(cfg.device) as rank:
            # Rank 0 parses (and writes the cache) first, so the others read the cache instead of racing it.
            if not rank.is_main:
                barrier(rank)
            train_set, val_set, stats = _load_data(cfg, announce=rank.is_main)
            if rank.is_main:
                barrier(rank)
            return _train_rank(cfg, train_set, val_set, stats, rank)
    device = resolve_device(cfg.device)
    train_set, val_set, stats = _load_data(cfg)
    if cfg.procs > 1 and device.type == "cpu":
        spawn(_train_rank, cfg.procs, (cfg, train_set, val_set, stats), threads=cfg.threads)
        history = [json.loads(line) for line in (Path(cfg.out) / "train_log.jsonl").read_text().splitlines()]
        best = max(r["val_pitch_accuracy"] for r in history) if history else -1.0
        return {"best_val_pitch_accuracy": best, "history": history, "data": stats}
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    return _train_rank(cfg, train_set, val_set, stats, Rank(0, 1, device))


def _load_data(cfg: TrainConfig, announce: bool = True) -> tuple[WindowSet, WindowSet, dict]:
    train_set, val_set, stats = build_windows(cfg.data, cache=cfg.cache, workers=cfg.workers)
    if cfg.max_train_windows:
        n = cfg.max_train_windows
        train_set = WindowSet(train_set.tokens[:n], train_set.chroma[:n], train_set.tune[:n])
        val_set = WindowSet(val_set.tokens[:n], val_set.chroma[:n], val_set.tune[:n])
    if announce:
        print(f"data: {len(train_set)} training windows, {len(val_set)} validation windows ({stats})", flush=True)
    return train_set, val_set, stats


def _train_rank(cfg: TrainConfig, train_set: WindowSet, val_set: WindowSet, stats: dict, where: Rank) -> dict:
    """The training loop of one process. Rank 0 validates, logs and saves; with world > 1
    every rank takes its share of each batch and DDP averages the gradients."""
    rank, world, device = where.rank, where.world, where.device
    # Same seed everywhere for the choices all ranks must share (teacher forcing per batch,
    # batch order); a per-rank seed for transposition and latent noise.
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed + rank)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    is_main = rank == 0

    model_config = (
        EC2VAEConfig.debug()
        if cfg.debug
        else EC2VAEConfig(encoder_hidden=cfg.hidden, decoder_hidden=cfg.hidden, z_pitch=cfg.z_dims, z_rhythm=cfg.z_dims)
    )
    model = EC2VAE(model_config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=cfg.lr_decay)
    start_epoch, best, history, step = 0, -1.0, [], 0
    state_path = out / STATE_FILE
    if cfg.resume and state_path.exists():
        state = torch.load(state_path, map_location=device, weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, best, step = int(state["epoch"]), float(state["best"]), int(state["step"])
        history = json.loads(state["history"])
        if is_main:
            print(f"resumed from {state_path} at epoch {start_epoch}", flush=True)
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
            print(json.dumps(record), flush=True)
            with open(out / "train_log.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")
            if metrics["pitch_accuracy"] > best:
                best = metrics["pitch_accuracy"]
                save_ec2vae(
                    model,
                    out,
                    {
                        "training": {
                            "data": str(cfg.data),
                            "epoch": epoch + 1,
                            "step": step,
                            "data_stats": stats,
                            "batch_size": cfg.batch_size,
                            "lr": cfg.lr,
                            "kl_weight": cfg.kl_weight,
                            "transpose": [cfg.transpose_low, cfg.transpose_high],
                            "processes": world,
                        },
                        "validation": {k: round(v, 4) for k, v in metrics.items()},
                    },
                )
            torch.save(
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "epoch": epoch + 1,
                    "best": best,
                    "step": step,
                    "history": json.dumps(history),
                },
                state_path,
            )
        barrier(where)  # the others wait while rank 0 validates and saves
    return {"best_val_pitch_accuracy": best, "history": history, "data": stats}
