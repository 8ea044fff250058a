"""The ABC language model: tokens, the cached sampler, checkpoints."""

import torch

from engine.models.abc_lm import AbcLanguageModel, AbcModelConfig, AbcTokenizer, split_tokens
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


def test_checkpoint_round_trip(tmp_path):
    tokenizer = AbcTokenizer.build(TEXTS, min_count=1)
    model = AbcLanguageModel(AbcModelConfig.debug(len(tokenizer))).eval()
    save_abc_model(model, tokenizer, tmp_path, {"judge": {"x": 1}})
    loaded, loaded_tokenizer, meta = load_abc_model(tmp_path)
    ids = torch.tensor([tokenizer.encode(TEXTS[1])])
    assert loaded_tokenizer.vocab == tokenizer.vocab and meta["judge"] == {"x": 1}
    assert torch.allclose(model(ids), loaded(ids))
