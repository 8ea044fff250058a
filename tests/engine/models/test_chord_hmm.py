"""The HMM baseline recovers the chords of melodies drawn from its own kind of model."""

from __future__ import annotations

import numpy as np

from engine.models.chord_hmm import ChordHMM
from engine.music.chord_vocab import NUM_FEATURES, QUALITIES

TONIC, DOMINANT = 0, 7 * len(QUALITIES)  # C and G in C


def _tune(rng: np.random.Generator, slots: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Tonic and dominant in turn, four slots each, with melody notes the two triads do not share."""
    labels = np.array([TONIC if (i // 4) % 2 == 0 else DOMINANT for i in range(slots)])
    features = np.zeros((slots, NUM_FEATURES), dtype=np.float32)
    for row, label in enumerate(labels):
        triad = (0, 4) if label == TONIC else (11, 2)
        for pc in rng.choice(triad, size=2):
            features[row, pc] += 0.5
    return features, labels


def test_fitted_on_tunes_it_decodes_their_chords() -> None:
    rng = np.random.default_rng(0)
    hmm = ChordHMM.fit([_tune(rng) for _ in range(40)])
    features, labels = _tune(np.random.default_rng(1))
    decoded = hmm.decode(features)
    assert decoded.shape == labels.shape and np.mean(decoded == labels) >= 0.9
    assert hmm.transition.shape == (len(hmm.initial), len(hmm.initial))
    assert np.allclose(np.exp(hmm.emission).sum(1), 1.0)


def test_transitions_carry_a_slot_without_notes() -> None:
    rng = np.random.default_rng(2)
    hmm = ChordHMM.fit([_tune(rng) for _ in range(40)])
    features, labels = _tune(np.random.default_rng(3))
    features[5] = 0  # a rest: the chord comes from its neighbours
    assert hmm.decode(features)[5] == labels[5]
