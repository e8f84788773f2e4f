"""Fixtures of the lm tests: a tiny random GPT-2 and a tokenizer, built locally (no downloads)."""

from __future__ import annotations

import pytest

TEXT = (
    "the cat sat on the mat and the dog sat on the log . a bird sang in the tree while the "
    "cat slept and the dog ran after the ball in the park . "
) * 6


def _tokenizer(words: list[str]):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"[UNK]": 0, **{w: i + 1 for i, w in enumerate(words)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]")


def _model(vocab: int, seed: int, noise: float = 0.0):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    config = GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=vocab, n_positions=64,
                        bos_token_id=0, eos_token_id=0)
    model = GPT2LMHeadModel(config).eval()
    if noise:
        with torch.no_grad():
            for p in model.parameters():
                p.add_(noise * torch.randn_like(p))
    return model


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """Directories of a reference model, a perturbed candidate and their tokenizer."""
    pytest.importorskip("transformers")
    root = tmp_path_factory.mktemp("models")
    words = sorted(set(TEXT.split()))
    tok = _tokenizer(words)
    dirs = {}
    for name, noise in (("reference", 0.0), ("candidate", 0.02)):
        d = root / name
        _model(len(words) + 1, seed=0, noise=noise).save_pretrained(d)
        tok.save_pretrained(d)
        dirs[name] = d
    text = root / "corpus.txt"
    text.write_text(TEXT, encoding="utf-8")
    dirs["text"] = text
    return dirs
