"""ExplorePipeline on the tiny untrained model: shapes, controls, validation and speed."""

import numpy as np
import pytest
import torch

from engine.io.midi import read_midi
from engine.models.ec2vae import EC2VAE, EC2VAEConfig
from engine.music import LeadSheet, Melody
from engine.music.chords import parse_progression
from engine.music.constants import ONSET
from engine.music.errors import CadenzaInputError, ChordSymbolError
from engine.music.representation import melody_to_tokens, tokens_to_rhythm
from engine.pipelines.explore import ExploreInputError, ExplorePipeline, Latents, chroma_to_progression, slerp
from tests.conftest import make_lead_sheet, make_nottingham_midi


@pytest.fixture(scope="module")
def pipe():
    return ExplorePipeline.from_pretrained("debug")


@pytest.fixture(scope="module")
def lively():
    """The debug model with sharper posteriors and rhythm decoder, so rhythms depend on z and have onsets."""
    torch.manual_seed(0)
    model = EC2VAE(EC2VAEConfig.debug())
    with torch.no_grad():
        model.rhythm_out.weight.mul_(10.0)
        model.rhythm_out.bias.copy_(torch.tensor([0.0, 0.0, -1.0]))
        model.to_rhythm_posterior.weight.mul_(10.0)
        model.to_pitch_posterior.weight.mul_(10.0)
        model.pitch_out.weight.mul_(5.0)
    return ExplorePipeline(model)


@pytest.fixture(scope="module")
def tune_a():
    sheet = read_midi(make_nottingham_midi(), title="A")  # 4 bars of quarter notes, chords G C D G
    return sheet


@pytest.fixture(scope="module")
def tune_b():
    return make_lead_sheet(8, step=2, chords="C Am F G", base=64, title="B", tempo=90.0)


def onsets(sheet: LeadSheet) -> list[int]:
    return [n.start for n in sheet.melody.notes]


# ------------------------------------------------------------------ sources (cut by engine.io.sources)
def test_a_melody_from_compose_is_a_source(pipe):
    from engine.pipelines.compose import ComposePipeline

    composed = ComposePipeline.from_pretrained("debug")("x...x...x.x.x...", "C Am F G", 4, seed=3).samples[0]
    out = pipe.analogy(composed, make_lead_sheet(4, step=2)).samples[0]
    assert onsets(out) == list(range(0, 64, 2))


# ----------------------------------------------------------- encode / decode
def test_encode_gives_posterior_means_per_window(pipe, tune_b):
    latents = pipe.encode(tune_b)
    cfg = pipe.model.config
    assert isinstance(latents, Latents) and latents.num_windows == 4
    assert latents.z_pitch.shape == (4, cfg.z_pitch) and latents.z_rhythm.shape == (4, cfg.z_rhythm)
    assert latents.chroma.shape == (4, 32, 12)
    np.testing.assert_array_equal(latents.chroma.reshape(-1, 12), tune_b.chords.chroma(128))
    np.testing.assert_array_equal(latents.tokens.reshape(-1), melody_to_tokens(tune_b.melody, 0, 128))
    again = pipe.encode(tune_b)
    assert torch.equal(latents.z_pitch, again.z_pitch)  # means, not samples


def test_decode_builds_a_leadsheet_and_honours_a_forced_rhythm(pipe, tune_b):
    latents = pipe.encode(tune_b)
    rhythm = tokens_to_rhythm(latents.tokens)
    sheet = pipe.decode(latents.z_pitch, latents.z_rhythm, latents.chroma, tempo=90, title="x", rhythm=rhythm).samples[
        0
    ]
    assert sheet.melody.num_steps == 128 and sheet.title == "x" and sheet.melody.tempo_bpm == 90
    assert onsets(sheet) == onsets(tune_b)
    assert sheet.chords.symbols_per_bar(16, 8) == tune_b.chords.symbols_per_bar(16, 8)  # recognised from the chroma
    free = pipe.decode(latents.z_pitch, latents.z_rhythm, latents.chroma).samples[0]
    assert free.melody.num_steps == 128
    assert all(0 <= n.start < n.end <= 128 for n in free.melody.notes)


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(z_pitch=torch.zeros(2, 5)), "z_pitch must have shape"),
        (dict(z_rhythm=torch.zeros(3, 16)), "z_pitch has 2 window"),
        (dict(chroma=np.zeros((2, 16, 12))), "chroma must have shape"),
        (dict(tempo=1000), "Tempo"),
        (dict(z_pitch=[0.0] * 16), "tensor or array"),
        (dict(z_pitch=torch.full((2, 16), float("nan"))), "NaN"),
    ],
)
def test_decode_validates_its_inputs(pipe, change, message):
    args = dict(z_pitch=torch.zeros(2, 16), z_rhythm=torch.zeros(2, 16), chroma=np.zeros((2, 32, 12)))
    args.update(change)
    with pytest.raises(ExploreInputError, match=message):
        pipe.decode(**args)


