"""The voice infiller's shapes, and that every condition reaches the cells it fills."""

import torch

from engine.models.voice_infill import HIDDEN, VoiceInfillConfig, VoiceInfiller
from engine.music.constants import NUM_PITCH_TOKENS, REST


def _inputs(batch: int = 2):
    torch.manual_seed(0)
    tokens = torch.randint(0, NUM_PITCH_TOKENS, (batch, 4, 32))
    tokens[:, 1:] = HIDDEN
    previous = torch.randint(0, NUM_PITCH_TOKENS, (batch, 4, 32))
    chords = torch.zeros(batch, 8, 12)
    chords[:, :, [0, 4, 7]] = 1.0
    return tokens, previous, chords, torch.tensor([0, 3][:batch])


def test_logits_for_every_cell() -> None:
    model = VoiceInfiller(VoiceInfillConfig.debug()).eval()
    logits = model(*_inputs())
    assert logits.shape == (2, 4, 32, NUM_PITCH_TOKENS) and torch.isfinite(logits).all()


def test_the_style_the_chords_the_bar_before_and_the_melody_all_count() -> None:
    model = VoiceInfiller(VoiceInfillConfig.debug()).eval()
    tokens, previous, chords, styles = _inputs()
    base = model(tokens, previous, chords, styles)[:, 1:]
    other_chords = torch.zeros_like(chords)
    other_chords[:, :, [2, 5, 9]] = 1.0
    only_first_bar = previous.clone()
    only_first_bar[:, :, :16] = REST  # outside the context the model reads: no effect
    changed_melody = tokens.clone()
    changed_melody[:, 0] = (changed_melody[:, 0] + 1) % 128
    with torch.no_grad():
        assert not torch.allclose(base, model(tokens, previous, chords, styles.flip(0))[:, 1:])
        assert not torch.allclose(base, model(tokens, previous, other_chords, styles)[:, 1:])
        assert not torch.allclose(base, model(tokens, torch.full_like(previous, REST), chords, styles)[:, 1:])
        assert not torch.allclose(base, model(changed_melody, previous, chords, styles)[:, 1:])
        assert torch.allclose(base, model(tokens, only_first_bar, chords, styles)[:, 1:], atol=1e-5)
