"""Across corpora (``python -m engine.evaluate cross-corpus``): the held-out loss of latent models trained on
different corpora, on each corpus (the Deep_Music_Generator question: does one genre's model generalise?)."""

from __future__ import annotations

from engine.paths import DATA_CACHE_DIR

DATA = (
    "one folder of tunes per corpus (--data NAME=DIR, repeated); each is encoded with the EC2-VAE once and kept in "
    "--cache-dir (latent_NAME.npz)"
)


def evaluate_cross_corpus(
    models: dict[str, str],
    corpora: dict[str, str],
    vae: str | None = None,
    cache_dir: str | None = str(DATA_CACHE_DIR),
    device: str = "auto",
) -> dict:
    """Held-out NLL of every latent model on every corpus (the Deep_Music_Generator question: does one
    genre's model generalise to another?). ``models`` and ``corpora`` map names to checkpoint and data
    folders; each corpus is encoded with the same EC2-VAE (cached as ``cache_dir/latent_<name>.npz``) and
    judged on its own validation tunes, untransposed, with the fixed masks of the training validation."""
    from pathlib import Path

    from engine.data.latent import load_latent_dataset
    from engine.eval.metrics.latent import held_out_nll, validation_batches
    from engine.models.device import resolve_device
    from engine.models.registry import load_ec2vae, load_latent_model
    from engine.paths import default_checkpoint

    resolved = resolve_device(device)
    vae_path = str(vae or default_checkpoint("ec2vae"))
    vae_model = load_ec2vae(vae_path, resolved)
    loaded, trained = {}, {}
    for name, path in models.items():
        loaded[name], meta = load_latent_model(path, resolved)
        training = meta.get("training", {})
        trained[name] = {
            "path": str(path),
            "data": training.get("data"),
            "epoch": training.get("epoch"),
            "step": training.get("step"),
            "train_tunes": training.get("data_stats", {}).get("train_tunes"),
        }
    out: dict = {"task": "cross_corpus", "vae": vae_path, "models": trained, "corpora": {}, "loss": {}, "tasks": {}}
    for corpus, data in corpora.items():
        cache = str(Path(cache_dir) / f"latent_{corpus}.npz") if cache_dir else None
        # Judged untransposed only, so the tunes are encoded at shift 0 alone (the figures do not depend on the
        # training's transpositions, and encoding is 12 times quicker).
        dataset, stats = load_latent_dataset(str(data), vae_model, vae_path, (0, 0), cache, announce=False)
        out["corpora"][corpus] = {
            "data": str(data),
            "val_tunes": stats["val_tunes"],
            "train_tunes": stats["train_tunes"],
        }
        for name, model in loaded.items():
            batches = validation_batches(dataset, model.config.max_windows)
            figures = held_out_nll(model, batches, resolved)
            out["loss"].setdefault(name, {})[corpus] = round(figures["loss"], 4)
            out["tasks"].setdefault(name, {})[corpus] = {k: round(v, 4) for k, v in figures.items() if k != "loss"}
    return out
