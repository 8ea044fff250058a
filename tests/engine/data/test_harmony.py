"""The chord suggester's data: a Nottingham-style file, ABC tunes with chords, a Bach chorale, the cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.data.harmony import (
    _abc_file,
    _nottingham_file,
    abc_tunes_with_chords,
    chorale_sheet,
    load_harmony_cache,
    save_harmony_cache,
)
from engine.data.style import corpus_root
from engine.music.chord_vocab import class_to_symbol
from tests.conftest import make_nottingham_midi

ABC = """X:1
T:With chords
M:4/4
L:1/8
K:G
"G"GABc dBGB|"C"c2e2 "D7"d2c2|"G"B2G2 "Em"E2G2|"Am"A2"D"F2 "G"G4|]

X:2
T:Without
M:4/4
L:1/8
K:D
DEFG A2d2|d2A2 F2D2|]
"""


def test_a_nottingham_file_gives_its_chords_per_slot(tmp_path) -> None:
    path = tmp_path / "tune.mid"
    path.write_bytes(make_nottingham_midi())
    (tune,) = _nottingham_file(str(path))
    assert tune.name == "tune.mid#0" and tune.source == "nottingham" and tune.key == "G"
    assert [class_to_symbol(c, tune.key) for c in tune.labels] == ["G", "G", "C", "C", "D", "D", "G", "G"]
    assert tune.features.shape[0] == len(tune.labels) == 8 and tune.sheet is not None
    assert _nottingham_file(str(path), held_out=not tune.held_out) == []  # the other side of the split: none


def test_abc_tunes_with_chords_are_found_and_read(tmp_path) -> None:
    found = abc_tunes_with_chords(ABC)
    assert len(found) == 1 and "With chords" in found[0]
    path = tmp_path / "collection.abc"
    path.write_text(ABC, encoding="latin-1")
    (tune,) = _abc_file(str(path))
    assert tune.key == "G" and tune.source == tmp_path.name
    symbols = [class_to_symbol(c, "G") for c in tune.labels]
    assert symbols[:4] == ["G", "G", "C", "D7"] and symbols[-1] == "G"


def test_a_chorale_is_its_soprano_over_the_four_voices_chords() -> None:
    path = corpus_root() / "bach" / "bwv66.6.mxl"
    sheet = chorale_sheet(str(path))
    assert sheet is not None and sheet.melody.time_signature == (4, 4)
    assert sheet.melody.pickup_steps == 4  # one beat before bar 1
    assert sheet.chords.chords[0].symbol in ("A", "F#m", "C#m")  # the piece is in F# minor
    assert max(n.pitch for n in sheet.melody.notes) >= 69  # the soprano, not a lower voice


def test_the_cache_round_trips(tmp_path) -> None:
    path = tmp_path / "tune.mid"
    path.write_bytes(make_nottingham_midi())
    tunes = _nottingham_file(str(path)) * 2
    back = load_harmony_cache(save_harmony_cache(tunes, tmp_path / "cache.npz"))
    assert len(back) == 2 and back[1].name == tunes[1].name and back[1].key == "G"
    assert np.array_equal(back[1].labels, tunes[1].labels) and np.allclose(back[1].features, tunes[1].features)
    assert Path(tmp_path / "cache.npz").is_file()
