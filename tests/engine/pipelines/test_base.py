"""The pipeline contract: every pipeline's draws go through a generator on its model's device; generation configs
round-trip through generation.json and can be overridden per call."""

import pytest
import torch

from engine.music.notes import Melody, Note
from engine.pipelines import arrange, compose, emotion, harmonize, song, style, style_gan, voice_infill
from engine.pipelines.arrange import ArrangePipeline
from engine.pipelines.base import GENERATION_FILE, seeded_generator
from engine.pipelines.compose import ComposePipeline
from engine.pipelines.decoding import LatentGenerationConfig
from engine.pipelines.emotion import EmotionPipeline
from engine.pipelines.harmonize import HarmonizePipeline
from engine.pipelines.song import SongPipeline
from engine.pipelines.style import StylePipeline
from engine.pipelines.style_gan import StyleGANGenerationConfig, StyleGANPipeline
from engine.pipelines.voice_infill import VoiceInfillPipeline

RHYTHM = "x...x...x.x.x..."
TUNE = Melody([Note(60 + (i * 5) % 12, i * 4, i * 4 + 4) for i in range(16)], 64)


def _chords(device: str) -> str:
    """The suggester's seeded alternative (sample 1) as its symbols."""
    out = HarmonizePipeline.from_pretrained("debug", device)(TUNE, seed=3, num_samples=2)
    return " ".join(c.symbol for c in out.samples[1].chords)


def _calls(pipeline_name: str, device: str) -> dict:
    """Each pipeline ("debug" models on ``device``) and one call of it."""
    calls = {
        "compose": lambda: ComposePipeline.from_pretrained("debug", device)(RHYTHM, "C G", 4, seed=3).samples[0],
        "song": lambda: SongPipeline.from_pretrained("debug", device)("C G Am F", 8, seed=3).samples[0],
        "emotion": lambda: EmotionPipeline.from_pretrained("debug", device)("Q1", num_bars=8, seed=3).samples[0].abc,
        "style": lambda: StylePipeline.from_pretrained("debug", device)("Trecento", 2, seed=3).samples[0].tokens,
        "style_gan": lambda: StyleGANPipeline.from_pretrained("debug", device)("Trecento", 2, seed=3).samples[0].tokens,
        "harmonize": lambda: _chords(device),
        # the GAN writing (the infiller's draws are voice_infill's)
        "arrange": lambda: (
            ArrangePipeline.from_pretrained("debug", device, infiller="")(TUNE, "Trecento", seed=3).samples[0].tokens
        ),
        "voice_infill": lambda: (
            VoiceInfillPipeline.from_pretrained("debug", device)("Trecento", 2, seed=3).samples[0].tokens
        ),
    }
    return calls[pipeline_name]


MODULES = {
    "compose": compose,
    "song": song,
    "emotion": emotion,
    "style": style,
    "style_gan": style_gan,
    "harmonize": harmonize,
    "arrange": arrange,
    "voice_infill": voice_infill,
}


def test_a_seeded_generator_repeats_its_draws_on_its_device():
    first, again = seeded_generator(7, "cpu"), seeded_generator(7, torch.device("cpu"))
    assert first.device.type == "cpu"
    assert torch.equal(torch.rand(5, generator=first), torch.rand(5, generator=again))
    assert not torch.equal(torch.rand(5, generator=seeded_generator(8)), torch.rand(5, generator=seeded_generator(7)))


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_pipeline_draws_through_a_generator_on_its_models_device(name, monkeypatch):
    made = []

    def spy(seed, device="cpu"):
        generator = seeded_generator(seed, device)
        made.append(generator.device)
        return generator

    monkeypatch.setattr(MODULES[name], "seeded_generator", spy)
    _calls(name, "cpu")()
    assert made and all(device == torch.device("cpu") for device in made)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (the CPU case is the test above)")
@pytest.mark.parametrize("name", sorted(MODULES))
def test_on_a_gpu_the_same_seed_gives_the_same_piece(name, monkeypatch):
    devices = []

    def spy(seed, device="cpu"):
        generator = seeded_generator(seed, device)
        devices.append(generator.device.type)
        return generator

    monkeypatch.setattr(MODULES[name], "seeded_generator", spy)
    first, again = _calls(name, "cuda")(), _calls(name, "cuda")()
    assert set(devices) == {"cuda"}
    assert torch.equal(torch.as_tensor(first), torch.as_tensor(again)) if not isinstance(first, str) else first == again


def test_generation_configs_round_trip_through_generation_json(tmp_path):
    settings = StyleGANGenerationConfig().override(top_p=0.95, key_penalty=None)
    settings.save(tmp_path)
    assert (tmp_path / GENERATION_FILE).is_file()
    assert StyleGANGenerationConfig.load(tmp_path) == settings and settings.key_penalty == 0.75  # None: unchanged
    assert StyleGANGenerationConfig.load(tmp_path / "absent") == StyleGANGenerationConfig()  # none stored: defaults
    latent = LatentGenerationConfig.from_dict({"pitch_range": [50, 80], "unknown": 1})
    assert latent.pitch_range == (50, 80) and latent == LatentGenerationConfig(pitch_range=(50, 80))


def test_a_call_can_override_the_pipelines_settings():
    pipe = ComposePipeline.from_pretrained("debug")
    default = pipe(RHYTHM, "C G", 4, seed=3).samples[0].melody.notes
    assert pipe(RHYTHM, "C G", 4, seed=3, generation=pipe.generation).samples[0].melody.notes == default
    hot = pipe(RHYTHM, "C G", 4, seed=3, temperature=3.0).samples[0].melody.notes
    assert hot != default and pipe.generation.temperature == LatentGenerationConfig().temperature  # per call only
