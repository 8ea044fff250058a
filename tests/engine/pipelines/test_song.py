"""Song, continuation and infill pipelines on the tiny untrained models: every control and check."""

import numpy as np
import pytest

from engine.music import LeadSheet, Melody, Note
from engine.music.chords import parse_progression
from engine.music.errors import CadenzaInputError, ChordSymbolError
from engine.music.representation import melody_to_tokens, parse_rhythm_pattern, tokens_to_rhythm
from engine.music.tonality import scale_pitch_classes
from engine.pipelines.base import seeded_generator
from engine.pipelines.decoding import LatentGenerationConfig
from engine.pipelines.song import ContinuePipeline, InfillPipeline, SongPipeline
from engine.pipelines.song_model import SongJob, SongModel, prepare_tune

BAR = "x...x...x.x.x..."


@pytest.fixture(scope="module")
def model():
    return SongModel.debug()


@pytest.fixture(scope="module")
def tune() -> LeadSheet:
    """An 8-bar tune in G (4 blocks) with a note held across the first block boundary."""
    pitches = [67, 69, 71, 72, 74, 72, 71, 69]
    notes = [Note(p, i * 8, i * 8 + 8) for i, p in enumerate(pitches * 4)]
    notes[3] = Note(72, 24, 40)  # crosses into block 1
    del notes[4]
    return LeadSheet(Melody(notes, 128, 100.0, (4, 4), 0, "G"), parse_progression("G C D G", 8), "Test tune")


def blocks_of(sheet: LeadSheet) -> np.ndarray:
    return melody_to_tokens(sheet.melody, 0, sheet.melody.num_steps).reshape(-1, 32)


def test_song_has_the_bars_chords_and_a_given_rhythm(model):
    out = SongPipeline(model)("C Am F G", 16, key="C", rhythm=BAR, tempo_bpm=90, seed=3, num_samples=2)
    assert len(out.samples) == 2 and out.seeds == [3, 4] and out.blocks == list(range(8))
    sheet = out.samples[0]
    assert sheet.melody.num_steps == 256 and sheet.melody.tempo_bpm == 90 and sheet.melody.key == "C"
    assert sheet.chords.symbols_per_bar(16, 16)[:5] == ["C", "Am", "F", "G", "C"]
    expected = np.flatnonzero(np.resize(parse_rhythm_pattern(BAR), 256)).tolist()
    assert [n.start for n in sheet.melody.notes] == expected
    assert all(55 <= n.pitch <= 88 for n in sheet.melody.notes)


def test_song_without_a_rhythm_writes_its_own_and_follows_the_seed(model):
    pipe = SongPipeline(model)
    a = pipe("D G A D", 8, key="D", seed=5, num_samples=2)
    b = pipe("D G A D", 8, key="D", seed=6)
    assert a.samples[0].melody.num_steps == 128
    assert a.samples[1].melody.notes == b.samples[0].melody.notes  # variation i uses seed + i
    assert pipe("D G A D", 8, key="D", functions="T S D T", seed=5).samples[0].melody.num_steps == 128


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(chords="C G", num_bars=40), "Bars must be between 8 and 32"),
        (dict(chords="C G", num_bars=9), "even"),
        (dict(chords="C G", num_bars=8, key="H"), "key"),
        (dict(chords="C G", num_bars=8, functions="T Q"), "'Q'"),
        (dict(chords="C G", num_bars=8, num_samples=0), "Variations"),
        (dict(chords="C G", num_bars=8, rhythm="x..|"), "Rhythm bar 1"),
    ],
)
def test_song_rejects_bad_input_with_a_message(model, kwargs, message):
    with pytest.raises(CadenzaInputError, match=message):
        SongPipeline(model)(**kwargs)


def test_song_names_an_unknown_chord(model):
    with pytest.raises(ChordSymbolError, match="Hm"):
        SongPipeline(model)("C Hm F G", 8)


def test_continue_keeps_the_tune_and_adds_bars(model, tune):
    out = ContinuePipeline(model)(tune, 8, seed=1)
    sheet = out.samples[0]
    assert sheet.melody.num_steps == 256 and out.blocks == [4, 5, 6, 7]
    assert np.array_equal(blocks_of(sheet)[:4], blocks_of(tune))
    assert sheet.chords.symbols_per_bar(16, 16)[8:12] == ["G", "C", "D", "G"]  # the tune's chords again
    typed = ContinuePipeline(model)(tune, 4, chords="Em Am", rhythm=BAR, seed=1).samples[0]
    assert typed.chords.symbols_per_bar(16, 12)[8:] == ["Em", "Am", "Em", "Am"]
    assert [n.start for n in typed.melody.notes if n.start >= 128] == [
        128 + s for s in np.flatnonzero(np.resize(parse_rhythm_pattern(BAR), 64))
    ]


