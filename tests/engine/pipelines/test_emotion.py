"""Emotion pipeline (tiny untrained model): the template, the prompt blend, readable tunes, bad input."""

import pytest

from engine.io.abc import read_abc_text
from engine.models.feature_judge import hear_tune, tune_mode
from engine.music.errors import CadenzaInputError
from engine.pipelines.emotion import EmotionPipeline, EmotionRequest, longest_bar_repeat
from engine.pipelines.emotion_template import ANCHORS, CORNERS, prompt_weights, set_mode, template_at


@pytest.fixture(scope="module")
def pipe():
    return EmotionPipeline.from_pretrained("debug")


def _draw_with(monkeypatch, pipe, draw) -> None:
    """Every draw of the pipeline's rounds made by ``draw(weights, bars, generator, mode, settings)`` (a fixed text)."""
    monkeypatch.setattr(pipe, "sample_abc_many", lambda draws: [draw(*d) for d in draws])


@pytest.mark.parametrize("quadrant", ["Q1", "Q2", "Q3", "Q4"])
def test_the_template_at_each_corner_is_emusicgens(quadrant):
    tempo, mode, shift, loudness = ANCHORS[quadrant]
    t = template_at(*CORNERS[quadrant])
    assert t.tempo_range == tempo and t.mode == mode and t.register_shift == shift and t.loudness_db == loudness


def test_the_template_moves_between_the_corners():
    sad, between, tense = template_at(-1, -1), template_at(-1, 0), template_at(-1, 1)
    assert sad.tempo_range[0] < between.tempo_range[0] < tense.tempo_range[0]
    assert sad.articulation > between.articulation > tense.articulation  # legato when sad, detached when tense
    assert template_at(0.05, 0.5).mode is None  # the model's own mode near the middle
    assert template_at(0.5, 0.5).register_shift % 12 == 0


def test_prompts_blend_two_quadrants_near_an_axis():
    assert prompt_weights(0.8, 0.8) == {"Q1": 1.0}
    near = prompt_weights(0.1, 0.8)
    assert set(near) == {"Q1", "Q2"} and near["Q1"] > near["Q2"] and sum(near.values()) == pytest.approx(1.0)
    assert prompt_weights(-0.6, -0.05) == {"Q3": pytest.approx(0.6), "Q2": pytest.approx(0.4)}


def test_a_sad_tune_is_slow_minor_low_and_readable(pipe):
    out = pipe(quadrant="Q3", num_bars=8, seed=1, num_samples=2)
    assert out.seeds == [1, 2]
    for tune in out.samples:
        assert 40 <= tune.tempo_bpm <= 69 and tune.sheet.melody.tempo_bpm == tune.tempo_bpm
        assert tune.sheet.melody.key.endswith("m")
        assert "Q:1/4=" in tune.abc and "T:Cadenza emotion: sad" in tune.abc
        assert read_abc_text(tune.abc_raw).melody.notes  # the model's own text reads too
        raw, final = read_abc_text(tune.abc_raw), read_abc_text(tune.abc)
        assert min(n.pitch for n in final.melody.notes) <= min(n.pitch for n in raw.melody.notes) - 11  # an octave down
        assert tune.template.register_shift == -12


def test_same_seed_same_tune_and_a_point_between_quadrants(pipe):
    a = pipe(valence=0.1, arousal=0.7, num_bars=8, seed=4).samples[0]
    b = pipe(valence=0.1, arousal=0.7, num_bars=8, seed=4).samples[0]
    assert a.abc == b.abc and set(a.prompt) == {"Q1", "Q2"}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(valence=1.5, arousal=0), "Valence must be between -1 and 1"),
        (dict(valence=0, arousal=-3), "Arousal must be between -1 and 1"),
        (dict(valence="x", arousal=0), "Valence must be a number"),
        (dict(quadrant="Q5"), "Unknown quadrant"),
        (dict(), "Give a quadrant"),
        (dict(quadrant="Q1", num_bars=0), "Bars must be between 8 and 32"),
        (dict(quadrant="Q1", num_bars=1000), "Bars must be between 8 and 32"),
        (dict(quadrant="Q1", num_samples=9), "Variations"),
    ],
)
def test_bad_input_is_named(pipe, kwargs, message):
    with pytest.raises(CadenzaInputError, match=message):
        pipe(**kwargs)


