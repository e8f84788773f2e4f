"""plotting.explain computes what it draws (checked against the oracle) and aggregates many
outcomes into the largest contributions plus one "the other N" bar."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import assert_close, oracle

pytest.importorskip("matplotlib")

from kullback.plotting._explain import explain, save


def test_explain_draws_the_core_numbers():
    p, q = [0.42, 0.31, 0.27], [0.25, 0.5, 0.25]
    fig = explain(p, q, base="bits", labels=["a", "b", "c"])
    pq, terms, ident = fig.axes
    assert [b.get_height() for b in pq.patches] == pytest.approx(p + q, rel=1e-15)
    want = [a * math.log2(a / b) for a, b in zip(p, q, strict=True)]  # by hand
    assert [b.get_height() for b in terms.patches] == pytest.approx(want, rel=1e-14)
    h, kl = ident.patches
    assert_close(h.get_height(), oracle("entropy", p, base=2))
    assert_close(kl.get_height(), oracle("kl_divergence", p, q, base=2))
    assert [t.get_text() for t in terms.get_xticklabels()] == ["a", "b", "c"]


def test_counts_are_normalised_and_labels_default_to_positions():
    fig = explain([2, 1, 1], [1, 1, 2])
    pq, terms, _ = fig.axes
    assert [b.get_height() for b in pq.patches] == pytest.approx([0.5, 0.25, 0.25, 0.25,
                                                                  0.25, 0.5])
    assert [t.get_text() for t in terms.get_xticklabels()] == ["1", "2", "3"]


def test_many_outcomes_draw_the_top_ones_and_the_rest_summed():
    n = 1_000_000
    rng = np.random.default_rng(1)
    p, q = rng.random(n) + 0.01, rng.random(n) + 0.01
    p[123] = 40.0  # the largest |p log(p/q)|, positive
    p[456], q[456] = 20.0, 200.0  # the second, negative
    P, Q = p / p.sum(), q / q.sum()
    terms = P * np.log(P / Q)
    fig = explain(p, q, top=10)
    pq, kl, _ = fig.axes
    bars = [b.get_height() for b in kl.patches]
    assert len(bars) == 11
    labels = [t.get_text() for t in kl.get_xticklabels()]
    assert labels[:2] == ["124", "457"] and labels[-1] == "the other 999,990"
    top = np.sort(np.abs(terms))[::-1][:10]
    assert np.abs(bars[:10]) == pytest.approx(top, rel=1e-12)
    shown = np.argsort(-np.abs(terms))[:10]
    assert bars[10] == pytest.approx(terms.sum() - terms[shown].sum(), rel=1e-9)
    heights = [b.get_height() for b in pq.patches]
    assert heights[10] == pytest.approx(1 - P[shown].sum(), rel=1e-12)  # P's other mass
    assert "the other 999,990 summed" in pq.get_title(loc="left")
    # The summed bars would flatten the rest: drawn to scale, they run off the top, their
    # values written at the edge.
    assert kl.get_ylim()[1] < bars[10] and pq.get_ylim()[1] < heights[10]
    notes = [t.get_text() for ax in (pq, kl) for t in ax.texts if "↑" in t.get_text()]
    assert notes == [f"p {1 - P[shown].sum():.3f}\nq {1 - Q[shown].sum():.3f} ↑",
                     f"sum {bars[10]:.3f} ↑"]


def test_an_infinite_outcome_is_drawn_first():
    p = np.ones(100)
    q = np.ones(100)
    q[50] = 0.0
    fig = explain(p, q, top=5)
    kl = fig.axes[1]
    assert kl.get_xticklabels()[0].get_text() == "51"
    assert any("∞ (q = 0)" in t.get_text() for t in kl.texts)


def test_save_writes_the_format_of_the_extension(tmp_path):
    fig = explain([0.5, 0.5], [0.25, 0.75])
    assert save(fig, tmp_path / "f.svg").read_text().lstrip().startswith("<?xml")
    assert save(fig, tmp_path / "f.pdf").read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.pdf", "f.svg"]


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    fig = explain([0.5, 0.5], [0.25, 0.75])
    path = tmp_path / "f.png"
    path.write_bytes(b"old")

    def half(f, **kwargs):
        f.write(b"\x89PNG half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fig, "savefig", half)
    with pytest.raises(OSError, match="No space"):
        save(fig, path)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.png"]