def test_chroma_to_progression_recognises_chords():
    progression = parse_progression("C Am F G7", 4)
    back = chroma_to_progression(progression.chroma(64))
    assert [(c.symbol, c.start, c.end) for c in back.chords] == [(c.symbol, c.start, c.end) for c in progression.chords]


# -------------------------------------------------------------------- slerp
def test_slerp_endpoints_and_arc():
    a, b = torch.tensor([[1.0, 0.0], [0.0, 3.0]]), torch.tensor([[0.0, 1.0], [3.0, 0.0]])
    torch.testing.assert_close(slerp(a, b, 0.0), a)
    torch.testing.assert_close(slerp(a, b, 1.0), b)
    middle = slerp(a, b, 0.5)
    torch.testing.assert_close(middle.norm(dim=-1), torch.tensor([1.0, 3.0]))  # stays on the arc, row by row
    torch.testing.assert_close(middle[0], torch.tensor([0.5**0.5, 0.5**0.5]))


def test_slerp_falls_back_to_lerp_for_parallel_or_zero_vectors():
    a = torch.tensor([1.0, 2.0, 3.0])
    torch.testing.assert_close(slerp(a, 2 * a, 0.5), 1.5 * a)
    torch.testing.assert_close(slerp(a, a.clone(), 0.3), a)
    torch.testing.assert_close(slerp(torch.zeros(3), a, 0.25), 0.25 * a)
    out = slerp(np.array([1.0, 0.0]), np.array([1.0, 1e-9]), 0.5)
    assert isinstance(out, np.ndarray) and np.all(np.isfinite(out))


def test_slerp_rejects_bad_arguments():
    with pytest.raises(ExploreInputError, match="shapes"):
        slerp(torch.zeros(3), torch.zeros(4), 0.5)
    with pytest.raises(ExploreInputError, match="must be a number"):
        slerp(torch.zeros(3), torch.ones(3), "half")


# ------------------------------------------------------------ interpolation
def test_interpolation_endpoints_reconstruct_a_and_b(pipe, lively, tune_a, tune_b):
    for p in (pipe, lively):
        path = p.interpolate(tune_a, tune_b, steps=4, chords="a").samples
        assert len(path) == 4
        assert all(s.melody.num_steps == 64 for s in path)  # B (4 windows) cropped to A's 2 windows
        la, lb = p.encode(tune_a), p.encode(tune_b)
        rec_a = p.decode(la.z_pitch, la.z_rhythm, la.chroma).samples[0]
        assert path[0].melody.notes == rec_a.melody.notes
        last = p.interpolate(tune_a, tune_b, steps=4, chords="b").samples[-1]
        rec_b = p.decode(lb.z_pitch[:2], lb.z_rhythm[:2], lb.chroma[:2]).samples[0]
        assert last.melody.notes == rec_b.melody.notes


def test_interpolation_uses_the_chosen_chords_and_a_tempo(pipe, tune_a, tune_b):
    assert all(
        s.chords.symbols_per_bar(16, 4) == ["G", "C", "D", "G"]
        for s in pipe.interpolate(tune_a, tune_b, 3, chords="a").samples
    )
    assert all(
        s.chords.symbols_per_bar(16, 4) == ["C", "Am", "F", "G"]
        for s in pipe.interpolate(tune_a, tune_b, 3, chords="b").samples
    )
    typed = pipe.interpolate(tune_a, tune_b, 3, chords="Dm G7").samples
    assert typed[1].chords.symbols_per_bar(16, 4) == ["Dm", "G7", "Dm", "G7"]
    assert typed[0].melody.tempo_bpm == tune_a.melody.tempo_bpm
    assert [s.title for s in typed] == [f"A → B: step {k} of 3" for k in (1, 2, 3)]


