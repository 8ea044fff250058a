"""The studio's only door into the engine: one service per tab, behind the :class:`Studio` facade.

Each tab is a pair you can read alone: ``app/<tab>_tab.py`` (layout and wiring,
never importing the engine) and its service ``app/services/<tab>.py``:

* :mod:`app.services.compose`: :class:`ComposeService` turns a rhythm and a chord
  progression into :class:`ComposeResult` objects (LeadSheet, audio, MIDI file);
* :mod:`app.services.explore`: :class:`ExploreService` (``studio.explore``) serves
  the latent space between two melodies: sources A and B, interpolation, the 2-D
  pitch x rhythm map, morphs and analogies;
* :mod:`app.services.song`: :class:`SongService` (``studio.song``) grows a melody
  into a whole tune of 2-bar blocks: new songs, loaded tunes, continuations, infills;
* :mod:`app.services.emotion`: :class:`EmotionService` (``studio.emotion``) writes tunes
  in ABC for a feeling (a quadrant or a valence-arousal point) with score, audio and
  files; its point helpers also serve Compose's feeling pad;
* :mod:`app.services.common`: what they share: the :class:`Shared` resources
  (synthesizer, model lock, per-session file folders), number and chord checks,
  instrument choices, upload checks and tracks, the example tunes.

:class:`Studio` (constructed once by ``app.py``; no module-level model globals)
holds the loaded compose pipeline, the warm synthesizer and the session folders,
and builds every tab's service in ``__init__``: a new tab's service is built
there beside the others. This package re-exports the names the tabs and tests
import, so ``from app.services import X`` keeps working.

Bad user input raises :class:`engine.music.errors.CadenzaInputError` (re-exported here
as :data:`InputError`) with a message that can be shown as-is.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from app.library import Library
from app.services.arrange import ArrangeService
from app.services.common import (
    DEFAULT_ACCOMPANIMENT,
    DEFAULT_INSTRUMENT,
    DEFAULT_MAX_BATCH,
    KEYS,
    MAX_SEED,
    MAX_UPLOAD_BYTES,
    NO_ACCOMPANIMENT,
    ChordCheck,
    InputError,
    Shared,
    TrackChoices,
    accompaniment_choices,
    check_chords,
    melody_instruments,
)
from app.services.compose import (
    MAX_BARS,
    MAX_TEMPERATURE,
    MAX_TEMPO,
    MAX_VARIATIONS,
    MIN_BARS,
    MIN_TEMPERATURE,
    MIN_TEMPO,
    ComposeResult,
    ComposeService,
    check_num_bars,
)
from app.services.emotion import (
    EMOTION_MAX_BARS,
    EMOTION_MAX_VARIATIONS,
    EMOTION_MIN_BARS,
    PRESETS,
    EmotionResult,
    EmotionService,
    FeelingSummary,
    check_feeling,
    describe_point,
    feeling_line,
    parse_point,
)
from app.services.engraver import Engraver
from app.services.explore import (
    ANALOGY_CHORD_MODES,
    ANALOGY_OWN,
    ANALOGY_RHYTHM,
    CELL_TAIL_SECONDS,
    CHORD_MODES,
    CHORDS_FROM_A,
    CHORDS_FROM_B,
    CHORDS_TYPED,
    DEFAULT_EXAMPLES,
    EXPLORE_MAX_BARS,
    EXPLORE_MAX_GRID,
    EXPLORE_MAX_STEPS,
    EXPLORE_MIN_BARS,
    EXPLORE_MIN_GRID,
    EXPLORE_MIN_STEPS,
    PRERENDER_AUDIO_SECONDS,
    SOURCE_EXAMPLE,
    SOURCE_KINDS,
    SOURCE_LAST,
    SOURCE_UPLOAD,
    ExploreClip,
    ExploreMap,
    ExploreService,
    ExploreSource,
    MapCell,
)
from app.services.keeper import Keeper
from app.services.library import LibraryService
from app.services.song import (
    MAX_ADD_BARS,
    MAX_HISTORY,
    MIN_ADD_BARS,
    RHYTHM_GRID,
    RHYTHM_KEEP,
    RHYTHM_MODEL,
    RHYTHM_MODES,
    SONG_NEW,
    SONG_SOURCES,
    SongBlock,
    SongResult,
    SongService,
    SongVersion,
)
from app.services.style import STYLE_MODELS, StyleResult, StyleService
from engine.music import LeadSheet
from engine.paths import default_checkpoint
from engine.pipelines.arrange import ArrangeGenerationConfig, ArrangePipeline
from engine.pipelines.compose import ComposePipeline
from engine.pipelines.emotion import EmotionPipeline
from engine.pipelines.explore import ExplorePipeline
from engine.pipelines.harmonize import HarmonizePipeline
from engine.pipelines.style import Judge, StylePipeline
from engine.pipelines.style_gan import StyleGANPipeline
from engine.pipelines.voice_infill import VoiceInfillPipeline
from engine.render.audio import get_synthesizer
from engine.render.encode import DEFAULT_PLAYER_FORMAT
from engine.render.pianoroll import piano_roll_figure

__all__ = [
    # the facade
    "Studio",
    # common
    "DEFAULT_ACCOMPANIMENT",
    "DEFAULT_INSTRUMENT",
    "KEYS",
    "MAX_SEED",
    "MAX_UPLOAD_BYTES",
    "NO_ACCOMPANIMENT",
    "ChordCheck",
    "InputError",
    "Shared",
    "accompaniment_choices",
    "check_chords",
    "melody_instruments",
    # compose
    "MAX_BARS",
    "MAX_TEMPERATURE",
    "MAX_TEMPO",
    "MAX_VARIATIONS",
    "MIN_BARS",
    "MIN_TEMPERATURE",
    "MIN_TEMPO",
    "ComposeResult",
    "ComposeService",
    "check_num_bars",
    # explore
    "ANALOGY_CHORD_MODES",
    "ANALOGY_OWN",
    "ANALOGY_RHYTHM",
    "CELL_TAIL_SECONDS",
    "CHORD_MODES",
    "CHORDS_FROM_A",
    "CHORDS_FROM_B",
    "CHORDS_TYPED",
    "DEFAULT_EXAMPLES",
    "EXPLORE_MAX_BARS",
    "EXPLORE_MAX_GRID",
    "EXPLORE_MAX_STEPS",
    "EXPLORE_MIN_BARS",
    "EXPLORE_MIN_GRID",
    "EXPLORE_MIN_STEPS",
    "PRERENDER_AUDIO_SECONDS",
    "SOURCE_EXAMPLE",
    "SOURCE_KINDS",
    "SOURCE_LAST",
    "SOURCE_UPLOAD",
    "ExploreClip",
    "ExploreMap",
    "ExploreService",
    "ExploreSource",
    "MapCell",
    "TrackChoices",
    # song
    "MAX_ADD_BARS",
    "MAX_HISTORY",
    "MIN_ADD_BARS",
    "RHYTHM_GRID",
    "RHYTHM_KEEP",
    "RHYTHM_MODEL",
    "RHYTHM_MODES",
    "SONG_NEW",
    "SONG_SOURCES",
    "SongBlock",
    "SongResult",
    "SongService",
    "SongVersion",
    # emotion
    "EMOTION_MAX_BARS",
    "EMOTION_MAX_VARIATIONS",
    "EMOTION_MIN_BARS",
    "PRESETS",
    "EmotionResult",
    "EmotionService",
    "FeelingSummary",
    "check_feeling",
    "describe_point",
    "feeling_line",
    "parse_point",
    # style
    "STYLE_MODELS",
    "StyleResult",
    "StyleService",
]

log = logging.getLogger("cadenza.studio")


class Studio:
    """Engine services for the UI: one instance per app, shared by all sessions.

    ``pipeline`` is a ``ComposePipeline`` (anything with its call signature);
    ``synthesizer`` an ``engine.render.audio.Synthesizer`` or None (then results
    have no audio). ``explore_pipeline`` defaults to an ``ExplorePipeline`` around
    ``pipeline.model`` (shared weights); ``studio.explore`` serves the Explore tab.
    ``song_model`` defaults to ``pipeline.song_model`` (the same EC2-VAE with the latent
    sequence model; None without it); ``studio.song`` serves the Song tab.
    ``emotion_pipeline`` is an ``EmotionPipeline`` or None (then the Emotion tab
    says it is unavailable); ``studio.emotion`` serves the Emotion tab.
    ``style_pipeline`` (MusAE) and ``style_gan_pipeline`` (the style GAN) serve the
    Style tab (``studio.style``); either may be None (then the tab says it is unavailable).
    Generated files go to per-session folders under ``cache_dir``.
    """

    def __init__(
        self,
        pipeline: Any,
        synthesizer: Any | None = None,
        cache_dir: str | Path | None = None,
        explore_pipeline: Any | None = None,
        song_model: Any | None = None,
        emotion_pipeline: Any | None = None,
        player_audio: str = DEFAULT_PLAYER_FORMAT,
        style_pipeline: Any | None = None,
        style_gan_pipeline: Any | None = None,
        library: Library | None = None,
        checkpoints: dict[str, str | Path] | None = None,
        arrange_pipeline: Any | None = None,
        engrave_in_process: bool = False,
        max_batch: int = DEFAULT_MAX_BATCH,
    ):
        self.pipeline = pipeline
        # Synthesizer, model lock (the model is not assumed thread-safe), session folders, the players' audio
        # format ("opus", "mp3" or "wav") and the library every result is kept in: one set for all tabs.
        self.shared = Shared(
            synthesizer,
            cache_dir,
            player_audio,
            Keeper(library, checkpoints),
            Engraver(engrave_in_process),
            max_batch,
        )
        if explore_pipeline is None and getattr(pipeline, "model", None) is not None:
            # The same EC2-VAE serves both tabs: one copy of the weights in memory.
            explore_pipeline = ExplorePipeline(pipeline.model)

        # -- one service per tab (app/services/<tab>.py), all on the same shared resources.
        # A new tab's service is built here too and added to ``tab_services`` (warm_up goes through them).
        self.compose_service = ComposeService(pipeline, self.shared)  # reached through Studio.compose
        self.explore = ExploreService(explore_pipeline, self.shared)
        self.song = SongService(
            song_model if song_model is not None else getattr(pipeline, "song_model", None),
            self.shared,
            getattr(pipeline, "generation", None) if getattr(pipeline, "song_model", None) is not None else None,
        )
        self.emotion = EmotionService(emotion_pipeline, self.shared)
        self.style = StyleService(style_pipeline, self.shared, style_gan_pipeline)
        self.arrange = ArrangeService(arrange_pipeline, self.shared)
        self.library = LibraryService(self.shared)
        self.tab_services: dict[str, Any] = {
            "compose": self.compose_service,
            "explore": self.explore,
            "song": self.song,
            "emotion": self.emotion,
            "style": self.style,
            "arrange": self.arrange,
        }

    # -- construction ---------------------------------------------------------------

    @classmethod
    def load(
        cls,
        checkpoint: str | Path | None = None,
        device: str | None = None,
        cache_dir: str | Path | None = None,
        with_audio: bool = True,
        emotion_checkpoint: str | Path | None = None,
        player_audio: str = DEFAULT_PLAYER_FORMAT,
        style_checkpoint: str | Path | None = None,
        stylegan_checkpoint: str | Path | None = None,
        library: Library | None = None,
        harmonizer_checkpoint: str | Path | None = None,
        infill_checkpoint: str | Path | None = None,
        engrave_in_process: bool = False,
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> Studio:
        """Build the pipelines (``checkpoint`` may be "debug") and the warm synthesizer.

        The emotion model comes from ``emotion_checkpoint``, by default "debug" with a
        "debug" studio and else ``checkpoints/abc_emotion`` when that folder exists; when
        it is missing or fails to load the Emotion tab says it is unavailable (logged).
        The Style tab's MusAE comes from ``style_checkpoint`` and its GAN from
        ``stylegan_checkpoint`` (by default "debug" with a "debug" studio, else
        ``checkpoints/musae`` and ``checkpoints/stylegan``); each that is missing or
        fails to load is unavailable (logged) and the other keeps working. Arrange needs the GAN (its judge) and the
        chord suggester (``harmonizer_checkpoint``); its lower voices come from the voice infiller
        (``infill_checkpoint``), or from the GAN where the infiller is missing (logged).
        When no synthesizer can be started (FluidSynth or SoundFont missing) the
        studio still works, without audio, and logs why. Results are kept in ``library`` (None: nothing is kept),
        each with the fingerprints of the checkpoints that made it. ``engrave_in_process``: scores are written on a
        worker process (the served studio; see app.services.engraver), else on a thread. ``max_batch``: requests decoded
        together at most (1: one at a time; see app.services.compose).
        """
        if device in (None, "", "auto"):
            device = None
        pipeline = ComposePipeline.from_pretrained(checkpoint, device=device)
        emotion = load_emotion_pipeline(
            emotion_checkpoint
            if emotion_checkpoint is not None
            else ("debug" if str(checkpoint) == "debug" else default_checkpoint("abc_emotion")),
            device,
        )
        synthesizer = None
        if with_audio:
            try:
                synthesizer = get_synthesizer()
            except Exception as err:  # AudioBackendError / RuntimeError (no SoundFont)
                log.warning("Audio disabled: %s", err)
        debug = str(checkpoint) == "debug"
        style = load_style_pipeline(
            style_checkpoint if style_checkpoint is not None else ("debug" if debug else default_checkpoint("musae"))
        )
        # The same judge object for both generators when they agree on the styles: one copy in memory.
        style_gan = load_style_gan_pipeline(
            stylegan_checkpoint
            if stylegan_checkpoint is not None
            else ("debug" if debug else default_checkpoint("stylegan")),
            style,
        )
        harmonizer = (
            harmonizer_checkpoint
            if harmonizer_checkpoint is not None
            else ("debug" if debug else default_checkpoint("harmonizer"))
        )
        infiller = (
            infill_checkpoint
            if infill_checkpoint is not None
            else ("debug" if debug else default_checkpoint("voice_infill"))
        )
        arrange = load_arrange_pipeline(harmonizer, style_gan, infiller)
        folders = {
            "harmonizer": harmonizer,
            "voice_infill": infiller,
            "ec2vae": checkpoint if checkpoint is not None else default_checkpoint("ec2vae"),
            "latent": "debug" if debug else default_checkpoint("latent"),
            "abc_emotion": emotion_checkpoint
            if emotion_checkpoint is not None
            else ("debug" if debug else default_checkpoint("abc_emotion")),
            "musae": style_checkpoint
            if style_checkpoint is not None
            else ("debug" if debug else default_checkpoint("musae")),
            "stylegan": stylegan_checkpoint
            if stylegan_checkpoint is not None
            else ("debug" if debug else default_checkpoint("stylegan")),
            "style_judge": "debug" if debug else default_checkpoint("style_judge"),
        }
        return cls(
            pipeline,
            synthesizer,
            cache_dir=cache_dir,
            emotion_pipeline=emotion,
            player_audio=player_audio,
            style_pipeline=style,
            style_gan_pipeline=style_gan,
            library=library,
            checkpoints=folders,
            arrange_pipeline=arrange,
            engrave_in_process=engrave_in_process,
            max_batch=max_batch,
        )

    def warm_up(self) -> None:
        """Pay one-off costs (music21 import, first synth render) before the first user does.

        Each tab's service warms up in turn; a failure is logged and the studio still starts. The engraver's worker
        (if any) starts first, beside them.
        """
        self.shared.engraver.warm()
        for name, service in self.tab_services.items():
            try:
                service.warm_up()
            except Exception:  # noqa: BLE001 - warm-up is best effort
                log.exception("%s warm-up failed (the studio still starts)", name)

    def warm_up_in_background(self) -> threading.Thread:
        """:meth:`warm_up` on a daemon thread, so the page is served while it runs: a request that comes first waits
        for the model lock (held by the warm-up's generation) instead of failing, and is then as fast as any later
        one. Returns the thread (joined by tests and benchmarks)."""

        def run() -> None:
            started = time.perf_counter()
            self.warm_up()
            log.info("warm-up done in %.1f s", time.perf_counter() - started)

        thread = threading.Thread(target=run, name="cadenza-warm-up", daemon=True)
        thread.start()
        return thread

    # -- shared resources --------------------------------------------------------------

    @property
    def synthesizer(self) -> Any | None:
        """The warm synthesizer every tab renders with (None: no audio)."""
        return self.shared.synthesizer

    @synthesizer.setter
    def synthesizer(self, value: Any | None) -> None:
        self.shared.synthesizer = value

    @property
    def cache_dir(self) -> Path:
        """This run's folder of generated files (deleted with the studio or at exit)."""
        return self.shared.cache_dir

    @property
    def has_audio(self) -> bool:
        """Whether results come with audio (a synthesizer is running)."""
        return self.shared.synthesizer is not None

    def session_dir(self, session_id: str | None = None) -> Path:
        """The folder holding one browser session's generated files (created on demand)."""
        return self.shared.session_dir(session_id)

    def close_session(self, session_id: str | None) -> None:
        """Delete a session's cache files (called when the browser tab closes; its library pieces stay)."""
        self.shared.close_session(session_id)
        self.shared.keeper.forget(session_id)

    @property
    def keeper(self) -> Keeper:
        """Who owns each session, and the library every result is kept in."""
        return self.shared.keeper

    def session_of(self, request: Any) -> str | None:
        """The request's session id; with ``--auth`` its signed-in user owns the session's pieces."""
        session_id = getattr(request, "session_hash", None)
        self.shared.keeper.sign_in(session_id, getattr(request, "username", None))
        return session_id

    # -- choices ---------------------------------------------------------------------

    @staticmethod
    def keys() -> list[str]:
        """The keys a melody can be composed in."""
        return list(KEYS)

    @staticmethod
    def melody_instruments() -> list[str]:
        """Melody instrument names, in display order."""
        return melody_instruments()

    @staticmethod
    def accompaniment_choices() -> list[str]:
        """Accompaniment names, "None (melody only)" first."""
        return accompaniment_choices()

    @staticmethod
    def check_chords(text: str | None) -> ChordCheck:
        """Validate a progression text without composing; never raises."""
        return check_chords(text)

    @staticmethod
    def check_num_bars(num_bars: Any) -> int:
        """The number of bars to compose; raises :data:`InputError` outside MIN_BARS..MAX_BARS."""
        return check_num_bars(num_bars)

    @staticmethod
    def piano_roll(sheet: LeadSheet, title: str = "") -> Any:
        """The plotly piano roll of a lead sheet (chords marked)."""
        return piano_roll_figure(sheet, title=title)

    # -- compose ---------------------------------------------------------------------

    def compose(
        self,
        rhythm: str,
        chords: str,
        num_bars: int,
        key: str = "C",
        tempo: float = 120.0,
        instrument: str = DEFAULT_INSTRUMENT,
        accompaniment: str | None = DEFAULT_ACCOMPANIMENT,
        seed: int = 0,
        temperature: float = 0.8,
        variations: int = 1,
        session_id: str | None = None,
        emotion: Any = None,
    ) -> list[ComposeResult]:
        """Generate ``variations`` melodies for a rhythm pattern and chord progression.

        See :meth:`ComposeService.compose`: variation ``i`` (1-based) uses seed
        ``seed + i - 1``; ``emotion`` (a (valence, arousal) point or None) applies a
        feeling's register, loudness and articulation; raises :data:`InputError` for bad input.
        """
        return self.compose_service.compose(
            rhythm,
            chords,
            num_bars,
            key=key,
            tempo=tempo,
            instrument=instrument,
            accompaniment=accompaniment,
            seed=seed,
            temperature=temperature,
            variations=variations,
            session_id=session_id,
            emotion=emotion,
        )


def load_style_pipeline(checkpoint: str | Path) -> Any | None:
    """The style pipeline (MusAE in ``checkpoint`` and the shipped style judge; "debug": tiny untrained models over
    the seven styles), or None when missing or broken (logged: the Style tab says it is unavailable)."""
    if str(checkpoint) != "debug" and not Path(checkpoint).is_dir():
        log.warning("Style tab unavailable: no MusAE model at %s", checkpoint)
        return None
    try:
        return StylePipeline.from_pretrained(checkpoint)
    except Exception:  # noqa: BLE001 - a broken style model must not stop the other tabs
        log.exception("Style tab unavailable: the MusAE model at %s did not load", checkpoint)
        return None


def load_style_gan_pipeline(checkpoint: str | Path, style_pipeline: Any | None = None) -> Any | None:
    """The style GAN's pipeline (the generator in ``checkpoint`` and the shipped style judge; "debug": a tiny untrained
    generator over the seven styles), or None when missing or broken (logged: the Style tab says the GAN is
    unavailable, MusAE keeps working). MusAE's judge (``style_pipeline``'s), when it knows the same styles, is shared
    rather than loaded twice."""
    if str(checkpoint) != "debug" and not Path(checkpoint).is_dir():
        log.warning("Style GAN unavailable: no GAN model at %s", checkpoint)
        return None
    shared = None if style_pipeline is None else Judge(style_pipeline.judge, list(style_pipeline.styles))
    try:
        try:
            return StyleGANPipeline.from_pretrained(checkpoint, judge=shared)
        except ValueError:  # the judges' styles differ: the GAN's own judge
            if shared is None:
                raise
            return StyleGANPipeline.from_pretrained(checkpoint)
    except Exception:  # noqa: BLE001 - a broken GAN must not stop MusAE or the other tabs
        log.exception("Style GAN unavailable: the GAN model at %s did not load", checkpoint)
        return None


def load_arrange_pipeline(
    harmonizer: str | Path, style_gan: Any | None, infiller: str | Path | None = None
) -> Any | None:
    """Arrange's pipeline: the style GAN already loaded, the chord suggester in ``harmonizer`` and the voice infiller in
    ``infiller`` ("debug": tiny and untrained); None when the GAN or the suggester is missing or broken (logged: the
    Arrange tab says it is unavailable). Without a working infiller the GAN writes the lower voices (logged)."""
    if style_gan is None:
        log.warning("Arrange unavailable: it needs the style GAN")
        return None
    if str(harmonizer) != "debug" and not Path(harmonizer).is_dir():
        log.warning("Arrange unavailable: no chord suggester at %s", harmonizer)
        return None
    try:
        suggester = HarmonizePipeline.from_pretrained(harmonizer)
    except Exception:  # noqa: BLE001 - a broken suggester must not stop the other tabs
        log.exception("Arrange unavailable: the chord suggester at %s did not load", harmonizer)
        return None
    writer = None
    if infiller is not None and (str(infiller) == "debug" or Path(infiller).is_dir()):
        try:
            writer = VoiceInfillPipeline.from_pretrained(infiller, judge=Judge(style_gan.judge, style_gan.styles))
        except Exception:  # noqa: BLE001 - the GAN can still write
            log.exception(
                "Arrange's voice infiller at %s did not load: the style GAN writes the lower voices", infiller
            )
    else:
        log.warning("No voice infiller at %s: Arrange's lower voices come from the style GAN", infiller)
    # The debug studio's untrained models: fewer candidates and repairs (the tests' arrangements stay quick).
    generation = ArrangeGenerationConfig(candidates=2, repairs=1) if str(harmonizer) == "debug" else None
    return ArrangePipeline(style_gan, suggester, generation, infiller=writer)


def load_emotion_pipeline(checkpoint: str | Path, device: str | None = None) -> Any | None:
    """The emotion pipeline from ``checkpoint`` ("debug": the tiny untrained model), or None when the folder is
    missing or cannot be loaded (logged: the studio starts and the Emotion tab says it is unavailable)."""
    if str(checkpoint) != "debug" and not Path(checkpoint).is_dir():
        log.warning("Emotion tab unavailable: no ABC emotion model at %s", checkpoint)
        return None
    try:
        return EmotionPipeline.from_pretrained(checkpoint, device=device)
    except Exception:  # noqa: BLE001 - a broken emotion model must not stop the other tabs
        log.exception("Emotion tab unavailable: the ABC emotion model at %s did not load", checkpoint)
        return None