def test_a_tune_music21_rejects_is_drawn_again_then_reported(pipe, monkeypatch):
    calls = []
    real = pipe.sample_abc_many

    def broken_first(weights, bars, generator, mode=None, settings=None):
        calls.append(1)
        draw = (weights, bars, generator, mode, settings)
        return "X:1\nM:4/4\nL:1/8\nK:C\n|]\n" if len(calls) == 1 else real([draw])[0]

    _draw_with(monkeypatch, pipe, broken_first)
    monkeypatch.setattr(pipe, "select", False)  # the untrained model's mode is chance: count readable draws only
    tune = pipe(quadrant="Q1", num_bars=8, seed=2).samples[0]
    assert tune.attempts == 2
    _draw_with(monkeypatch, pipe, lambda weights, bars, generator, mode=None, settings=None: "X:1\nK:C\n")
    with pytest.raises(CadenzaInputError, match=f"no readable tune in {pipe.generation.max_attempts} tries"):
        pipe(quadrant="Q1", num_bars=8, seed=2)


def test_parallel_mode_rewrite():
    abc = "X:1\nM:4/4\nL:1/8\nK:G\nGABc d2B2|\nK:D\nd4 A4|]\n"
    minor = set_mode(abc, "minor")
    assert "K:Gm" in minor and "K:Dm" in minor
    assert tune_mode("X:1\nM:4/4\nL:1/4\nK:Am\nA c e c|A E A2|e d c B|A4|]\n") == "minor"


def test_expression_sets_velocity_and_shortens_notes():
    from engine.music import Note

    template = template_at(1, 1)  # happy: louder, detached
    notes = template.express([Note(60, 0, 8, 90), Note(62, 8, 9, 90)])
    assert [n.velocity for n in notes] == [template.velocity] * 2 and template.velocity > 80
    assert notes[0].end == round(8 * template.articulation) and notes[1].end == 9  # at least one step sounds


def test_the_key_the_model_writes_under_follows_the_valence(pipe):
    for quadrant, minor in (("Q1", False), ("Q2", True), ("Q3", True), ("Q4", False)):
        raw = pipe(quadrant=quadrant, num_bars=8, seed=3).samples[0].abc_raw
        key = next(line[2:] for line in raw.splitlines() if line.startswith("K:"))
        assert key.endswith("m") == minor, (quadrant, key)


MAJOR_TUNE = "X:1\nM:4/4\nL:1/4\nK:C\nC E G E|F A G2|E G c G|C4|]\n"
MINOR_TUNE = "X:1\nM:4/4\nL:1/4\nK:Am\nA c e c|A E A2|e d c B|A4|]\n"
STUCK_TUNE = "X:1\nM:4/4\nL:1/4\nK:Am\nA c e c|A c e c|A c e c|A c e c|A4|]\n"


def test_longest_bar_repeat():
    assert longest_bar_repeat(MINOR_TUNE) == 1
    assert longest_bar_repeat(STUCK_TUNE) == 4
    assert longest_bar_repeat("X:1\nM:2/4\nL:1/8\nK:G\n|:GABc|GABc:|\n") == 2


def test_a_sad_prompt_draws_again_when_the_notes_sound_major(pipe, monkeypatch):
    draws = iter([MAJOR_TUNE, STUCK_TUNE, MINOR_TUNE])
    _draw_with(monkeypatch, pipe, lambda weights, bars, generator, mode=None, settings=None: next(draws))
    tune = pipe(quadrant="Q3", num_bars=8, seed=0).samples[0]
    assert tune.attempts == 3 and tune.abc_raw == MINOR_TUNE
    assert not pipe.fits(MAJOR_TUNE, "minor") and not pipe.fits(STUCK_TUNE, "minor") and pipe.fits(MINOR_TUNE, "minor")
    assert pipe.fits(MAJOR_TUNE, None)  # astride the valence axis any mode will do


def test_when_no_draw_fits_the_first_readable_one_is_kept(pipe, monkeypatch):
    _draw_with(monkeypatch, pipe, lambda weights, bars, generator, mode=None, settings=None: MAJOR_TUNE)
    tune = pipe(quadrant="Q3", num_bars=8, seed=0).samples[0]
    assert tune.attempts == 1 and tune.abc_raw == MAJOR_TUNE


def test_the_grammar_offers_keys_of_at_most_four_accidentals(pipe):
    from engine.io.abc_text import parse_key_field

    vocab = pipe.tokenizer.vocab
    offered = [vocab[i][2:].strip() for i in pipe.grammar().fields["K"]]
    assert offered and all(abs(parse_key_field(k)[1]) <= 4 for k in offered)


