"""Time our warm in-process synthesizer against the usual ways of rendering MIDI.

    python -m bench.render_compare FILE.mid [--soundfont PATH] [--repeats N] [--sample-rate SR]

prints JSON: the median wall time (ms) of

* ``cadenza_warm``: :meth:`engine.render.audio.Synthesizer.render` with the
  default settings (font loaded once beforehand; its load time is reported apart;
  its engines render time segments on separate cores),
* ``cadenza_warm_one_engine``: the same on one engine (one core),
* ``cadenza_warm_44k_fx``: the same warm synth at 44.1 kHz with reverb and chorus,
  i.e. the same work the fluidsynth program does by default,
* ``midi2audio``: ``midi2audio.FluidSynth(sf).midi_to_audio(mid, tmp.wav)`` (a
  ``fluidsynth`` process per call, reloading the font),
* ``pretty_midi``: ``PrettyMIDI.fluidsynth(fs, synthesizer=sf)`` (a new in-process
  synth per call, reloading the font, one pass per instrument),

all on the same MIDI file and SoundFont, plus the audio duration and speed-ups.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pretty_midi


def _median_ms(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times), result


@contextlib.contextmanager
def _quiet_fds():
    """Silence stdout/stderr at the file-descriptor level (the fluidsynth program prints a banner)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


def compare_renderers(
    midi_path: str | Path,
    soundfont: str | Path | None = None,
    repeats: int = 5,
    sample_rate: int | None = None,
    include_pretty_midi: bool = True,
) -> dict:
    """Median render times (ms) of our warm synth vs midi2audio vs pretty_midi, and speed-ups."""
    from engine.render.audio import DEFAULT_SAMPLE_RATE, Synthesizer
    from engine.render.soundfont import default_soundfont

    midi_path = Path(midi_path)
    sf = Path(soundfont) if soundfont is not None else default_soundfont()
    sr = int(sample_rate or DEFAULT_SAMPLE_RATE)
    pm = pretty_midi.PrettyMIDI(str(midi_path))
    result: dict = {
        "midi": str(midi_path),
        "soundfont": str(sf),
        "soundfont_mb": round(sf.stat().st_size / 1e6, 1),
        "repeats": repeats,
        "midi_seconds": round(pm.get_end_time(), 3),
        "notes": sum(len(i.notes) for i in pm.instruments),
    }

    t0 = time.perf_counter()
    synth = Synthesizer(sf, sample_rate=sr)
    result["cadenza_font_load_ms"] = round((time.perf_counter() - t0) * 1000.0, 1)
    synth.render(pm)  # warm-up (page cache, first-touch of samples)
    ms, audio = _median_ms(lambda: synth.render(pm), repeats)
    result["cadenza_warm_ms"] = round(ms, 1)
    result["cadenza_engines"] = synth.engines
    result["cadenza_sample_rate"] = sr
    result["cadenza_settings"] = synth.settings
    result["audio_seconds"] = round(len(audio) / sr, 3)
    synth.close()

    single = Synthesizer(sf, sample_rate=sr, engines=1)  # the same synth on one core
    single.render(pm)
    ms, _ = _median_ms(lambda: single.render(pm), repeats)
    result["cadenza_warm_one_engine_ms"] = round(ms, 1)
    single.close()

    full = Synthesizer(sf, sample_rate=44100, settings={"synth.reverb.active": 1, "synth.chorus.active": 1})
    full.render(pm)
    ms, _ = _median_ms(lambda: full.render(pm), repeats)
    result["cadenza_warm_44k_fx_ms"] = round(ms, 1)
    full.close()

    with tempfile.TemporaryDirectory() as tmp:
        if shutil.which("fluidsynth"):
            from midi2audio import FluidSynth

            m2a = FluidSynth(str(sf))  # 44100 Hz, the fluidsynth program's default effects
            wav = Path(tmp) / "out.wav"
            with _quiet_fds():
                m2a.midi_to_audio(str(midi_path), str(wav))  # warm-up (page cache)
                ms, _ = _median_ms(lambda: m2a.midi_to_audio(str(midi_path), str(wav)), repeats)
            result["midi2audio_ms"] = round(ms, 1)
            if not wav.is_file() or wav.stat().st_size < 1000:
                result["midi2audio_error"] = "the fluidsynth program wrote no audio"
        else:
            result["midi2audio_ms"] = None
            result["midi2audio_error"] = "the fluidsynth program is not on PATH"

    if include_pretty_midi:
        with warnings.catch_warnings(), _quiet_fds():
            warnings.simplefilter("ignore")
            ms, _ = _median_ms(lambda: pm.fluidsynth(fs=44100, synthesizer=str(sf)), repeats)
        result["pretty_midi_ms"] = round(ms, 1)

    ours = result["cadenza_warm_ms"]
    for key in ("midi2audio_ms", "pretty_midi_ms", "cadenza_warm_44k_fx_ms", "cadenza_warm_one_engine_ms"):
        other = result.get(key)
        if other:
            result[f"speedup_vs_{key[:-3]}"] = round(other / ours, 2)
    result["cadenza_realtime_factor"] = round(result["audio_seconds"] * 1000.0 / ours, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("midi", help="a .mid file")
    parser.add_argument(
        "--soundfont", default=None, help="an .sf2 file (default: engine.render.soundfont.default_soundfont())"
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sample-rate", type=int, default=None)
    parser.add_argument("--no-pretty-midi", action="store_true", help="skip the pretty_midi.fluidsynth timing")
    args = parser.parse_args(argv)
    out = compare_renderers(args.midi, args.soundfont, args.repeats, args.sample_rate, not args.no_pretty_midi)
    json.dump(out, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
