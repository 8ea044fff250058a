"""The chord suggester's baseline: a hidden Markov model over key-relative chord classes.

The hidden states are the chord classes of :mod:`engine.music.chord_vocab`; a slot's observation is the melody's
duration-weighted pitch classes there (the first 12 slot features). Fitted by counting on the same training tunes
as the neural suggester (add-``smoothing`` counts): the first chord, chord-to-chord transitions, and each chord's
pitch-class distribution of the melody over it. A slot's emission log-probability is ``sharpness`` times the
pitch-class weights dotted with the chord's log-distribution (``sharpness`` is picked on the training tunes).
Decoding is Viterbi: the most likely progression as a whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from engine.music.chord_vocab import NUM_CLASSES

SHARPNESS_CHOICES = (1.0, 2.0, 4.0, 8.0, 16.0)


@dataclass
class ChordHMM:
    """``initial`` (C,), ``transition`` (C, C) and ``emission`` (C, 12), all log-probabilities."""

    initial: np.ndarray
    transition: np.ndarray
    emission: np.ndarray
    sharpness: float = 4.0

    @classmethod
    def fit(
        cls, tunes: Iterable[tuple[np.ndarray, np.ndarray]], smoothing: float = 0.5, tune_sharpness: bool = True
    ) -> ChordHMM:
        """Count ``(features (S, F), labels (S,))`` pairs into a model."""
        pairs = list(tunes)
        initial = np.full(NUM_CLASSES, smoothing)
        transition = np.full((NUM_CLASSES, NUM_CLASSES), smoothing)
        emission = np.full((NUM_CLASSES, 12), smoothing)
        for features, labels in pairs:
            initial[labels[0]] += 1
            np.add.at(transition, (labels[:-1], labels[1:]), 1.0)
            np.add.at(emission, labels, features[:, :12])
        model = cls(
            np.log(initial / initial.sum()),
            np.log(transition / transition.sum(1, keepdims=True)),
            np.log(emission / emission.sum(1, keepdims=True)),
        )
        if tune_sharpness and pairs:
            sample = pairs[:: max(1, len(pairs) // 200)]

            def accuracy(sharpness: float) -> float:
                model.sharpness = sharpness
                hits = [np.mean(model.decode(f) == y) for f, y in sample]
                return float(np.mean(hits))

            model.sharpness = max(SHARPNESS_CHOICES, key=accuracy)
        return model

    def decode(self, features: np.ndarray) -> np.ndarray:
        """The most likely chord classes (S,) of a tune's slot features (S, F) (Viterbi)."""
        observed = self.sharpness * features[:, :12] @ self.emission.T  # (S, C)
        score = self.initial + observed[0]
        back = np.zeros((len(features), NUM_CLASSES), dtype=np.int64)
        for step in range(1, len(features)):
            candidates = score[:, None] + self.transition  # (from, to)
            back[step] = candidates.argmax(0)
            score = candidates.max(0) + observed[step]
        path = [int(score.argmax())]
        for step in range(len(features) - 1, 0, -1):
            path.append(int(back[step, path[-1]]))
        return np.array(path[::-1], dtype=np.int64)
