import numpy as np
import pytest

from engine.music.errors import CadenzaInputError, ChordSymbolError, RhythmPatternError
from engine.music.representation import parse_rhythm_pattern
from engine.music.tonality import scale_pitch_classes
from engine.pipelines.compose import ComposePipeline, ComposeRequest
from engine.pipelines.decoding import EC2VAEGenerationConfig

PATTERN = "x...x...x.x.x...|x.......x..x.x..|x.x.x.x.x...x...|x...............|x..x..x.x...x...|x...x...x...x..."


@pytest.fixture(scope="module")
def pipe():
    return ComposePipeline.from_pretrained("debug")


def test_onsets_are_exactly_the_drawn_ones(pipe):
    out = pipe(PATTERN, "C Am F G", num_bars=6, seed=5, num_samples=3)
    expected = np.flatnonzero(parse_rhythm_pattern(PATTERN)).tolist()
    assert len(out.samples) == 3
    for sheet in out.samples:
        assert [n.start for n in sheet.melody.notes] == expected
        assert sheet.melody.num_steps == 96
        assert all(n.end <= 96 and n.end > n.start for n in sheet.melody.notes)


def test_same_seed_same_music_and_variation_i_is_seed_plus_i(pipe):
    a = pipe(PATTERN, "C Am F G", 6, seed=11, num_samples=2)
    b = pipe(PATTERN, "C Am F G", 6, seed=11, num_samples=2)
    c = pipe(PATTERN, "C Am F G", 6, seed=12, num_samples=1)
    assert [s.melody.notes for s in a.samples] == [s.melody.notes for s in b.samples]
    assert a.samples[1].melody.notes == c.samples[0].melody.notes
    assert a.samples[0].melody.notes != a.samples[1].melody.notes


def test_short_pattern_repeats_and_chords_are_kept(pipe):
    out = pipe("x...x...x...x...", "C G", num_bars=4, key="G", tempo_bpm=90)
    sheet = out.samples[0]
    assert [n.start for n in sheet.melody.notes] == list(range(0, 64, 4))
    assert sheet.chords.symbols_per_bar(16, 4) == ["C", "G", "C", "G"]
    assert sheet.melody.tempo_bpm == 90 and sheet.melody.key == "G"


def test_pitches_stay_in_range(pipe):
    out = pipe(PATTERN, "C", 6, temperature=2.0, seed=3)
    low, high = pipe.generation.pitch_range
    assert all(low <= n.pitch <= high for n in out.samples[0].melody.notes)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(rhythm="", chords="C", num_bars=4), RhythmPatternError, "empty"),
        (dict(rhythm="." * 16, chords="C", num_bars=4), RhythmPatternError, "no onsets"),
        (dict(rhythm="x" * 16, chords="C Hm7x", num_bars=4), ChordSymbolError, "Hm7x"),
        (dict(rhythm="x" * 16, chords="C", num_bars=0), CadenzaInputError, "Bars must be between 2 and 16"),
        (dict(rhythm="x" * 16, chords="C", num_bars=1), CadenzaInputError, "Bars"),
        (dict(rhythm="x" * 16, chords="C", num_bars=1000), CadenzaInputError, "got 1000"),
        (dict(rhythm="x" * 16, chords="C", num_bars=4, temperature=-1), CadenzaInputError, "Temperature"),
        (dict(rhythm="x" * 16, chords="C", num_bars=4, num_samples=99), CadenzaInputError, "Variations"),
        (dict(rhythm="x" * 16, chords="C", num_bars=4, key="Q"), CadenzaInputError, "Unknown key"),
        (dict(rhythm="|".join(["x" * 16] * 5), chords="C", num_bars=4), RhythmPatternError, "5 bars"),
    ],
)
def test_bad_input_is_a_clear_error(pipe, kwargs, error, message):
    with pytest.raises(error, match=message):
        pipe(**kwargs)


def test_scales():
    assert scale_pitch_classes("C") == (0, 2, 4, 5, 7, 9, 11)
    assert scale_pitch_classes("Am") == (0, 2, 4, 5, 7, 9, 11)
    assert 6 in scale_pitch_classes("G")


def test_chord_tone_bias_pulls_onsets_onto_the_chord():
    prior = EC2VAEGenerationConfig()
    strong = ComposePipeline(
        ComposePipeline.from_pretrained("debug").model, generation=prior.override(chord_tone_bias=50.0)
    )
    sheet = strong(PATTERN, "C Am F G", 6, seed=2, temperature=1.0).samples[0]
    for note in sheet.melody.notes:
        assert note.pitch % 12 in sheet.chords.at(note.start).pitch_classes
    off = ComposePipeline(strong.model, generation=prior.override(chord_tone_bias=0.0))
    sheets = off(PATTERN, "C Am F G", 6, seed=2, temperature=1.0, num_samples=3).samples
    assert any(n.pitch % 12 not in s.chords.at(n.start).pitch_classes for s in sheets for n in s.melody.notes)


def _notes(sheet):
    return [(n.pitch, n.start, n.end) for n in sheet.melody.notes]


def test_requests_batched_together_get_what_they_would_alone(pipe):
    """run_many: mixed requests (seeds, keys, chords, temperatures, lengths, variations, a register shift) decoded in
    shared batches give each request exactly its melodies alone; a bad request gets its own error."""
    requests = [
        ComposeRequest(PATTERN, "C Am F G", 6, "C", 120, seed=3),
        ComposeRequest(PATTERN, "G Em C D", 6, "G", 100, seed=4, num_samples=2),
        ComposeRequest(PATTERN, "C Am F G", 6, "Am", 120, seed=3, temperature=0.9),
        ComposeRequest("x.x.x.x.x.x.x.x.", "F C", 4, "F", 90, seed=8, register_shift=-12),
        ComposeRequest(PATTERN, "C H7", 6, seed=1),  # an unknown chord: its own error
        ComposeRequest(PATTERN, "C Am F G", 6, "C", 120, seed=5),
    ]
    together = pipe.run_many(requests)
    assert isinstance(together[4], ChordSymbolError)
    for request, batched in zip(requests, together):
        if isinstance(batched, CadenzaInputError):
            continue
        alone = pipe.run_many([request])[0]
        assert batched.seeds == alone.seeds
        assert [_notes(s) for s in batched.samples] == [_notes(s) for s in alone.samples]
    # and a call is a batch of one: variation 2 of seed 4 is seed 5's first
    assert _notes(together[1].samples[1]) == _notes(pipe(PATTERN, "G Em C D", 6, "G", 100, seed=5).samples[0])
