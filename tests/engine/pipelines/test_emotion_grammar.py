"""The ABC sampling grammar: random walks through what it allows give readable tunes of the asked length as played,
with every repeat paired and no bar copying the one before; abc2midi reads them without a warning."""

from __future__ import annotations

import random
import re
import shutil
import subprocess

import pytest

from engine.io.abc import read_abc_text
from engine.pipelines.emotion import EmotionPipeline, longest_bar_repeat


@pytest.fixture(scope="module")
def pipe():
    return EmotionPipeline.from_pretrained("debug")


def _walk(pipe, bars: int, seed: int, prefix: str = "") -> tuple[list[int], str]:
    """Tokens drawn uniformly among those the grammar allows, until the tune has played ``bars`` bars."""
    grammar, rng = pipe.grammar(), random.Random(seed)
    tokens = pipe.tokenizer.encode(prefix)[1:] if prefix else []
    for _ in range(600):
        tokens.append(rng.choice(grammar.allowed(tokens, None, bars)))
        if grammar.bar_count(tokens) >= bars:
            break
    return tokens, pipe.tokenizer.decode(tokens)


def _paired(body: str) -> bool:
    """Every :| closes a |: (or ::) before it, and nothing is left open."""
    depth = 0
    for sign in re.findall(r"\|:|:\||::", body):
        if sign in (":|", "::"):
            if depth != 1:
                return False
            depth = 0
        if sign in ("|:", "::"):
            depth = 1
    return depth == 0


@pytest.mark.parametrize("bars", [4, 8, 16])
def test_random_walks_play_the_bars_asked_with_paired_repeats_and_no_bar_twice(pipe, bars):
    grammar = pipe.grammar()
    with_repeats = 0
    for seed in range(25):
        tokens, text = _walk(pipe, bars, seed)
        assert grammar.bar_count(tokens) == bars and not grammar.open_repeat(tokens)
        body = "\n".join(text.split("\n")[3:])
        assert _paired(body), text
        with_repeats += ":|" in body
        tune = f"X:1\n{text.rstrip()}\n"
        assert longest_bar_repeat(tune) == 1, text
        melody = read_abc_text(tune).melody
        played = melody.num_steps - melody.pickup_steps
        # As played, each repeated bar twice (a repeat not written out would lose a whole bar; the last bar may end
        # in rests, which the melody's length leaves out).
        assert (bars - 1) * melody.steps_per_bar < played <= bars * melody.steps_per_bar, text
    assert with_repeats >= 5  # the walks do use repeats


def test_repeat_signs_only_where_they_pair_and_fit(pipe):
    grammar = pipe.grammar()
    encode = lambda text: pipe.tokenizer.encode(text)[1:]  # noqa: E731 - without <bos>
    kinds = lambda tokens, bars: {grammar.bar_kind[i] for i in grammar.allowed(tokens, None, bars) if i in grammar.bars}  # noqa: E731
    start = encode("M:4/4\nL:1/8\nK:Am\n")
    assert kinds(start, 8) == {"open"}  # a tune may open with |:
    assert kinds(start, 1) == set()  # not when one bar is all there is: it would play twice
    one_bar = encode("M:4/4\nL:1/8\nK:Am\nc2e2c2e2")
    assert "close" not in kinds(one_bar, 8) and "open" in kinds(one_bar, 8)  # no :| without its |:
    assert "open" not in kinds(one_bar, 2)  # one bar left after this one: a repeat would overshoot
    inside = encode("M:4/4\nL:1/8\nK:Am\n|:c2e2c2e2")
    assert grammar.open_repeat(inside)
    assert kinds(inside, 8) >= {"close", "plain"} and "open" not in kinds(inside, 8)
    assert kinds(inside, 3) == {"close"}  # this bar plays twice (2), one left: close, then a plain bar
    closed = encode("M:4/4\nL:1/8\nK:Am\n|:c2e2c2e2:|")
    assert grammar.bar_count(closed) == 2 and not grammar.open_repeat(closed)


def test_the_note_that_would_copy_the_last_bar_is_not_offered(pipe):
    grammar = pipe.grammar()
    tokens = pipe.tokenizer.encode("M:4/4\nL:1/8\nK:Am\nc2e2c2e2|c2e2c2")[1:]
    offered = {pipe.tokenizer.vocab[i].strip() for i in grammar.allowed(tokens, None, 8)}
    assert "e2" not in offered and "c2" in offered and "A" in offered  # e2 would end the same bar again


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi (Debian abcmidi) is not installed")
def test_abc2midi_reads_the_walks_without_a_warning(pipe, tmp_path):
    for seed in range(12):
        _, text = _walk(pipe, 8, 100 + seed)
        path = tmp_path / f"t{seed}.abc"
        path.write_text(f"X:1\nT:walk {seed}\n{text.rstrip()}\n")
        run = subprocess.run(
            ["abc2midi", str(path), "-o", str(tmp_path / f"t{seed}.mid")], capture_output=True, text=True, timeout=30
        )
        said = run.stdout + run.stderr
        assert run.returncode == 0 and not re.search(r"warning|error", said, re.I), f"{said}\n{text}"


