r"""Measures of a joint table: joint entropy, conditional entropy, mutual information.

A joint table ``pxy`` (probabilities or counts) has ``axes[0]`` indexing X and ``axes[1]``
indexing Y; every other axis is a batch axis. Each measure is one of the table's measures on
operands derived from ``pxy``, so it inherits their numerics (and the blocked driver on large
NumPy inputs):

* :math:`H(X, Y)`: the entropy of the flattened table;
* :math:`H(Y \mid X) = \sum_x p(x)\, H(Y \mid X = x)` — a weighted sum of row entropies, each
  non-negative, which equals :math:`H(X, Y) - H(X)` without subtracting;
* :math:`I(X; Y) = \mathrm{KL}(p(x, y) \,\|\, p(x) p(y))` — Bregman KL terms, never negative,
  and zero for a product table up to the rounding of the table itself (the textbook
  :math:`H(X) + H(Y) - H(X, Y)` cancels to noise of either sign there).

Examples
--------
>>> import kullback as kb
>>> pxy = [[0.4, 0.1], [0.1, 0.4]]
>>> round(float(kb.mutual_information(pxy, base="bits")), 6)  # 1 - h(0.2)
0.278072
>>> round(float(kb.joint_entropy(pxy, base="bits")), 6), round(
...     float(kb.conditional_entropy(pxy, base="bits")), 6)
(1.721928, 0.721928)
>>> float(kb.mutual_information([[0.06, 0.14], [0.24, 0.56]]))  # a product table
0.0
"""

from __future__ import annotations

from typing import Any

from kullback import _xp
from kullback.measures.discrete import entropy, kl_divergence
from kullback.validation import check_masses

__all__ = ["conditional_entropy", "joint_entropy", "mutual_information"]


def _table(pxy: Any, axes: Any, validate: bool) -> tuple[Any, Any]:
    """``(xp, t)`` with the X and Y axes of ``pxy`` moved to the last two positions.

    With ``validate`` (and a concrete array), the values are checked first: negative, NaN or
    infinite entries and tables of zero mass raise, naming the position in ``pxy`` itself.
    """
    xp, t = _xp.as_namespace_array(pxy, "pxy")
    if t.ndim < 2:
        raise ValueError(f"pxy must have at least 2 dimensions (X and Y); got shape {t.shape}")
    try:
        ax, ay = (int(a) for a in axes)
    except (TypeError, ValueError):
        raise TypeError(f"axes must be a pair of integers; got {axes!r}") from None
    nd = t.ndim
    for a in (ax, ay):
        if not -nd <= a < nd:
            raise ValueError(f"axes {axes!r} out of range for pxy with {nd} dimensions")
    ax, ay = ax % nd, ay % nd
    if ax == ay:
        raise ValueError(f"axes must name two different axes; got {axes!r}")
    if t.shape[ax] == 0 or t.shape[ay] == 0:
        raise ValueError(f"pxy has an empty X or Y axis (shape {tuple(t.shape)})")
    if not xp.isdtype(t.dtype, "real floating"):
        t = xp.astype(t, _xp.compute_dtype(xp, _xp.float_dtype(xp, t)))
    if validate and not _xp.is_lazy(t):
        check_masses("pxy", t, xp.sum(t, axis=(ax, ay)), xp)
    if (ax, ay) != (nd - 2, nd - 1):
        t = xp.moveaxis(t, (ax, ay), (-2, -1))
    return xp, t


def _flat(xp: Any, t: Any) -> Any:
    """The X and Y axes merged into one outcome axis (row-major)."""
    shape = tuple(t.shape)
    return xp.reshape(t, (*shape[:-2], shape[-2] * shape[-1]))


def joint_entropy(pxy: Any, *, axes: tuple[int, int] = (-2, -1), base: Any = None,
                  validate: bool = True) -> Any:
    r"""Joint entropy :math:`H(X, Y) = -\sum_{x,y} p(x,y) \log p(x,y)`.

    Parameters
    ----------
    pxy : array_like
        Joint probabilities or counts; ``axes[0]`` indexes X, ``axes[1]`` indexes Y, other
        axes are batch axes. Any array library.
    axes : pair of int, optional
        The X and Y axes.
    base : None, float or str, optional
        Logarithm base or unit name.
    validate : bool, optional
        Check the values (see :func:`kullback.entropy`).

    Returns
    -------
    array
        :math:`H(X, Y)`, batch axes kept, in the input's array library.

    Examples
    --------
    >>> import kullback as kb
    >>> float(kb.joint_entropy([[1, 1], [1, 1]], base=2))  # counts: uniform on 4 cells
    2.0
    """
    xp, t = _table(pxy, axes, validate)
    return entropy(_flat(xp, t), base=base, validate=False)


def conditional_entropy(pxy: Any, *, axes: tuple[int, int] = (-2, -1), base: Any = None,
                        validate: bool = True) -> Any:
    r"""Conditional entropy :math:`H(Y \mid X) = H(X, Y) - H(X)`.

    Computed as :math:`\sum_x p(x) H(Y \mid X = x)`: row entropies weighted by the row masses
    (rows of zero mass contribute nothing), so no subtraction loses digits.

    Parameters are as for :func:`joint_entropy`; ``axes[0]`` is the conditioning variable X.

    Examples
    --------
    >>> import kullback as kb
    >>> float(kb.conditional_entropy([[0.5, 0.0], [0.0, 0.5]]))  # Y = X
    0.0
    >>> float(kb.conditional_entropy([[0.25, 0.25], [0.5, 0.0]], base=2))  # half a bit
    0.5
    """
    xp, t = _table(pxy, axes, validate)
    rows = xp.sum(t, axis=-1)                       # mass of each x (unnormalised)
    total = xp.sum(rows, axis=-1, keepdims=True)
    empty = rows == 0
    safe = xp.where(empty[..., None], xp.ones_like(t), t)  # any row: its weight is 0
    h_rows = entropy(safe, base=base, validate=False)
    return xp.sum((rows / total) * xp.where(empty, 0.0, h_rows), axis=-1)


def mutual_information(pxy: Any, *, axes: tuple[int, int] = (-2, -1), base: Any = None,
                       validate: bool = True) -> Any:
    r"""Mutual information :math:`I(X; Y) = \mathrm{KL}(p(x, y) \,\|\, p(x)\,p(y))`.

    Parameters are as for :func:`joint_entropy`.

    Returns
    -------
    array
        :math:`I(X;Y) \ge 0`, zero for independent X and Y (a product table), at most
        :math:`\min(H(X), H(Y))`.

    Examples
    --------
    >>> import kullback as kb
    >>> round(float(kb.mutual_information([[10, 0], [0, 30]], base=2)), 6)  # I = H(X)
    0.811278
    """
    xp, t = _table(pxy, axes, validate)
    total = xp.sum(xp.sum(t, axis=-1), axis=-1)[..., None, None]
    P = t / total
    product = xp.sum(P, axis=-1)[..., :, None] * xp.sum(P, axis=-2)[..., None, :]
    return kl_divergence(_flat(xp, P), _flat(xp, product), base=base, validate=False)


