"""How well the style models do (``python -m engine.evaluate style``).

On the held-out pieces of the style cache (split by piece, as in training):

* ``judge_accuracy_real``: the style judge on real held-out windows (overall, balanced, per style);
* ``recon_accuracy_musae`` / ``recon_accuracy_vae``: greedy reconstruction (decoded from the code
  alone) of up to ``recon_windows`` held-out windows: share of steps right per track and mean, and
  ``onset_accuracy``, the share of the real onsets decoded with their exact pitch (holds and rests
  are most steps, so the first figure flatters);
* ``sample_style_accuracy_musae``: share of ``samples`` windows per style, drawn from that style's
  prior component narrowed to its generation config's ``prior_scale`` and decoded at its temperature (one
  draw each: the model's own figure as the studio samples it), that the judge assigns to the style
  asked for; ``sample_style_accuracy_musae_full_prior``: the same from the whole component;
* ``sample_style_accuracy_musae_checked``: the same for what the studio delivers, the pipeline's
  draw and check (the best of ``candidates`` chains by the same judge, so this figure is partly
  the judge agreeing with itself: read the first one as the model's quality);
* ``sample_style_accuracy_musae_by_temperature``: the first-draw figure (mean over styles, another
  seed) at each of ``TEMPERATURES``, greedy (0) to the model's own distribution (1), and
  ``..._by_prior_scale`` at each of ``PRIOR_SCALES`` (yet another seed);
* ``transfer_style_accuracy``: held-out windows of every other style encoded, moved all the way
  (strength 1) to a target style's component and decoded with its code, judged as the target;
* ``latent_style_purity``: k-NN (k=5) style accuracy of held-out encodings against training
  encodings (the means, for the VAE).

With the style GAN (``gan_dir``):

* ``sample_style_accuracy_gan``: share of ``samples`` windows per style generated with no
  conditions (no chords, no previous window: a piece's first window, one draw each) at the
  pipeline's temperature that the judge assigns to the style asked for;
* ``sample_style_accuracy_gan_checked``: the same through the GAN pipeline's draw and check
  (as MusAE's ``_checked`` figure, and as partly the judge agreeing with itself);
* ``musegan_metrics`` (also without the GAN, when MusAE is given): per style, MuseGAN's metrics
  (engine.eval.metrics.musegan: empty-bar rate, used pitch classes, qualified-note rate per track, tonal
  distance per track pair) of up to ``metric_windows`` (300) real held-out windows, of as many
  of MusAE's and the GAN's samples (drawn as for the first-draw accuracies, with their own seeds),
  of up to as many other real held-out windows (``real_again``: real music scored like a model;
  a style with fewer held-out windows splits them in two halves), and of as many training windows
  (``real_training``: what the models learnt from, scored like a model; the held-out pieces differ
  from the training pieces, so this is the most a perfect model of the training data could score);
  ``within_25_percent`` flags
  per figure (|generated - real| <= 25% of |real|, so a real 0 needs a generated 0), and, since a style's real
  figure depends on which pieces were held out, ``real_interval`` (each real figure's 95% interval when the held-out
  pieces behind the real windows are drawn again, ``BOOTSTRAP_ROUNDS`` times) and ``within_25_percent_of_interval``
  flags (within 25% of some value in it) with their ``within_25_percent_of_interval_share``;
  ``in_scale_share``, ``stepwise_share`` and ``repeat_share`` per source (engine.eval.metrics.musegan:
  the share of a window's onsets in its best diatonic scale, and of the top voice's intervals of
  1-2 semitones and of 0; beside the 25% flags, not among them); and
  ``chord_tone_share``: the GAN's windows generated over the real windows' own chords (chroma per
  beat, as in training) against the real windows, with the same noise and no chords as the
  baseline.
Seeds are fixed, so two runs print the same figures; the MusAE figures do not depend on whether
the GAN is evaluated too (every part draws from its own seeded generator).
"""

from __future__ import annotations

import numpy as np
import torch

from engine.data.style import BUILD_COMMAND, load_style_cache, split_by_piece
from engine.eval.metrics.musegan import bass_downbeat_chord_share, onset_chord_tone_share
from engine.eval.suites.style_comparison import musegan_comparison, real_figure_intervals
from engine.eval.suites.style_judge import per_style_accuracy
from engine.music.constants import HOLD
from engine.pipelines.style import MusAEGenerationConfig, StylePipeline
from engine.pipelines.style_gan import StyleGANGenerationConfig, StyleGANPipeline

DATA = (
    "the style cache (--data, default data_cache/style_windows.npz), built once from the music21 corpus and the "
    f"Nottingham MIDI folder with `{BUILD_COMMAND}`"
)

