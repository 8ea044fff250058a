"""The example tunes shipped in assets/examples (read from the repo, never from music21's corpus)."""

import json
from pathlib import Path

import pytest

from engine.io import examples
from engine.io.examples import example_infos, list_examples, load_example
from engine.io.sources import prepare_source
from engine.music import LeadSheet
from engine.music.errors import CadenzaInputError
from engine.paths import EXAMPLES_DIR
from engine.pipelines.explore import ExplorePipeline


def test_there_are_five_or_six_examples_with_unique_titles():
    titles = list_examples()
    assert 5 <= len(titles) <= 6
    assert len(set(titles)) == len(titles)
    assert "Cuckoo's Nest" in titles


@pytest.mark.parametrize("title", list_examples())
def test_each_example_loads_as_a_short_4_4_melody(title):
    info = next(i for i in example_infos() if i.title == title)
    sheet = load_example(title)
    melody = sheet.melody
    assert isinstance(sheet, LeadSheet) and sheet.title == title
    assert melody.time_signature == (4, 4)
    bars = -(-(melody.num_steps - melody.pickup_steps) // 16)
    assert 8 <= bars <= 16 and bars == info.bars
    starts = [n.start for n in melody.notes]
    assert starts == sorted(set(starts))  # one voice
    assert all(n.start < n.end <= melody.num_steps and 21 <= n.pitch <= 108 for n in melody.notes)
    assert bool(sheet.chords.chords) == info.chords
    assert (EXAMPLES_DIR / info.file).stat().st_size < 8 * 1024


def test_examples_with_chords_keep_their_symbols():
    cuckoo = load_example("Cuckoo's Nest")
    assert cuckoo.melody.pickup_steps == 4
    assert cuckoo.chords.at(4).symbol == "D"  # first downbeat
    assert len({c.symbol for c in cuckoo.chords.chords}) >= 4


def test_load_example_ignores_case_and_returns_fresh_copies():
    first = load_example("  cuckoo's nest ")
    first.melody.notes.clear()
    first.chords.chords.clear()
    again = load_example("Cuckoo's Nest")
    assert again.melody.notes and again.chords.chords


def test_unknown_example_names_the_choices():
    with pytest.raises(CadenzaInputError, match="No example called 'Yesterday'.*Cuckoo's Nest"):
        load_example("Yesterday")
    with pytest.raises(CadenzaInputError, match="must be text"):
        load_example(3)


def test_examples_do_not_read_the_music21_corpus(monkeypatch):
    import music21.corpus

    def forbidden(*args, **kwargs):
        raise AssertionError("the music21 corpus was read at run time")

    monkeypatch.setattr(music21.corpus, "parse", forbidden)
    monkeypatch.setattr(music21.corpus, "getWork", forbidden)
    examples._read.cache_clear()
    for title in list_examples():
        assert load_example(title).melody.notes
    code = Path(examples.__file__).read_text(encoding="utf-8").split('"""', 2)[2]  # after the module docstring
    assert "corpus" not in code


def test_index_and_readme_describe_every_file():
    index = json.loads((EXAMPLES_DIR / "examples.json").read_text(encoding="utf-8"))
    files = sorted(p.name for p in EXAMPLES_DIR.glob("*.mid"))
    assert sorted(e["file"] for e in index) == files
    readme = (EXAMPLES_DIR / "README.md").read_text(encoding="utf-8")
    assert "public domain" in readme.lower()
    for entry in index:
        assert entry["title"] in readme and entry["file"] in readme
        assert entry["source"].split(": ", 1)[1] in readme  # where in the music21 corpus it came from


def test_examples_are_explore_sources():
    pipe = ExplorePipeline.from_pretrained("debug")
    titles = list_examples()
    for title in titles:
        prepared = prepare_source(load_example(title))
        assert prepared.melody.num_steps % 32 == 0 and prepared.melody.notes
    grid = pipe.grid(load_example(titles[0]), load_example(titles[1]), size=2).rows
    assert len(grid) == 2
