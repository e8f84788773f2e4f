"""The dispatcher behind the public functions: which method computes a quantity, and the
conversion of its result (unit, batch shape, library, one :class:`~kullback.Estimate`).

Each method is one function ``(what, P, Q, opts) -> (value, error)`` in :data:`STEPS`; each
``method=`` option is the sequence of steps it tries (:data:`PLANS`). A step that does not
apply raises :class:`_Skip` with the reason; the first step that applies answers.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from kullback._result import Estimate
from kullback.distributions import _closed_forms as cf
from kullback.distributions import _quadrature as nq
from kullback.distributions._family import Dist, batch_shape, normalise
from kullback.distributions._register import lookup_kl
from kullback.units import resolve_unit

__all__ = ["PLANS", "STEPS", "measure", "plan"]

_NAMES = {"entropy": "H", "cross": "H", "kl": "KL", "js": "JS"}


class _Skip(Exception):
    """This step does not apply to the pair; the message says why."""


# ----------------------------------------------------------------------------- the steps


def _closed_step(what: str, P: Dist, Q: Dist | None, opts) -> tuple[Any, Any]:
    try:
        return _closed(what, P, Q), None
    except (NotImplementedError, cf.NotApplicable) as exc:
        raise _Skip(str(exc)) from None


def _closed(what: str, P: Dist, Q: Dist | None):
    if what == "js":
        if {P.kind, Q.kind} == {"continuous", "discrete"}:
            return _js_mutually_singular(P, Q)
        return cf.closed_js(P, Q)
    if what == "entropy":
        if not cf.has_closed_entropy(P):
            return _torch_closed(what, P, Q)
        return cf.closed_entropy(P)
    try:
        return cf.closed_kl(P, Q) if what == "kl" else cf.closed_cross(P, Q)
    except NotImplementedError:
        return _torch_closed(what, P, Q)


def _js_mutually_singular(P: Dist, Q: Dist):
    """A continuous and a discrete distribution are mutually singular: JS = log 2."""
    import numpy as np

    shape = np.broadcast_shapes(batch_shape(P), batch_shape(Q))
    return np.full(shape, math.log(2.0))


def _torch_closed(what: str, P: Dist, Q: Dist | None):
    """Delegate to torch's own registry for torch families kullback has no formula for."""
    if P.source != "torch" or (Q is not None and Q.source != "torch"):
        raise NotImplementedError("no formula registered for this pair")
    if _declared(P) and (Q is None or _declared(Q)):
        raise NotImplementedError("no formula registered for this pair")
    import torch.distributions as td

    try:
        if what == "entropy":
            return P.obj.entropy()
        kl = td.kl_divergence(P.obj, Q.obj)
        return kl if what == "kl" else P.obj.entropy() + kl
    except NotImplementedError:
        raise NotImplementedError("neither kullback nor torch.distributions registers it") from None


def _declared(d: Dist) -> bool:
    """Whether kullback declares the family (for Independent: its base's family too)."""
    if d.family == "independent":
        return _declared(d.params["base"])
    return d.spec is not None


def _numeric_step(step: str, kind: str, compute):
    """The step that computes ``what`` numerically for a pair of univariate ``kind``s."""

    def run(what: str, P: Dist, Q: Dist | None, opts) -> tuple[Any, Any]:
        if not _applies(step, P, Q):
            if opts.method == step:
                raise ValueError(f"method={step!r} needs univariate {kind} distributions; "
                                 f"{_pair_name(what, P, Q)} is not")
            raise _Skip(f"not a pair of univariate {kind} distributions")
        return compute(P, Q, what, float(opts.rtol))

    return run


def _mc_step(what: str, P: Dist, Q: Dist | None, opts) -> tuple[Any, Any]:
    return nq.monte_carlo(P, Q, what, int(opts.n_samples), opts.random_state)


STEPS = {"closed": _closed_step, "sum": _numeric_step("sum", "discrete", nq.discrete_sum),
         "quad": _numeric_step("quad", "continuous", nq.quadrature), "mc": _mc_step}
PLANS = {"auto": ("closed", "sum", "quad"), "closed": ("closed",), "sum": ("sum",),
         "quad": ("quad",), "mc": ("mc",)}