# Windows per style behind MuseGAN's metrics (real, each model's, and real again; a style with fewer held-out windows
# gives half of them to each real set). At 100, sampling noise alone put 8% of real-against-real figures outside 25%:
# an empty-bar rate of 0.035 is 7 bars in 200, give or take 3.
METRIC_WINDOWS = 300


TEMPERATURES = (0.0, 0.5, 0.8, 1.0)


PRIOR_SCALES = (1.0, 0.8, 0.7, 0.6)


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
    hits, onset_hits, onsets = [], 0, 0
    for s in _batches(len(windows), batch):
        w = torch.as_tensor(windows[s]).long()
        z, _ = model.encode(w)
        out = model.decode(z, torch.as_tensor(styles[s]))
        hits.append((out == w).float().mean(dim=2).numpy())
        is_onset = w < HOLD
        onset_hits, onsets = onset_hits + int((out[is_onset] == w[is_onset]).sum()), onsets + int(is_onset.sum())
    per_track = np.concatenate(hits).mean(axis=0)
    return {
        "per_track": [round(float(x), 4) for x in per_track],
        "mean": round(float(per_track.mean()), 4),
        "onset_accuracy": round(onset_hits / max(onsets, 1), 4),
        "windows": int(len(windows)),
    }


def knn_purity(
    train_codes: np.ndarray, train_styles: np.ndarray, codes: np.ndarray, styles: np.ndarray, k: int = 5
) -> float:
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
def sample_accuracy(
    model, judge, num_styles: int, samples: int, seed: int = 0, temperature: float = 0.0, scale: float = 1.0
) -> dict:
    """Judge accuracy on ``samples`` windows per style drawn from the prior (narrowed to ``scale``) and decoded at
    ``temperature``."""
    generator = torch.Generator().manual_seed(seed)
    per_style = {}
    for style in range(num_styles):
        asked = torch.full((samples,), style, dtype=torch.long)
        windows = model.decode(model.prior_sample(asked, generator, scale), asked, temperature, generator)
        per_style[style] = float((judge(windows).argmax(1) == style).float().mean())
    return per_style


@torch.no_grad()
def checked_sample_accuracy(pipeline: StylePipeline | StyleGANPipeline, samples: int, seed: int = 0) -> dict:
    """Judge accuracy on ``samples`` 2-bar pieces per style from the pipeline's draw and check (seeds seed..)."""
    return {
        index: float(np.mean([pipeline(name, 2, seed + i).samples[0].agreement for i in range(samples)]))
        for index, name in enumerate(pipeline.styles)
    }


def _summary(per_style: dict, names: list[str]) -> dict:
    return {
        "mean": round(float(np.mean(list(per_style.values()))), 4),
        "per_style": {names[i]: round(v, 4) for i, v in per_style.items()},
    }


@torch.no_grad()
def transfer_accuracy(
    model, judge, windows: np.ndarray, styles: np.ndarray, num_styles: int, per_pair: int = 20, seed: int = 0
) -> float:
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


@torch.no_grad()
def gan_windows(
    generator, num_styles: int, samples: int, seed: int, settings: StyleGANGenerationConfig
) -> dict[int, np.ndarray]:
    """{style: (samples, 4, 32)} windows the GAN writes with no conditions (a piece's first window), sampled as
    ``settings`` say, style by style from one seeded generator."""
    rng = torch.Generator().manual_seed(seed)
    out = {}
    for style in range(num_styles):
        asked = torch.full((samples,), style, dtype=torch.long)
        out[style] = generator.generate(asked, generator=rng, **settings.sampling()).cpu().numpy()
    return out


@torch.no_grad()
def musae_windows(
    model, num_styles: int, samples: int, seed: int = 0, temperature: float = 0.0, scale: float = 1.0
) -> dict[int, np.ndarray]:
    """{style: (samples, 4, 32)} windows decoded from MusAE's prior (as :func:`sample_accuracy` draws them, from a
    generator of their own so its figures stay as they are)."""
    rng = torch.Generator().manual_seed(seed)
    out = {}
    for style in range(num_styles):
        asked = torch.full((samples,), style, dtype=torch.long)
        out[style] = model.decode(model.prior_sample(asked, rng, scale), asked, temperature, rng).cpu().numpy()
    return out


@torch.no_grad()
def judged_accuracy(judge, windows: dict[int, np.ndarray]) -> dict[int, float]:
    """{style: share of its windows the judge assigns to it}."""
    return {
        style: float((judge(torch.as_tensor(w, dtype=torch.long)).argmax(1) == style).float().mean())
        for style, w in windows.items()
    }


