"""MuseGAN's metrics on hand-made windows with known answers."""

import json

import numpy as np
import pytest

from engine.eval.metrics.musegan import (
    bass_downbeat_chord_share,
    diversity,
    empty_bar_rate,
    in_scale_share,
    metrics_table,
    onset_chord_tone_share,
    qualified_note_rate,
    repeat_share,
    stepwise_share,
    tonal_centroids,
    tonal_distance,
    used_pitch_classes,
    window_metrics,
)
from engine.music.constants import HOLD, REST
from engine.music.harmony import UNKNOWN, sounding_pitches


def track(*notes, steps=32):
    """Tokens from (pitch, start, length) notes."""
    out = np.full(steps, REST)
    for pitch, start, length in notes:
        out[start] = pitch
        out[start + 1 : start + length] = HOLD
    return out


def window(*tracks):
    rows = list(tracks) + [np.full(32, REST)] * (4 - len(tracks))
    return np.stack(rows)[None]


def held_triad():
    """A C major triad (C5, G4, E4) held for the whole window in three tracks; the bass rests."""
    return window(track((72, 0, 32)), track((67, 0, 32)), track((64, 0, 32)))


def c_chroma(beats=8):
    chroma = np.zeros((1, beats, 12))
    chroma[:, :, [0, 4, 7]] = 1
    return chroma


def test_empty_bar_rate():
    w = window(track((60, 0, 4)), track((60, 0, 32)), np.full(32, HOLD))  # track 3 all REST
    rate = empty_bar_rate(w)
    assert rate[0] == 0.5  # a note in bar 1 only
    assert rate[1] == 0.0  # held through both bars: the second bar sounds too
    assert rate[2] == 0.0  # held in from before the window: sounds, pitch unknown
    assert rate[3] == 1.0


def test_sounding_pitches_marks_notes_held_in_from_before():
    tokens = np.array([[HOLD, HOLD, 60, HOLD, REST, HOLD]])
    assert sounding_pitches(tokens).tolist() == [[UNKNOWN, UNKNOWN, 60, 60, -1, -1]]


def test_used_pitch_classes():
    arpeggio = track((60, 0, 4), (64, 4, 4), (67, 8, 4), (72, 12, 4))  # C E G C in bar 1, bar 2 empty
    w = window(arpeggio, track((60, 0, 16), (62, 16, 16)))
    upc = used_pitch_classes(w)
    assert upc[0] == 3.0  # the empty bar is left out of the mean
    assert upc[1] == 1.0
    assert upc[2] is None and upc[3] is None  # never plays


def test_qualified_note_rate():
    sixteenths = np.arange(60, 92)  # an onset every step
    eighths = track(*[(60 + i, 2 * i, 2) for i in range(16)])
    mixed = track((60, 0, 4), (62, 4, 1), (64, 5, 1), (65, 6, 2))
    w = np.stack([window(sixteenths, eighths, mixed)[0]])
    rate = qualified_note_rate(w)
    assert rate[0] == 0.0 and rate[1] == 1.0 and rate[2] == 0.5 and rate[3] is None
    assert qualified_note_rate(window(track((60, 31, 1))))[0] == 0.0  # cut by the window's end: one step


def test_tonal_distance():
    melody = track((60, 0, 8), (67, 8, 8), (65, 16, 16))
    w = window(melody, melody.copy(), track((60, 0, 32)), track((66, 0, 32)))
    td = tonal_distance(w)
    assert td["0-1"] == pytest.approx(0.0)  # identical tracks
    assert td["2-3"] > td["0-2"] > 0  # C against F# (a tritone) is farther than the melody against C
    assert tonal_distance(held_triad())["0-3"] is None  # the bass never sounds
    # One pitch class lies on all three circles: norm sqrt(1 + 1 + 0.25).
    single = np.zeros(12)
    single[0] = 3.0
    assert np.linalg.norm(tonal_centroids(single)) == pytest.approx(1.5)


def test_onset_chord_tone_share():
    result = onset_chord_tone_share(held_triad(), c_chroma())
    assert result["all"] == 1.0 and result["per_track"][:3] == [1.0, 1.0, 1.0] and result["per_track"][3] is None
    assert result["onsets"] == 3
    per_step = np.repeat(c_chroma(), 4, axis=1)
    assert onset_chord_tone_share(held_triad(), per_step) == result
    off = window(track((62, 0, 8), (64, 8, 8), (65, 16, 8), (67, 24, 8)))  # D E F G: E and G are chord tones
    assert onset_chord_tone_share(off, c_chroma())["all"] == 0.5
    no_chords = onset_chord_tone_share(off, np.zeros((1, 8, 12)))
    assert no_chords["onsets"] == 0 and no_chords["all"] is None


