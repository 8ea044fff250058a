"""The ABC language model: tokens, the cached sampler, checkpoints."""

import torch

from engine.models.abc_lm import (
    AbcLanguageModel,
    AbcModelConfig,
    AbcTokenizer,
    GenerationJob,
    guided_log_probs,
    split_tokens,
)
from engine.models.registry import load_abc_model, save_abc_model

SAMPLING = dict(temperature=1.2, top_k=8, top_p=0.8)  # EMusicGen's (engine.pipelines.emotion)

TEXTS = [
    "A:Q1\nB:8\nM:6/8\nL:1/8\nK:G\nGAB c2d|e2d cBA|(3GAB ^c'3/2- c/2 z|]\n",
    "A:Q3\nB:4\nM:4/4\nL:1/8\nK:Am\nA,2 E2 A4|:c2 B2 A4:|]\n",
]


def test_tokens_join_back_into_the_text():
    for text in TEXTS:
        tokens = split_tokens(text)
        assert "".join(tokens) == text
        assert "A:Q1" in tokens or "A:Q3" in tokens
    assert "^c'3/2- " in split_tokens(TEXTS[0]) and "K:Am" in split_tokens(TEXTS[1])
    assert len(split_tokens(TEXTS[0])) < len(TEXTS[0])


def test_tokenizer_encodes_unseen_tokens_letter_by_letter():
    tokenizer = AbcTokenizer.build(TEXTS, min_count=1)
    ids = tokenizer.encode(TEXTS[0], eos=True)
    assert ids[0] == tokenizer.bos_id and ids[-1] == tokenizer.eos_id
    assert tokenizer.decode(ids) == TEXTS[0]
    unseen = "K:C#m\n_B,,7|"
    assert tokenizer.decode(tokenizer.encode(unseen)) == unseen


def test_cached_sampling_matches_the_full_forward_pass():
    torch.manual_seed(0)
    tokenizer = AbcTokenizer.build(TEXTS, min_count=1)
    model = AbcLanguageModel(
        AbcModelConfig(vocab_size=len(tokenizer), d_model=32, layers=2, heads=2, context=64, dropout=0.0)
    ).eval()
    ids = tokenizer.encode(TEXTS[0])[:20]
    full = model(torch.tensor([ids]))[0]
    caches = [{} for _ in model.blocks]
    step = model(torch.tensor([ids[:10]]), caches)[0]
    assert torch.allclose(step, full[:10], atol=1e-5)
    for position in range(10, 20):
        logits = model(torch.tensor([[ids[position]]]), caches, position)[0, -1]
        assert torch.allclose(logits, full[position], atol=1e-4)


def test_generation_follows_the_allowed_tokens_and_the_seed():
    torch.manual_seed(0)
    tokenizer = AbcTokenizer.build(TEXTS, min_count=1)
    model = AbcLanguageModel(AbcModelConfig.debug(len(tokenizer)))
    prompt = tokenizer.encode("A:Q1\nB:8\n")
    notes = [tokenizer.index[t] for t in ("G", "A", "B ")]
    a = model.generate([prompt], [1.0], 12, torch.Generator().manual_seed(3), allowed=lambda out: notes, **SAMPLING)
    b = model.generate(
        [prompt, prompt], [0.5, 0.5], 12, torch.Generator().manual_seed(3), allowed=lambda out: notes, **SAMPLING
    )
    assert len(a) == 12 and set(a) <= set(notes) and a == b  # two equal prompts mixed = one prompt


def test_prompts_of_one_length_run_as_one_batch_with_the_logits_of_each_alone():
    torch.manual_seed(0)
    tokenizer = AbcTokenizer.build(TEXTS, min_count=1)
    model = AbcLanguageModel(AbcModelConfig.debug(len(tokenizer))).eval()
    prompts = [tokenizer.encode(f"A:{q}\nB:8\n") for q in ("Q1", "Q3")]
    together = model._prompt_stepper(prompts)
    alone = [model._prompt_stepper([p]) for p in prompts]
    uneven = model._prompt_stepper([prompts[0], prompts[1] + [tokenizer.index["G"]]])  # one by one
    first = together(None)
    assert torch.allclose(first, torch.cat([step(None) for step in alone]), atol=1e-5)
    assert torch.allclose(uneven(None)[0], first[0], atol=1e-5)
    for token in ("M:6/8", "\n", "L:1/8"):  # each prompt is fed its own next token (here the same one)
        step = together([tokenizer.index[token]] * 2)
        assert torch.allclose(step, torch.cat([a([tokenizer.index[token]]) for a in alone]), atol=1e-5)


