"""The "Open in Arrange" button under a result: its MIDI goes to the Arrange tab (wired in app/studio.py)."""

from __future__ import annotations

import gradio as gr


def open_in_arrange_button(elem_id: str) -> gr.Button:
    """A small button for one result's MIDI; app/studio.py connects it to the Arrange tab."""
    return gr.Button("🎻 Open in Arrange", size="sm", variant="secondary", elem_id=elem_id, min_width=160)