def test_with_end_on_tonic_the_last_note_is_the_keys_tonic(pipe):
    from engine.io.abc_text import note_pitch_class, parse_key_field, signature_accidentals, tonic_pitch_class

    grammar = pipe.grammar(pipe.generation.override(end_on_tonic=True))
    for seed in range(20):
        rng = random.Random(seed)
        tokens: list[int] = []
        while grammar.bar_count(tokens) < 8 and len(tokens) < 600:
            tokens.append(rng.choice(grammar.allowed(tokens, None, 8)))
        notes = [i for i in tokens if i in grammar.durations and pipe.tokenizer.vocab[i].strip()[:1] != "z"]
        key = grammar.state(tokens).key
        signature = signature_accidentals(parse_key_field(key)[1])
        assert note_pitch_class(pipe.tokenizer.vocab[notes[-1]], signature) == tonic_pitch_class(key), (
            pipe.tokenizer.decode(tokens)
        )


def test_the_state_carried_on_token_by_token_is_the_state_read_from_scratch(pipe):
    from engine.pipelines.emotion_grammar import TokenGrammar

    carried = TokenGrammar(pipe.tokenizer)
    tokens, _ = _walk(pipe, 16, 7)
    for n in range(0, len(tokens) + 1, 7):
        assert carried.state(tokens[:n]) == TokenGrammar(pipe.tokenizer).state(tokens[:n])
    assert carried.state(tokens[:5]) == TokenGrammar(pipe.tokenizer).state(tokens[:5])  # going back: read again


def test_keeping_the_mode_third_never_offers_the_other_modes_third():
    from engine.models.abc_lm import AbcTokenizer
    from engine.pipelines.emotion_grammar import TokenGrammar

    texts = [
        f"A:Q1\nB:4\nM:4/4\nL:1/8\nK:{key}\nA2 ^c2 =c2 _B2|^A2 B2 =B2 _d2|^G2 G2 _A2 =F2|^F2 F2 =G2 _G2|]\n"
        for key in ("Am", "G", "F", "Dm")
    ]
    tokenizer = AbcTokenizer.build(texts, min_count=1)
    kept, free = TokenGrammar(tokenizer, keep_mode_third=True), TokenGrammar(tokenizer)
    other_third = {"Am": {"^c", "_d"}, "G": {"_B", "^A"}, "F": {"_A", "^G"}, "Dm": {"^F", "_G"}}
    for key, wrong in other_third.items():
        tokens = tokenizer.encode(f"M:4/4\nL:1/8\nK:{key}\n")[1:]
        offered = {tokenizer.vocab[i].rstrip("0123456789/ ") for i in kept.allowed(tokens)}
        offered_free = {tokenizer.vocab[i].rstrip("0123456789/ ") for i in free.allowed(tokens)}
        assert wrong <= offered_free and not wrong & offered, key
        assert {"=c", "=F", "^A"} - wrong <= offered  # other accidentals stay: only the third is kept


def test_home_notes_are_the_keys_tonic_and_fifth_once_the_body_begins():
    from engine.io.abc_text import note_pitch_class, parse_key_field, signature_accidentals, tonic_pitch_class
    from engine.models.abc_lm import AbcTokenizer
    from engine.pipelines.emotion_grammar import TokenGrammar

    texts = [f"A:Q1\nB:4\nM:4/4\nL:1/8\nK:{key}\nA2 ^c2 =c2 _B2|D2 E2 F2 G2|^F2 B2 e2 d2|]\n" for key in ("Am", "D")]
    tokenizer = AbcTokenizer.build(texts, min_count=1)
    grammar = TokenGrammar(tokenizer)
    assert grammar.home_notes(tokenizer.encode("M:4/4\nL:1/8\n")[1:]) == frozenset()  # no key yet
    for key in ("Am", "D"):
        home = grammar.home_notes(tokenizer.encode(f"M:4/4\nL:1/8\nK:{key}\n")[1:])
        tonic, signature = tonic_pitch_class(key), signature_accidentals(parse_key_field(key)[1])
        sounding = {note_pitch_class(tokenizer.vocab[i], signature) for i in home}
        assert home and sounding == {tonic, (tonic + 7) % 12}, key