def test_guidance_favours_what_tells_the_asked_prompt_apart():
    # Three tokens, two prompts: both like token 0 equally; token 1 is the asked prompt's, token 2 the other's.
    probs = torch.tensor([[0.5, 0.4, 0.1], [0.5, 0.1, 0.4]])
    logits = probs.log()
    weights = torch.tensor([1.0, 0.0])
    plain = guided_log_probs(logits, weights, 0.0).softmax(-1)
    guided = guided_log_probs(logits, weights, 3.0).softmax(-1)
    assert torch.allclose(plain, probs[0], atol=1e-6)  # no guidance: the asked prompt's own distribution
    assert guided[1] > plain[1] and guided[2] < plain[2]
    # Token 0, equally liked, keeps its odds against token 1 as the asked prompt has them, times p(asked | token)^g.
    odds = guided[1] / guided[0]
    assert abs(float(odds) - (0.4 / 0.5) * ((0.4 / 0.25) / (0.5 / 0.5)) ** 3) < 1e-3


def test_guided_generation_follows_the_allowed_tokens_and_the_seed():
    torch.manual_seed(0)
    tokenizer = AbcTokenizer.build(TEXTS, min_count=1)
    model = AbcLanguageModel(AbcModelConfig.debug(len(tokenizer)))
    prompts = [tokenizer.encode(f"A:{q}\nB:8\n") for q in ("Q1", "Q3")]
    notes = [tokenizer.index[t] for t in ("G", "A", "B ")]

    def draw(guidance: float) -> list[int]:
        return model.generate(
            prompts,
            [1.0, 0.0],
            16,
            torch.Generator().manual_seed(5),
            allowed=lambda out: notes,
            guidance=guidance,
            **SAMPLING,
        )

    plain = model.generate(
        [prompts[0]], [1.0], 16, torch.Generator().manual_seed(5), allowed=lambda out: notes, **SAMPLING
    )
    assert draw(0.0) == plain  # a prompt of weight 0 changes nothing without guidance
    guided = draw(4.0)
    assert len(guided) == 16 and set(guided) <= set(notes) and guided == draw(4.0)


def test_checkpoint_round_trip(tmp_path):
    tokenizer = AbcTokenizer.build(TEXTS, min_count=1)
    model = AbcLanguageModel(AbcModelConfig.debug(len(tokenizer))).eval()
    save_abc_model(model, tokenizer, tmp_path, {"judge": {"x": 1}})
    loaded, loaded_tokenizer, meta = load_abc_model(tmp_path)
    ids = torch.tensor([tokenizer.encode(TEXTS[1])])
    assert loaded_tokenizer.vocab == tokenizer.vocab and meta["judge"] == {"x": 1}
    assert torch.allclose(model(ids), loaded(ids))


def test_jobs_decoded_together_get_what_they_would_alone():
    """generate_many: jobs with their own prompts, weights, generators, grammars, lengths and guidance, decoded as
    one batch (a finished job's rows fed padding), each give the tokens they give alone."""
    torch.manual_seed(0)
    tokenizer = AbcTokenizer.build(TEXTS, min_count=1)
    model = AbcLanguageModel(AbcModelConfig.debug(len(tokenizer))).eval()
    q1, q3 = (tokenizer.encode(f"A:{q}\nB:8\n") for q in ("Q1", "Q3"))
    notes = [tokenizer.index[n] for n in "ABCDEFG"]

    def job(prompts, weights, seed, max_tokens, guidance=0.0, allowed=None):
        return GenerationJob(
            prompts, weights, max_tokens, torch.Generator().manual_seed(seed), 1.2, 8, 0.9, allowed, None, guidance
        )

    def jobs():
        return [
            job([q1], [1.0], 1, 12),
            job([q3, q1], [1.0, 0.0], 2, 30, guidance=2.0),
            job([q1, q3], [0.6, 0.4], 3, 5, allowed=lambda out: notes),
            job([q3], [1.0], 4, 20, allowed=lambda out: notes if len(out) % 2 else None),
        ]

    together = model.generate_many(jobs())
    alone = [model.generate_many([j])[0] for j in jobs()]
    assert together == alone and len({len(t) for t in together}) > 1  # finished at different steps
