"""The lenient input components and StudioBlocks (app/api_inputs.py) and the checks they leave to the services."""

from __future__ import annotations

import os
from pathlib import Path

import gradio as gr
import pytest
from gradio import utils as gr_utils

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from app import api_inputs as ai  # noqa: E402
from app.services.common import InputError, brief, choice, flag, int_in, number  # noqa: E402

META = {"_type": "gradio.FileData"}


def test_accepted_values_are_preprocessed_as_gradio_does_and_others_reach_the_handler():
    bars = ai.Slider(2, 16, value=4, step=1, render=False)
    assert bars.preprocess(8) == 8
    for value in ("abc", None, [1, 2], 100, -3):  # Gradio raises for each (TypeError or gr.Error)
        assert bars.preprocess(value) == value
    seed = ai.Number(0, precision=0, minimum=0, maximum=99, render=False)
    assert seed.preprocess(3.7) == 4 and seed.preprocess(None) is None  # Gradio's rounding; a cleared box
    assert seed.preprocess(-5) == -5 and seed.preprocess("x") == "x"
    key = ai.Dropdown(["C", "G"], value="C", render=False)
    assert key.preprocess("G") == "G" and key.preprocess("H") == "H" and key.preprocess(["C"]) == ["C"]
    kind = ai.Radio(["a", "b"], value="a", render=False)
    assert kind.preprocess("b") == "b" and kind.preprocess(5) == 5
    with pytest.raises(gr.Error):  # what the page would show without them: Gradio's own refusal
        gr.Slider(2, 16, render=False).preprocess(100)


def test_they_are_drawn_and_listed_as_gradio_components():
    for component, name in (
        (ai.Slider(render=False), "slider"),
        (ai.Number(render=False), "number"),
        (ai.Dropdown(render=False), "dropdown"),
        (ai.Radio(render=False), "radio"),
        (ai.File(render=False), "file"),
    ):
        assert component.get_block_name() == name


def test_the_services_name_the_argument_and_its_range():
    with pytest.raises(InputError, match=r"Bars must be a number, got 'abc'"):
        int_in("Bars", "abc", 2, 16)
    with pytest.raises(InputError, match="Bars must be between 2 and 16, got 100"):
        int_in("Bars", 100, 2, 16)
    with pytest.raises(InputError, match="Seed must be a number, got True"):
        number("Seed", True)
    with pytest.raises(InputError, match="too large"):
        number("Seed", 10**400)
    with pytest.raises(InputError, match=r"Unknown key \['C'\]: choose one of C, G"):
        choice("key", ["C"], ["C", "G"])
    assert choice("key", " G ", ["C", "G"]) == "G" and choice("mode", None, ["a", "b"], "a") == "a"
    with pytest.raises(InputError, match="use_grid must be true or false, got 'yes'"):
        flag("use_grid", "yes")
    assert flag("x", True) is True and flag("x", 0) is False
    assert (
        brief("Unknown chord symbol '" + "y" * 500 + "': use C") == "Unknown chord symbol '" + "y" * 57 + "...': use C"
    )


def test_file_values_must_be_uploads_inside_the_upload_folder():
    upload = Path(gr_utils.get_upload_folder()) / "abc123" / "tune.mid"
    assert ai.File.api_problem(None) is None
    assert ai.File.api_problem({"path": str(upload), "meta": META}) is None
    problems = {
        "text": ai.File.api_problem("abc"),
        "no marker": ai.File.api_problem({"path": str(upload)}),
        "list": ai.File.api_problem([{"path": str(upload), "meta": META}]),
        "url": ai.File.api_problem({"path": "http://127.0.0.1:9/x.mid", "meta": META}),
        "server path": ai.File.api_problem({"path": "/etc/passwd", "meta": META}),
        "climbing out": ai.File.api_problem({"path": str(upload.parent / ".." / ".." / "x.mid"), "meta": META}),
        "relative": ai.File.api_problem({"path": "../../x.mid", "meta": META}),
    }
    assert all(problems.values()), problems
    assert "handle_file" in problems["text"] and "URLs are not fetched" in problems["url"]
    assert "not a path on the server" in problems["server path"]


def test_studio_blocks_names_missing_values_and_bad_files():
    def handler(grid, bars, file):
        return "ok"

    with ai.StudioBlocks() as demo:
        grid, bars, file, out = gr.Textbox(), ai.Slider(2, 16), ai.File(), gr.Textbox()
        gr.Button().click(handler, [grid, bars, file], out, api_name="verb")
    block_fn = next(fn for fn in demo.fns.values() if fn.api_name == "verb")
    assert ai.parameter_names(block_fn) == ["grid", "bars", "file"]
    with pytest.raises(gr.Error, match="/verb takes 3 values, got 1; missing: bars, file"):
        demo.validate_inputs(block_fn, ["x..."])
    with pytest.raises(gr.Error, match="file must be a MIDI file uploaded with gradio_client.handle_file"):
        demo.validate_inputs(block_fn, ["x...", 4, "tune.mid"])
    demo.validate_inputs(block_fn, ["x...", "abc", None])  # a bad slider value is the handler's to name
