"""Units: names, aliases, numeric bases and conversions against closed forms."""

from __future__ import annotations

import math

import pytest

import kullback as kb
from kullback.units import Unit, convert, resolve_unit


@pytest.mark.parametrize(
    ("base", "name", "value"),
    [
        (None, "nats", math.e),
        ("nats", "nats", math.e),
        ("e", "nats", math.e),
        (math.e, "nats", math.e),
        ("bits", "bits", 2.0),
        ("Shannons", "bits", 2.0),
        (2, "bits", 2.0),
        ("2", "bits", 2.0),
        ("bans", "bans", 10.0),
        ("hartley", "bans", 10.0),
        ("dit", "bans", 10.0),
        (10.0, "bans", 10.0),
        (3, "log base 3", 3.0),
    ],
)
def test_resolve(base, name, value):
    u = resolve_unit(base)
    assert u.name == name and u.base == pytest.approx(value, rel=0)
    assert u.log_base == pytest.approx(math.log(value), rel=1e-15)


@pytest.mark.parametrize("bad", [1, 1.0, 0, -2, 0.5, 1e-320, "0.5", math.inf, math.nan, "1", "furlongs", ""])
def test_bad_base_value(bad):
    with pytest.raises(ValueError, match="base"):
        resolve_unit(bad)


@pytest.mark.parametrize("bad", [[2], True, object()])
def test_bad_base_type(bad):
    with pytest.raises(TypeError, match="base must be a number or a unit name"):
        resolve_unit(bad)


def test_conversions_closed_form():
    assert convert(1.0, "bits", "nats") == pytest.approx(math.log(2), rel=1e-15)
    assert convert(1.0, "bans", "bits") == pytest.approx(math.log2(10), rel=1e-15)
    assert convert(math.log(7), None, 7) == pytest.approx(1.0, rel=1e-15)
    assert resolve_unit("bits").from_nats(resolve_unit("bits").to_nats(3.25)) == 3.25


def test_unit_reaches_the_measures():
    # H(uniform on 8) is exactly 3 bits, 1 in log base 8, ln 8 nats
    p = [1] * 8
    assert float(kb.entropy(p, base="bits")) == pytest.approx(3.0, rel=1e-15)
    assert float(kb.entropy(p, base=8)) == pytest.approx(1.0, rel=1e-15)
    assert float(kb.entropy(p)) == pytest.approx(math.log(8), rel=1e-15)
    assert kb.decompose(p, p, base=Unit("bits", 2.0)).unit.symbol == "bits"
    assert resolve_unit(3).symbol == "log_3"
