"""The control report beside each result: rows, marks, and what the tabs show."""

from app.components.control_report import report_html, report_rows


def test_rows_mark_what_was_and_was_not_done():
    report = {
        "onsets": {"drawn": 8, "placed": 8, "extra": 0, "share": 1.0},
        "chord_tones": 0.8,
        "in_key": {"key": "C", "share": 0.95},
        "range": {"low": "C4", "high": "A5", "semitones": 21},
        "tempo": {"asked": 120.0, "file": 120.0},
    }
    rows = {control: (asked, measured, ok) for control, asked, measured, ok in report_rows(report)}
    assert rows["Rhythm"] == ("8 onsets drawn", "8 placed on them, 0 elsewhere", True)
    assert rows["Chords"][1] == "80% of note time on chord tones" and rows["Chords"][2] is None
    assert rows["Key"][1] == "95% of note time in its scale"
    assert rows["Range"][1] == "C4–A5 (21 semitones)"
    assert rows["Tempo"][2] is True
    report["onsets"] = {"drawn": 8, "placed": 7, "extra": 2, "share": 0.875}
    assert "cz-no" in report_html(report) and report_html(None) == ""


def test_emotion_rows_compare_the_judge_and_mode_with_the_ask():
    report = {
        "tempo": {"asked": None, "file": 180.0},
        "emotion": {
            "asked": "Q3",
            "tempo_range": [40, 69],
            "mode_heard": "major",
            "mean_pitch": 60.0,
            "pitch_sd": 2.5,
            "velocity": 80.0,
            "judged": "Q3",
        },
    }
    rows = {control: (asked, measured, ok) for control, asked, measured, ok in report_rows(report)}
    assert rows["Feeling"] == ("sad (Q3)", "the feature judge hears sad (Q3)", True)
    assert rows["Mode"] == ("minor", "music21 hears major", False)
    assert rows["Tempo range"][2] is False
    assert "<script" not in report_html({"in_key": {"key": "<script>", "share": 1.0}})  # escaped