@torch.no_grad()
def gan_chord_tone_share(
    generator, windows: np.ndarray, style: int, seed: int, settings: StyleGANGenerationConfig
) -> dict:
    """Share of onsets on chord tones, the chords being the triads that best fit each real window (as in training):
    in the real windows, in the GAN's windows generated over those chords, and in the GAN's windows from the same
    noise without chords (the baseline). Windows without any chord are left out."""
    from engine.music.harmony import window_triad_chroma

    chords = window_triad_chroma(windows)
    chorded = chords.sum(axis=(1, 2)) > 0
    windows, chords = windows[chorded], chords[chorded]
    if not len(windows):
        return {
            "windows": 0,
            "real": None,
            "gan_with_chords": None,
            "gan_without_chords": None,
            "bass_downbeat": {"real": None, "gan_with_chords": None, "gan_without_chords": None},
        }
    asked = torch.full((len(windows),), style, dtype=torch.long)
    noise = generator.sample_noise(len(windows), torch.Generator().manual_seed(seed))
    rng = torch.Generator().manual_seed(seed + 1)
    sampling = settings.sampling()
    with_chords = generator.generate(asked, torch.as_tensor(chords), generator=rng, noise=noise, **sampling)
    without = generator.generate(asked, generator=rng, noise=noise, **sampling).cpu().numpy()
    with_chords = with_chords.cpu().numpy()
    return {
        "windows": int(len(windows)),
        "real": onset_chord_tone_share(windows, chords)["all"],
        "gan_with_chords": onset_chord_tone_share(with_chords, chords)["all"],
        "gan_without_chords": onset_chord_tone_share(without, chords)["all"],
        # the bass on the bar's chord at its first sounding step (the harmony on the bar lines)
        "bass_downbeat": {
            "real": bass_downbeat_chord_share(windows, chords)["share"],
            "gan_with_chords": bass_downbeat_chord_share(with_chords, chords)["share"],
            "gan_without_chords": bass_downbeat_chord_share(without, chords)["share"],
        },
    }