def test_continue_stops_at_32_bars(model, tune):
    with pytest.raises(CadenzaInputError, match="between 2 and 24"):
        ContinuePipeline(model)(tune, 26)
    long = ContinuePipeline(model)(tune, 24).samples[0]
    with pytest.raises(CadenzaInputError, match="32"):
        ContinuePipeline(model)(long, 2)


def test_infill_rewrites_only_the_chosen_blocks(model, tune):
    out = InfillPipeline(model)(tune, [2], seed=4, num_samples=2)
    assert out.blocks == [2]
    for sheet in out.samples:
        new, old = blocks_of(sheet), blocks_of(tune)
        assert np.array_equal(new[[0, 1, 3]], old[[0, 1, 3]])
        assert np.array_equal(new[2] < 128, old[2] < 128)  # the block keeps its rhythm by default
    drawn = InfillPipeline(model)(tune, [1], rhythm={1: "x.x.x.x.x.x.x.x.|x...x...x...x..."}, seed=4).samples[0]
    assert [n.start for n in drawn.melody.notes if 32 <= n.start < 64] == list(range(32, 48, 2)) + list(
        range(48, 64, 4)
    )
    free = InfillPipeline(model)(tune, "1,2", keep_rhythm=False, seed=4).samples[0]
    assert np.array_equal(blocks_of(free)[[0, 3]], blocks_of(tune)[[0, 3]])


@pytest.mark.parametrize(
    "blocks, message",
    [([], "No block selected"), ([0, 1, 2, 3], "All 4 blocks"), ([7], "between 0 and 3"), ("a", "numbers")],
)
def test_infill_rejects_bad_selections(model, tune, blocks, message):
    with pytest.raises(CadenzaInputError, match=message):
        InfillPipeline(model)(tune, blocks)


def test_infill_rejects_a_rhythm_for_an_unselected_block(model, tune):
    with pytest.raises(CadenzaInputError, match="not selected"):
        InfillPipeline(model)(tune, [1], rhythm={2: BAR + "|" + BAR})


def test_prepare_tune_cuts_whole_blocks_up_to_32_bars(tune):
    long = LeadSheet(
        Melody([Note(60 + i % 12, i * 16, i * 16 + 16) for i in range(40)], 640, 120.0, (4, 4), 4), tune.chords
    )
    prepared = prepare_tune(long)
    assert prepared.melody.num_steps == 512 and prepared.melody.pickup_steps == 0
    assert prepare_tune(long, start_bar=2, num_bars=8).melody.num_steps == 128
    with pytest.raises(CadenzaInputError, match="between 2 and 32"):
        prepare_tune(long, num_bars=40)


def test_jobs_batched_together_get_what_they_would_alone(model, tune):
    """SongModel.generate_many: infill jobs (some rhythms given, some not; different seeds and key controls) sampled
    and decoded in one batch give each job its tokens alone; a sampled decode runs alone."""
    base = model.encode(tune)
    count = base.num_blocks
    pattern = tokens_to_rhythm(base.tokens)
    known_pattern = np.array([True, True, False, True])  # block 1's rhythm kept, block 2's drawn
    functions = model.functions(tune.chords, "G", count)
    decoding = LatentGenerationConfig()

    def job(seed, key="G", decode_temperature=0.0):
        return SongJob(
            base,
            [1, 2],
            pattern,
            known_pattern,
            np.ones(count, bool),
            functions,
            decoding.controls(scale_pitch_classes(key)),
            seeded_generator(seed, "cpu"),
            0.8,
            "outside_in",
            decode_temperature,
        )

    jobs = [job(1), job(2, "D"), job(3), job(4, decode_temperature=0.7)]
    assert jobs[0].batch_key(4) == jobs[1].batch_key(4) and jobs[3].batch_key(4) is None
    together = model.generate_many(jobs)
    alone = [model.generate_many([j])[0] for j in [job(1), job(2, "D"), job(3), job(4, decode_temperature=0.7)]]
    assert all(np.array_equal(a, b) for a, b in zip(together, alone))
    assert not np.array_equal(together[0], together[2])  # different seeds, different tunes