def test_bass_downbeat_chord_share_reads_the_bass_where_each_bar_first_sounds():
    rest = np.full(32, REST)
    g_then_d = np.zeros((1, 8, 12))  # G major in bar 1, D major in bar 2
    g_then_d[:, :4, [7, 11, 2]] = 1
    g_then_d[:, 4:, [2, 6, 9]] = 1
    on_time = window(rest, rest, rest, track((43, 0, 16), (38, 16, 16)))  # G2, then D2 on the bar line
    assert bass_downbeat_chord_share(on_time, g_then_d) == {"share": 1.0, "bars": 2}
    late = window(rest, rest, rest, track((43, 0, 24), (38, 24, 8)))  # G2 held half a bar into the D bar
    assert bass_downbeat_chord_share(late, g_then_d) == {"share": 0.5, "bars": 2}
    # a bass entering after a rest is read where it first sounds (beat 2 of bar 2: A2, a tone of D)
    entering = window(rest, rest, rest, track((43, 0, 16), (45, 20, 12)))
    assert bass_downbeat_chord_share(entering, g_then_d) == {"share": 1.0, "bars": 2}
    # a silent bass, or no chord at the bar's first step, is not counted
    assert bass_downbeat_chord_share(window(rest, rest, rest, rest), g_then_d) == {"share": None, "bars": 0}
    assert bass_downbeat_chord_share(late, np.zeros((1, 8, 12)))["bars"] == 0


def test_in_scale_share_counts_onsets_in_the_windows_own_best_diatonic_scale():
    d_major = window(track(*[(p, i * 4, 4) for i, p in enumerate((62, 64, 66, 67, 69, 71, 73, 74))]))
    assert in_scale_share(d_major) == 1.0  # any key: D major is one of the twelve scales
    chromatic = window(track(*[(60 + i, i * 4, 4) for i in range(8)]))  # C .. G chromatically: at best 5 of 8
    assert in_scale_share(chromatic) == pytest.approx(5 / 8)
    assert in_scale_share(np.concatenate([d_major, chromatic])) == pytest.approx((1 + 5 / 8) / 2)
    assert in_scale_share(held_triad()) is None  # three onsets: too few to tell a key


def test_stepwise_and_repeat_shares_split_the_top_voices_intervals_into_steps_and_repeats():
    line = window(track((60, 0, 4), (62, 4, 4), (64, 8, 4), (72, 12, 4), (71, 16, 8), (71, 24, 8)))  # 2 2 8 1 0
    assert stepwise_share(line) == pytest.approx(3 / 5)  # a repeated pitch is not a step
    assert repeat_share(line) == pytest.approx(1 / 5)
    other = window(track((60, 0, 8), (67, 8, 8)))
    assert stepwise_share(np.concatenate([line, other])) == pytest.approx(3 / 6)
    assert repeat_share(np.concatenate([line, other])) == pytest.approx(1 / 6, abs=1e-4)  # rounded to 4 places
    assert stepwise_share(line, track=1) is None and repeat_share(line, track=1) is None  # a silent track: no intervals


def test_window_metrics_are_json_ready_and_the_table_compares_sources():
    real = np.concatenate([held_triad(), held_triad()])
    figures = window_metrics(real)
    json.dumps(figures)
    assert figures["empty_bar_rate"] == [0.0, 0.0, 0.0, 1.0] and figures["used_pitch_classes"][:3] == [1.0, 1.0, 1.0]
    generated = window(track((60, 0, 1), (61, 1, 1)))
    rows = metrics_table({"Bach": real, "Folk": real}, {"gan": {"Bach": generated}})
    json.dumps(rows)
    first = rows[0]
    assert first == {"style": "Bach", "metric": "empty_bar_rate", "track": 0, "real": 0.0, "gan": 0.5}
    assert {r["metric"] for r in rows} == {
        "empty_bar_rate",
        "used_pitch_classes",
        "qualified_note_rate",
        "tonal_distance",
    }
    assert all(r["gan"] is None for r in rows if r["style"] == "Folk")
    assert any(r["track"] == "0-1" for r in rows)


def test_diversity():
    same = np.concatenate([held_triad()] * 4)
    assert diversity(same) == {"unique_share": 0.25, "mean_hamming": 0.0}
    other = window(track((61, 0, 32)))
    assert diversity(np.concatenate([held_triad(), other]))["unique_share"] == 1.0
