"""Every kind of bad MIDI source gets a clear message (files are built here, in the test).

The sources go through engine.pipelines.explore.read_source (what the Explore tab and
the interpolate/analogy CLI use), as a path named .mid and as uploaded bytes.
"""

import re

import pytest

from engine.cli import generate
from engine.io.midi import MAX_NOTES, MAX_TRACKS, read_midi
from engine.io.sources import read_source, source_tracks
from engine.music.errors import CadenzaInputError, MidiReadError
from tests.conftest import make_nottingham_midi
from tests.midi_factory import drums_only, many_notes, many_tracks, no_notes, not_midi, oversized, truncated

BAD_FILES = [
    ("no_notes", no_notes, "no pitched notes"),
    ("drums_only", drums_only, r"no pitched notes \(only drums"),
    ("300_tracks", many_tracks, f"300 tracks; the limit is {MAX_TRACKS}"),
    ("100k_notes", many_notes, f"100,000 notes; the limit is {MAX_NOTES:,}"),
    ("not_midi", not_midi, "not a MIDI file"),
    ("truncated", truncated, "damaged or truncated"),
    ("oversized", oversized, "MB; the limit is 4 MB"),
]


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad_midi")
    paths = {}
    for name, build, _ in BAD_FILES:
        paths[name] = folder / f"{name}.mid"
        paths[name].write_bytes(build())
    return paths


@pytest.mark.parametrize("name, message", [(name, message) for name, _, message in BAD_FILES])
def test_bad_file_named_mid_gets_a_clear_message(bad_files, name, message):
    with pytest.raises(MidiReadError, match=message):
        read_source(bad_files[name])


@pytest.mark.parametrize("name, message", [(name, message) for name, _, message in BAD_FILES if name != "100k_notes"])
def test_bad_upload_bytes_get_the_same_message(bad_files, name, message):
    with pytest.raises(MidiReadError, match=message):
        read_source(bad_files[name].read_bytes())


def test_track_listing_applies_the_same_limits(bad_files):
    with pytest.raises(MidiReadError, match="300 tracks"):
        source_tracks(bad_files["300_tracks"].read_bytes())
    with pytest.raises(MidiReadError, match="limit is 4 MB"):
        source_tracks(bad_files["oversized"])
    assert [t.num_notes for t in source_tracks(make_nottingham_midi())] == [13, 12]


def test_hundreds_of_tracks_are_refused_before_parsing(monkeypatch):
    import pretty_midi

    def must_not_parse(*args, **kwargs):
        raise AssertionError("parsed a file with too many tracks")

    monkeypatch.setattr(pretty_midi, "PrettyMIDI", must_not_parse)
    with pytest.raises(MidiReadError, match="tracks"):
        read_source(many_tracks(MAX_TRACKS + 1))


def test_a_file_within_the_track_limit_still_reads():
    sheet = read_source(many_tracks(MAX_TRACKS), num_bars=2)
    assert sheet.melody.notes


def test_the_size_limit_comes_from_midi_io():
    with pytest.raises(MidiReadError, match="limit is 4 MB"):
        read_midi(oversized())


def test_empty_upload_and_missing_file(tmp_path):
    with pytest.raises(MidiReadError, match="empty"):
        read_source(b"")
    with pytest.raises(MidiReadError, match="not found"):
        read_source(tmp_path / "nowhere.mid")
    with pytest.raises(MidiReadError, match="path or bytes"):
        read_source(12345)


def test_drum_track_chosen_as_melody_and_a_missing_track(bad_files):
    with pytest.raises(MidiReadError, match="Track 0 .* has no pitched notes"):
        read_source(bad_files["drums_only"], melody_track=0)
    with pytest.raises(MidiReadError, match="Track 5 does not exist: this file has 2 track"):
        read_source(make_nottingham_midi(), melody_track=5)
    with pytest.raises(CadenzaInputError, match="Melody track must be a whole number"):
        read_source(make_nottingham_midi(), melody_track=1.5)


@pytest.mark.parametrize("name", ["not_midi", "truncated", "300_tracks", "drums_only"])
def test_cli_reports_bad_files_without_a_traceback(bad_files, tmp_path, capsys, name):
    message = next(m for n, _, m in BAD_FILES if n == name)
    code = generate.main(
        [
            "analogy",
            "--checkpoint",
            "debug",
            "--pitch-from",
            str(bad_files[name]),
            "--rhythm-from",
            "example:Cuckoo's Nest",
            "--out",
            str(tmp_path / "x.mid"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "Traceback" not in err
    assert re.search(message, err)
