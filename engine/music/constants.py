"""The numbers every layer shares: the time grid, the token vocabulary and pitch names, defined once.

Time is counted in sixteenth-note *steps*. A model window is two bars of 4/4 (32 steps), read by the
EC2-VAE family per step and by the latent, style and chord models per beat.

Melody tokens (one per step), as in EC2-VAE:
    0..127  onset of that MIDI pitch
    128     HOLD (the previous note continues)
    129     REST
Rhythm classes (derived from melody tokens): 0 onset, 1 hold, 2 rest.
"""

from __future__ import annotations

STEPS_PER_BEAT = 4  # sixteenth notes per quarter note
STEPS_PER_BAR_44 = 16  # a bar of 4/4
WINDOW_STEPS = 32  # a model window: two bars of 4/4
BEATS_PER_WINDOW = WINDOW_STEPS // STEPS_PER_BEAT  # 8

NUM_PITCH_TOKENS = 130
HOLD = 128
REST = 129

NUM_RHYTHM_CLASSES = 3
ONSET, SUSTAIN, SILENCE = 0, 1, 2

TRACKS = 4  # four-part music: track 0 the highest voice, track 3 the lowest

# Pitch-class names as lead sheets spell them (one spelling per pitch class).
NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def note_name(pitch: int) -> str:
    """MIDI pitch -> name with octave, middle C = C4 (e.g. 61 -> "C#4")."""
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


# Russell's quadrants of the valence-arousal plane, in EMusicGen's order: Q1 happy, Q2 tense, Q3 sad, Q4 calm.
QUADRANTS = ("Q1", "Q2", "Q3", "Q4")
