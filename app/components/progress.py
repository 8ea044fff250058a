"""The page's progress bar for long jobs: each stage a service reports (app.services.common.report_stage)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

# The default of every handler's ``progress`` parameter: Gradio passes it in and routes its calls to the event
# that is running (one shared object is Gradio's own pattern).
PROGRESS = gr.Progress()


def progress_listener(progress: Any) -> Callable[[float, str], None] | None:
    """A stage listener that moves ``progress`` (a ``gr.Progress``; None: no listener) with the stage's words."""
    if progress is None:
        return None
    return lambda fraction, text: progress(fraction, desc=text)
