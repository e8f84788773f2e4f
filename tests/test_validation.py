"""Validation: every bad input gets an error naming the argument, the problem and where."""

from __future__ import annotations

import math

import numpy as np
import pytest

import kullback as kb
from kullback.validation import check_masses, locate

# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: kb.entropy([0.2, -0.1, 0.9]), ValueError, r"p has a negative entry at position 1 \(-0.1\)"),
        (lambda: kb.kl_divergence([0.5, 0.5], [0.5, math.nan]), ValueError, "q has a NaN entry at position 1"),
        (lambda: kb.kl_divergence([0.5, math.inf], [0.5, 0.5]), ValueError, "p has an infinite entry at position 1"),
        (lambda: kb.entropy([[0.5, 0.5], [0, 0]]), ValueError, r"p has an all-zero slice along the axis at index 1"),
        (lambda: kb.entropy(np.zeros((2, 0))), ValueError, "empty axis"),
        (lambda: kb.kl_divergence([0.5, 0.5], [0.2, 0.3, 0.5]), ValueError, "same length along axis -1; got 2 and 3"),
        (lambda: kb.kl_divergence(np.ones((2, 3)), np.ones((4, 3))), ValueError, "do not broadcast"),
        (lambda: kb.entropy([0.5, 0.5], base=1), ValueError, "base must be a finite number greater than 1"),
        (lambda: kb.entropy([0.5, 0.5], base=-2), ValueError, "base must be a finite number greater than 1"),
        (lambda: kb.entropy([0.5, 0.5], base="furlongs"), ValueError, "unknown unit 'furlongs'"),
        (lambda: kb.entropy(["a", "b"]), TypeError, "p must hold real numbers"),
        (lambda: kb.entropy("0.5,0.5"), TypeError, "p must be an array or a sequence of numbers"),
        (lambda: kb.entropy([True, False]), TypeError, "p must hold real numbers"),
        (lambda: kb.entropy([1 + 1j, 1]), TypeError, "p must hold real numbers"),
        (lambda: kb.entropy([0.5, 0.5], axis=1), ValueError, "axis 1 is out of range for p"),
        (lambda: kb.entropy(0.5), ValueError, "p is a scalar"),
        (lambda: kb.entropy([0.5, 0.5], p_form="logit"), ValueError, "p_form must be one of"),
        (lambda: kb.entropy([0.0, math.inf], p_form="logits"), ValueError, r"p has an entry of \+inf at position 1"),
        (lambda: kb.entropy([-math.inf, -math.inf], p_form="logits"), ValueError, "all -inf"),
        (lambda: kb.entropy([0.0, 0.0], p_form="log_probs"), ValueError, "not normalised log-probabilities"),
        (lambda: kb.kl_divergence([1e308, 1e308], [1, 1]), ValueError, "p: the sum along the axis overflows"),
        (lambda: kb.entropy([0.5, 0.5], method="quad"), TypeError, "apply to distribution objects only"),
    ],
)
def test_bad_input_messages(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_bad_input_position_in_original_layout():
    p = np.ones((3, 4))
    p[2, 1] = -1
    with pytest.raises(ValueError, match=r"p has a negative entry at position \(2, 1\)"):
        kb.entropy(p, axis=0)


def test_different_array_libraries_refused():
    import torch

    jnp = pytest.importorskip("jax.numpy")
    with pytest.raises(TypeError, match="different array libraries"):
        kb.kl_divergence(torch.ones(2), jnp.ones(2))
    # a plain list, and a NumPy array (issue 14), joins the other argument's library
    r = kb.kl_divergence(torch.tensor([0.5, 0.5], dtype=torch.float64), [0.25, 0.75])
    assert isinstance(r, torch.Tensor)
    r = kb.kl_divergence(torch.ones(2), np.ones(2))
    assert isinstance(r, torch.Tensor) and float(r) == 0.0


def test_validate_false_skips_checks_but_lazy_never_computes():
    # validate=False: no error (and a meaningless number, as documented)
    kb.entropy(np.array([0.5, -0.1, 0.6]), validate=False)
    da = pytest.importorskip("dask.array")
    r = kb.entropy(da.from_array(np.array([0.5, -0.1, 0.6]), chunks=2))
    assert isinstance(r, da.Array)




def test_locate_and_check_masses_directly():
    import array_api_compat.numpy as xnp

    x = np.array([[0.1, 0.2], [0.3, -0.4]])
    assert locate("q", x, xnp) == "q has a negative entry at position (1, 1) (-0.4)"
    assert locate("q", np.array([0.1, 0.2]), xnp) == ""
    check_masses("p", np.array([0.0, 1.0]), np.array([1.0]), xnp)  # valid: no error
    with pytest.raises(ValueError, match="p has an all-zero slice"):
        check_masses("p", np.zeros(3), np.array([0.0]), xnp)


def test_jit_traced_inputs_skip_value_checks():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    # eager JAX arrays are checked ...
    with pytest.raises(ValueError, match="p has a negative entry at position 1"):
        kb.entropy(jnp.asarray([0.5, -0.1, 0.6]))
    # ... traced ones cannot be, and must not raise a concretization error
    out = jax.jit(kb.kl_divergence)(jnp.asarray([0.5, 0.5]), jnp.asarray([0.25, 0.75]))
    assert float(out) == pytest.approx(0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75))


def test_torch_inputs_are_checked_with_positions():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=r"q has a NaN entry at position \(0, 2\)"):
        kb.kl_divergence(torch.ones(2, 3), torch.tensor([[1.0, 1.0, math.nan], [1, 1, 1]]))
