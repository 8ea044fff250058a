"""The chord suggester's pipeline (debug model): what it returns, its seeds and what it refuses."""

from __future__ import annotations

import pytest

from engine.music.errors import CadenzaInputError
from engine.music.notes import LeadSheet, Melody, Note
from engine.pipelines.harmonize import HarmonizePipeline, melody_for_chords

TUNE = Melody([Note(62 + (i * 7) % 12, i * 4, i * 4 + 4) for i in range(32)], 128, key="D")


@pytest.fixture(scope="module")
def pipe() -> HarmonizePipeline:
    return HarmonizePipeline.from_pretrained("debug")


def test_most_likely_first_then_seeded_alternatives(pipe) -> None:
    out = pipe(LeadSheet(TUNE), seed=5, num_samples=3, alternatives=2)
    assert out.key == "D" and out.seeds == [5, 6, 7] and len(out.samples) == 3
    assert len(out.choices) == 16 and all(len(c.options) == 2 for c in out.choices)  # 8 bars of 4/4: 16 slots
    best = [c.options[0][0] for c in out.choices]
    most_likely = []
    for choice in out.choices:
        symbol = choice.options[0][0]
        if symbol != "N.C.":
            chord = next(c for c in out.samples[0].chords if c.start <= choice.start < c.end)
            most_likely.append(chord.symbol)
        else:
            most_likely.append("N.C.")
    assert most_likely == best
    again = pipe(TUNE, seed=5, num_samples=3)
    assert [c.symbol for c in again.samples[2].chords] == [c.symbol for c in out.samples[2].chords]
    assert all(c.options[0][1] >= c.options[1][1] for c in out.choices)


def test_key_override_and_bars(pipe) -> None:
    out = pipe(TUNE, key="Bm", num_bars=4)
    assert out.key == "Bm" and len(out.choices) == 8 and out.samples[0].chords[-1].end <= 64
    with pytest.raises(CadenzaInputError, match="Unknown key"):
        pipe(TUNE, key="H major")


def test_bad_melodies_are_refused_with_a_reason() -> None:
    with pytest.raises(CadenzaInputError, match="no notes"):
        melody_for_chords(Melody([], 32))
    long = Melody([Note(60, i * 16, i * 16 + 16) for i in range(64)], 64 * 16)
    with pytest.raises(CadenzaInputError, match="64 bars; chords are suggested for at most 32"):
        melody_for_chords(long)
    assert melody_for_chords(long, 32).num_steps == 32 * 16
    with pytest.raises(CadenzaInputError, match="Bars must be between 1 and 32"):
        melody_for_chords(long, 64)
