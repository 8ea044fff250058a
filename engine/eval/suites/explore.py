"""Latent exploration (``python -m engine.evaluate explore``).

Draws pairs (A, B) of 2-bar windows from different tunes and reports, for engine.pipelines.explore:
* interpolation: token accuracy of the endpoints against A and B (each decoded
  under its own chords); gradualness: mean token edit distance between
  neighbouring steps against that between A and B (a linear walk gives 1 / (steps - 1)),
  and the share of the whole path taken by its largest jump;
* analogy (A's pitch, B's rhythm): onset F1 against B's onsets, with the rhythm
  forced (as the studio does; 1.0 by construction) and free (from B's z_rhythm
  through the rhythm decoder: the model's own disentanglement); the correlation of
  the step-wise sounding pitch with A's (the contour should follow A) and with B's.
"""

from __future__ import annotations

import numpy as np

from engine.eval.metrics.melody import contour_correlation, edit_distance, onset_f1, sounding_pitch
from engine.music.constants import HOLD, WINDOW_STEPS
from engine.music.errors import CadenzaInputError

DATA = "a folder of tunes as .mid, .midi or .abc files (--data DIR): one 2-bar window is drawn from each of many tunes"


def _sheet_tokens(sheet) -> np.ndarray:
    from engine.music.representation import melody_to_tokens

    return melody_to_tokens(sheet.melody, 0, sheet.melody.num_steps)


def _explore_pool(data: str, max_windows: int, max_files: int, rng: np.random.Generator) -> list:
    """One random 2-bar window (with at least 2 onsets) from each of up to ``max_files`` tunes, as LeadSheets."""
    from engine.io.corpus import music_files, read_tunes
    from engine.music.representation import leadsheet_windows

    files = music_files(data)
    pool = []
    for index in rng.permutation(len(files))[:max_files]:
        path = files[int(index)]
        for _, sheet in read_tunes(path):
            windows = leadsheet_windows(sheet, hop=sheet.melody.steps_per_bar, min_notes=2)
            if windows:
                start = windows[int(rng.integers(len(windows)))][0]
                window = sheet.cropped(start, WINDOW_STEPS)
                window.title = f"{path.name}@{start}"
                pool.append(window)
        if len(pool) >= max_windows:
            break
    return pool


def evaluate_explore(
    data: str,
    checkpoint: str | None = None,
    pairs: int = 50,
    steps: int = 5,
    device: str = "auto",
    seed: int = 0,
    max_files: int = 1000,
) -> dict:
    """Interpolation and analogy figures on ``pairs`` random pairs of 2-bar windows from different tunes."""
    from engine.music.limits import INTERPOLATION_STEPS, check_number
    from engine.paths import default_checkpoint
    from engine.pipelines.explore import ExplorePipeline

    check_number("Pairs", pairs, 1, 10_000, integer=True)
    INTERPOLATION_STEPS.check("Steps", steps)
    pairs, steps = int(pairs), int(steps)
    rng = np.random.default_rng(seed)
    pool = _explore_pool(data, 2 * pairs, max_files, rng)
    if len(pool) < 2:
        raise CadenzaInputError(f"Need at least two tunes with a usable 2-bar window in {data} (found {len(pool)})")
    pipe = ExplorePipeline.from_pretrained(checkpoint or default_checkpoint("ec2vae"), device=device)

    acc_a, acc_b, neighbour, endpoints, jump_share = [], [], [], [], []
    f1_forced, f1_free = [], []
    corr_a: list[float] = []
    corr_b: list[float] = []
    for _ in range(pairs):
        i, j = rng.choice(len(pool), 2, replace=False)
        a, b = pool[int(i)], pool[int(j)]
        tokens_a, tokens_b = _sheet_tokens(a), _sheet_tokens(b)
        path = [_sheet_tokens(s) for s in pipe.interpolate(a, b, steps, chords="a").samples]
        recon_b = _sheet_tokens(pipe.interpolate(a, b, 2, chords="b").samples[-1])
        acc_a.append(float(np.mean(path[0] == tokens_a)))
        acc_b.append(float(np.mean(recon_b == tokens_b)))
        jumps = [edit_distance(x, y) for x, y in zip(path[:-1], path[1:])]
        neighbour.extend(jumps)
        endpoints.append(edit_distance(tokens_a, tokens_b))
        if sum(jumps):
            jump_share.append(max(jumps) / sum(jumps))

        forced = _sheet_tokens(pipe.analogy(a, b, chords="a").samples[0])
        la, lb = pipe.encode(a), pipe.encode(b)
        free = _sheet_tokens(pipe.decode(la.z_pitch, lb.z_rhythm, la.chroma, chords=a.chords).samples[0])
        onsets_b = tokens_b < HOLD
        f1_forced.append(onset_f1(onsets_b, forced < HOLD))
        f1_free.append(onset_f1(onsets_b, free < HOLD))
        contour = sounding_pitch(forced)
        for target, out in ((tokens_a, corr_a), (tokens_b, corr_b)):
            value = contour_correlation(contour, sounding_pitch(target))
            if value is not None:
                out.append(value)

    def mean(values) -> float | None:
        return round(float(np.mean(values)), 4) if values else None

    mean_neighbour, mean_endpoints = float(np.mean(neighbour)), float(np.mean(endpoints))
    return {
        "model": "ec2vae",
        "task": "explore",
        "checkpoint": str(checkpoint or default_checkpoint("ec2vae")),
        "data": str(data),
        "pairs": pairs,
        "steps": steps,
        "window_pool": len(pool),
        "window_steps": WINDOW_STEPS,
        "interpolation": {
            "endpoint_accuracy_a": mean(acc_a),
            "endpoint_accuracy_b": mean(acc_b),
            "neighbour_edit_distance": round(mean_neighbour, 4),
            "a_b_edit_distance": round(mean_endpoints, 4),
            "neighbour_to_a_b_ratio": round(mean_neighbour / mean_endpoints, 4) if mean_endpoints else None,
            "linear_ratio": round(1 / (steps - 1), 4),
            "largest_jump_share": mean(jump_share),
        },
        "analogy": {
            "onset_f1_forced": mean(f1_forced),
            "onset_f1_free": mean(f1_free),
            "pitch_contour_corr_a": mean(corr_a),
            "pitch_contour_corr_b": mean(corr_b),
            "contour_pairs": len(corr_a),
        },
    }
