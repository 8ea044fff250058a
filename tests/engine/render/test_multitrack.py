"""Four-track pieces to MIDI and back (what the library's Style pieces are reopened from)."""

from __future__ import annotations

import io

import numpy as np
import pretty_midi
import pytest

from engine.music.representation import HOLD, REST
from engine.render.multitrack import midi_to_piece, piece_to_midi


def _piece(seed: int, steps: int = 64, silent: int | None = None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    tokens = np.full((4, steps), REST, dtype=np.int64)
    for track in range(4):
        if track == silent:
            continue
        step = 0
        while step < steps:
            length = int(rng.integers(1, 6))
            if rng.random() < 0.8:
                tokens[track, step] = 72 - 7 * track + int(rng.integers(-3, 4))
                tokens[track, step + 1 : step + length] = HOLD
            step += length
    tokens[:, steps:] = REST
    return tokens


def _bytes(pm: pretty_midi.PrettyMIDI) -> bytes:
    out = io.BytesIO()
    pm.write(out)
    return out.getvalue()


@pytest.mark.parametrize("seed, silent", [(0, None), (1, 3), (2, 1)])
def test_a_piece_comes_back_from_its_midi(seed, silent) -> None:
    tokens = _piece(seed, silent=silent)
    back, tempo = midi_to_piece(_bytes(piece_to_midi(tokens, 84.0, (52, 52, 40, 42))), tokens.shape[1])
    assert tempo == pytest.approx(84.0, abs=0.01) and back.shape == tokens.shape
    np.testing.assert_array_equal(back, tokens)


def test_length_defaults_to_whole_windows_and_foreign_files_are_refused() -> None:
    tokens = _piece(3, steps=96)
    tokens[:, 70:] = REST  # a quiet ending: the length read is rounded up to whole 2-bar windows
    back, _ = midi_to_piece(_bytes(piece_to_midi(tokens, 96.0)))
    assert back.shape == (4, 96)
    np.testing.assert_array_equal(back, tokens)
    other = pretty_midi.PrettyMIDI()
    other.instruments.append(pretty_midi.Instrument(0, name="Piano"))
    other.instruments[0].notes.append(pretty_midi.Note(80, 60, 0.0, 1.0))
    with pytest.raises(ValueError, match="four-track piece"):
        midi_to_piece(_bytes(other))


def test_four_staves_of_musicxml_read_by_music21_and_musescore(tmp_path) -> None:
    import shutil
    import subprocess

    from music21 import converter

    from engine.render.multitrack import piece_to_musicxml

    tokens = _piece(4, steps=64)
    path = tmp_path / "piece.musicxml"
    path.write_bytes(piece_to_musicxml(tokens, ("Violin", "Violin", "Viola", "Cello"), 100.0, "A test"))
    score = converter.parse(str(path))
    assert [p.partName for p in score.parts] == ["Violin", "Violin", "Viola", "Cello"]
    assert "A test" in path.read_text()
    for part, row in zip(score.parts, tokens):
        measures = part.getElementsByClass("Measure")
        assert len(measures) == 4 and all(m.duration.quarterLength == 4.0 for m in measures)  # 4 whole bars
        heard = [(n.pitch.midi, round(float(n.offset) * 4)) for n in part.stripTies().flatten().notes]
        assert heard == [(int(p), s) for s, p in enumerate(row) if p < HOLD]  # every note, tied over bar lines
    if shutil.which("mscore3") is None:
        pytest.skip("MuseScore 3 (Debian musescore3) is not installed: make test installs it")
    pdf = tmp_path / "piece.pdf"
    done = subprocess.run(
        ["mscore3", "-o", str(pdf), str(path)],
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and pdf.stat().st_size > 1000, done.stderr[-500:]
    assert "Error" not in done.stderr, done.stderr[-500:]
