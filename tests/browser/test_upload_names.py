"""An uploaded file's name never reaches a path: "../../x.mid" lands inside the upload folder and reads as a tune.

Runs against the studio server of the browser tests (no browser needed).
"""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pretty_midi


def _midi_bytes() -> bytes:
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    inst = pretty_midi.Instrument(0)
    inst.notes = [pretty_midi.Note(90, 60 + (i % 5), i * 0.25, i * 0.25 + 0.25) for i in range(32)]
    pm.instruments.append(inst)
    buffer = io.BytesIO()
    pm.write(buffer)
    return buffer.getvalue()


def test_a_path_like_upload_name_stays_in_the_upload_folder(studio_url):
    from gradio_client import Client

    outside = Path(__import__("tempfile").gettempdir()) / "x.mid"
    existed = outside.exists()
    response = httpx.post(
        f"{studio_url}gradio_api/upload", files={"files": ("../../x.mid", _midi_bytes(), "audio/midi")}, timeout=30
    )
    response.raise_for_status()
    (stored,) = response.json()
    assert ".." not in Path(stored).parts and Path(stored).is_file()
    assert outside.exists() == existed  # nothing written two folders up
    # The tune reads (its title comes from the name, never a path) through the Explore source preview, named as sent.
    client = Client(studio_url, verbose=False, download_files=False)
    upload = {"path": stored, "orig_name": "../../x.mid", "meta": {"_type": "gradio.FileData"}}
    result = client.predict("Upload MIDI", None, upload, None, 0, api_name="/explore_source_a")
    assert "cz-error" not in str(result) and "cz-bad" not in str(result) and "notes" in str(result[-1]), result
    assert outside.exists() == existed
