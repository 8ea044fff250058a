"""The sampling grammar of the ABC emotion model: which tokens may come next, so every tune is readable ABC
with whole bars."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from fractions import Fraction

from engine.io.abc_text import (
    key_field_mode,
    note_pitch_class,
    parse_key_field,
    signature_accidentals,
    tonic_pitch_class,
)
from engine.models.abc_lm import AbcTokenizer

_NOTE_TOKEN = re.compile(r"^(?:\^\^|\^|__|_|=)?[A-Ga-gz][,']*(\d*/+\d*|\d+)?-? ?$")


_BAR_TOKEN = re.compile(r"^(?:\||\|\||\|:|:\||::) ?$")


BAR_KINDS = {"|": "plain", "||": "double", "|:": "open", ":|": "close", "::": "both"}


@dataclass
class BodyState:
    """Where a tune's body stands after some tokens: header lines done, bar length and what is used of the bar (in
    units of L), bars played (a bar inside a repeat counts twice), whether a pickup was closed, whether a repeat is
    open (``|:`` or ``::`` without its ``:|`` yet), the last bar's notes and the notes of the bar so far (as text)."""

    lines: int = 0
    bar_length: Fraction = Fraction(8)
    used: Fraction = Fraction(0)
    played: int = 0
    pickup: bool = False
    open_repeat: bool = False
    last_bar: tuple[str, ...] = ()
    this_bar: tuple[str, ...] = ()
    last: int = -1
    written: int = 0  # bars written (a pickup not counted)
    key: str = ""  # the K: field's value
    meter: Fraction = Fraction(4, 4)
    unit: Fraction = Fraction(1, 8)


