"""kullback.plotting: the explain figure shows the numbers it is given, with units on the axes."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from kullback import plotting
from kullback.units import resolve_unit


def _figure(p, q, unit="bits"):
    u = resolve_unit(unit)
    p, q = np.asarray(p, float), np.asarray(q, float)
    with np.errstate(divide="ignore"):
        terms = np.where(p > 0, np.where(q > 0, p * np.log(p / np.where(q > 0, q, 1)), np.inf), 0)
    terms = u.from_nats(terms)
    h = float(u.from_nats(-sum(x * math.log(x) for x in p if x > 0)))
    kl = float(terms.sum())
    return plotting.explain_figure([f"o{i}" for i in range(len(p))], p, q, terms, h, kl,
                                   h + kl, u), h, kl


def test_axes_carry_units_and_outcome_labels():
    fig, _, _ = _figure([0.5, 0.25, 0.25], [0.25, 0.25, 0.5], "nats")
    pq, kl, ident = fig.axes
    assert pq.get_ylabel() == "probability"
    assert kl.get_ylabel() == "p log(p/q)  [nats]"
    assert ident.get_ylabel() == "information  [nats]"
    assert [t.get_text() for t in kl.get_xticklabels()] == ["o0", "o1", "o2"]


def test_bars_show_p_q_terms_and_the_stacked_identity():
    p, q = [0.5, 0.25, 0.25], [0.25, 0.25, 0.5]
    fig, h, kl = _figure(p, q)
    assert (h, kl) == pytest.approx((1.5, 0.25))  # bits, by hand
    pq, terms, ident = fig.axes
    heights = [b.get_height() for b in pq.patches]
    assert heights == pytest.approx(p + q)
    assert [b.get_height() for b in terms.patches] == pytest.approx([0.5, 0.0, -0.25])
    (hp, klp) = ident.patches
    assert hp.get_height() == pytest.approx(1.5) and klp.get_y() == pytest.approx(1.5)
    assert klp.get_height() == pytest.approx(0.25)


def test_infinite_kl_is_drawn_and_labelled(tmp_path):
    fig, _, _ = _figure([0.5, 0.5], [1.0, 0.0])
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("∞" in t for t in texts)
    path = plotting.save(fig, tmp_path / "inf.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_does_not_touch_the_global_backend():
    import matplotlib

    before = matplotlib.get_backend()
    _figure([0.5, 0.5], [0.4, 0.6])
    assert matplotlib.get_backend() == before
