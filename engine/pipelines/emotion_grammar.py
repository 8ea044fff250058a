"""The sampling grammar of the ABC emotion model: which tokens may come next, so every tune is readable ABC
with whole bars."""

from __future__ import annotations

import re
from fractions import Fraction

from engine.io.abc_text import key_field_mode, parse_key_field
from engine.models.abc_lm import AbcTokenizer

_NOTE_TOKEN = re.compile(r"^(?:\^\^|\^|__|_|=)?[A-Ga-gz][,']*(\d*/+\d*|\d+)?-? ?$")


_BAR_TOKEN = re.compile(r"^(?:\||\|\||\|:|:\||::) ?$")


class TokenGrammar:
    """Which token ids may come next, so that every tune is readable and every bar full.

    Header: M:, L:, K: lines in that order. Body: notes and rests whose durations fit what is left
    of the bar (in units of L), a bar line (``|``, ``||``, ``|:``, ``:|``, ``::``) only when the bar
    is full (the first bar may be a pickup of any length), a line break only after a bar line.
    Tuplets, broken rhythms and chords are not offered: their durations need more bookkeeping than
    they are worth in these folk melodies.
    """

    def __init__(self, tokenizer: AbcTokenizer, max_key_accidentals: int = 4):
        self.tokenizer = tokenizer
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
        for i, token in enumerate(vocab):
            if i <= 2:
                continue
            note = _NOTE_TOKEN.match(token)
            if note:
                self.durations[i] = _duration(note.group(1))
            elif _BAR_TOKEN.match(token):
                self.bars.add(i)

    def _state(self, tokens: list[int]) -> tuple[int, Fraction, Fraction, int, int, bool]:
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
        """The ids that may follow ``tokens``; ``mode`` ("major"/"minor") restricts the key field to keys of that
        mode."""
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
