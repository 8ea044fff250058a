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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from engine.data.latent import LatentDataset, build_latent_dataset, read_tune_windows
from engine.models.ec2vae import EC2VAE, EC2VAEConfig
from engine.models.latent import LatentBatch, LatentModelConfig, LatentSequenceModel, latent_loss
from engine.models.registry import load_ec2vae, save_latent_model, weights_fingerprint
from engine.train.distributed import Rank, barrier, launched_by_torchrun, spawn, torchrun_context, wrap_model

log = logging.getLogger(__name__)
STATE_FILE = "train_state.pt"
VALIDATION_TASKS = ("infill", "continuation", "free")
DATA_PREP_VERSION = 2  # bump when the windows, chords or features change: older caches are rebuilt


@dataclass
class LatentTrainConfig:
    data: str
    vae: str
    out: str
    epochs: int = 60
    batch_size: int = 64
    lr: float = 3e-4
    weight_decay: float = 0.01
    warmup_steps: int = 200
    transpose_low: int = -5
    transpose_high: int = 6
    max_windows: int = 16
    d_model: int = 256
    layers: int = 4
    heads: int = 4
    mixtures: int = 8
    dropout: float = 0.1
    device: str = "auto"
    resume: bool = False
    debug: bool = False
    cache: str | None = None
    workers: int = 2
    procs: int = 1
    threads: int | None = None
    seed: int = 0
    max_tunes: int | None = None


def debug_vae(seed: int = 0) -> EC2VAE:
    """The tiny untrained EC2-VAE that "debug" names everywhere (same seed, same weights)."""
    torch.manual_seed(seed)
    return EC2VAE(EC2VAEConfig.debug())


def load_vae(spec: str, device: torch.device | str = "cpu") -> EC2VAE:
    return debug_vae().to(device).eval() if spec == "debug" else load_ec2vae(spec, device)


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


