"""Emotion: a feeling (a Russell quadrant, or any point of the valence-arousal plane) -> melodies in ABC.

EMusicGen's recipe (arXiv 2309.13259): a language model over ABC text prompted with a quadrant
(Q1 happy, Q2 tense, Q3 sad, Q4 calm) writes a tune; a feature template then sets what the
listener hears most: tempo, mode, register and loudness.

* **The prompt.** ``A:<quadrant>`` and ``B:<bars>``; the model writes the meter, unit, key and
  body. Sampling is EMusicGen's (temperature 1.2, top-k 8, top-p 0.8: :class:`EmotionGenerationConfig`,
  the checkpoint's ``generation.json``) inside a small grammar
  (:class:`TokenGrammar`): header fields in order (M, L, K), then notes and rests that fit the
  bar, bar lines only where a bar is full, so every tune is readable ABC with whole bars; it
  stops after the bars asked for. Keys have at most four sharps or flats.
* **Steering toward the asked feeling** (the model is not retrained; each setting in ``generation.json``, measured
  side by side in the model card): *guidance* mixes the asked quadrant's next-token log-probabilities with those of
  the quadrant across both axes (``guidance_against="opposite"``; "all": the four quadrants), so
  log p(x | asked) + g (log p(x | asked) - log p(x | asked or opposite)): tokens that tell the asked feeling apart
  gain, tokens both like keep their odds (classifier-free guidance with the model's own prompts as the
  unconditional); *keep_mode_third*: the grammar never writes the other mode's third (A natural in F minor: the
  model, made to write a key of the asked mode, sometimes wrote the other mode throughout in accidentals);
  *home_emphasis*: notes on the key's tonic and fifth gain that much log-probability, so the key analysis hears the
  written key rather than its relative major or minor (measured and not shipped: sad tunes grew static and were heard
  in major more often; see the model card's experiments).
* **Draw and check.** A tune whose notes music21's key analysis does not hear in the asked mode
  (minor for sad and tense, major for happy and calm), or that plays one bar more than three
  times in a row, is drawn again (up to ``max_attempts``; then the first readable draw is kept): a
  safety net behind the steering.
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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from engine.io.abc import parse_abc_score, read_abc_text
from engine.io.abc_spelling import respell_against_key
from engine.io.abc_text import transpose_abc
from engine.models.abc_lm import AbcLanguageModel, AbcModelConfig, AbcTokenizer, GenerationJob
from engine.models.device import resolve_device
from engine.models.feature_judge import FeatureJudge, TuneHearing, hear_tune, tune_mode
from engine.models.registry import load_abc_model
from engine.music import LeadSheet
from engine.music.constants import QUADRANTS
from engine.music.errors import CadenzaInputError
from engine.music.limits import EMOTION_BARS, EMOTION_VARIATIONS, SEED, TEMPERATURE, check_number
from engine.paths import default_checkpoint
from engine.pipelines.base import PipelineOutput, seeded_generator
from engine.pipelines.emotion_grammar import TokenGrammar
from engine.pipelines.emotion_settings import OPPOSITE, EmotionGenerationConfig
from engine.pipelines.emotion_template import (
    CORNERS,
    QUADRANT_NAMES,
    EmotionTemplate,
    prompt_mode,
    prompt_weights,
    set_mode,
    template_at,
)


class EmotionInputError(CadenzaInputError):
    """A feeling, length or number the emotion pipeline cannot use."""


@dataclass(frozen=True)
class EmotionRequest:
    """The arguments of one :class:`EmotionPipeline` call, so several can run as one batch (``run_many``)."""

    quadrant: str | None = None
    valence: float | None = None
    arousal: float | None = None
    num_bars: int = 16
    seed: int = 0
    num_samples: int = 1
    temperature: float | None = None
    generation: EmotionGenerationConfig | None = None


@dataclass
class EmotionTune:
    """One melody: the model's ABC, the final ABC (template applied), the LeadSheet heard, and how it was made;
    ``heard_raw`` and ``heard``: the key analysis and the judge's features of the model's ABC and of the final ABC
    (None when not analysed), worked out from the parses that read the tune."""

    abc_raw: str
    abc: str
    sheet: LeadSheet
    template: EmotionTemplate
    tempo_bpm: int
    prompt: dict[str, float]
    seed: int
    attempts: int = 1
    heard_raw: TuneHearing | None = None
    heard: TuneHearing | None = None


@dataclass
class EmotionOutput(PipelineOutput[EmotionTune]):
    """``samples``: one tune per variation, variation i drawn with ``seeds[i]``."""


@dataclass
class _Drawing:
    """One tune being drawn and checked (EmotionPipeline.run_many): its request, feeling, seed, attempts so far."""

    request: int
    weights: dict[str, float]
    template: EmotionTemplate
    bars: int
    seed: int
    settings: EmotionGenerationConfig
    attempt: int = 0
    kept: EmotionTune | None = None  # the draw that passed the check
    fallback: EmotionTune | None = None  # the first readable draw
    errors: list[str] = field(default_factory=list)

    @property
    def mode(self) -> str | None:
        return prompt_mode(self.weights)


class EmotionPipeline:
    """A feeling -> melodies (ABC, LeadSheet, template). Inference only; one ``__call__``."""

    def __init__(
        self,
        model: AbcLanguageModel,
        tokenizer: AbcTokenizer,
        select: bool = True,
        generation: EmotionGenerationConfig | None = None,
    ):
        self.model = model.eval()
        self.generation = generation or EmotionGenerationConfig()
        # Draw again when a tune misses the asked mode or repeats a bar too often (see fits); False: the first
        # readable draw, to measure the model alone.
        self.select = select
        self.judge: FeatureJudge | None = None  # set by from_pretrained when the checkpoint has one
        self.tokenizer = tokenizer
        self._grammars: dict[tuple[int, bool, bool], TokenGrammar] = {}
        missing = [q for q in QUADRANTS if f"A:{q}" not in tokenizer.index]
        if missing:
            raise ValueError(f"the ABC model has no prompt token for {', '.join(missing)}")

    @classmethod
    def from_pretrained(
        cls, path_or_name: str | Path | None = None, device: str | None = None, select: bool = True
    ) -> EmotionPipeline:
        """Load a checkpoint folder (default: the shipped one) with its ``generation.json``, or "debug": a tiny
        untrained model over a small vocabulary (``select``: see ``fits``)."""
        resolved = resolve_device(device)
        path = default_checkpoint("abc_emotion") if path_or_name is None else path_or_name
        if str(path) == "debug":
            torch.manual_seed(0)
            tokenizer = AbcTokenizer.build(_DEBUG_TEXTS, min_count=1)
            return cls(AbcLanguageModel(AbcModelConfig.debug(len(tokenizer))).to(resolved), tokenizer, select)
        model, tokenizer, meta = load_abc_model(path, resolved)
        pipe = cls(model, tokenizer, select, EmotionGenerationConfig.load(path))
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

    def __call__(
        self,
        quadrant: str | None = None,
        valence: float | None = None,
        arousal: float | None = None,
        num_bars: int = 16,
        seed: int = 0,
        num_samples: int = 1,
        temperature: float | None = None,
        generation: EmotionGenerationConfig | None = None,
    ) -> EmotionOutput:
        """``num_samples`` melodies of ``num_bars`` bars for a quadrant or a (valence, arousal) point; variation i
        uses seed + i. A tune music21 cannot read, in the wrong mode or stuck on one bar is drawn again (up to
        ``max_attempts`` draws; see :meth:`run_many`); when none is readable an error names why. ``temperature``
        (None: the generation config's) and ``generation`` override this pipeline's sampling settings."""
        request = EmotionRequest(quadrant, valence, arousal, num_bars, seed, num_samples, temperature, generation)
        result = self.run_many([request])[0]
        if isinstance(result, CadenzaInputError):
            raise result
        return result

    @torch.no_grad()
    def run_many(self, requests: Sequence[EmotionRequest]) -> list[EmotionOutput | CadenzaInputError]:
        """Several calls (and each call's variations) drawn together: in each round, every tune still to find is
        drawn in one batch (AbcLanguageModel.generate_many), its attempt's own generator (seed + 1,000,003 x attempt)
        giving it exactly what it would get alone. A tune is kept when music21 reads it and (with ``self.select``)
        it passes :meth:`fits`; after ``max_attempts`` draws the first readable one is kept (a tune that misses the
        check beats no tune). A request with bad input, or whose tune is never readable, gets its error in place."""
        outputs: list[EmotionOutput | CadenzaInputError | None] = [None] * len(requests)
        tunes: list[_Drawing] = []
        for number, request in enumerate(requests):
            try:
                tunes += self._drawings(number, request)
            except CadenzaInputError as err:
                outputs[number] = err
        while todo := [t for t in tunes if t.kept is None and t.attempt < t.settings.max_attempts]:
            draws = [(t.weights, t.bars, self._attempt_generator(t), t.mode, t.settings) for t in todo]
            for tune, draw, raw in zip(todo, draws, self.sample_abc_many(draws)):
                tune.attempt += 1
                try:
                    if isinstance(raw, CadenzaInputError):
                        raise raw
                    made = self.apply_template(raw, tune.template, draw[2], tune.weights, tune.seed, tune.attempt)
                except CadenzaInputError as err:  # unreadable, or no notes: draw again
                    tune.errors.append(str(err))
                    continue
                if not self.select or self.fits(raw, tune.mode, tune.settings.max_bar_repeats, made.heard_raw):
                    tune.kept = made
                tune.fallback = tune.fallback or made
        for number in range(len(requests)):
            mine = [t for t in tunes if t.request == number]
            if outputs[number] is not None:
                continue
            lost = next((t for t in mine if t.fallback is None), None)
            if lost is not None:
                outputs[number] = EmotionInputError(
                    f"The model wrote no readable tune in {lost.settings.max_attempts} tries (seed {lost.seed}): "
                    f"{lost.errors[-1]}"
                )
                continue
            kept = [t.kept or t.fallback for t in mine]
            outputs[number] = EmotionOutput([k for k in kept if k is not None], [t.seed for t in mine])
        return [out for out in outputs if out is not None]

    def _attempt_generator(self, tune: _Drawing) -> torch.Generator:
        """The generator of a tune's next attempt: its seed, moved by 1,000,003 per attempt."""
        return seeded_generator(tune.seed + 1_000_003 * tune.attempt, self.model.device)

    def _drawings(self, number: int, request: EmotionRequest) -> list[_Drawing]:
        """A request checked (raises EmotionInputError) as one drawing per variation."""
        settings = (request.generation or self.generation).override(temperature=request.temperature)
        v, a = self.point(request.quadrant, request.valence, request.arousal)
        EMOTION_BARS.check("Bars", request.num_bars, EmotionInputError)
        SEED.check("Seed", request.seed, EmotionInputError)
        EMOTION_VARIATIONS.check("Variations", request.num_samples, EmotionInputError)
        TEMPERATURE.check("Temperature", settings.temperature, EmotionInputError)
        weights, template = prompt_weights(v, a), template_at(v, a)
        return [
            _Drawing(number, weights, template, int(request.num_bars), int(request.seed) + i, settings)
            for i in range(int(request.num_samples))
        ]

    def grammar(self, settings: EmotionGenerationConfig | None = None) -> TokenGrammar:
        """The token grammar for ``settings`` (None: this pipeline's): keys of at most ``max_key_accidentals`` sharps
        or flats, ending on the tonic or not, keeping the mode's third or not."""
        settings = settings or self.generation
        rules = (settings.max_key_accidentals, settings.end_on_tonic, settings.keep_mode_third)
        if rules not in self._grammars:
            self._grammars[rules] = TokenGrammar(self.tokenizer, *rules)
        return self._grammars[rules]

    def fits(
        self, raw: str, mode: str | None, max_bar_repeats: int | None = None, heard: TuneHearing | None = None
    ) -> bool:
        """Whether the model's own tune carries the asked valence and is not stuck: music21's key analysis of its
        notes gives ``mode`` (any mode when None) and no bar sounds more than ``max_bar_repeats`` (None: the
        generation config's) times in a row. ``heard``: the raw tune's analysis when the caller has it."""
        limit = self.generation.max_bar_repeats if max_bar_repeats is None else max_bar_repeats
        if longest_bar_repeat(raw) > limit:
            return False
        return mode is None or (heard.mode if heard is not None else tune_mode(raw)) == mode

    def sample_abc(
        self,
        weights: dict[str, float],
        bars: int,
        generator: torch.Generator,
        mode: str | None = None,
        settings: EmotionGenerationConfig | None = None,
    ) -> str:
        """The model's own tune (before the template) as ABC text, for the prompt quadrant(s) ``weights``, in a key
        of ``mode`` ("major"/"minor"; None: the model's choice)."""
        text = self.sample_abc_many([(weights, bars, generator, mode, settings)])[0]
        if isinstance(text, CadenzaInputError):
            raise text
        return text

    def sample_abc_many(self, draws: Sequence[tuple]) -> list[str | CadenzaInputError]:
        """:meth:`sample_abc` for several draws, each ``(weights, bars, generator, mode, settings)``, decoded as one
        batch (AbcLanguageModel.generate_many), each what it would be alone; a draw that is no tune (the model
        stopped inside the header) gets its error in place."""
        jobs, grammars = [], []
        for weights, bars, generator, mode, settings in draws:
            job, grammar = self._abc_job(weights, bars, generator, mode, settings or self.generation)
            jobs.append(job)
            grammars.append(grammar)
        texts: list[str | CadenzaInputError] = []
        for tokens, grammar in zip(self.model.generate_many(jobs), grammars):
            try:
                texts.append(self._abc_text(tokens, grammar))
            except CadenzaInputError as err:
                texts.append(err)
        return texts

    def _abc_job(
        self,
        weights: dict[str, float],
        bars: int,
        generator: torch.Generator,
        mode: str | None,
        settings: EmotionGenerationConfig,
    ) -> tuple[GenerationJob, TokenGrammar]:
        """One draw as the model's job: the prompts (with guidance every asked quadrant and those it is steered away
        from), the grammar's restrictions and stop."""
        quadrants = list(weights)
        if settings.guidance > 0:  # the others make the unconditional
            against = QUADRANTS if settings.guidance_against == "all" else [OPPOSITE[q] for q in weights]
            quadrants += [q for q in against if q not in quadrants]
        prompts = [self.tokenizer.encode(f"A:{q}\nB:{bars}\n") for q in quadrants]
        grammar = self.grammar(settings)
        job = GenerationJob(
            prompts,
            [weights.get(q, 0.0) for q in quadrants],
            self.model.config.context - max(len(p) for p in prompts) - 2,
            generator,
            settings.temperature,
            settings.top_k,
            settings.top_p,
            allowed=lambda out: grammar.allowed(out, mode, bars),
            stop=lambda out: grammar.bar_count(out) >= bars,
            guidance=settings.guidance,
            boost=(lambda out: (grammar.home_notes(out), settings.home_emphasis)) if settings.home_emphasis else None,
        )
        return job, grammar

    def _abc_text(self, tokens: list[int], grammar: TokenGrammar) -> str:
        """The drawn tokens as a whole ABC tune: a repeat the context cut open closed, a final bar line."""
        text = self.tokenizer.decode(tokens)
        if grammar.open_repeat(tokens):  # the context ran out inside a repeat: it closes where the tune stops
            text = text.rstrip().rstrip("|").rstrip() + " :|"
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
        """The template on a raw tune: parallel mode, register shift, tempo (Q:), loudness and articulation; accidentals
        against the key's direction respelled (engine.io.abc_spelling). Each text
        is parsed once (music21 is the slow part of a draw): the parse that reads it is the one analysed."""
        raw_score = parse_abc_score(raw)
        read_abc_text(raw, as_played=False, score=raw_score)  # raises if music21 cannot read the model's own tune
        text = set_mode(raw, template.mode) if template.mode else raw
        if template.register_shift:
            text = transpose_abc(text, template.register_shift)
        text = respell_against_key(text)  # `^G` rather than `_A` in C# minor: the same notes, easier to read
        tempo = template.tempo(generator)
        name = " + ".join(f"{QUADRANT_NAMES[q]} {w:.0%}" if w < 1 else QUADRANT_NAMES[q] for q, w in weights.items())
        text = text.replace(
            "X:1\n",
            f"X:1\nT:Cadenza emotion: {name} (valence {template.valence:+.2f}, "
            f"arousal {template.arousal:+.2f})\nQ:1/4={tempo}\n",
            1,
        )
        score = parse_abc_score(text)
        sheet = read_abc_text(text, score=score)
        sheet.melody.tempo_bpm = float(tempo)
        sheet.melody.notes = template.express(sheet.melody.notes)
        sheet.title = f"{name.capitalize()} · seed {seed}"
        heard_raw, heard = hear_tune(raw, raw_score), hear_tune(text, score)
        return EmotionTune(raw, text, sheet, template, tempo, dict(weights), seed, attempts, heard_raw, heard)


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


# Texts for the "debug" vocabulary: every kind of token the grammar needs, nothing trained.
_DEBUG_TEXTS = [
    f"A:{q}\nB:{b}\nM:{m}\nL:1/8\nK:{k}\nGAB c2d|e2d cBA|G4 z2:|\n|:(3cde f>g a2|]\n"
    for q in QUADRANTS
    for b in range(1, 65)
    for m, k in (("6/8", "G"), ("4/4", "Am"), ("3/4", "D"), ("2/4", "Em"))
]
