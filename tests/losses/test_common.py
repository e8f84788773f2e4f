"""kullback.losses._common: one laziness check (eager JAX is not lazy, so it takes the native
log-softmax and is validated), the namespace cache, and shape checks that need no computation."""

from __future__ import annotations

import numpy as np
import pytest

from kullback import losses
from kullback.losses import _common


def test_eager_jax_is_not_lazy_validated_and_native(monkeypatch):
    # array_api_compat.is_lazy_array is True for every JAX array, which skipped the value
    # checks and the native kernels on eager JAX; kullback._xp.is_lazy is True for tracers only
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    x = jnp.asarray([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    y = jnp.asarray([1, 2])
    assert not _common.is_lazy(x)
    with pytest.raises(ValueError, match=r"outside \[0, 3\).*: 3 at index 1"):
        losses.cross_entropy(x, jnp.asarray([1, 3]))
    with pytest.raises(ValueError, match=r"input must hold probabilities.*at index 0"):
        losses.binary_cross_entropy(jnp.asarray([1.5]), jnp.asarray([1.0]))
    seen = []

    def traced(xx, yy):
        seen.append(_common.is_lazy(xx))
        return losses.cross_entropy(xx, yy)

    eager, jitted = losses.cross_entropy(x, y), jax.jit(traced)(x, y)
    assert seen == [True]
    want = -np.mean([np.log(np.exp(2.0) / np.exp([1.0, 2.0, 0.5]).sum()),
                     np.log(np.exp(3.0) / np.exp([0.0, -1.0, 3.0]).sum())])
    np.testing.assert_allclose([float(eager), float(jitted)], [want, want], rtol=1e-6)
    # the eager log-softmax of the distillation loss is jax.nn.log_softmax
    calls = []
    native = jax.nn.log_softmax
    monkeypatch.setattr(jax.nn, "log_softmax", lambda *a, **k: calls.append(1) or native(*a, **k))
    losses.distillation(x, x + 1.0)
    assert calls == [1, 1]


def test_namespace_is_cached_per_type_mix_and_mixing_libraries_raises():
    torch = pytest.importorskip("torch")
    a = np.zeros(2)
    xp, kind = _common.namespace(a, None)
    assert kind == "other" and _common.namespace(np.ones(3), None)[0] is xp
    assert _common.namespace(torch.zeros(2))[1] == "torch"
    with pytest.raises(TypeError, match="one array library"):
        _common.namespace(a, torch.zeros(2))


@pytest.mark.parametrize(("shape", "fits"), [
    ((), True), ((4,), True), ((1, 4), True), ((3, 1), True), ((3, 4), True),
    ((2,), False), ((4, 1), False), ((1, 3, 4), False), ((2, 3, 4), False),
])
def test_check_broadcast_against_numpy(shape, fits):
    # NumPy's own rule, restricted to results of the target shape (3, 4)
    try:
        np_fits = np.broadcast_shapes(shape, (3, 4)) == (3, 4)
    except ValueError:
        np_fits = False
    assert np_fits == fits
    w = np.ones(shape)
    if fits:
        _common.check_broadcast(w, (3, 4), "weight", "f")
    else:
        with pytest.raises(ValueError, match=r"f: weight of shape .* does not broadcast to the "
                                             r"input's shape \(3, 4\)"):
            _common.check_broadcast(w, (3, 4), "weight", "f")


def test_kl_div_shapes_that_do_not_broadcast():
    with pytest.raises(ValueError, match=r"input shape \(2, 3\) and target shape \(4,\)"):
        losses.kl_div(np.zeros((2, 3)), np.zeros(4))