def validation_batches(
    dataset: LatentDataset, max_windows: int, batch_size: int = 128, seed: int = 1234
) -> dict[str, list[LatentBatch]]:
    """Fixed held-out batches (untransposed tunes, first ``max_windows`` windows) for each validation task:
    infill (one span of 1-2 windows, rhythm latents given), continuation (the second half, rhythm latents
    given), free (every pitch latent, rhythms given as patterns only)."""
    sequences = dataset.split(validation=True, shift=0)
    if len(sequences) == 0:
        sequences = dataset.split(validation=True)
    rng = np.random.default_rng(seed)
    out: dict[str, list[LatentBatch]] = {task: [] for task in VALIDATION_TASKS}
    for lo in range(0, len(sequences), batch_size):
        base = dataset.batch(sequences[lo : lo + batch_size], max_windows, np.random.default_rng(seed + lo))
        valid = base.valid.numpy()
        rows, width = valid.shape
        lengths = valid.sum(1)
        infill = np.ones((rows, width), bool)
        continuation = np.ones((rows, width), bool)
        for i, n in enumerate(lengths):
            length = min(int(rng.integers(1, 3)), n)
            start = int(rng.integers(0, n - length + 1))
            infill[i, start : start + length] = False
            continuation[i, max(1, n // 2) : n] = False
        t = torch.from_numpy
        out["infill"].append(base.replace(known_pitch=t(infill)))
        out["continuation"].append(base.replace(known_pitch=t(continuation)))
        none = t(~valid)
        out["free"].append(base.replace(known_pitch=none, known_rhythm=none.clone()))
    return out


@torch.no_grad()
def validate(
    model: LatentSequenceModel, batches: dict[str, list[LatentBatch]], device: torch.device
) -> dict[str, float]:
    """Mean NLL (nats per dimension) of the masked latents, per task, and their mean ("loss")."""
    model.eval()
    out: dict[str, float] = {}
    for task, items in batches.items():
        sums = {"pitch_nll": 0.0, "rhythm_nll": 0.0}
        counts = {"pitch_nll": 0.0, "rhythm_nll": 0.0}
        for batch in items:
            batch = batch.to(device)
            pitch, rhythm = model(batch)
            for name, mixture, target, known in (
                ("pitch_nll", pitch, batch.z_pitch, batch.known_pitch),
                ("rhythm_nll", rhythm, batch.z_rhythm, batch.known_rhythm),
            ):
                mask = (~known & batch.valid).float()
                sums[name] += (mixture.nll(target) * mask).sum().item()
                counts[name] += mask.sum().item()
        for name in sums:
            if counts[name]:
                out[f"{task}_{name}"] = sums[name] / counts[name]
    out["loss"] = float(
        np.mean(
            [out[f"{task}_pitch_nll"] for task in batches] + [v for k, v in out.items() if k.endswith("rhythm_nll")]
        )
    )
    return out


# ------------------------------------------------------------------ data
def load_dataset(cfg: LatentTrainConfig, vae: EC2VAE, announce: bool = True) -> tuple[LatentDataset, dict]:
    """Encode the tunes under cfg.data with the VAE (or read the cache made for the same VAE and transpositions)."""
    fingerprint = "debug" if cfg.vae == "debug" else weights_fingerprint(cfg.vae)
    meta = {
        "prep_version": DATA_PREP_VERSION,
        "data": str(cfg.data),
        "vae": str(cfg.vae),
        "vae_fingerprint": fingerprint,
        "transpose": [cfg.transpose_low, cfg.transpose_high],
        "max_tunes": cfg.max_tunes,
    }
    cache = Path(cfg.cache) if cfg.cache else None
    if cache is not None and cache.exists() and cache.with_suffix(".json").exists():
        if json.loads(cache.with_suffix(".json").read_text()) == meta:
            dataset = LatentDataset.load(cache)
            return dataset, _data_stats(dataset, meta, cached=str(cache))
        if announce:
            print(f"cache {cache} was made for other data or another VAE: rebuilding it", flush=True)
    tunes = read_tune_windows(cfg.data, workers=cfg.workers)
    if cfg.max_tunes:
        tunes = tunes[: cfg.max_tunes]
    dataset = build_latent_dataset(tunes, vae, (cfg.transpose_low, cfg.transpose_high))
    if cache is not None:
        dataset.save(cache)
        cache.with_suffix(".json").write_text(json.dumps(meta))
    return dataset, _data_stats(dataset, meta)


def _data_stats(dataset: LatentDataset, meta: dict, cached: str | None = None) -> dict:
    shift0 = dataset.seq_shift == dataset.seq_shift.min()
    stats = {
        **meta,
        "tunes": int(shift0.sum()),
        "train_tunes": int((shift0 & ~dataset.seq_validation).sum()),
        "val_tunes": int((shift0 & dataset.seq_validation).sum()),
        "windows_per_transposition": int(dataset.seq_length[shift0].sum()),
        "transpositions": int(len(np.unique(dataset.seq_shift))),
    }
    if cached:
        stats["cached"] = cached
    return stats


# ------------------------------------------------------------------ training
def train(cfg: LatentTrainConfig) -> dict:
    """Train alone, as ``cfg.procs`` CPU processes, or as one rank of a torchrun job."""
    from engine.models.device import resolve_device

    if launched_by_torchrun():
        with torchrun_context(cfg.device) as rank:
            vae = load_vae(cfg.vae, rank.device)
            if not rank.is_main:
                barrier(rank)  # rank 0 encodes and caches first
            dataset, stats = load_dataset(cfg, vae, announce=rank.is_main)
            if rank.is_main:
                barrier(rank)
            return _train_rank(cfg, dataset, stats, rank)
    device = resolve_device(cfg.device)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    vae = load_vae(cfg.vae, device)
    dataset, stats = load_dataset(cfg, vae)
    if cfg.procs > 1 and device.type == "cpu":
        spawn(_train_rank, cfg.procs, (cfg, dataset, stats), threads=cfg.threads)
        history = [json.loads(line) for line in (Path(cfg.out) / "train_log.jsonl").read_text().splitlines()]
        return {
            "best_val_loss": min((r["val_loss"] for r in history), default=float("inf")),
            "history": history,
            "data": stats,
        }
    return _train_rank(cfg, dataset, stats, Rank(0, 1, device))


def model_config(cfg: LatentTrainConfig, dataset: LatentDataset) -> LatentModelConfig:
    z_pitch, z_rhythm = dataset.z_pitch.shape[1], dataset.z_rhythm.shape[1]
    if cfg.debug:
        return LatentModelConfig.debug(z_pitch, z_rhythm)
    return LatentModelConfig(
        z_pitch=z_pitch,
        z_rhythm=z_rhythm,
        d_model=cfg.d_model,
        layers=cfg.layers,
        heads=cfg.heads,
        ff=4 * cfg.d_model,
        dropout=cfg.dropout,
        max_windows=cfg.max_windows,
        mixtures=cfg.mixtures,
    )


def _lr_factor(step: int, total: int, warmup: int) -> float:
    """Linear warm-up, then cosine decay to a tenth."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))


def _train_rank(cfg: LatentTrainConfig, dataset: LatentDataset, stats: dict, where: Rank) -> dict:
    """The loop of one process; rank 0 validates, logs and saves."""
    torch.manual_seed(cfg.seed + where.rank)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    device = where.device
    model = LatentSequenceModel(model_config(cfg, dataset)).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    train_sequences = dataset.split(validation=False)
    steps_per_epoch = max(1, len(train_sequences) // cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: _lr_factor(s, total_steps, cfg.warmup_steps))
    start_epoch, best, history, step = 0, float("inf"), [], 0
    state_path = out / STATE_FILE
    if cfg.resume and state_path.exists():
        state = torch.load(state_path, map_location=device, weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, best, step = int(state["epoch"]), float(state["best"]), int(state["step"])
        history = json.loads(state["history"])
        if where.is_main:
            print(f"resumed from {state_path} at epoch {start_epoch}", flush=True)
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
            metrics = validate(model, val_batches, device)
            record = {
                "epoch": epoch + 1,
                "step": step,
                "lr": round(scheduler.get_last_lr()[0], 7),
                "elapsed_s": round(time.time() - started, 1),
                **{f"train_{k}": round(v / len(batches), 4) for k, v in sums.items()},
                **{f"val_{k}": round(v, 4) for k, v in metrics.items()},
            }
            history.append(record)
            print(json.dumps(record), flush=True)
            with open(out / "train_log.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")
            if metrics["loss"] < best:
                best = metrics["loss"]
                save_latent_model(
                    model,
                    out,
                    {
                        "vae": {"path": str(cfg.vae), "fingerprint": stats["vae_fingerprint"]},
                        "training": {
                            "data": str(cfg.data),
                            "epoch": epoch + 1,
                            "step": step,
                            "data_stats": stats,
                            "batch_size": cfg.batch_size,
                            "lr": cfg.lr,
                            "weight_decay": cfg.weight_decay,
                            "transpose": [cfg.transpose_low, cfg.transpose_high],
                            "processes": where.world,
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
        barrier(where)
    return {"best_val_loss": best, "history": history, "data": stats}
