"""A judge of feelings from features: which Russell quadrant a tune's notes suggest.

Trained on the labelled real tunes (engine.data.abc) when the ABC emotion model is
trained, stored in its config.json, and used by ``python -m engine.evaluate emotion`` to ask
whether generated tunes land in the quadrant they were asked for. Features (from music21):
the mode of music21's key analysis of the notes (not the K: field, which the template sets),
the standard deviation and mean of the MIDI pitches, and notes per bar. The model is a
softmax regression on standardised features: small, transparent, and enough for labels that
were themselves made from mode and pitch spread.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.music.constants import QUADRANTS

FEATURES = ("analysed_major", "pitch_sd", "pitch_mean", "notes_per_bar")


@dataclass(frozen=True)
class TuneHearing:
    """What the judge hears in one ABC tune: music21's key-analysis mode and the judge's features (None when music21
    reads no notes)."""

    mode: str | None  # "major" / "minor"
    features: dict[str, float] | None


def key_mode(score: Any) -> str:
    """ "major" / "minor": the mode of music21's key analysis (``score.analyze("key")``, Aarden-Essen profiles) of a
    Score's notes. The same analysis, without building a Key object for each of the 23 other keys it ranks (which
    takes most of its 30 ms)."""
    from music21.analysis.discrete import analysisClassFromMethodName

    method = analysisClassFromMethodName("key")
    assert method is not None  # music21 always knows "key"
    solution, _ = method().process(score.flatten())
    return str(solution[1])


def hear_tune(abc: str, score: Any | None = None) -> TuneHearing:
    """The mode and features of an ABC tune as written (``score``: its Score from
    ``engine.io.abc.parse_abc_score`` when the caller has parsed it already, else the text is parsed)."""
    from engine.io.abc import parse_abc_score

    try:
        score = parse_abc_score(abc) if score is None else score
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pitches = [p.midi for n in score.flatten().notes for p in n.pitches]
            if not pitches:
                return TuneHearing(None, None)
            parts = score.parts if score.parts else [score]
            bars = len(parts[0].getElementsByClass("Measure")) or 1
            mode = key_mode(score)
    except Exception:  # music21 raises many kinds for broken ABC
        return TuneHearing(None, None)
    features = {
        "analysed_major": float(mode == "major"),
        "pitch_sd": float(np.std(pitches)),
        "pitch_mean": float(np.mean(pitches)),
        "notes_per_bar": len(pitches) / bars,
    }
    return TuneHearing(mode, features)


def tune_features(abc: str, score: Any | None = None) -> dict[str, float] | None:
    """The judge's features of an ABC tune, or None when music21 reads no notes from it (``score``: see
    :func:`hear_tune`)."""
    return hear_tune(abc, score).features


def feature_matrix(rows: list[dict[str, float]]) -> np.ndarray:
    return np.array([[row[name] for name in FEATURES] for row in rows], dtype=np.float64)


@dataclass
class FeatureJudge:
    """Softmax regression over standardised features -> quadrant."""

    mean: np.ndarray  # (F,)
    std: np.ndarray  # (F,)
    weights: np.ndarray  # (F + 1, 4): last row the bias

    @classmethod
    def fit(
        cls, rows: list[dict[str, float]], labels: list[str], steps: int = 2000, lr: float = 0.5, l2: float = 1e-3
    ) -> FeatureJudge:
        """Full-batch gradient descent on the cross entropy (a few thousand tunes: fractions of a second)."""
        x = feature_matrix(rows)
        mean, std = x.mean(0), x.std(0) + 1e-9
        z = np.hstack([(x - mean) / std, np.ones((len(x), 1))])
        y = np.eye(4)[[QUADRANTS.index(label) for label in labels]]
        w = np.zeros((z.shape[1], 4))
        for _ in range(steps):
            p = _softmax(z @ w)
            w -= lr * (z.T @ (p - y) / len(z) + l2 * w)
        return cls(mean, std, w)

    def predict(self, rows: list[dict[str, float]]) -> list[str]:
        if not rows:
            return []
        z = np.hstack([(feature_matrix(rows) - self.mean) / self.std, np.ones((len(rows), 1))])
        return [QUADRANTS[i] for i in (z @ self.weights).argmax(1)]

    def accuracy(self, rows: list[dict[str, float]], labels: list[str]) -> float:
        predicted = self.predict(rows)
        return float(np.mean([p == t for p, t in zip(predicted, labels)])) if labels else 0.0

    def to_dict(self) -> dict:
        return {
            "features": list(FEATURES),
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            "weights": self.weights.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> FeatureJudge:
        if list(data.get("features", [])) != list(FEATURES):
            raise ValueError(f"the judge was trained on features {data.get('features')}, not {list(FEATURES)}")
        return cls(np.array(data["mean"]), np.array(data["std"]), np.array(data["weights"]))


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(1, keepdims=True))
    probs: np.ndarray = e / e.sum(1, keepdims=True)
    return probs


def features_of_row(row) -> dict[str, float]:
    """The judge's features of a labelled tune from the training cache (engine.data.abc.LabelledTune)."""
    return {
        "analysed_major": float(row.analysed_mode == "major"),
        "pitch_sd": float(row.pitch_sd),
        "pitch_mean": float(row.pitch_mean),
        "notes_per_bar": row.notes / max(row.bars, 1),
    }


def tune_mode(abc: str, score: Any | None = None) -> str | None:
    """ "major" / "minor" of music21's key analysis of an ABC tune (None when it cannot be read or holds no notes;
    ``score``: see :func:`hear_tune`)."""
    return hear_tune(abc, score).mode