# ----------------------------------------------------------------------------- entry points


def measure(what: str, P: Any, Q: Any, opts) -> Any:
    """``what`` ("entropy", "cross", "kl", "js") of P (and Q) under the options ``opts``."""
    import numpy as np

    # NumPy closed forms evaluate every branch of a where(); the unused ones may overflow or
    # divide by zero harmlessly, so floating-point warnings are silenced here
    with np.errstate(all="ignore"):
        user = _user_formula(what, P, Q, opts)
        if user is not None:
            return user
        Pd, Qd = _normalised(what, P, Q, opts.validate)
        used, value, error = _run(what, Pd, Qd, opts)
        return _result(what, used, value, error, Pd, Qd, opts)


def plan(what: str, P: Any, Q: Any, opts) -> str:
    """The step that ``method="auto"`` would use (nothing is computed but closed-form probes)."""
    if what in ("kl", "cross") and Q is not None and lookup_kl(P, Q) is not None:
        return "closed"
    Pd, Qd = _normalised(what, P, Q, True)
    for step in PLANS["auto"]:
        if step == "closed":
            if _has_closed(what, Pd, Qd):
                return "closed"
        elif _applies(step, Pd, Qd):
            return step
    raise NotImplementedError(_no_method_message(what, Pd, Qd, ""))


def _has_closed(what: str, P: Dist, Q: Dist | None) -> bool:
    if what == "entropy" and not cf.has_closed_entropy(P):
        return P.source == "torch" and P.spec is None and _torch_has_entropy(P)
    if what == "entropy":
        return True
    try:
        _closed(what, P, Q)
    except (NotImplementedError, cf.NotApplicable):
        return False
    return True


def _torch_has_entropy(P: Dist) -> bool:
    try:
        P.obj.entropy()
    except NotImplementedError:
        return False
    return True


def _applies(step: str, P: Dist, Q: Dist | None) -> bool:
    if step == "sum":
        return P.univariate_discrete and (Q is None or Q.univariate_discrete)
    return P.univariate_continuous and (Q is None or Q.univariate_continuous)


def _normalised(what: str, P: Any, Q: Any, validate: bool) -> tuple[Dist, Dist | None]:
    Pd = normalise(P, validate)
    Qd = normalise(Q, validate) if what != "entropy" else None
    if Qd is not None and what != "js":
        _check_compatible(Pd, Qd)
    return Pd, Qd


def _run(what: str, P: Dist, Q: Dist | None, opts) -> tuple[str, Any, Any]:
    """(step used, value, error) from the first step of the plan that applies."""
    reasons = []
    for step in PLANS[opts.method]:
        try:
            value, error = STEPS[step](what, P, Q, opts)
        except _Skip as skip:
            reasons.append(str(skip))
            continue
        return step, value, error
    reason = reasons[0] if reasons else ""
    if opts.method == "closed":
        raise NotImplementedError(
            f"no closed form for {_pair_name(what, P, Q)}: {reason}. Try method='auto' "
            "(quadrature or summation where they apply) or method='mc'"
        )
    raise NotImplementedError(_no_method_message(what, P, Q, reason))


def _no_method_message(what: str, P: Dist, Q: Dist | None, reason: str) -> str:
    return (f"no closed form, quadrature or summation applies to {_pair_name(what, P, Q)}"
            + (f" ({reason})" if reason else "")
            + "; use method='mc' for a seeded Monte Carlo estimate with its standard error")


def _check_compatible(P: Dist, Q: Dist) -> None:
    if {P.kind, Q.kind} == {"continuous", "discrete"}:
        raise ValueError(
            f"P = {P.label} is {P.kind} and Q = {Q.label} is {Q.kind}: they have no common "
            "reference measure, so cross-entropy and KL are undefined"
        )


def _pair_name(what: str, P: Dist, Q: Dist | None) -> str:
    if what == "entropy":
        return f"H({P.label})"
    sep = ", " if what == "js" else " || "
    return f"{_NAMES[what]}({P.label}{sep}{Q.label})"


# ----------------------------------------------------------------------------- users' formulas


