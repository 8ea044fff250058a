"""Emotion: a feeling (a Russell quadrant, or any point of the valence-arousal plane) -> melodies in ABC.

EMusicGen's recipe (arXiv 2309.13259): a language model over ABC text prompted with a quadrant
(Q1 happy, Q2 tense, Q3 sad, Q4 calm) writes a tune; a feature template then sets what the
listener hears most: tempo, mode, register and loudness.

* **The prompt.** ``A:<quadrant>`` and ``B:<bars>``; the model writes the meter, unit, key and
  body. Sampling is EMusicGen's (temperature 1.2, top-k 8, top-p 0.8) inside a small grammar
  (:class:`TokenGrammar`): header fields in order (M, L, K), then notes and rests that fit the
  bar, bar lines only where a bar is full, so every tune is readable ABC with whole bars; it
  stops after the bars asked for. Keys have at most four sharps or flats.
* **Draw and check.** A tune whose notes music21's key analysis does not hear in the asked mode
  (minor for sad and tense, major for happy and calm), or that plays one bar more than three
  times in a row, is drawn again (up to ``MAX_ATTEMPTS``; then the first readable draw is kept):
  the model alone writes the asked mode about four times in five.
* **Between the anchors.** A point (valence, arousal), each -1..1, picks its quadrant; within
  ``BLEND_ZONE`` of an axis the next-token logits of the two quadrants on either side are mixed
  in proportion to the distance (at the axis half and half), so the melody moves smoothly across.
* **The template** (:class:`EmotionTemplate`) moves continuously with the point: the four
  quadrants' EMusicGen values sit at the corners (+-1, +-1) and are interpolated bilinearly:
  tempo range (BPM), register shift (rounded to whole octaves), loudness (dB, as MIDI
  velocity) and articulation (share of each note's length that sounds: short at high arousal);
  mode: major for valence > ``MODE_ZONE``, minor below -``MODE_ZONE``, the model's own between
  (the K: field is rewritten to the parallel mode, as EMusicGen does).
Results carry the raw ABC (the model's), the final ABC (template applied), a LeadSheet and the
template, so evaluation can tell the model's contribution from the template's.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import torch

from engine.abc_text import key_field_mode, parse_key_field, transpose_abc
from engine.device import resolve_device
from engine.emotion_features import FeatureJudge
from engine.errors import CadenzaInputError
from engine.midi_io import read_abc_text
from engine.models.abc_lm import AbcLanguageModel, AbcModelConfig, AbcTokenizer
from engine.models.checkpoint import load_abc_model
from engine.music import LeadSheet, Note
from engine.validation import check_number

DEFAULT_CHECKPOINT = Path(__file__).resolve().parents[2] / "checkpoints" / "abc_emotion"
QUADRANTS = ("Q1", "Q2", "Q3", "Q4")
QUADRANT_NAMES = {"Q1": "happy", "Q2": "tense", "Q3": "sad", "Q4": "calm"}
# Where each quadrant sits on the (valence, arousal) plane, and EMusicGen's template for it.
CORNERS = {"Q1": (1.0, 1.0), "Q2": (-1.0, 1.0), "Q3": (-1.0, -1.0), "Q4": (1.0, -1.0)}
ANCHORS = {  # tempo range (BPM), mode, register shift (semitones), loudness (dB)
    "Q1": ((160, 184), "major", 0, 5.0),
    "Q2": ((184, 228), "minor", -24, 10.0),
    "Q3": ((40, 69), "minor", -12, 0.0),
    "Q4": ((40, 69), "major", 0, 0.0),
}
BLEND_ZONE = 0.25
MODE_ZONE = 0.1
MIN_BARS, MAX_BARS = 8, 32
MAX_SAMPLES = 4
MAX_ATTEMPTS = 6
MAX_BAR_REPEATS = 3
MAX_KEY_ACCIDENTALS = 4
BASE_VELOCITY = 80
SAMPLING = dict(temperature=1.2, top_k=8, top_p=0.8)
_NOTE_TOKEN = re.compile(r"^(?:\^\^|\^|__|_|=)?[A-Ga-gz][,']*(\d*/+\d*|\d+)?-? ?$")
_BAR_TOKEN = re.compile(r"^(?:\||\|\||\|:|:\||::) ?$")


class EmotionInputError(CadenzaInputError):
    """A feeling, length or number the emotion pipeline cannot use."""


@dataclass(frozen=True)
class EmotionTemplate:
    """What the template sets for one point of the plane."""

    valence: float
    arousal: float
    tempo_range: tuple[float, float]
    mode: str | None  # "major", "minor", or None: the model's own
    register_shift: int  # semitones
    loudness_db: float
    articulation: float  # share of each note's written length that sounds

    def tempo(self, generator: torch.Generator) -> int:
        """A tempo drawn in the range (EMusicGen draws at random in the quadrant's range)."""
        lo, hi = self.tempo_range
        return int(round(lo + (hi - lo) * float(torch.rand((), generator=generator))))

    def express(self, notes: list[Note]) -> list[Note]:
        """The notes with this template's loudness (velocity) and articulation (sounding share of each length)."""
        velocity = self.velocity
        return [
            Note(n.pitch, n.start, n.start + max(1, int(round((n.end - n.start) * self.articulation))), velocity)
            for n in notes
        ]

    @property
    def velocity(self) -> int:
        # FluidSynth's loudness follows velocity roughly as 40 log10(v): +x dB is a velocity factor of 10^(x/40).
        return int(max(1, min(127, round(BASE_VELOCITY * 10 ** (self.loudness_db / 40)))))


def _bilinear(valence: float, arousal: float, value) -> float:
    """Bilinear interpolation of ``value(quadrant)`` between the corners of the plane."""
    u, w = (valence + 1) / 2, (arousal + 1) / 2  # 0..1 from negative to positive
    return (1 - u) * (1 - w) * value("Q3") + u * (1 - w) * value("Q4") + (1 - u) * w * value("Q2") + u * w * value("Q1")


def template_at(valence: float, arousal: float) -> EmotionTemplate:
    """The template for a point (each coordinate -1..1); at a corner it is EMusicGen's for that quadrant."""
    lo = round(_bilinear(valence, arousal, lambda q: ANCHORS[q][0][0]), 2)
    hi = round(_bilinear(valence, arousal, lambda q: ANCHORS[q][0][1]), 2)
    mode = "major" if valence > MODE_ZONE else "minor" if valence < -MODE_ZONE else None
    # Whole octaves: a shift by other intervals would only move the tune to another key.
    shift = 12 * int(round(_bilinear(valence, arousal, lambda q: ANCHORS[q][2]) / 12))
    loudness = _bilinear(valence, arousal, lambda q: ANCHORS[q][3])
    articulation = 0.85 - 0.15 * arousal  # legato when calm or sad, detached when excited
    return EmotionTemplate(valence, arousal, (lo, hi), mode, shift, round(loudness, 2), round(articulation, 3))


def prompt_weights(valence: float, arousal: float) -> dict[str, float]:
    """The quadrant(s) that prompt the model and their logit weights (see the module docstring)."""
    own = quadrant_of_point(valence, arousal)
    distances = {"valence": abs(valence), "arousal": abs(arousal)}
    axis = min(distances, key=distances.get)
    if distances[axis] >= BLEND_ZONE:
        return {own: 1.0}
    # The quadrant across the nearer axis.
    other = quadrant_of_point(-valence if axis == "valence" else valence, -arousal if axis == "arousal" else arousal)
    if other == own:  # on the axis itself: lean to the positive side's partner
        other = quadrant_of_point(
            valence - 1e-9 if axis == "valence" else valence, arousal - 1e-9 if axis == "arousal" else arousal
        )
    weight_own = 0.5 + distances[axis] / (2 * BLEND_ZONE)
    return {own: round(weight_own, 4), other: round(1 - weight_own, 4)} if other != own else {own: 1.0}


def prompt_mode(weights: dict[str, float]) -> str | None:
    """The mode of the key the model writes in: that of the prompt quadrants' valence (Q1/Q4 major, Q2/Q3 minor),
    or None (the model's choice) when they straddle the valence axis."""
    modes = {"major" if q in ("Q1", "Q4") else "minor" for q in weights}
    return modes.pop() if len(modes) == 1 else None


def quadrant_of_point(valence: float, arousal: float) -> str:
    if arousal >= 0:
        return "Q1" if valence >= 0 else "Q2"
    return "Q4" if valence >= 0 else "Q3"


@dataclass
class EmotionTune:
    """One melody: the model's ABC, the final ABC (template applied), the LeadSheet heard, and how it was made."""

    abc_raw: str
    abc: str
    sheet: LeadSheet
    template: EmotionTemplate
    tempo_bpm: int
    prompt: dict[str, float]
    seed: int
    attempts: int = 1


@dataclass
class EmotionOutput:
    tunes: list[EmotionTune]
    seeds: list[int] = field(default_factory=list)


class TokenGrammar:
    """Which token ids may come next, so that every tune is readable and every bar full.

    Header: M:, L:, K: lines in that order. Body: notes and rests whose durations fit what is left
    of the bar (in units of L), a bar line (``|``, ``||``, ``|:``, ``:|``, ``::``) only when the bar
    is full (the first bar may be a pickup of any length), a line break only after a bar line.
    Tuplets, broken rhythms and chords are not offered: their durations need more bookkeeping than
    they are worth in these folk melodies.
    """

    def __init__(self, tokenizer: AbcTokenizer):
        self.tokenizer = tokenizer
        vocab = tokenizer.vocab
        self.newline = tokenizer.index["\n"]
        self.fields = {
            name: [i for i, t in enumerate(vocab) if t.startswith(f"{name}:") and _field_ok(name, t)] for name in "MLK"
        }
        # Keys of each mode: the feeling's valence picks the key field's mode (the model is conditioned on K:).
        # Only keys of at most MAX_KEY_ACCIDENTALS sharps or flats: transposition taught the model keys like D#m,
        # which folk players rarely read and whose melodies it writes worse.
        self.fields["K"] = [
            i for i in self.fields["K"] if abs(parse_key_field(vocab[i][2:].strip())[1]) <= MAX_KEY_ACCIDENTALS
        ]
        self.keys = {
            mode: [i for i in self.fields["K"] if key_field_mode(vocab[i][2:]) == mode] for mode in ("major", "minor")
        }
        self.durations: dict[int, Fraction] = {}
        self.bars: set[int] = set()
        for i, token in enumerate(vocab):
            if i <= 2:
                continue
            note = _NOTE_TOKEN.match(token)
            if note:
                self.durations[i] = _duration(note.group(1))
            elif _BAR_TOKEN.match(token):
                self.bars.add(i)

    def _state(self, tokens: list[int]) -> tuple[int, Fraction | None, Fraction, int, int, bool]:
        """(header lines done, bar length in L units, used in this bar, full bars done, last token, whether a pickup
        bar was closed). A short first bar is a pickup: it does not count as one of the bars asked for."""
        vocab = self.tokenizer.vocab
        lines, meter, unit = 0, Fraction(4, 4), Fraction(1, 8)
        used, bars, pickup = Fraction(0), 0, False
        for token in tokens:
            if lines < 3:
                text = vocab[token]
                if text.startswith("M:"):
                    meter = _meter(text[2:])
                elif text.startswith("L:"):
                    unit = Fraction(text[2:].strip())
                if token == self.newline:
                    lines += 1
                continue
            if token in self.durations:
                used += self.durations[token]
            elif token in self.bars:
                if bars == 0 and not pickup and used < meter / unit:
                    pickup = True
                else:
                    bars += 1
                used = Fraction(0)
        return lines, meter / unit, used, bars, (tokens[-1] if tokens else self.newline), pickup

    def allowed(self, tokens: list[int], mode: str | None = None) -> list[int]:
        """The ids that may follow ``tokens``; ``mode`` ("major"/"minor") restricts the key field to keys of that mode."""
        lines, bar_length, used, bars, last, pickup = self._state(tokens)
        if lines < 3:
            if last != self.newline and tokens:
                return [self.newline]
            if lines == 2 and mode and self.keys[mode]:
                return self.keys[mode]
            return self.fields["MLK"[lines]]
        left = bar_length - used
        fits = [i for i, d in self.durations.items() if 0 < d <= left]
        closing = list(self.bars) if (left == 0 or (bars == 0 and not pickup and used > 0)) else []
        if not fits and not closing:  # nothing fits (e.g. a very long unit): close the bar anyway
            closing = list(self.bars)
        newline = [self.newline] if last in self.bars else []
        return fits + closing + newline

    def bar_count(self, tokens: list[int]) -> int:
        return self._state(tokens)[3]


def _meter(text: str) -> Fraction:
    text = text.strip()
    if text == "C":
        return Fraction(4, 4)
    if text == "C|":
        return Fraction(2, 2)
    return Fraction(text)


def _duration(text: str) -> Fraction:
    """An ABC duration suffix in units of L: "" 1, "2" 2, "/2" or "/" 1/2, "//" 1/4, "3/2" 3/2."""
    if not text:
        return Fraction(1)
    if "/" not in text:
        return Fraction(int(text))
    numerator, _, rest = text.partition("/")
    slashes = 1 + rest.count("/")
    denominator = rest.replace("/", "")
    value = Fraction(int(numerator) if numerator else 1, int(denominator) if denominator else 2**slashes)
    return value


def _field_ok(name: str, token: str) -> bool:
    value = token[2:].strip()
    if name == "K":
        return parse_key_field(value) is not None
    if name == "M":
        return bool(re.fullmatch(r"\d+/\d+|C\|?", value))
    return bool(re.fullmatch(r"1/\d+", value))


class EmotionPipeline:
    """A feeling -> melodies (ABC, LeadSheet, template). Inference only; one ``__call__``."""

    def __init__(self, model: AbcLanguageModel, tokenizer: AbcTokenizer, select: bool = True):
        self.model = model.eval()
        # Draw again when a tune misses the asked mode or repeats a bar too often (see fits); False: the first
        # readable draw, to measure the model alone.
        self.select = select
        self.judge: FeatureJudge | None = None  # set by from_pretrained when the checkpoint has one
        self.tokenizer = tokenizer
        self.grammar = TokenGrammar(tokenizer)
        missing = [q for q in QUADRANTS if f"A:{q}" not in tokenizer.index]
        if missing:
            raise ValueError(f"the ABC model has no prompt token for {', '.join(missing)}")

    @classmethod
    def from_pretrained(
        cls, path_or_name: str | Path = DEFAULT_CHECKPOINT, device: str | None = None, select: bool = True
    ) -> EmotionPipeline:
        """Load a checkpoint folder, or "debug": a tiny untrained model over a small vocabulary (``select``: see ``fits``)."""
        resolved = resolve_device(device)
        if str(path_or_name) == "debug":
            torch.manual_seed(0)
            tokenizer = AbcTokenizer.build(_DEBUG_TEXTS, min_count=1)
            return cls(AbcLanguageModel(AbcModelConfig.debug(len(tokenizer))).to(resolved), tokenizer, select)
        model, tokenizer, meta = load_abc_model(path_or_name, resolved)
        pipe = cls(model, tokenizer, select)
        if "judge" in meta:  # the feature judge trained with the model: it gives each tune's control report a verdict
            pipe.judge = FeatureJudge.from_dict(meta["judge"])
        return pipe

    @staticmethod
    def point(
        quadrant: str | None = None, valence: float | None = None, arousal: float | None = None
    ) -> tuple[float, float]:
        """(valence, arousal) from a quadrant name or two numbers in -1..1 (checked)."""
        if quadrant not in (None, ""):
            q = str(quadrant).strip().upper()
            if q not in QUADRANTS:
                raise EmotionInputError(
                    f"Unknown quadrant '{quadrant}': choose one of Q1 (happy), Q2 (tense), Q3 (sad), Q4 (calm)"
                )
            return CORNERS[q]  # a preset is the corner: EMusicGen's template exactly
        if valence is None or arousal is None:
            raise EmotionInputError("Give a quadrant (Q1..Q4) or both valence and arousal (each -1..1)")
        check_number("Valence", valence, -1, 1, error=EmotionInputError)
        check_number("Arousal", arousal, -1, 1, error=EmotionInputError)
        return float(valence), float(arousal)

    @torch.no_grad()
    def __call__(
        self,
        quadrant: str | None = None,
        valence: float | None = None,
        arousal: float | None = None,
        num_bars: int = 16,
        seed: int = 0,
        num_samples: int = 1,
    ) -> EmotionOutput:
        """``num_samples`` melodies of ``num_bars`` bars for a quadrant or a (valence, arousal) point; variation i
        uses seed + i. A tune music21 cannot read, in the wrong mode or stuck on one bar is drawn again (up to
        MAX_ATTEMPTS draws; see ``_one``); when none is readable an error names why."""
        v, a = self.point(quadrant, valence, arousal)
        check_number("Bars", num_bars, MIN_BARS, MAX_BARS, integer=True, error=EmotionInputError)
        check_number("Seed", seed, 0, 2**31 - 1, integer=True, error=EmotionInputError)
        check_number("Variations", num_samples, 1, MAX_SAMPLES, integer=True, error=EmotionInputError)
        weights = prompt_weights(v, a)
        template = template_at(v, a)
        tunes = [self._one(weights, template, int(num_bars), int(seed) + i) for i in range(int(num_samples))]
        return EmotionOutput(tunes, [int(seed) + i for i in range(int(num_samples))])

    def _one(self, weights: dict[str, float], template: EmotionTemplate, bars: int, seed: int) -> EmotionTune:
        """One tune: draws until music21 reads it and (with ``self.select``) it passes :meth:`fits`; after
        MAX_ATTEMPTS draws the first readable one is kept (a tune that misses the check beats no tune)."""
        errors, fallback = [], None
        for attempt in range(MAX_ATTEMPTS):
            generator = torch.Generator().manual_seed(seed + 1_000_003 * attempt)
            raw = self.sample_abc(weights, bars, generator, prompt_mode(weights))
            try:
                tune = self.apply_template(raw, template, generator, weights, seed, attempt + 1)
            except CadenzaInputError as err:  # unreadable, or no notes: draw again
                errors.append(str(err))
                continue
            if not self.select or self.fits(raw, prompt_mode(weights)):
                return tune
            fallback = fallback or tune
        if fallback is not None:
            return fallback
        raise EmotionInputError(f"The model wrote no readable tune in {MAX_ATTEMPTS} tries (seed {seed}): {errors[-1]}")

    @staticmethod
    def fits(raw: str, mode: str | None) -> bool:
        """Whether the model's own tune carries the asked valence and is not stuck: music21's key analysis of its
        notes gives ``mode`` (any mode when None) and no bar sounds more than MAX_BAR_REPEATS times in a row."""
        if longest_bar_repeat(raw) > MAX_BAR_REPEATS:
            return False
        return mode is None or tune_mode(raw) == mode

    def sample_abc(
        self, weights: dict[str, float], bars: int, generator: torch.Generator, mode: str | None = None
    ) -> str:
        """The model's own tune (before the template) as ABC text, for the prompt quadrant(s) ``weights``, in a key
        of ``mode`` ("major"/"minor"; None: the model's choice)."""
        prompts = [self.tokenizer.encode(f"A:{q}\nB:{bars}\n") for q in weights]
        grammar = self.grammar
        budget = self.model.config.context - max(len(p) for p in prompts) - 2
        tokens = self.model.generate(
            prompts,
            list(weights.values()),
            budget,
            generator,
            **SAMPLING,
            allowed=lambda out: grammar.allowed(out, mode),
            stop=lambda out: grammar.bar_count(out) >= bars,
        )
        text = self.tokenizer.decode(tokens)
        lines = text.split("\n")
        header, body = lines[:3], "\n".join(lines[3:]).rstrip()
        if len(header) < 3:
            raise EmotionInputError("the model stopped inside the header")
        if not body.endswith(("|", "|]", "||", ":|")):
            body += " |"
        body = body[:-1] + "|]" if body.endswith("|") and not body.endswith(("||", ":|", "|]")) else body
        return "X:1\n" + "\n".join(header) + "\n" + body + "\n"

    def apply_template(
        self,
        raw: str,
        template: EmotionTemplate,
        generator: torch.Generator,
        weights: dict[str, float],
        seed: int,
        attempts: int = 1,
    ) -> EmotionTune:
        """The template on a raw tune: parallel mode, register shift, tempo (Q:), loudness and articulation."""
        read_abc_text(raw)  # raises if music21 cannot read the model's own tune
        text = set_mode(raw, template.mode) if template.mode else raw
        if template.register_shift:
            text = transpose_abc(text, template.register_shift)
        tempo = template.tempo(generator)
        name = " + ".join(f"{QUADRANT_NAMES[q]} {w:.0%}" if w < 1 else QUADRANT_NAMES[q] for q, w in weights.items())
        text = text.replace(
            "X:1\n",
            f"X:1\nT:Cadenza emotion: {name} (valence {template.valence:+.2f}, "
            f"arousal {template.arousal:+.2f})\nQ:1/4={tempo}\n",
            1,
        )
        sheet = read_abc_text(text)
        sheet.melody.tempo_bpm = float(tempo)
        sheet.melody.notes = template.express(sheet.melody.notes)
        sheet.title = f"{name.capitalize()} · seed {seed}"
        return EmotionTune(raw, text, sheet, template, tempo, dict(weights), seed, attempts)


def set_mode(abc: str, mode: str) -> str:
    """The tune with every K: field in ``mode`` ("major" or "minor") on the same tonic (EMusicGen's parallel-mode
    rewrite: notes without accidentals follow the new key signature)."""

    def rewrite(match: re.Match) -> str:
        parsed = parse_key_field(match.group(1))
        if parsed is None:
            return match.group(0)
        tonic = parsed[0]
        return f"K:{tonic}{'m' if mode == 'minor' else ''}"

    return re.sub(r"^K:([^\n]*)$", rewrite, abc, flags=re.M)


def longest_bar_repeat(abc: str) -> int:
    """The most times one bar is played in a row in an ABC tune's body (1: no bar repeats its neighbour)."""
    body = " ".join(line for line in abc.split("\n") if line and not re.match(r"^[A-Za-z]:", line))
    bars = [bar.strip(" :[]") for bar in re.split(r"\|+|:\|", body)]
    bars = [bar for bar in bars if bar]
    best = run = 1
    for before, after in zip(bars, bars[1:]):
        run = run + 1 if before == after else 1
        best = max(best, run)
    return best if bars else 0


def tune_mode(abc: str) -> str | None:
    """ "major" / "minor" of music21's key analysis of an ABC tune (None when it cannot be read)."""
    from music21 import converter

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return str(converter.parse(abc, format="abc").analyze("key").mode)
    except Exception:  # music21 raises many kinds for broken ABC
        return None


# Texts for the "debug" vocabulary: every kind of token the grammar needs, nothing trained.
_DEBUG_TEXTS = [
    f"A:{q}\nB:{b}\nM:{m}\nL:1/8\nK:{k}\nGAB c2d|e2d cBA|G4 z2:|\n|:(3cde f>g a2|]\n"
    for q in QUADRANTS
    for b in range(1, 65)
    for m, k in (("6/8", "G"), ("4/4", "Am"), ("3/4", "D"), ("2/4", "Em"))
]
