"""Scores: ABC -> engraved SVG (verovio, on the server: no JavaScript build, works offline) and -> MusicXML
(music21)."""

from __future__ import annotations

import threading
import warnings

from engine.io.abc import as_abc21
from engine.music.errors import CadenzaInputError

_LOCK = threading.Lock()  # one verovio toolkit, used by one request at a time
_TOOLKIT = None


def _toolkit():
    global _TOOLKIT
    if _TOOLKIT is None:
        import verovio

        verovio.enableLog(verovio.LOG_OFF)  # it warns about every Q: field ("not fully supported")
        _TOOLKIT = verovio.toolkit()
    return _TOOLKIT


def abc_to_svg(abc: str, width_px: int = 1000, scale: int = 40) -> list[str]:
    """The tune engraved as SVG pages (one string each), ``width_px`` wide at ``scale`` percent.

    Raises CadenzaInputError when verovio cannot read the ABC."""
    with _LOCK:
        toolkit = _toolkit()
        toolkit.setOptions(
            {
                "inputFrom": "abc",
                "pageWidth": int(width_px * 100 / scale),
                "scale": scale,
                "adjustPageHeight": True,
                "header": "none",
                "footer": "none",
                "breaks": "auto",
            }
        )
        if not toolkit.loadData(abc):
            raise CadenzaInputError("The score could not be drawn: verovio does not read this ABC")
        return [toolkit.renderToSVG(page) for page in range(1, toolkit.getPageCount() + 1)]


def abc_to_musicxml(abc: str) -> bytes:
    """The tune as MusicXML (music21). Raises CadenzaInputError when music21 cannot read the ABC."""
    from music21 import converter
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            score = converter.parse(as_abc21(abc), format="abc")
            return GeneralObjectExporter(score).parse()
    except Exception as err:  # music21 raises many kinds for broken ABC
        raise CadenzaInputError(f"The tune could not be written as MusicXML ({type(err).__name__}: {err})") from None
