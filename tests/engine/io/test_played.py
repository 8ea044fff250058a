"""A take played on a MIDI keyboard, on the sixteenth grid: timing, one line from legato and chords, refusals."""

import json

import pytest

from engine.io.played import PlayedTakeError, played_melody

# At 120 BPM a sixteenth is 125 ms; the take starts at 5000 ms (the page's clock), not at 0.
T0 = 5000.0


def _take(notes, stop=None) -> str:
    return json.dumps({"notes": notes, "stop": stop, "take": 1})


def test_times_become_sixteenths_from_the_first_note() -> None:
    notes = [[60, T0, T0 + 480], [62, T0 + 510, T0 + 990], [64, T0 + 1004, T0 + 1990]]  # a little early and late
    melody = played_melody(_take(notes), 120)
    assert [(n.pitch, n.start, n.end) for n in melody.notes] == [(60, 0, 4), (62, 4, 8), (64, 8, 16)]
    assert melody.num_steps == 16 and melody.tempo_bpm == 120 and melody.time_signature == (4, 4)
    slower = played_melody(_take(notes), 60)  # the same playing at half the tempo: half as many steps
    assert [(n.start, n.end) for n in slower.notes] == [(0, 2), (2, 4), (4, 8)]


def test_legato_and_two_keys_at_once_make_one_line() -> None:
    notes = [
        [60, T0, T0 + 700],  # still down when the next key goes down (legato)
        [64, T0 + 500, T0 + 1000],
        [65, T0 + 1000, T0 + 1240],
        [67, T0 + 1010, T0 + 1500],  # struck with the F on the same sixteenth: the later one is the melody
        [69, T0 + 1500, None],  # still down at Stop: sounds to Stop
    ]
    melody = played_melody(_take(notes, stop=T0 + 2000), 120)
    assert [(n.pitch, n.start, n.end) for n in melody.notes] == [(60, 0, 4), (64, 4, 8), (67, 8, 12), (69, 12, 16)]


@pytest.mark.parametrize(
    "take, tempo, message",
    [
        ("", 120, "Nothing recorded yet"),
        (_take([]), 120, "No notes were played"),
        ("{not json", 120, "damaged"),
        (json.dumps([1, 2]), 120, "damaged"),
        (_take([[200, T0, T0 + 100]]), 120, "pitch 200"),
        (_take([[60, "soon", T0 + 100]]), 120, "not a time"),
        (_take([[60, T0, T0 + 100]]), 10, "Tempo must be between 30 and 300"),
        (_take([[60, T0 + i, T0 + i + 1] for i in range(2001)]), 120, "at most 2,000"),
        ("x" * 300_000, 120, "too long"),
    ],
)
def test_a_bad_take_is_refused_with_the_reason(take, tempo, message) -> None:
    with pytest.raises(PlayedTakeError, match=message):
        played_melody(take, tempo)
