"""Bad input to the binary cross-entropies (issue 14): a clear ValueError naming the argument,
on every backend whose values can be inspected; shapes are checked on every backend."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from kullback import losses


@pytest.mark.parametrize(("name", "x", "y", "where"), [
    ("input", [0.5, math.nan, 0.2], [1.0, 0.0, 1.0], "nan at index 1"),
    ("input", [[0.5, 0.1], [1.5, 0.2]], [[1.0, 0.0], [1.0, 1.0]], "1.5 at index (1, 0)"),
    ("input", [-0.0, -1e-300], [1.0, 0.0], "at index 1"),
    ("target", [0.5, 0.5, 0.2], [1.0, 2.0, 1.0], "2.0 at index 1"),
    ("target", [0.5, 0.5], [math.nan, 0.0], "nan at index 0"),
])
def test_bce_rejects_values_outside_unit_interval(backend, name, x, y, where):
    if backend.lazy:
        pytest.skip("lazy arrays are not inspected")
    xb, yb = backend.asarray(x), backend.asarray(y)
    with pytest.raises(ValueError, match=rf"binary_cross_entropy: {name} must hold "
                                         rf"probabilities in \[0, 1\]; got .*{re.escape(where)}"):
        losses.binary_cross_entropy(xb, yb)


def test_bce_rejects_bad_values_on_every_torch_path():
    torch = pytest.importorskip("torch")
    x = torch.tensor([0.5, math.nan], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0], dtype=torch.float64)
    for xx, yy in ((x, y), (x.clone().requires_grad_(), y), (x, y.clone().requires_grad_()),
                   (x.float(), y.float()), (x.to(torch.bfloat16), y.to(torch.bfloat16))):
        with pytest.raises(ValueError, match="input must hold probabilities"):
            losses.binary_cross_entropy(xx, yy)
    with pytest.raises(ValueError, match="target must hold probabilities"):
        losses.binary_cross_entropy(torch.tensor([0.5]), torch.tensor([2.0]))


WRONG = [
    ("binary_cross_entropy", "weight", (3,), (2, 4)),
    ("binary_cross_entropy", "weight", (2, 4, 1), (2, 4)),     # would grow the result
    ("binary_cross_entropy_with_logits", "weight", (2,), (2, 4)),
    ("binary_cross_entropy_with_logits", "pos_weight", (3,), (2, 4)),
    ("binary_cross_entropy_with_logits", "pos_weight", (3, 2, 4), (2, 4)),
]


@pytest.mark.parametrize(("loss", "name", "wshape", "shape"), WRONG)
def test_wrong_shape_weights_name_argument_and_shapes(backend, loss, name, wshape, shape):
    x = backend.asarray(np.full(shape, 0.5))
    w = backend.asarray(np.ones(wshape))
    message = (rf"{loss}: {name} of shape \({', '.join(map(str, wshape))},?\) does not "
               rf"broadcast to the input's shape \({', '.join(map(str, shape))}\)")
    with pytest.raises(ValueError, match=message):
        getattr(losses, loss)(x, x, **{name: w})


@pytest.mark.parametrize("name", ["weight", "pos_weight"])
def test_weights_that_broadcast_are_accepted(backend, name):
    # (4,) and (1, 4) broadcast to (2, 4): the same value as the explicit full weight
    x = np.array([[0.2, 0.4, 0.6, 0.8], [0.9, 0.1, 0.5, 0.3]])
    y = np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0]])
    w = np.array([0.5, 1.0, 2.0, 3.0])
    fn = losses.binary_cross_entropy_with_logits
    full = fn(x, y, reduction="none", **{name: np.broadcast_to(w, x.shape).copy()})
    for wb in (w, w[None, :]):
        got = fn(backend.asarray(x), backend.asarray(y), reduction="none",
                 **{name: backend.asarray(wb)})
        np.testing.assert_allclose(backend.to_numpy(got), full, rtol=1e-14)
