"""Compressed audio for the browser's player: Ogg Opus (default) or MP3, through PyAV (FFmpeg's codecs).

A WAV of an 8-bar variation is about 2.2 MB (32 kHz, 16-bit stereo): close to a second per
variation over a 20 Mbit/s home link before the player can start. Opus at 112 kbit/s (VBR)
makes it about 250 KB; the WAV stays a download.

Why these settings (``python -m bench.audio_codecs`` measures them on the studio's own renders):
* **Opus** is the best codec at this rate and the fastest to encode here: about 4 ms per second
  of stereo on one of these cores, resampling included (libsndfile's Opus, at complexity 10, took
  500 ms for 18 s; MP3 through LAME 190 ms; Vorbis through libsndfile 115 ms). Opus runs at 48 kHz: the
  32 kHz render is resampled by FFmpeg on the way in. Browsers: Chrome, Edge, Firefox, Safari 17+.
* **MP3** (LAME, 160 kbit/s) for players without Opus (``--player-audio mp3``).
* **WAV** keeps the old behaviour (``--player-audio wav``).
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.render.export import audio_to_int16


@dataclass(frozen=True)
class PlayerFormat:
    """One way to write audio for the player: FFmpeg codec and container, output rate, bit rate."""

    name: str
    suffix: str
    codec: str | None = None  # None: plain WAV
    container: str | None = None
    rate: int | None = None  # None: the render's own rate
    bit_rate: int = 0
    options: dict[str, str] = field(default_factory=dict)
    mime: str = "audio/wav"


PLAYER_FORMATS: dict[str, PlayerFormat] = {
    # Complexity 0 and 60 ms frames: the fastest settings (64 ms for 17 s against 86 ms at complexity 3), their
    # distance to the WAV barely moves (spectral error 3.13 dB against 2.95; bench/audio_codecs.py).
    "opus": PlayerFormat(
        "opus",
        ".ogg",
        "libopus",
        "ogg",
        48000,
        112_000,
        {"compression_level": "0", "frame_duration": "60"},
        "audio/ogg",
    ),
    "mp3": PlayerFormat("mp3", ".mp3", "libmp3lame", "mp3", None, 160_000, {"compression_level": "9"}, "audio/mpeg"),
    "wav": PlayerFormat("wav", ".wav"),
}
DEFAULT_PLAYER_FORMAT = "opus"


def player_format(name: str) -> PlayerFormat:
    """The :data:`PLAYER_FORMATS` entry called ``name`` (raises ValueError naming the choices)."""
    try:
        return PLAYER_FORMATS[str(name).lower()]
    except KeyError:
        raise ValueError(f"Unknown player audio format {name!r}: choose one of {', '.join(PLAYER_FORMATS)}") from None


def encode_audio(audio: np.ndarray, sample_rate: int, fmt: str | PlayerFormat = DEFAULT_PLAYER_FORMAT) -> bytes:
    """``audio`` (float in [-1, 1] or int16; (frames,) mono or (frames, channels) with 1-2 channels) as the bytes
    of a file in ``fmt``."""
    spec = fmt if isinstance(fmt, PlayerFormat) else player_format(fmt)
    data = audio_to_int16(audio)
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2 or data.shape[1] not in (1, 2):
        raise ValueError(f"Audio must have shape (frames,) or (frames, 1|2), not {data.shape}")
    if spec.codec is None:
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:
            out.setnchannels(data.shape[1])
            out.setsampwidth(2)
            out.setframerate(int(sample_rate))
            out.writeframes(np.ascontiguousarray(data).tobytes())
        return buffer.getvalue()
    import av  # PyAV: FFmpeg's encoders, imported on first use (it takes a moment)

    layout = "mono" if data.shape[1] == 1 else "stereo"
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=spec.container) as container:
        stream = container.add_stream(spec.codec, rate=spec.rate or int(sample_rate), layout=layout)
        assert isinstance(stream, av.AudioStream)  # an audio codec (PyAV types a codec by name only for literals)
        stream.bit_rate = spec.bit_rate
        stream.options = dict(spec.options)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data).reshape(1, -1), format="s16", layout=layout)
        frame.sample_rate = int(sample_rate)
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):  # flush the encoder (and the resampler)
            container.mux(packet)
    return buffer.getvalue()


def write_player_audio(
    path: str | Path, audio: np.ndarray, sample_rate: int, fmt: str | PlayerFormat = DEFAULT_PLAYER_FORMAT
) -> Path:
    """Write ``audio`` in ``fmt`` to ``path`` with the format's suffix (replacing any); returns the path written."""
    spec = fmt if isinstance(fmt, PlayerFormat) else player_format(fmt)
    path = Path(path).with_suffix(spec.suffix)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_audio(audio, sample_rate, spec))
    return path


def decode_audio(data: bytes | str | Path) -> tuple[int, np.ndarray]:
    """``(sample_rate, float32 (frames, channels))`` of an audio file's bytes or path (any format FFmpeg reads)."""
    import av

    source = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else str(data)
    with av.open(source, "r") as container:  # "r": what av.open picks for a path or a file object without a mode
        stream = container.streams.audio[0]
        chunks = [frame.to_ndarray() for frame in container.decode(stream)]
        rate = stream.rate
        channels = stream.channels
    if not chunks:
        return rate, np.zeros((0, channels), np.float32)
    joined = np.concatenate([_planar(c, channels) for c in chunks], axis=0)
    if joined.dtype == np.int16:
        joined = joined.astype(np.float32) / 32768.0
    return rate, joined.astype(np.float32)


def _planar(chunk: np.ndarray, channels: int) -> np.ndarray:
    """A decoded frame's array as (frames, channels): planar formats come (channels, n), packed (1, n*channels)."""
    if chunk.shape[0] == channels and channels > 1:
        return chunk.T
    return chunk.reshape(-1, channels)
