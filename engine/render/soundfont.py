"""Which SoundFont (.sf2) the synthesizer loads.

Search order (first hit wins), see ``assets/soundfonts/README.md``:

1. ``$CADENZA_SOUNDFONT`` (a path to an .sf2 file; an error if it does not exist),
2. any ``*.sf2`` in the repository's ``assets/soundfonts/`` (alphabetically first),
3. ``/usr/share/sounds/sf2/FluidR3_GM.sf2`` (Debian/Ubuntu ``fluid-soundfont-gm``),
4. ``/usr/share/sounds/sf2/default-GM.sf2`` (the Debian alternatives link),
5. ``TimGM6mb.sf2`` bundled inside the ``pretty_midi`` package (small, lower quality).
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.paths import SOUNDFONTS_DIR

ENV_VAR = "CADENZA_SOUNDFONT"
SYSTEM_SOUNDFONTS = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
)

INSTALL_HINT = (
    "No SoundFont (.sf2) found. Install the General MIDI SoundFont "
    "(Debian/Ubuntu: `sudo apt-get install fluid-soundfont-gm`, which provides "
    "/usr/share/sounds/sf2/FluidR3_GM.sf2), put an .sf2 file in "
    f"{SOUNDFONTS_DIR}, or set {ENV_VAR}=/path/to/font.sf2."
)


def bundled_pretty_midi_soundfont() -> Path | None:
    """pretty_midi's small bundled GM font (TimGM6mb.sf2, GPL-2), if pretty_midi is installed."""
    try:
        import importlib.util

        spec = importlib.util.find_spec("pretty_midi")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "TimGM6mb.sf2"
        if path.is_file():
            return path
    return None


def soundfont_candidates() -> list[Path]:
    """Every place looked at, in order (existing or not), for messages and the README."""
    out: list[Path] = []
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        out.append(Path(env).expanduser())
    if SOUNDFONTS_DIR.is_dir():
        out.extend(sorted(p for p in SOUNDFONTS_DIR.iterdir() if p.suffix.lower() == ".sf2"))
    out.extend(SYSTEM_SOUNDFONTS)
    bundled = bundled_pretty_midi_soundfont()
    if bundled is not None:
        out.append(bundled)
    return out


def default_soundfont() -> Path:
    """The SoundFont to use (see the module docstring for the order).

    Raises ``RuntimeError`` when ``$CADENZA_SOUNDFONT`` names a missing file, or
    when no SoundFont is found anywhere (naming what to install).
    """
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise RuntimeError(f"{ENV_VAR} is set to '{env}', but no such file exists. {INSTALL_HINT}")
        return path.resolve()
    for path in soundfont_candidates():
        if path.is_file():  # follows symlinks (default-GM.sf2 is one)
            return path.resolve() if path.is_symlink() else path
    raise RuntimeError(INSTALL_HINT)