def _user_formula(what: str, P: Any, Q: Any, opts) -> Any:
    """The result from a formula registered with ``register_kl``, or None."""
    if what not in ("kl", "cross") or opts.method not in ("auto", "closed"):
        return None
    fn = lookup_kl(P, Q)
    if fn is None:
        return None
    kl = fn(P, Q)
    value = kl
    if what == "cross":
        h = measure("entropy", P, None, replace(opts, base=None, return_error=False))
        value = h + kl
    return _as_result(value, None, "closed", _is_tensor(value), None, opts)


# ----------------------------------------------------------------------------- the result


def _result(what: str, used: str, value, error, P: Dist, Q: Dist | None, opts) -> Any:
    if what in ("kl", "js") and used != "mc":
        value = _clamp(value)
    value = _broadcast(value, P, Q)
    torch_out = P.source == "torch" or (Q is not None and Q.source == "torch")
    return _as_result(value, error, used, torch_out, _tensor_ref(P, Q), opts)


def _as_result(value, error, used: str, torch_out: bool, ref, opts) -> Any:
    """Unit, library and dtype of the output; an :class:`Estimate` on request."""
    unit = resolve_unit(opts.base)
    value = unit.from_nats(value)
    error = _zeros_like(value) if error is None else unit.from_nats(error)
    value, error = _to_output(value, error, torch_out, ref)
    if not opts.return_error:
        return value
    return Estimate(value=value, method=used, unit=unit.name, error=error)


def _broadcast(value, P: Dist, Q: Dist | None):
    """Give the result the full broadcast batch shape of P and Q (an entropy that depends on
    the scale only still has one entry per location)."""
    import numpy as np

    shape = np.broadcast_shapes(batch_shape(P), batch_shape(Q) if Q is not None else ())
    if _is_tensor(value):
        if tuple(value.shape) == shape:
            return value
        import torch

        return value + torch.zeros(shape, dtype=value.dtype, device=value.device)
    value = np.asarray(value, dtype=np.float64)
    return value if value.shape == shape else value + np.zeros(shape)


def _is_tensor(x) -> bool:
    return type(x).__module__.startswith("torch")


def _clamp(value):
    if _is_tensor(value):
        return value.clamp(min=0.0)
    import numpy as np

    return np.maximum(value, 0.0)


def _zeros_like(value):
    if _is_tensor(value):
        import torch

        return torch.zeros_like(value.detach())
    import numpy as np

    return np.zeros(np.shape(value))


def _to_output(value, error, torch_out: bool, ref):
    """Tensors for torch inputs (in the dtype of their parameters), NumPy otherwise."""
    import numpy as np

    if torch_out:
        import torch

        if not isinstance(value, torch.Tensor):
            dtype = ref.dtype if ref is not None else torch.get_default_dtype()
            value = torch.as_tensor(np.asarray(value, dtype=np.float64), dtype=dtype)
        if not isinstance(error, torch.Tensor):
            error = torch.as_tensor(np.asarray(error, dtype=np.float64), dtype=value.dtype)
        return value, error
    value = np.asarray(value, dtype=np.float64)
    error = np.asarray(error, dtype=np.float64)
    if value.ndim == 0:
        return np.float64(value), np.float64(error)
    return value, error


def _tensor_ref(P: Dist, Q: Dist | None):
    """A parameter tensor of P (else Q) whose dtype the result takes; None if there is none.

    Reads the canonical parameters, then torch's declared ``arg_constraints`` of a generic
    object (and of its base distribution), never a property such as ``mean`` that a generic
    TransformedDistribution does not implement.
    """
    for d in (P, Q):
        if d is None:
            continue
        for v in d.params.values():
            if _is_tensor(v):
                return v
        if d.source == "torch":
            ref = _declared_tensor(d.obj)
            if ref is not None:
                return ref
    return None


def _declared_tensor(obj, depth: int = 0):
    for name in getattr(obj, "arg_constraints", {}):
        v = obj.__dict__.get(name)
        if _is_tensor(v):
            return v
    base = getattr(obj, "base_dist", None)
    return _declared_tensor(base, depth + 1) if base is not None and depth < 8 else None
