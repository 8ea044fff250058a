"""Compressed audio for the player: each format decodes back to the same sound, much smaller than the WAV."""

import numpy as np
import pytest

from engine.render.encode import PLAYER_FORMATS, decode_audio, encode_audio, player_format, write_player_audio

RATE = 32000


def _chord(seconds: float = 2.0, channels: int = 2) -> np.ndarray:
    """A decaying A-major triad, float (frames, channels)."""
    t = np.arange(int(RATE * seconds)) / RATE
    tone = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.18, 329.63)) * 0.2 * np.exp(-t)
    return np.repeat(tone[:, None], channels, axis=1).astype(np.float32)


def _spectrum_db(audio: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    mono = audio.mean(axis=1)
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono))))
    return np.fft.rfftfreq(len(mono), 1 / rate), 20 * np.log10(spectrum / spectrum.max() + 1e-9)


@pytest.mark.parametrize("name", ["opus", "mp3", "wav"])
def test_each_format_decodes_to_the_same_length_and_pitches(name):
    audio = _chord()
    rate, decoded = decode_audio(encode_audio(audio, RATE, name))
    assert decoded.shape[1] == 2
    assert abs(len(decoded) / rate - len(audio) / RATE) < 0.03  # encoder delay trimmed
    freqs, db = _spectrum_db(decoded, rate)
    peaks = {round(float(freqs[i])) for i in np.argsort(db)[-40:]}
    for f in (220, 277, 330):
        assert any(abs(p - f) <= 2 for p in peaks), (name, f, sorted(peaks))


def test_opus_is_a_small_fraction_of_the_wav():
    audio = _chord(8.0)
    opus, wav = encode_audio(audio, RATE, "opus"), encode_audio(audio, RATE, "wav")
    assert len(opus) < len(wav) / 8
    assert len(opus) * 8 / 8.0 < 160_000  # bits per second: near the 112 kbit/s asked for


def test_mono_and_int16_input(tmp_path):
    audio = (_chord(1.0, channels=1)[:, 0] * 32767).astype(np.int16)
    path = write_player_audio(tmp_path / "x.wav", audio, RATE, "opus")
    assert path.suffix == ".ogg" and path.is_file()
    rate, decoded = decode_audio(path)
    assert rate == 48000 and decoded.shape[1] == 1


def test_bad_shapes_and_unknown_formats_are_named():
    with pytest.raises(ValueError, match="shape"):
        encode_audio(np.zeros((10, 3), np.float32), RATE)
    with pytest.raises(ValueError, match="opus, mp3, wav"):
        player_format("flac")
    assert set(PLAYER_FORMATS) == {"opus", "mp3", "wav"}


def test_read_wav_returns_what_write_wav_wrote(tmp_path):
    from engine.render.export import read_wav, write_wav

    audio = (_chord(0.5) * 32767).astype(np.int16)
    rate, back = read_wav(write_wav(tmp_path / "a.wav", audio, RATE))
    assert rate == RATE and np.array_equal(back, audio)
