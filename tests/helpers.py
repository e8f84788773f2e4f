"""The shared test helpers: one high-precision oracle and one closeness assertion.

Every test module imports these (``from helpers import assert_close, oracle``) instead of
writing its own; the oracle sets its precision locally (``mpmath.workdps``), so no test can
change another's.
"""

from __future__ import annotations

import math
import shutil
import sys
from pathlib import Path

import mpmath
import pytest


def oracle(quantity: str, p, q=None, base=None, *, digits: int = 700) -> float:
    """The measure on exactly the float64 inputs given (normalised in mpmath), at ``digits``.

    700 digits by default: fewer cannot resolve ``1 + 1e-300`` or the subnormal range (at 50,
    the dominant entry's term of the entropy of ``[1e-300, 1]`` rounds away).
    """
    with mpmath.workdps(digits):
        return _oracle(quantity, p, q, base)


def _oracle(quantity: str, p, q, base) -> float:
    P = [mpmath.mpf(float(v)) for v in p]
    sp = mpmath.fsum(P)
    P = [v / sp for v in P]
    if q is not None:
        Q = [mpmath.mpf(float(v)) for v in q]
        sq = mpmath.fsum(Q)
        Q = [v / sq for v in Q]

    def kl(A, B):
        total = mpmath.mpf(0)
        for a, b in zip(A, B, strict=True):
            if a == 0:
                continue
            if b == 0:
                return mpmath.inf
            total += a * mpmath.log(a / b)
        return total

    if quantity == "entropy":
        v = -mpmath.fsum(a * mpmath.log(a) for a in P if a > 0)
    elif quantity == "cross_entropy":
        if any(a > 0 and b == 0 for a, b in zip(P, Q, strict=True)):
            return math.inf
        v = -mpmath.fsum(a * mpmath.log(b) for a, b in zip(P, Q, strict=True) if a > 0)
    elif quantity == "kl_divergence":
        v = kl(P, Q)
    else:
        M = [(a + b) / 2 for a, b in zip(P, Q, strict=True)]
        v = (kl(P, M) + kl(Q, M)) / 2
        if quantity == "js_distance":
            v = mpmath.sqrt(v / mpmath.log(base)) if base else mpmath.sqrt(v)
            return float(v)
    if base:
        v = v / mpmath.log(base)
    return float(v)


def assert_close(got, want, rtol=1e-13, atol=0.0):
    """Relative agreement; infinities exactly; a zero divergence to O(eps**2).

    Proportional but unequal inputs (q = 3p) normalise to vectors that differ by an ulp, and a
    divergence is quadratic in that difference: 1e-32, not 0, is the honest float64 answer.
    """
    got = float(got)
    if math.isinf(want):
        assert got == want, (got, want)
    elif want == 0:
        assert 0 <= got <= max(atol, 1e-30), (got, want)
    else:
        assert abs(got - want) <= rtol * abs(want) + atol, (got, want, abs(got - want) / abs(want))




def kullback_script() -> list[str]:
    """The installed ``kullback`` console script (beside this interpreter, else on PATH)."""
    beside = Path(sys.executable).parent / "kullback"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("kullback")
    if found is None:  # pragma: no cover - the project is installed in the test environment
        pytest.skip("the kullback console script is not installed")
    return [found]
