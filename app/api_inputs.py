"""Input components and a Blocks class that let bad API values reach the studio's own checks.

Gradio checks some values itself before a handler runs: a slider or number refuses text,
``None`` or a value outside its range, a dropdown or radio a value that is not one of its
choices, a file box anything that is not an uploaded file. Those refusals either carry
Gradio's own wording, which never names the argument ("Value 100 is greater than maximum
value 16."), or, for a ``TypeError`` inside its preprocessing (``"abc" < 2``), come back to
an API client as the generic "The upstream Gradio app has raised an exception but has not
enabled verbose error reporting".

* :class:`Slider`, :class:`Number`, :class:`Dropdown` and :class:`Radio` preprocess a value
  exactly as Gradio does when Gradio accepts it (so the page behaves as before) and hand any
  other value to the handler unchanged: the tabs' services check every argument with
  :func:`app.services.common.int_in` and friends, whose messages name the argument and its
  allowed range or choices, and the handler shows them in its status line.
* :class:`File` hands the uploaded file's path to the handler whatever its name ends with
  (the service reads the content as MIDI and says when it is not), and does not leave the
  empty temporary file Gradio's ``File.preprocess`` makes on every call.
* :class:`StudioBlocks` checks what Gradio would refuse before any component sees it: the
  number of values, and the shape of file values (an upload's ``FileData`` inside the upload
  folder, not text, numbers, lists, URLs or other paths). It raises ``gr.Error`` naming the
  API parameter, which gradio_client raises as ``AppError`` with that message. The page never
  sends such values.

The classes are ``is_template`` subclasses: the page draws them with Gradio's own widgets
and the API info lists them as Slider, Number, Dropdown, Radio and File.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
from gradio import utils as gr_utils
from gradio.data_classes import FileData, ListFiles
from gradio_client import utils as client_utils

_FILE_META = {"_type": "gradio.FileData"}


def _gradio_or_raw(preprocess: Any, payload: Any) -> Any:
    """Gradio's ``preprocess(payload)`` when it accepts the value, else the raw value for the handler to check."""
    try:
        return preprocess(payload)
    except Exception:  # noqa: BLE001 - gr.Error (range, choices) or TypeError ("abc" < 2): the handler names it
        return payload


class Slider(gr.Slider):
    """``gr.Slider`` that passes text, ``None`` and out-of-range values on to the handler's check."""

    is_template = True

    def preprocess(self, payload: Any) -> Any:
        return _gradio_or_raw(super().preprocess, payload)


class Number(gr.Number):
    """``gr.Number`` that passes text and out-of-range values on to the handler's check."""

    is_template = True

    def preprocess(self, payload: Any) -> Any:
        return _gradio_or_raw(super().preprocess, payload)


class Dropdown(gr.Dropdown):
    """``gr.Dropdown`` that passes values outside its choices on to the handler's check."""

    is_template = True

    def preprocess(self, payload: Any) -> Any:
        return _gradio_or_raw(super().preprocess, payload)


class Radio(gr.Radio):
    """``gr.Radio`` that passes values outside its choices on to the handler's check."""

    is_template = True

    def preprocess(self, payload: Any) -> Any:
        return _gradio_or_raw(super().preprocess, payload)


class File(gr.File):
    """``gr.File`` (single file, ``type="filepath"``) that gives the handler the uploaded file's path
    whatever its extension: the service reads the content and says when it is not MIDI."""

    is_template = True

    def preprocess(self, payload: ListFiles | FileData | None) -> Any:
        if isinstance(payload, FileData) and self.type == "filepath" and self.file_count == "single":
            return gr_utils.NamedString(payload.path)
        return _gradio_or_raw(super().preprocess, payload)

    @staticmethod
    def api_problem(value: Any) -> str | None:
        """Why an API value cannot be this box's file (None: it can). Runs before Gradio moves files."""
        if value is None:
            return None
        if not isinstance(value, dict) or value.get("meta") != _FILE_META:
            return (
                f"must be a MIDI file uploaded with gradio_client.handle_file('tune.mid') (or None), "
                f"got {_short(value)}"
            )
        path = value.get("path")
        if not isinstance(path, str) or not path:
            return f"must be an uploaded file with a path, got path {_short(path)}"
        if client_utils.is_http_url_like(path):
            return (
                "must be a file uploaded to this studio; URLs are not fetched (download the file, then handle_file it)"
            )
        upload_root = Path(gr_utils.get_upload_folder()).resolve()
        try:
            inside = Path(path).resolve().is_relative_to(upload_root)
        except (OSError, ValueError):
            inside = False
        if not inside:
            return f"must be a file uploaded to this studio, not a path on the server ({_short(path)})"
        return None


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parameter_names(block_fn: Any) -> list[str]:
    """The API parameter names of an event's inputs, in order (as the API info lists them)."""
    names = list(getattr(block_fn, "input_parameter_names", None) or [])
    if not names and getattr(block_fn, "fn", None) is not None:
        names = [info[0] for info in gr_utils.get_function_params(block_fn.fn)]
    out = []
    for index, block in enumerate(block_fn.inputs):
        name = names[index] if index < len(names) and names[index] else None
        out.append(name or getattr(block, "label", None) or f"param_{index}")
    return out


class StudioBlocks(gr.Blocks):
    """``gr.Blocks`` whose API refuses malformed file values and missing values with a message naming the parameter."""

    def validate_inputs(self, block_fn: Any, inputs: list[Any]) -> None:
        """Before Gradio's own processing: enough values, and file values that are uploads (raises ``gr.Error``)."""
        names = parameter_names(block_fn)
        if len(inputs) < len(block_fn.inputs):
            endpoint = f"/{block_fn.api_name}" if isinstance(block_fn.api_name, str) else "this event"
            raise gr.Error(
                f"{endpoint} takes {len(block_fn.inputs)} values, got {len(inputs)}; missing: "
                f"{', '.join(names[len(inputs) :])}"
            )
        prop_inputs = set(getattr(block_fn, "component_prop_inputs", None) or ())
        for index, (block, value) in enumerate(zip(block_fn.inputs, inputs)):
            if index in prop_inputs or not isinstance(block, File):
                continue
            problem = block.api_problem(value)
            if problem is not None:
                raise gr.Error(f"{names[index]} {problem}")
        super().validate_inputs(block_fn, inputs)
