"""Logits from a tiny random transformers model (built locally), and the command line end to
end: ``kullback lm save`` / ``kullback lm compare`` in process and through the executable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from lm.reference import per_token

from kullback.cli import main
from kullback.lm import compare, logits, open_logits, save_logits
from kullback.lm._models import windows

pytest.importorskip("transformers")
torch = pytest.importorskip("torch")


def test_windows_score_every_token_once():
    for length, context, stride in ((10, 4, 3), (10, 4, 1), (37, 8, 5), (2, 2, 1), (9, 16, 15)):
        scored = [j for s, e, first in windows(length, context, stride) for j in range(first, e)]
        assert scored == list(range(1, length)), (length, context, stride)
        assert all(e - s <= context for s, e, _ in windows(length, context, stride))
    with pytest.raises(ValueError, match="stride must be from 1 to context - 1"):
        windows(10, 4, 4)


def _direct(model_dir: Path, text: str) -> tuple[np.ndarray, np.ndarray]:
    """The model run once over the whole text by hand: logits predicting tokens 1..L-1."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    ids = tok(text, add_special_tokens=False)["input_ids"]
    with torch.inference_mode():
        out = model(torch.tensor([ids])).logits[0, :-1]
    return out.double().numpy(), np.array(ids[1:])


def test_logits_stream_matches_a_direct_forward_pass(tiny_models):
    text = tiny_models["text"].read_text()[:200]  # fewer tokens than the 64 positions
    want, targets = _direct(tiny_models["reference"], text)
    stream = logits(tiny_models["reference"], text=text, context=64, batch_size=2)
    chunks = list(stream)
    assert stream.tokens == len(targets) and len(chunks) == len(stream.windows) == 1
    got = np.concatenate([c.logits.double().numpy() for c in chunks])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(np.concatenate([c.targets for c in chunks]), targets)
    # sliding windows: every token scored once, with its targets
    short = logits(tiny_models["reference"], text=text, context=8, stride=3, batch_size=4)
    np.testing.assert_array_equal(np.concatenate([c.targets for c in short]), targets)


def test_model_against_itself_and_a_perturbed_copy(tiny_models):
    text = tiny_models["text"].read_text()[:400]
    ref = logits(tiny_models["reference"], text=text, context=16)
    same = compare(ref, logits(tiny_models["reference"], text=text, context=16))
    assert np.all(same.kl == 0) and same.summary()["ppl_ratio"] == 1.0
    cand = compare(ref, logits(tiny_models["candidate"], text=text, context=16))
    a = np.concatenate([c.logits.double().numpy() for c in ref])
    b = np.concatenate([c.logits.double().numpy() for c in logits(
        tiny_models["candidate"], text=text, context=16)])
    np.testing.assert_allclose(cand.kl, per_token(a, b)["kl"], rtol=1e-9)
    rows = cand.worst(3)
    assert rows[0]["kl"] == cand.kl.max() and "target_text" in rows[0]


def test_cli_save_then_compare_in_process(tiny_models, tmp_path, capsys):
    m, text = tiny_models, str(tiny_models["text"])
    for name in ("reference", "candidate"):
        assert main(["lm", "save", str(m[name]), "--text", text, "-o", str(tmp_path / name),
                     "--context", "32"]) == 0
    ref, cand = open_logits(tmp_path / "reference"), open_logits(tmp_path / "candidate")
    assert ref.tokens == cand.tokens == len(Path(text).read_text().split()) - 1
    capsys.readouterr()
    plot = tmp_path / "kl.png"
    # the candidate model runs with the windows the store was saved with (context 32)
    assert main(["lm", "compare", str(tmp_path / "reference"), str(m["candidate"]), "--text",
                 text, "--json", "--base", "bits", "--plot", str(plot), "--worst", "2"]) == 0
    out = json.loads(capsys.readouterr().out)
    lib = compare(ref, cand, base="bits").summary()
    assert {k: out[k] for k in lib} == json.loads(json.dumps(lib))
    assert len(out["worst"]) == 2 and out["unit"] == "bits"
    assert main(["lm", "compare", str(tmp_path / "reference"), str(m["candidate"]), "--text",
                 text, "--context", "16"]) == 2
    assert "REF was saved with --context 32" in capsys.readouterr().err
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a top-k store made from the full one: lower bounds, labelled in the report
    save_logits(tmp_path / "top", ref, top_k=3)
    assert main(["lm", "compare", str(tmp_path / "top"), str(tmp_path / "candidate")]) == 0
    report = capsys.readouterr().out
    assert "LOWER BOUNDS" in report and "Same top p" in report


def test_cli_errors_are_one_line(tiny_models, tmp_path, capsys):
    m = tiny_models
    cases = [
        (["lm", "compare", str(m["reference"]), str(m["candidate"])], "give the corpus with --text"),
        (["lm", "compare", str(tmp_path), str(m["candidate"])], "neither a logit store"),
        (["lm", "save", str(m["reference"]), "--text", str(m["text"]), "-o", str(tmp_path / "x"),
          "--context", "1"], "context must be at least 2"),
        (["lm", "compare", str(m["reference"]), str(m["candidate"]), "--text", "nowhere.txt"],
         "--text: cannot read"),
        (["lm"], "choose an action"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, err


def test_the_executable_compares_two_stores(tmp_path):
    """The installed ``kullback`` executable, on stores (no model to load: quick)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((40, 12)).astype(np.float32)
    b = a + np.float32(0.1) * rng.standard_normal((40, 12)).astype(np.float32)
    t = rng.integers(0, 12, 40)
    save_logits(tmp_path / "ref", [a[:25], a[25:]], targets=t)
    save_logits(tmp_path / "cand", b)
    exe = Path(sys.executable).parent / "kullback"
    proc = subprocess.run([str(exe), "lm", "compare", str(tmp_path / "ref"),
                           str(tmp_path / "cand"), "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    s = json.loads(proc.stdout)
    want = per_token(a, b, t)
    assert s["tokens"] == 40
    assert abs(s["kl_mean"] - want["kl"].mean()) <= 1e-12 * want["kl"].mean()
    assert abs(s["ppl_candidate"] - np.exp(want["nll_candidate"].mean())) <= 1e-9
    bad = subprocess.run([str(exe), "lm", "compare", str(tmp_path / "ref"), str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and bad.stderr.count("\n") == 1


def test_a_suspended_stream_leaves_autograd_on(tiny_models):
    """The stream runs the model in inference mode, but never while suspended at a yield: a
    half-consumed stream once left the caller's thread without autograd (found on CI)."""
    text = tiny_models["text"].read_text()[:400]
    stream = iter(logits(tiny_models["reference"], text=text, context=8, stride=4))
    next(stream)
    assert torch.is_grad_enabled() and not torch.is_inference_mode_enabled()
    x = torch.ones(2, requires_grad=True)
    assert (x * 2).sum().requires_grad
    del stream