class TokenGrammar:
    """Which token ids may come next, so that every tune is readable ABC, every bar full, every repeat paired and the
    tune as long as asked when played.

    Header: M:, L:, K: lines in that order. Body: notes and rests whose durations fit what is left of the bar (in
    units of L), a bar line only when the bar is full (the first bar may be a pickup of any length, and a tune may open
    with ``|:``), a line break only after a bar line. Repeats: ``:|`` and ``::`` only inside a repeat, ``|:`` only
    outside one, and a repeat opened only where at least one bar of it (played twice) still fits the bars asked; a bar
    played twice counts twice, so the tune stops after the asked number of bars *as played* with every repeat closed.
    A bar never repeats the bar before it note for note (real folk tunes do that in 1.5% of neighbouring bars; the
    model, left alone, in 6.7%): a phrase that comes back is written as a repeat instead.
    Tuplets, broken rhythms, chords and numbered endings are not offered: their durations need more bookkeeping than
    they are worth in these folk melodies.
    """

    def __init__(
        self,
        tokenizer: AbcTokenizer,
        max_key_accidentals: int = 4,
        end_on_tonic: bool = False,
        keep_mode_third: bool = False,
    ):
        self.tokenizer = tokenizer
        self.end_on_tonic = end_on_tonic
        self.keep_mode_third = keep_mode_third
        self._last: tuple[tuple[int, ...], BodyState] = ((), BodyState())  # the last state asked for (see state)
        vocab = tokenizer.vocab
        self.newline = tokenizer.index["\n"]
        self.fields = {
            name: [i for i, t in enumerate(vocab) if t.startswith(f"{name}:") and _field_ok(name, t)] for name in "MLK"
        }
        # Keys of each mode: the feeling's valence picks the key field's mode (the model is conditioned on K:).
        # Only keys of at most max_key_accidentals sharps or flats (engine.pipelines.emotion.EmotionGenerationConfig).
        self.fields["K"] = [i for i in self.fields["K"] if abs(_key_accidentals(vocab[i])) <= max_key_accidentals]
        self.keys = {
            mode: [i for i in self.fields["K"] if key_field_mode(vocab[i][2:]) == mode] for mode in ("major", "minor")
        }
        self.durations: dict[int, Fraction] = {}
        self.bars: set[int] = set()
        self.bar_kind: dict[int, str] = {}
        self.text: dict[int, str] = {}  # a note token's notes, spaces left out (how bars are compared)
        for i, token in enumerate(vocab):
            if i <= 2:
                continue
            note = _NOTE_TOKEN.match(token)
            if note:
                self.durations[i] = _duration(note.group(1))
                self.text[i] = token.strip()
            elif _BAR_TOKEN.match(token):
                self.bars.add(i)
                self.bar_kind[i] = BAR_KINDS[token.strip()]
        lengths: dict[Fraction, list[int]] = {}
        self._by_text: dict[str, list[int]] = {}
        for i, length in self.durations.items():
            lengths.setdefault(length, []).append(i)
            self._by_text.setdefault(self.text[i], []).append(i)
        self._by_length = sorted(lengths.items())
        self._tonics: dict[str, frozenset[int]] = {}  # K: value -> the note tokens sounding its tonic
        # K: value -> the note tokens sounding the other mode's third; its tonic or fifth
        self._other_thirds: dict[str, frozenset[int]] = {}
        self._home: dict[str, frozenset[int]] = {}

    def state(self, tokens: list[int]) -> BodyState:
        """The :class:`BodyState` after ``tokens`` (the header and the body so far). Sampling asks after every token
        for one token more: the state is carried on from the last call's when ``tokens`` begin with its tokens."""
        known, before = self._last
        if len(tokens) >= len(known) and tuple(tokens[: len(known)]) == known:
            st, start = replace(before), len(known)
        else:
            st, start = BodyState(), 0
        for token in tokens[start:]:
            self._advance(st, token)
        st.last = tokens[-1] if tokens else self.newline
        self._last = (tuple(tokens), replace(st))
        return st

    def _advance(self, st: BodyState, token: int) -> None:
        """``st`` after one token more (in place)."""
        if st.lines < 3:
            text = self.tokenizer.vocab[token]
            if text.startswith("M:"):
                st.meter = _meter(text[2:])
            elif text.startswith("L:"):
                st.unit = Fraction(text[2:].strip())
            elif text.startswith("K:"):
                st.key = text[2:].strip()
            if token == self.newline:
                st.lines += 1
                st.bar_length = st.meter / st.unit
            return
        if token in self.durations:
            st.used += self.durations[token]
            st.this_bar += (self.text[token],)
        elif token in self.bars:
            kind = self.bar_kind[token]
            if st.used == 0 and st.written == 0 and not st.pickup:
                pass  # a bar line before any note: the tune opens with |: (or a plain |)
            elif st.written == 0 and not st.pickup and st.used < st.bar_length:
                st.pickup = True
            else:
                st.played += 2 if st.open_repeat else 1
                st.written += 1
                st.last_bar = st.this_bar
            st.used, st.this_bar = Fraction(0), ()
            if kind in ("open", "both"):
                st.open_repeat = True
            elif kind == "close":
                st.open_repeat = False

    def allowed(self, tokens: list[int], mode: str | None = None, bars: int | None = None) -> list[int]:
        """The ids that may follow ``tokens``; ``mode`` ("major"/"minor") restricts the key field to keys of that
        mode; ``bars``: the bars the tune must play (None: no end, repeats anywhere)."""
        st = self.state(tokens)
        if st.lines < 3:
            if st.last != self.newline and tokens:
                return [self.newline]
            if st.lines == 2 and mode and self.keys[mode]:
                return self.keys[mode]
            return self.fields["MLK"[st.lines]]
        left = st.bar_length - st.used
        # Notes by length, shortest first (a few dozen lengths, not the thousands of note tokens, are compared).
        fits = [i for length, ids in self._by_length if 0 < length <= left for i in ids]
        if st.last_bar and _prefix(st.this_bar, st.last_bar) and len(st.this_bar) + 1 == len(st.last_bar):
            # The note that would end this bar as a copy of the last one is not offered.
            copy = st.last_bar[-1]
            banned = {i for i in self._by_text.get(copy, ()) if self.durations[i] == left}
            fits = [i for i in fits if i not in banned]
        if self.keep_mode_third and st.key:
            other = self._other_third(st.key)
            fits = [i for i in fits if i not in other]
        final = bars is not None and st.played + (2 if st.open_repeat else 1) >= bars
        if self.end_on_tonic and final and st.key:
            fits = self._ending_on_the_tonic(fits, left, st.key)
        at_start = st.used == 0 and st.written == 0 and not st.pickup and not st.this_bar
        pickup_end = st.written == 0 and not st.pickup and st.used > 0
        if left == 0 or pickup_end:
            closing = self._bar_lines(st, bars, 0 if pickup_end and left > 0 else (2 if st.open_repeat else 1))
        elif at_start and st.last not in self.bars:
            closing = [i for i in self._bar_lines(st, bars, 0) if self.bar_kind[i] == "open"]
        else:
            closing = []
        if not fits and not closing:  # nothing fits (e.g. a very long unit): close the bar anyway
            closing = self._bar_lines(st, bars, 2 if st.open_repeat else 1) or sorted(self.bars)
        newline = [self.newline] if st.last in self.bars else []
        return fits + closing + newline

    def _ending_on_the_tonic(self, fits: list[int], left: Fraction, key: str) -> list[int]:
        """``fits`` in the tune's last bar: the note that ends it must sound the key's tonic (a cadence: folk tunes
        end on the tonic, and the key is then heard), and a shorter note only where a tonic can still end the bar
        after it. Unchanged when the vocabulary has no tonic note for this key."""
        if key not in self._tonics:
            tonic, parsed = tonic_pitch_class(key), parse_key_field(key)
            signature = signature_accidentals(parsed[1]) if parsed is not None else {}
            self._tonics[key] = frozenset(
                i for i in self.durations if tonic is not None and note_pitch_class(self.text[i], signature) == tonic
            )
        on_tonic = self._tonics[key]
        endings = frozenset(self.durations[i] for i in on_tonic)
        if not endings:
            return fits
        lengths = [length for length, _ in self._by_length]
        memo: dict[Fraction, bool] = {}

        def can_end(span: Fraction) -> bool:  # notes, then a tonic, can fill ``span`` exactly
            if span not in memo:
                memo[span] = span in endings or any(0 < d < span and can_end(span - d) for d in lengths)
            return memo[span]

        kept = [
            i
            for i in fits
            if (self.durations[i] == left and i in on_tonic)
            or (self.durations[i] < left and can_end(left - self.durations[i]))
        ]
        return kept or fits

    def home_notes(self, tokens: list[int]) -> frozenset[int]:
        """The note tokens sounding the tonic or the fifth of the tune's key once the body has begun (empty before):
        where the key analysis hears a key's home."""
        st = self.state(tokens)
        if st.lines < 3 or not st.key:
            return frozenset()
        if st.key not in self._home:
            tonic, parsed = tonic_pitch_class(st.key), parse_key_field(st.key)
            if tonic is None or parsed is None:
                self._home[st.key] = frozenset()
            else:
                signature = signature_accidentals(parsed[1])
                self._home[st.key] = frozenset(
                    i for i in self.durations if note_pitch_class(self.text[i], signature) in (tonic, (tonic + 7) % 12)
                )
        return self._home[st.key]

    def _other_third(self, key: str) -> frozenset[int]:
        """The note tokens whose own accidental makes them sound the third of the other mode on the key's tonic (A
        natural in F minor, A flat in F major): the third is what makes a tune major or minor, and the model, made to
        write a key of the asked mode, sometimes writes the other mode's third throughout. Notes without an accidental
        follow the signature (the asked mode's third), and no accidental carried through a bar can make the other
        third when none of these is written."""
        if key not in self._other_thirds:
            tonic, parsed = tonic_pitch_class(key), parse_key_field(key)
            if tonic is None or parsed is None:
                self._other_thirds[key] = frozenset()
            else:
                third = (tonic + (4 if key_field_mode(key) == "minor" else 3)) % 12
                signature = signature_accidentals(parsed[1])
                self._other_thirds[key] = frozenset(
                    i
                    for i in self.durations
                    if self.text[i][0] in "^_=" and note_pitch_class(self.text[i], signature) == third
                )
        return self._other_thirds[key]

    def _bar_lines(self, st: BodyState, bars: int | None, value: int) -> list[int]:
        """The bar lines that may close a bar worth ``value`` bars as played (0: a pickup or nothing yet)."""
        after = None if bars is None else bars - st.played - value  # bars still to play after this bar line
        room = after is None or after >= 2  # a bar inside a repeat plays twice
        out = []
        for i in sorted(self.bars):
            kind = self.bar_kind[i]
            if st.open_repeat and value == 0:  # a pickup after an opening |: ends with a plain bar line
                ok = kind in ("plain", "double")
            elif st.open_repeat:
                ok = kind == "close" or (kind in ("plain", "double", "both") and room)
            else:
                ok = kind in ("plain", "double") or (kind == "open" and room)
            if ok:
                out.append(i)
        return out

    def bar_count(self, tokens: list[int]) -> int:
        """Bars played so far (a bar inside a repeat twice; a pickup not at all)."""
        return self.state(tokens).played

    def open_repeat(self, tokens: list[int]) -> bool:
        """Whether a repeat is open after ``tokens`` (its ``:|`` still to come)."""
        return self.state(tokens).open_repeat


def _prefix(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    return len(short) < len(long) and long[: len(short)] == short


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


def _key_accidentals(token: str) -> int:
    """Sharps (+) or flats (-) of the signature of a K: token that :func:`_field_ok` accepted."""
    parsed = parse_key_field(token[2:].strip())
    assert parsed is not None  # _field_ok keeps only the keys parse_key_field reads
    return parsed[1]


def _field_ok(name: str, token: str) -> bool:
    value = token[2:].strip()
    if name == "K":
        return parse_key_field(value) is not None
    if name == "M":
        return bool(re.fullmatch(r"\d+/\d+|C\|?", value))
    return bool(re.fullmatch(r"1/\d+", value))