def test_a_pickup_bar_is_not_one_of_the_bars_asked_for(pipe):
    encode = lambda text: pipe.tokenizer.encode(text)[1:]  # noqa: E731 - without <bos>
    grammar = pipe.grammar()
    after_pickup = encode("M:4/4\nL:1/8\nK:Am\nGA|c2")
    assert grammar.bar_count(after_pickup) == 0
    assert not set(grammar.allowed(after_pickup)) & grammar.bars  # a second short bar is no pickup
    full = encode("M:4/4\nL:1/8\nK:Am\nGA|c2e2c2e2|")
    assert grammar.bar_count(full) == 1
    no_pickup = encode("M:4/4\nL:1/8\nK:Am\nc2e2c2e2|")
    assert grammar.bar_count(no_pickup) == 1


@pytest.mark.parametrize(
    ("against", "weights", "prompted"),
    [
        ("opposite", {"Q3": 1.0}, {"Q3": 1.0, "Q1": 0.0}),
        ("all", {"Q3": 1.0}, {"Q3": 1.0, "Q1": 0.0, "Q2": 0.0, "Q4": 0.0}),
        ("opposite", {"Q1": 0.7, "Q2": 0.3}, {"Q1": 0.7, "Q2": 0.3, "Q3": 0.0, "Q4": 0.0}),
    ],
)
def test_guidance_prompts_the_asked_quadrants_against_the_others(pipe, monkeypatch, against, weights, prompted):
    import torch

    seen = {}
    generate_many = pipe.model.generate_many

    def spy(jobs):
        for job in jobs:
            quadrants = [pipe.tokenizer.decode(p).split("\n")[0][2:] for p in job.prompts]
            seen.update(zip(quadrants, job.weights), guidance=job.guidance)
        return generate_many(jobs)

    monkeypatch.setattr(pipe.model, "generate_many", spy)
    settings = pipe.generation.override(guidance=2.5, guidance_against=against)
    abc = pipe.sample_abc(weights, 8, torch.Generator().manual_seed(0), None, settings)
    assert seen == {**prompted, "guidance": 2.5} and abc.startswith("X:1\n")
    seen.clear()
    plain = pipe.sample_abc(weights, 8, torch.Generator().manual_seed(0), None, settings.override(guidance=0.0))
    assert seen == {**weights, "guidance": 0.0} and plain.startswith("X:1\n")  # no guidance: the asked ones only


def test_sampling_settings_out_of_range_are_refused():
    from engine.pipelines.emotion import EmotionGenerationConfig

    with pytest.raises(ValueError, match="guidance_against"):
        EmotionGenerationConfig(guidance_against="nearest")
    with pytest.raises(ValueError, match="guidance must be"):
        EmotionGenerationConfig(guidance=-1.0)


def test_a_tune_carries_what_its_own_texts_are_heard_as(pipe):
    tune = pipe(quadrant="Q3", num_bars=8, seed=4).samples[0]
    assert tune.heard_raw == hear_tune(tune.abc_raw) and tune.heard == hear_tune(tune.abc)


def test_requests_and_variations_drawn_together_get_what_they_would_alone(pipe):
    """run_many: several feelings, lengths and seeds, with variations, drawn round by round in shared batches: each
    tune is the one drawn alone (the same raw ABC, the same attempts); bad input gets its own error."""
    requests = [
        EmotionRequest("Q1", num_bars=8, seed=3),
        EmotionRequest("Q3", num_bars=8, seed=5, num_samples=2),
        EmotionRequest(valence=-0.1, arousal=0.6, num_bars=12, seed=7),
        EmotionRequest("Q5", num_bars=8),  # no such quadrant: its own error
        EmotionRequest("Q4", num_bars=8, seed=9),
    ]
    together = pipe.run_many(requests)
    assert isinstance(together[3], CadenzaInputError)
    for request, batched in zip(requests, together):
        if isinstance(batched, CadenzaInputError):
            continue
        alone = [
            pipe.run_many([EmotionRequest(**{**request.__dict__, "seed": s, "num_samples": 1})])[0]
            for s in batched.seeds
        ]
        assert [t.abc_raw for t in batched.samples] == [a.samples[0].abc_raw for a in alone]
        assert [t.attempts for t in batched.samples] == [a.samples[0].attempts for a in alone]