def test_interpolation_moves_from_a_to_b(lively, tune_a, tune_b):
    path = lively.interpolate(tune_a, tune_b, steps=6).samples
    assert path[0].melody.notes != path[-1].melody.notes


@pytest.mark.parametrize(
    "steps, message",
    [(1, "Steps must be between 2 and 12"), (13, "got 13"), (2.5, "whole number"), ("5", "whole number")],
)
def test_interpolation_steps_are_checked(pipe, tune_a, tune_b, steps, message):
    with pytest.raises(ExploreInputError, match=message):
        pipe.interpolate(tune_a, tune_b, steps)


def test_bad_chord_choices_are_reported(pipe, tune_a, tune_b):
    with pytest.raises(ChordSymbolError, match="Qq"):
        pipe.interpolate(tune_a, tune_b, 3, chords="C Qq")
    with pytest.raises(ChordSymbolError, match="empty"):
        pipe.interpolate(tune_a, tune_b, 3, chords="  ")
    with pytest.raises(ExploreInputError, match="Chords must be 'a', 'b'"):
        pipe.interpolate(tune_a, tune_b, 3, chords=None)
    with pytest.raises(ExploreInputError, match="B has no notes"):
        pipe.interpolate(tune_a, LeadSheet(Melody([], 32)), 3)


# --------------------------------------------------------------------- grid
def test_grid_corners_are_the_interpolation_endpoints(pipe, lively, tune_a, tune_b):
    for p in (pipe, lively):
        grid = p.grid(tune_a, tune_b, size=3).rows
        assert len(grid) == 3 and all(len(row) == 3 for row in grid)
        path = p.interpolate(tune_a, tune_b, steps=3).samples
        assert grid[0][0].melody.notes == path[0].melody.notes
        assert grid[2][2].melody.notes == path[2].melody.notes
        assert grid[1][2].title == "Pitch 50% B, rhythm 100% B"


def test_grid_columns_share_their_rhythm(lively, tune_a, tune_b):
    grid = lively.grid(tune_a, tune_b, size=4).rows
    for j in range(4):
        column = [onsets(grid[i][j]) for i in range(4)]
        assert all(c == column[0] for c in column)
    assert onsets(grid[0][0]) != onsets(grid[0][3])


def test_grid_decodes_all_cells_in_one_batch(pipe, tune_a, tune_b, monkeypatch):
    calls = {"pitch": [], "rhythm": []}
    decode_pitch, decode_rhythm = pipe.model.decode_pitch, pipe.model.decode_rhythm

    def counting_pitch(z_pitch, *args, **kwargs):
        calls["pitch"].append(z_pitch.shape[0])
        return decode_pitch(z_pitch, *args, **kwargs)

    def counting_rhythm(z_rhythm, *args, **kwargs):
        calls["rhythm"].append(z_rhythm.shape[0])
        return decode_rhythm(z_rhythm, *args, **kwargs)

    monkeypatch.setattr(pipe.model, "decode_pitch", counting_pitch)
    monkeypatch.setattr(pipe.model, "decode_rhythm", counting_rhythm)
    pipe.grid(tune_a, tune_b, size=5)
    assert calls == {"pitch": [5 * 5 * 2], "rhythm": [5 * 2]}


@pytest.mark.parametrize(
    "size, message", [(1, "Map size must be between 2 and 7"), (8, "got 8"), (None, "whole number")]
)
def test_grid_size_is_checked(pipe, tune_a, tune_b, size, message):
    with pytest.raises(ExploreInputError, match=message):
        pipe.grid(tune_a, tune_b, size)


# -------------------------------------------------------------------- morph
def test_morph_joins_a_path_through_the_map(lively, tune_a, tune_b):
    grid = lively.grid(tune_a, tune_b, size=3).rows
    cells = ExplorePipeline.path_cells(grid, [(0, 0), (1, 1), (2, 2), (2, 1)])
    morph = lively.morph(cells).samples[0]
    assert morph.melody.num_steps == 4 * 64
    expected = [(n.pitch, n.start + 64 * k) for k, cell in enumerate(cells) for n in cell.melody.notes]
    assert [(n.pitch, n.start) for n in morph.melody.notes] == expected
    assert morph.chords.symbols_per_bar(16, 16) == ["G", "C", "D", "G"] * 4
    assert morph.melody.tempo_bpm == cells[0].melody.tempo_bpm and "4 cells" in morph.title


