import sys
import threading

import numpy as np
import pretty_midi
import pytest

import engine.render.audio as audio_mod
from engine.music import Chord, ChordProgression, LeadSheet, Melody, Note
from engine.render import synth_engine
from engine.render.audio import AudioBackendError, Synthesizer, get_synthesizer, render_leadsheet, render_leadsheets
from engine.render.export import leadsheet_to_pretty_midi
from engine.render.soundfont import bundled_pretty_midi_soundfont

SMALL_FONT = bundled_pretty_midi_soundfont()  # TimGM6mb: 6 MB, loads in ~50 ms

try:
    synth_engine.import_fluidsynth()
    HAVE_FLUIDSYNTH = True
except AudioBackendError:
    HAVE_FLUIDSYNTH = False

needs_fluidsynth = pytest.mark.skipif(
    not HAVE_FLUIDSYNTH or SMALL_FONT is None, reason="libfluidsynth or pretty_midi's TimGM6mb.sf2 missing"
)


def make_sheet(num_steps=32, tempo=120.0):
    notes = [Note(60 + 2 * i, 4 * i, 4 * i + 3, 100) for i in range(num_steps // 4 - 1)]
    chords = ChordProgression([Chord("C", 0, 16, (0, 4, 7), 0), Chord("F", 16, num_steps, (0, 5, 9), 5)])
    return LeadSheet(Melody(notes, num_steps, tempo), chords)


@pytest.fixture(scope="module")
def synth():
    return get_synthesizer(SMALL_FONT)


def rms(x):
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


@needs_fluidsynth
def test_render_is_audible_and_has_the_right_length(synth):
    pm = leadsheet_to_pretty_midi(make_sheet(), program=0, accompaniment_program=0)
    out = synth.render(pm, tail_seconds=0.5)
    assert out.dtype == np.float32 and out.ndim == 2 and out.shape[1] == 2
    assert len(out) == round((pm.get_end_time() + 0.5) * synth.sample_rate)
    assert np.abs(out).max() <= 1.0
    assert rms(out) > 1e-3
    # Sound starts at the first note (step 0) and the melody's last note is audible.
    sr = synth.sample_rate
    assert rms(out[: sr // 10]) > 1e-3


@needs_fluidsynth
def test_synth_is_reused_and_font_loaded_once(monkeypatch):
    import fluidsynth

    calls = []
    original = fluidsynth.Synth.sfload

    def counting_sfload(self, filename, *args):
        calls.append(filename)
        return original(self, filename, *args)

    monkeypatch.setattr(fluidsynth.Synth, "sfload", counting_sfload)
    audio_mod._cached_synthesizer.cache_clear()
    try:
        first = get_synthesizer(SMALL_FONT)
        assert get_synthesizer(SMALL_FONT) is first
        assert get_synthesizer(str(SMALL_FONT)) is first
        pm = leadsheet_to_pretty_midi(make_sheet())
        a = first.render(pm)
        b = get_synthesizer(SMALL_FONT).render(pm)
        assert len(calls) == first.engines  # once per engine, at construction only
        assert a.shape == b.shape and rms(b) > 1e-3
        assert first.renders >= 2
    finally:
        audio_mod._cached_synthesizer.cache_clear()


@needs_fluidsynth
def test_no_sound_leaks_into_the_next_render(synth):
    pm = leadsheet_to_pretty_midi(make_sheet())
    synth.render(pm, tail_seconds=0.0)  # ends while the last notes still ring
    silence = synth.render(pretty_midi.PrettyMIDI(), tail_seconds=0.3)
    assert len(silence) == round(0.3 * synth.sample_rate)
    assert np.abs(silence).max() < 0.01


@needs_fluidsynth
def test_instruments_change_the_sound(synth):
    sheet = make_sheet()
    piano = synth.render(leadsheet_to_pretty_midi(sheet, program=0, accompaniment_program=None))
    flute = synth.render(leadsheet_to_pretty_midi(sheet, program=73, accompaniment_program=None))
    assert piano.shape == flute.shape
    assert not np.allclose(piano, flute, atol=1e-3)


@needs_fluidsynth
def test_render_leadsheet_for_gradio(synth):
    sheet = make_sheet(num_steps=48)  # trailing rests: the last note ends at step 40
    sr, out = render_leadsheet(sheet, program=0, accompaniment_program=None, tail_seconds=1.0, synthesizer=synth)
    assert sr == synth.sample_rate
    assert out.dtype == np.int16 and out.shape[1] == 2
    assert len(out) == round((sheet.melody.duration_seconds + 1.0) * sr)
    assert np.abs(out).max() > 100


@needs_fluidsynth
def test_concurrent_renders(synth):
    pm = leadsheet_to_pretty_midi(make_sheet())
    results = []

    def work():
        results.append(synth.render(pm))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3
    for r in results:
        assert r.shape == results[0].shape and rms(r) > 1e-3


@needs_fluidsynth
def test_drums_and_many_instruments(synth):
    pm = pretty_midi.PrettyMIDI()
    for i in range(12):
        inst = pretty_midi.Instrument(program=i * 8)
        inst.notes.append(pretty_midi.Note(90, 60 + i, 0.1 * i, 0.1 * i + 0.2))
        pm.instruments.append(inst)
    drums = pretty_midi.Instrument(program=0, is_drum=True)
    drums.notes.append(pretty_midi.Note(100, 36, 0.0, 0.1))
    pm.instruments.append(drums)
    channels = synth._channels(pm)
    assert channels[-1] == 9 and 9 not in channels[:-1]
    assert len(set(channels)) == len(channels)
    assert rms(synth.render(pm, tail_seconds=0.2)) > 1e-3


def test_missing_libfluidsynth_gives_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "fluidsynth", None)  # makes `import fluidsynth` raise ImportError
    import engine.render  # importing the package still works

    assert engine.render.program_for("Flute") == 73
    with pytest.raises(AudioBackendError, match="libfluidsynth3"):
        Synthesizer(SMALL_FONT)


@needs_fluidsynth
def test_bad_soundfont_raises(tmp_path):
    with pytest.raises(AudioBackendError, match="not found"):
        Synthesizer(tmp_path / "missing.sf2")
    junk = tmp_path / "junk.sf2"
    junk.write_bytes(b"not a soundfont")
    with pytest.raises(AudioBackendError, match="junk.sf2"):
        Synthesizer(junk)


def snr_db(reference, other):
    err = np.sum((reference - other).astype(np.float64) ** 2)
    return 10 * np.log10(np.sum(reference.astype(np.float64) ** 2) / max(err, 1e-30))


def long_pm(bars=8, tempo=120.0, pad_program=None):
    """Melody (1 note per beat) over whole-bar chords; ``pad_program`` makes the chords a long-release pad."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    beat = 60.0 / tempo
    melody = pretty_midi.Instrument(program=73)
    chords = pretty_midi.Instrument(program=0 if pad_program is None else pad_program)
    for bar in range(bars):
        for b in range(4):
            t = (bar * 4 + b) * beat
            melody.notes.append(pretty_midi.Note(96, 67 + (bar * 4 + b) % 7, t, t + 0.9 * beat))
        for pitch in (48, 52, 55):
            chords.notes.append(pretty_midi.Note(70, pitch + bar % 3, bar * 4 * beat, (bar + 1) * 4 * beat))
    chords.control_changes.append(pretty_midi.ControlChange(7, 90, 0.0))  # state set before any split
    pm.instruments += [melody, chords]
    return pm


@needs_fluidsynth
@pytest.mark.parametrize("pad_program", [None, 89])  # piano chords; "Warm Pad" (long release)
def test_parallel_render_equals_one_engine_without_reverb(pad_program):
    settings = {"synth.reverb.active": 0}
    one = Synthesizer(SMALL_FONT, engines=1, settings=settings)
    two = Synthesizer(SMALL_FONT, engines=2, settings=settings)
    try:
        pm = long_pm(pad_program=pad_program)
        for synth in (one, two):
            synth.render(pm)  # first render of an engine aligns its blocks
        a, b = one.render(pm), two.render(pm)
        assert a.shape == b.shape
        # Dry, the split render is the same signal (floating-point noise only).
        assert np.abs(a - b).max() < 1e-4
    finally:
        one.close()
        two.close()


@needs_fluidsynth
def test_parallel_render_with_reverb_is_close_and_has_no_click():
    one = Synthesizer(SMALL_FONT, engines=1)
    two = Synthesizer(SMALL_FONT, engines=2)
    try:
        pm = long_pm()
        for synth in (one, two):
            synth.render(pm)
        a, b = one.render(pm), two.render(pm)
        assert a.shape == b.shape
        # Only the reverb's delay-line modulation phase differs (it runs on in each engine
        # between renders, so even one engine's renders differ slightly with reverb on).
        assert snr_db(a, b) > 20
        # No click: the largest sample-to-sample step is no bigger than in the one-engine render.
        assert np.abs(np.diff(b, axis=0)).max() <= 1.2 * np.abs(np.diff(a, axis=0)).max()
    finally:
        one.close()
        two.close()


@needs_fluidsynth
def test_closed_synthesizer_raises():
    synth = Synthesizer(SMALL_FONT, engines=2)
    synth.close()
    with pytest.raises(AudioBackendError, match="closed"):
        synth.render(long_pm(bars=1))


@needs_fluidsynth
def test_render_many_matches_render_and_keeps_the_order():
    synth = Synthesizer(SMALL_FONT, engines=2, settings={"synth.reverb.active": 0})
    try:
        pieces = [long_pm(bars=1), leadsheet_to_pretty_midi(make_sheet()), long_pm(bars=2, pad_program=89)]
        for pm in pieces:
            synth.render(pm)  # align every engine's blocks
            synth.render(pm)
        many = synth.render_many(pieces, tail_seconds=[0.5, 1.0, 0.2])
        assert [len(a) for a in many] == [
            round((pm.get_end_time() + t) * synth.sample_rate) for pm, t in zip(pieces, [0.5, 1.0, 0.2])
        ]
        for pm, tail, audio in zip(pieces, [0.5, 1.0, 0.2], many):
            # The same piece on the other engine: equal but for voice-state residue far below hearing.
            assert snr_db(synth.render(pm, tail_seconds=tail), audio) > 40
        with pytest.raises(ValueError, match="3 pieces but 2"):
            synth.render_many(pieces, tail_seconds=[1.0, 1.0])
        assert synth.render_many([]) == []
    finally:
        synth.close()


@needs_fluidsynth
def test_render_leadsheets_for_gradio(synth):
    sheets = [make_sheet(num_steps=32), make_sheet(num_steps=48)]
    sr, audios = render_leadsheets(sheets, program=0, accompaniment_program=None, tail_seconds=0.5, synthesizer=synth)
    assert sr == synth.sample_rate
    assert [len(a) for a in audios] == [round((s.melody.duration_seconds + 0.5) * sr) for s in sheets]
    assert all(a.dtype == np.int16 and np.abs(a).max() > 100 for a in audios)
