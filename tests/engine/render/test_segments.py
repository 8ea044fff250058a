import numpy as np
import pytest

from engine.render.segments import FADE_FRAMES, MIN_SPLIT_SECONDS, RELEASE_SECONDS, plan_segments, play_start, stitch

SR = 32000


def test_short_pieces_and_one_engine_are_not_split():
    assert len(plan_segments([(0, SR)], int(MIN_SPLIT_SECONDS * SR) - 1, 2, SR)) == 1
    whole = plan_segments([(0, SR)], 20 * SR, 1, SR)
    assert len(whole) == 1 and whole[0].keep_from == 0 and whole[0].keep_to == 20 * SR


@pytest.mark.parametrize("parts", [2, 3])
def test_segments_cover_the_piece_and_share_the_work(parts):
    notes = [(i * SR // 2, i * SR // 2 + SR // 3) for i in range(34)]  # a note every half second
    total = 18 * SR
    segs = plan_segments(notes, total, parts, SR)
    assert len(segs) == parts
    assert segs[0].keep_from == 0 and segs[-1].keep_to == total
    for prev, seg in zip(segs, segs[1:]):
        assert prev.keep_to == seg.keep_from
        assert seg.keep_from % 64 == 0 and seg.play_from % 64 == 0
        assert seg.play_from < seg.keep_from
        assert prev.render_to == prev.keep_to + FADE_FRAMES
    # Each engine renders well under the whole piece.
    assert max(s.frames for s in segs) < 0.7 * total


def test_notes_still_ringing_are_replayed_from_their_onset():
    boundary = 10 * SR
    held = (3 * SR, boundary + SR)  # starts long before the boundary, still sounding
    released = (2 * SR, boundary - int(0.5 * RELEASE_SECONDS * SR))  # in its release at the boundary
    gone = (0, boundary - 2 * int(RELEASE_SECONDS * SR))  # long over
    assert play_start(boundary, np.array([held]), SR, 64) <= held[0]
    assert play_start(boundary, np.array([released]), SR, 64) <= released[0]
    assert play_start(boundary, np.array([gone]), SR, 64) > gone[0]


def test_stitch_crossfades_identical_signals_exactly():
    total = 12 * SR
    signal = np.sin(np.arange(total) / 50.0).astype(np.float32)[:, None].repeat(2, axis=1)
    segs = plan_segments([(i * SR, i * SR + SR // 2) for i in range(11)], total, 2, SR)
    parts = [signal[s.play_from : s.render_to] for s in segs]
    out = stitch(parts, segs, np.zeros_like(signal))
    assert np.allclose(out, signal, atol=1e-6)
