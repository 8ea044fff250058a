"""Arrange (debug models): the melody kept note for note on top, the voices under it, redrawing one voice, refusals."""

from __future__ import annotations

import numpy as np
import pytest

from engine.eval.metrics.voices import melody_kept
from engine.music.errors import CadenzaInputError
from engine.music.harmony import sounding_pitches
from engine.music.notes import Melody, Note
from engine.pipelines.arrange import ArrangePipeline

# 8 bars of 4/4 after a one-beat pickup
TUNE = Melody([Note(72 + (i * 5) % 7, 4 + i * 4, 4 + i * 4 + 3) for i in range(32)], 4 + 128, pickup_steps=4)


@pytest.fixture(scope="module", params=["infill", "gan"])
def pipe(request) -> ArrangePipeline:
    """Both writers of the lower voices: the voice infiller and the style GAN."""
    pipe = ArrangePipeline.from_pretrained("debug", infiller=None if request.param == "infill" else "")
    assert pipe.writer == request.param
    return pipe


def test_the_melody_is_kept_and_stays_on_top(pipe) -> None:
    out = pipe(TUNE, "English folk", seed=3, num_samples=2, chords="C G Am F")
    assert out.seeds == [3, 4] and not out.suggested
    for arrangement in out.samples:
        assert arrangement.offset == 12 and arrangement.tokens.shape == (4, 160)  # rests to the bar line; 5 windows
        assert melody_kept(arrangement.tokens, TUNE.notes, arrangement.offset)
        assert len(arrangement.verdicts) == 5 and arrangement.style == "English folk"
        pitches = sounding_pitches(arrangement.tokens)
        top = pitches[0]
        for low in pitches[1:]:
            both = (top >= 0) & (low >= 0)
            assert np.all(low[both] < top[both])
    assert [c.symbol for c in out.samples[0].chords.chords[:2]] == ["C", "G"]
    assert out.samples[0].chords.chords[0].start == 4  # typed chords start at bar 1, after the pickup


def test_suggested_chords_and_redrawing_one_voice(pipe) -> None:
    first = pipe(TUNE, "Bach chorale", seed=1).samples[0]
    assert first.chords.chords  # suggested
    again = pipe(TUNE, "Bach chorale", seed=9, voice=2, keep=first).samples[0]
    assert np.array_equal(again.tokens[[0, 1, 3]], first.tokens[[0, 1, 3]])
    assert not np.array_equal(again.tokens[2], first.tokens[2])
    with pytest.raises(CadenzaInputError, match="voices 1, 2 or 3"):
        pipe(TUNE, "Bach chorale", voice=0, keep=first)


@pytest.mark.parametrize(
    "melody, chords, message",
    [
        (Melody([Note(60, 0, 20)], 40, time_signature=(5, 8)), None, "3/4 and 6/8; this melody is in 5/8"),
        (Melody([Note(60, 0, 8), Note(64, 0, 8), Note(67, 8, 16)], 16), None, "several notes at once"),
        (Melody([Note(60, i * 16, i * 16 + 8) for i in range(64)], 64 * 16), None, "64 bars"),
        (Melody([], 32), None, "no notes"),
        (TUNE, "C Hm7 G", "Hm7"),
    ],
)
def test_refusals_name_the_reason(pipe, melody, chords, message) -> None:
    with pytest.raises(CadenzaInputError, match=message):
        pipe(melody, "English folk", chords=chords)


@pytest.mark.parametrize("meter, chords", [((3, 4), "C | G7 | C | F"), ((6, 8), "G | D")])
def test_waltzes_and_jigs_keep_their_meter(pipe, meter, chords) -> None:
    bar = meter[0] * 16 // meter[1]
    # 4 bars after a one-eighth pickup, a note each beat
    beat = 4 if meter == (3, 4) else 6
    notes = [Note(67 + (i * 3) % 5, 2 + i * beat, 2 + i * beat + beat - 1) for i in range(4 * bar // beat)]
    tune = Melody(notes, 2 + 4 * bar, time_signature=meter, pickup_steps=2)
    out = pipe(tune, "English folk", seed=1, chords=chords)
    arrangement = out.samples[0]
    assert arrangement.time_signature == meter and arrangement.steps_per_bar == bar
    assert arrangement.offset == bar - 2  # rests to the bar line before the pickup
    assert melody_kept(arrangement.tokens, tune.notes, arrangement.offset)
    first, second = arrangement.chords.chords[:2]
    assert (first.start, second.start) == (2, 2 + bar)  # typed chords: a bar each, in this meter's bars


def test_english_folk_is_the_gans_and_the_other_styles_the_infillers(pipe) -> None:
    expected = "gan" if pipe.writer == "gan" else "infill"
    assert pipe.writer_for("English folk") == "gan"
    assert all(pipe.writer_for(style) == expected for style in pipe.styles if style != "English folk")


def test_the_infillers_window_choice_prefers_the_style_then_the_fewest_faults() -> None:
    import torch

    pipe = ArrangePipeline.from_pretrained("debug")
    index = pipe.gan.style_index("Bach chorale")
    clean = np.full((4, 32), 128)  # 128: hold (each note lasts to the next)
    clean[:, 0], clean[:, 16] = (72, 67, 64, 48), (74, 65, 62, 50)  # contrary and oblique motion: no parallels
    fifths = clean.copy()
    fifths[1, 0], fifths[1, 16] = 65, 67  # alto a fifth under the soprano twice: parallel fifths
    windows = np.stack([fifths, clean, fifths])
    heard = {"style": [index] * 3}

    def judge(batch: torch.Tensor) -> torch.Tensor:
        logits = torch.zeros(len(batch), len(pipe.styles))
        logits[torch.arange(len(batch)), torch.as_tensor(heard["style"])] = 1.0
        return logits

    pipe.gan.judge = judge
    choose = pipe._window_chooser(index)
    assert choose(windows, 0) == 1  # all heard in style: the one without parallel fifths
    heard["style"] = [index, (index + 1) % len(pipe.styles), (index + 1) % len(pipe.styles)]
    assert choose(windows, 0) == 0  # the only one heard in style, faults and all
    silent_alto = clean.copy()
    silent_alto[1] = 129  # REST all through: no parallels, but a voice missing
    heard["style"] = [index] * 3
    assert choose(np.stack([silent_alto, fifths, silent_alto]), 0) == 1  # every voice sounding beats fewer faults
