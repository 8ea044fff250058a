"""What the player's audio costs and how close it stays to the WAV (``python -m bench.audio_codecs``).

Renders an 8-bar Compose result (shipped model, melody and chords, 120 BPM) with the studio's
synth, then encodes it in each player format (engine.render.encode) and reports per format:
bytes, kbit/s, encode time (median of 5), and two distances between the decoded audio and the
WAV (resampled to the same rate, encoder delay removed):
* ``snr_db``: signal-to-noise ratio of the waveform (perceptual codecs score low here by design);
* ``spectral_error_db``: mean absolute difference of the 2048-point log spectra over the bins within
  60 dB of each frame's peak (what is audible at all).
No listening test was run; these are objective figures only.
"""

from __future__ import annotations

import json
import statistics
import time

import numpy as np

RHYTHM = "|".join(["x...x...x.x.x...", "x.......x..x.x..", "x.x.x.x.x...x...", "x...x...x......."] * 2)


def _render_bench_piece() -> tuple[int, np.ndarray]:
    from engine.pipelines.compose import ComposePipeline
    from engine.render.audio import get_synthesizer, render_leadsheets

    sheet = ComposePipeline.from_pretrained()(RHYTHM, "C Am F G", 8, key="C", tempo_bpm=120, seed=1).samples[0]
    rate, (audio,) = render_leadsheets([sheet], program=0, accompaniment_program=0, synthesizer=get_synthesizer())
    return rate, audio


def _resample(audio: np.ndarray, rate: int, target: int) -> np.ndarray:
    """float (frames, channels) at ``target`` Hz through FFmpeg's resampler, the one the Opus encoder's input goes
    through, so that only the codec differs between the reference and the decoded audio."""
    if rate == target:
        return audio
    import av

    layout = "mono" if audio.shape[1] == 1 else "stereo"
    frame = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(audio, dtype=np.float32).reshape(1, -1), format="flt", layout=layout
    )
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="flt", layout=layout, rate=target)
    chunks = [f.to_ndarray().reshape(-1, audio.shape[1]) for f in resampler.resample(frame) + resampler.resample(None)]
    return np.concatenate(chunks, axis=0)


def _align(reference: np.ndarray, decoded: np.ndarray, max_lag: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    n = min(len(reference), len(decoded), 48000 * 3)
    a, b = reference[:n, 0], decoded[:n, 0]
    lag = max(range(0, max_lag), key=lambda k: float(np.dot(a[: n - k], b[k:n])))
    decoded = decoded[lag:]
    m = min(len(reference), len(decoded))
    return reference[:m], decoded[:m]


def distances(reference: np.ndarray, decoded: np.ndarray) -> dict[str, float]:
    """SNR and spectral error (see the module docstring) of float (frames, channels) signals at one rate."""
    reference, decoded = _align(reference, decoded)
    snr = 10 * np.log10(float((reference**2).sum()) / max(float(((reference - decoded) ** 2).sum()), 1e-12))
    n, window = 2048, np.hanning(2048)

    def spectra(signal: np.ndarray) -> np.ndarray:
        frames = np.lib.stride_tricks.sliding_window_view(signal.mean(axis=1), n)[::1024] * window
        return 20 * np.log10(np.abs(np.fft.rfft(frames)) + 1e-9)

    ref, dec = spectra(reference), spectra(decoded)
    audible = ref > ref.max(axis=1, keepdims=True) - 60
    return {"snr_db": round(snr, 1), "spectral_error_db": round(float(np.abs(ref - dec)[audible].mean()), 2)}


def codec_report(repeats: int = 5) -> dict:
    """The figures of the module docstring for every player format."""
    from engine.render.encode import PLAYER_FORMATS, decode_audio, encode_audio

    rate, audio = _render_bench_piece()
    seconds = len(audio) / rate
    reference = audio.astype(np.float32) / 32768.0
    out: dict = {"piece_seconds": round(seconds, 2), "sample_rate": rate, "formats": {}}
    for name, spec in PLAYER_FORMATS.items():
        times, data = [], b""
        for _ in range(repeats):
            started = time.perf_counter()
            data = encode_audio(audio, rate, spec)
            times.append((time.perf_counter() - started) * 1000)
        decoded_rate, decoded = decode_audio(data)
        out["formats"][name] = {
            "bytes": len(data),
            "kbit_per_s": round(len(data) * 8 / seconds / 1000, 1),
            "encode_ms_p50": round(statistics.median(times), 1),
            **distances(_resample(reference, rate, decoded_rate), decoded),
        }
    return out


def main() -> int:
    print(json.dumps(codec_report(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