def test_morph_and_path_errors(pipe, tune_a, tune_b):
    grid = pipe.grid(tune_a, tune_b, size=2).rows
    with pytest.raises(ExploreInputError, match="non-empty list"):
        pipe.morph([])
    with pytest.raises(ExploreInputError, match="Cell 2"):
        pipe.morph([grid[0][0], "x"])
    with pytest.raises(ExploreInputError, match="Row of path entry 2 must be between 0 and 1"):
        ExplorePipeline.path_cells(grid, [(0, 0), (2, 0)])
    with pytest.raises(ExploreInputError, match="path is empty"):
        ExplorePipeline.path_cells(grid, [])


# ------------------------------------------------------------------ analogy
def test_analogy_onsets_are_exactly_the_rhythm_sources(pipe, lively, tune_a, tune_b):
    for p in (pipe, lively):
        out = p.analogy(tune_b, tune_a).samples[0]  # B's tune (4 windows) with A's rhythm (2 windows): cropped to 2
        assert out.melody.num_steps == 64
        assert onsets(out) == onsets(tune_a)
        out = p.analogy(tune_a, tune_b).samples[0]
        assert onsets(out) == [s for s in onsets(tune_b) if s < 64]
        low, high = p.pitch_range
        assert all(low <= n.pitch <= high for n in out.melody.notes)


def test_analogy_chords_tempo_and_title(pipe, tune_a, tune_b):
    out = pipe.analogy(tune_a, tune_b).samples[0]
    assert out.chords.symbols_per_bar(16, 4) == ["G", "C", "D", "G"]  # the pitch source's harmony by default
    assert out.melody.tempo_bpm == tune_b.melody.tempo_bpm
    assert out.title == "A with the rhythm of B"
    assert pipe.analogy(tune_a, tune_b, chords="b").samples[0].chords.symbols_per_bar(16, 4) == ["C", "Am", "F", "G"]
    assert pipe.analogy(tune_a, tune_b, chords="rhythm").samples[0].chords.symbols_per_bar(16, 4) == [
        "C",
        "Am",
        "F",
        "G",
    ]
    assert pipe.analogy(tune_a, tune_b, chords="E A").samples[0].chords.symbols_per_bar(16, 4) == ["E", "A", "E", "A"]


def test_analogy_uses_a_pitch_and_b_rhythm_latents(lively, tune_a, tune_b):
    la, lb = lively.encode(tune_a), lively.encode(tune_b)
    forced = tokens_to_rhythm(lb.tokens[:2])
    expected = lively.decode(la.z_pitch, lb.z_rhythm[:2], la.chroma, rhythm=forced).samples[0]
    assert lively.analogy(tune_a, tune_b).samples[0].melody.notes == expected.melody.notes


# -------------------------------------------------------------- reharmonise
def test_reharmonise_keeps_the_rhythm_and_takes_the_new_chords(pipe, lively, tune_b):
    for p in (pipe, lively):
        out = p.reharmonise(tune_b, "Am Dm E7").samples[0]
        assert onsets(out) == onsets(tune_b)
        assert out.chords.symbols_per_bar(16, 8) == ["Am", "Dm", "E7", "Am", "Dm", "E7", "Am", "Dm"]
        assert out.melody.num_steps == tune_b.melody.num_steps


def test_reharmonise_errors(pipe, tune_b):
    with pytest.raises(ChordSymbolError, match="Xx9"):
        pipe.reharmonise(tune_b, "C Xx9")
    with pytest.raises(ChordSymbolError, match="empty"):
        pipe.reharmonise(tune_b, "")
    with pytest.raises(ExploreInputError, match="as text"):
        pipe.reharmonise(tune_b, ["C"])
    with pytest.raises(CadenzaInputError):
        pipe.reharmonise("not a sheet", "C")


def test_lowercase_a_typed_to_reharmonise_is_the_a_major_chord(pipe, tune_b):
    assert pipe.reharmonise(tune_b, "a").samples[0].chords.chords[0].symbol == "A"


def test_rhythm_mask_only_allows_what_the_rhythm_says(pipe):
    rhythm = torch.tensor([[ONSET, 1, 2, ONSET]])
    bias = pipe._rhythm_mask(rhythm)
    allowed = torch.isfinite(bias[0])
    assert allowed[0, 60] and not allowed[0, 128] and not allowed[0, 129] and not allowed[0, 5]
    assert allowed[1].nonzero().flatten().tolist() == [128]
    assert allowed[2].nonzero().flatten().tolist() == [129]