def evaluate_style(
    data: str,
    judge_dir: str,
    musae_dir: str | None = None,
    vae_dir: str | None = None,
    samples: int = 100,
    recon_windows: int = 1000,
    seed: int = 0,
    gan_dir: str | None = None,
    metric_windows: int = METRIC_WINDOWS,
) -> dict:
    """Every figure of the module docstring that the given checkpoints allow, as one JSON-ready dict."""
    from engine.models.registry import load_musae, load_style_judge

    torch.manual_seed(seed)
    cache = load_style_cache(data)
    names = [str(s) for s in cache["styles"]]
    train_mask, val_mask = split_by_piece(cache)
    windows, styles = cache["windows"], cache["style"].astype(np.int64)
    judge, judge_meta = load_style_judge(judge_dir)
    if judge_meta["styles"] != names:
        raise ValueError(f"the judge knows {judge_meta['styles']}, the data {names}")
    result: dict = {
        "task": "style",
        "styles": names,
        "judge_accuracy_real": per_style_accuracy(
            judge, windows[val_mask], styles[val_mask], names, torch.device("cpu")
        ),
    }
    rng = np.random.default_rng(seed)
    val_idx = np.flatnonzero(val_mask)
    recon_pick = rng.choice(val_idx, size=min(recon_windows, len(val_idx)), replace=False)
    musae_model = None
    for label, directory in (("musae", musae_dir), ("vae", vae_dir)):
        if not directory:
            continue
        model, _ = load_musae(directory)
        settings = MusAEGenerationConfig.load(directory)
        temperature, prior_scale = settings.temperature, settings.prior_scale
        result[f"recon_accuracy_{label}"] = greedy_reconstruction(model, windows[recon_pick], styles[recon_pick])
        train_pick = rng.choice(np.flatnonzero(train_mask), size=min(5000, int(train_mask.sum())), replace=False)
        result[f"latent_style_purity_{label}"] = knn_purity(
            encode_all(model, windows[train_pick]),
            styles[train_pick],
            encode_all(model, windows[recon_pick]),
            styles[recon_pick],
        )
        # The studio's first draw: its temperature and its narrowed prior.
        result[f"sample_style_accuracy_{label}"] = _summary(
            sample_accuracy(model, judge, len(names), samples, seed, temperature, prior_scale), names
        )
        # The same codes' distribution unnarrowed: the prior the model was trained to fill.
        result[f"sample_style_accuracy_{label}_full_prior"] = _summary(
            sample_accuracy(model, judge, len(names), samples, seed, temperature), names
        )
        if label == "musae":
            result["sample_temperature"] = temperature
            result["sample_prior_scale"] = prior_scale
            checked = StylePipeline(model, judge, names, settings)
            result["sample_style_accuracy_musae_checked"] = {
                **_summary(checked_sample_accuracy(checked, samples, seed), names),
                "candidates": settings.candidates,
            }
            result["transfer_style_accuracy"] = transfer_accuracy(
                model, judge, windows[recon_pick], styles[recon_pick], len(names), seed=seed
            )
            # How the first draw's figure moves with the decoding temperature (its own seed): the pipeline's is
            # chosen on it.
            result["sample_style_accuracy_musae_by_temperature"] = {
                str(t): _summary(sample_accuracy(model, judge, len(names), samples, seed + 3, t, prior_scale), names)[
                    "mean"
                ]
                for t in TEMPERATURES
            }
            # And with the prior's scale (its own seed): the pipeline's prior scale is chosen on it.
            result["sample_style_accuracy_musae_by_prior_scale"] = {
                str(k): _summary(sample_accuracy(model, judge, len(names), samples, seed + 4, temperature, k), names)[
                    "mean"
                ]
                for k in PRIOR_SCALES
            }
            musae_model, musae_settings = model, settings
    # Everything below draws from its own seeded generators (after the MusAE figures), so those stay as they were.
    generated: dict[str, dict[str, np.ndarray]] = {}
    if musae_model is not None:
        drawn = musae_windows(
            musae_model, len(names), metric_windows, seed + 1, musae_settings.temperature, musae_settings.prior_scale
        )
        generated["musae"] = {names[i]: w for i, w in drawn.items()}
    gan = None
    if gan_dir:
        from engine.models.registry import load_stylegan

        gan, gan_meta = load_stylegan(gan_dir)
        gan_settings = StyleGANGenerationConfig.load(gan_dir)
        if list(gan_meta.get("styles", [])) != names:
            raise ValueError(f"the style GAN knows {gan_meta.get('styles')}, the data {names}")
        drawn = gan_windows(gan, len(names), samples, seed, gan_settings)
        result["sample_style_accuracy_gan"] = _summary(judged_accuracy(judge, drawn), names)
        result["gan_temperature"] = gan_settings.temperature
        result["gan_top_p"] = gan_settings.top_p
        checked_gan = StyleGANPipeline(gan, judge, names, gan_settings)
        result["sample_style_accuracy_gan_checked"] = {
            **_summary(checked_sample_accuracy(checked_gan, samples, seed), names),
            "candidates": gan_settings.candidates,
        }
        drawn = gan_windows(gan, len(names), metric_windows, seed + 5, gan_settings)  # as many as the real ones
        generated["gan"] = {names[i]: w for i, w in drawn.items()}
    if generated:
        metric_rng = np.random.default_rng(seed + 2)
        real, real_again, real_pieces = {}, {}, {}
        for index, name in enumerate(names):
            pool = metric_rng.permutation(np.flatnonzero(val_mask & (styles == index)))
            half = min(metric_windows, len(pool) // 2) if len(pool) > 1 else len(pool)
            if half:
                real[name] = windows[np.sort(pool[:half])].astype(np.int64)
                real_pieces[name] = cache["piece"][np.sort(pool[:half])]
            if len(pool) > 1:
                real_again[name] = windows[np.sort(pool[half : 2 * half])].astype(np.int64)
        # Training windows of each style (their own seeded draw), scored like a model: the held-out pieces are other
        # pieces (string quartets' held-out movements are busier), so a model that wrote exactly the training data
        # would score this.
        training_rng = np.random.default_rng(seed + 6)
        real_training = {}
        for index, name in enumerate(names):
            pool = np.flatnonzero(train_mask & (styles == index))
            if name in real and len(pool):
                pick = training_rng.choice(pool, size=min(len(real[name]), len(pool)), replace=False)
                real_training[name] = windows[np.sort(pick)].astype(np.int64)
        # Other held-out windows of the same styles, scored like a model: how close real music comes to the real
        # figures at this sample size (the ceiling of "within 25%": a rate of 0.01 is 2 bars in 200).
        # How much the real figures depend on which pieces were held out (drawn by piece, their own seed).
        intervals = {name: real_figure_intervals(w, real_pieces[name], seed=seed + 7) for name, w in real.items()}
        comparison = musegan_comparison(
            real, {**generated, "real_again": real_again, "real_training": real_training}, intervals
        )
        if gan is not None:
            shares = {
                name: gan_chord_tone_share(gan, w, names.index(name), seed, gan_settings) for name, w in real.items()
            }
            for name, share in shares.items():
                comparison["per_style"][name]["chord_tone_share"] = share
            comparison["chord_tone_share_mean"] = {
                key: round(float(np.mean(v)), 4)
                if (v := [s[key] for s in shares.values() if s[key] is not None])
                else None
                for key in ("real", "gan_with_chords", "gan_without_chords")
            }
            comparison["bass_downbeat_mean"] = {
                key: round(float(np.mean(v)), 4)
                if (v := [s["bass_downbeat"][key] for s in shares.values() if s["bass_downbeat"][key] is not None])
                else None
                for key in ("real", "gan_with_chords", "gan_without_chords")
            }
        result["musegan_metrics"] = {"windows_per_style": {name: int(len(w)) for name, w in real.items()}, **comparison}
    return result
