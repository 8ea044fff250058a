"""Sources: a piece cut into whole 2-bar windows from a start bar (engine.io.sources)."""

import pytest

from engine.io.sources import SourceError, prepare_source
from engine.music import LeadSheet, Melody, Note
from engine.music.constants import WINDOW_STEPS
from engine.music.limits import EXPLORE_BARS
from tests.conftest import make_lead_sheet


def test_prepare_source_skips_the_pickup_and_keeps_whole_windows():
    sheet = make_lead_sheet(5, pickup=4)  # 4-step pickup + 5 bars: 2 full windows + 1 bar (half a window: kept)
    prepared = prepare_source(sheet)
    assert prepared.melody.num_steps == 3 * WINDOW_STEPS
    assert prepared.melody.pickup_steps == 0
    assert prepared.melody.notes[0].start == 0 and prepared.melody.notes[0].pitch == sheet.melody.notes[1].pitch
    assert prepared.chords.symbols_per_bar(16, 5) == ["C", "F", "G", "C", "C"]
    assert prepared.melody.tempo_bpm == sheet.melody.tempo_bpm and prepared.title == "tune"


def test_prepare_source_start_bar_and_number_of_bars():
    sheet = make_lead_sheet(12)
    two = prepare_source(sheet, start_bar=3, num_bars=2)
    assert two.melody.num_steps == 32
    assert [(n.pitch, n.start) for n in two.melody.notes] == [
        (n.pitch, n.start - 48) for n in sheet.melody.notes if 48 <= n.start < 80
    ]
    assert prepare_source(sheet, num_bars=5).melody.num_steps == 64  # rounded down to whole 2-bar windows
    assert prepare_source(sheet, start_bar=11).melody.num_steps == 32  # the last bar alone: padded with rests


def test_prepare_source_caps_at_16_bars_and_is_idempotent():
    sheet = make_lead_sheet(40)
    prepared = prepare_source(sheet)
    assert prepared.melody.num_steps == EXPLORE_BARS.high * 16
    again = prepare_source(prepared)
    assert again.melody.notes == prepared.melody.notes and again.melody.num_steps == prepared.melody.num_steps


def test_prepare_source_other_meters_still_use_32_step_windows():
    sheet = make_lead_sheet(16, time_signature=(3, 4), chords="C G")
    prepared = prepare_source(sheet)
    assert prepared.melody.num_steps == 6 * WINDOW_STEPS  # 16 bars of 3/4 = 192 steps
    assert prepared.melody.time_signature == (3, 4)
    assert prepare_source(sheet, start_bar=1, num_bars=8).melody.notes[0].start == 0
    assert prepare_source(sheet, start_bar=1, num_bars=8).melody.num_steps == 3 * WINDOW_STEPS


def test_start_bar_past_the_end_names_the_limit():
    with pytest.raises(
        SourceError, match=r"Start bar 4 is past the end of 'tune'.*4 bar\(s\).*between 0 and 3.*16 bars"
    ):
        prepare_source(make_lead_sheet(4), start_bar=4)


def test_span_without_notes_is_rejected():
    notes = [Note(60, 0, 16), Note(62, 16, 32), Note(64, 150, 160)]
    sheet = LeadSheet(Melody(notes, 160), title="sparse")
    with pytest.raises(SourceError, match="no notes.*start bar 2"):
        prepare_source(sheet, start_bar=2, num_bars=4)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(start_bar=-1), "Start bar must be between 0"),
        (dict(start_bar=1.5), "Start bar must be a whole number"),
        (dict(start_bar=True), "whole number"),
        (dict(start_bar="2"), "whole number"),
        (dict(num_bars=1), "Bars must be between 2 and 16"),
        (dict(num_bars=17), r"got 17"),
    ],
)
def test_prepare_source_validates_numbers(kwargs, message):
    with pytest.raises(SourceError, match=message):
        prepare_source(make_lead_sheet(8), **kwargs)


def test_prepare_source_rejects_non_sheets_and_empty_melodies():
    with pytest.raises(SourceError, match="LeadSheet"):
        prepare_source("a.mid")
    with pytest.raises(SourceError, match="no notes"):
        prepare_source(LeadSheet(Melody([], 64), title="empty"))
