"""Units of information: the logarithm base and its name.

Every measure in kullback is computed in nats (natural logarithm) and converted
once, at the end, by dividing by ``ln(base)``. ``base`` may be a finite number greater than 1
or a unit name. A base between 0 and 1 is refused: its logarithm is negative, so every entropy
and divergence would come out negative (and the JS distance undefined).

========  ==========================================  ========
unit      accepted spellings                          base
========  ==========================================  ========
nats      ``"nats"``, ``"nat"``, ``"nit"``, ``"e"``   e
bits      ``"bits"``, ``"bit"``, ``"shannon(s)"``     2
bans      ``"bans"``, ``"ban"``, ``"hartley(s)"``,    10
          ``"dit(s)"``, ``"decit(s)"``
========  ==========================================  ========

Numeric strings (``"2"``) are accepted too, which helps command-line use.

Examples
--------
>>> from kullback.units import resolve_unit
>>> resolve_unit("bits")
Unit(name='bits', base=2.0)
>>> resolve_unit(None).name
'nats'
>>> resolve_unit(3).name
'log base 3'
>>> round(resolve_unit("bans").from_nats(2.302585092994046), 12)
1.0
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

__all__ = ["Unit", "convert", "resolve_unit"]

_ALIASES: dict[str, str] = {
    "nats": "nats", "nat": "nats", "nit": "nats", "nits": "nats", "e": "nats",
    "natural": "nats",
    "bits": "bits", "bit": "bits", "shannon": "bits", "shannons": "bits",
    "bans": "bans", "ban": "bans", "hartley": "bans", "hartleys": "bans",
    "dit": "bans", "dits": "bans", "decit": "bans", "decits": "bans",
}
_BASES = {"nats": math.e, "bits": 2.0, "bans": 10.0}


@dataclass(frozen=True)
class Unit:
    """A unit of information.

    Parameters
    ----------
    name : str
        ``"nats"``, ``"bits"``, ``"bans"`` or ``"log base b"``.
    base : float
        The logarithm base.
    """

    name: str
    base: float

    @property
    def log_base(self) -> float:
        """``ln(base)``: the number of nats in one of this unit."""
        return 1.0 if self.name == "nats" else math.log(self.base)

    @property
    def symbol(self) -> str:
        """Short label for tables: ``nats``, ``bits``, ``bans`` or ``log_b``."""
        return self.name if self.name in _BASES else f"log_{_fmt(self.base)}"

    def from_nats(self, value: Any) -> Any:
        """Convert a value (number or array) in nats to this unit."""
        return value if self.name == "nats" else value / self.log_base

    def to_nats(self, value: Any) -> Any:
        """Convert a value (number or array) in this unit to nats."""
        return value if self.name == "nats" else value * self.log_base

    def __repr__(self) -> str:
        return f"Unit(name={self.name!r}, base={self.base!r})"


def _fmt(b: float) -> str:
    return str(int(b)) if float(b).is_integer() else repr(float(b))


_NATS = Unit("nats", math.e)


def resolve_unit(base: Any = None) -> Unit:
    """Turn a ``base`` argument into a :class:`Unit`.

    Parameters
    ----------
    base : None, number, str or Unit
        ``None`` means nats. A number must be finite and greater than 1.

    Returns
    -------
    Unit

    Raises
    ------
    ValueError
        For an unknown unit name or a base that is not a finite number greater than 1.
    TypeError
        For anything else (a list, a boolean, ...).

    Examples
    --------
    >>> resolve_unit(2).name, resolve_unit("Hartleys").name
    ('bits', 'bans')
    >>> resolve_unit(0.5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: base must be a finite number greater than 1 or a unit name (...); got 0.5
    """
    if base is None:
        return _NATS
    if isinstance(base, Unit):
        return base
    if isinstance(base, str):
        key = base.strip().lower()
        if key in _ALIASES:
            name = _ALIASES[key]
            return Unit(name, _BASES[name])
        try:
            number = float(key)
        except ValueError:
            raise ValueError(
                f"base: unknown unit {base!r}; use a finite number greater than 1 "
                "or one of nats, bits, bans (aliases: nat, e, bit, shannon, ban, hartley, dit)"
            ) from None
        return resolve_unit(number)
    if isinstance(base, bool) or not isinstance(base, numbers.Real):
        raise TypeError(
            f"base must be a number or a unit name (nats, bits, bans); got {type(base).__name__}"
        )
    b = float(base)
    if not (math.isfinite(b) and b > 1):
        raise ValueError(
            "base must be a finite number greater than 1 or a unit name "
            f"(nats, bits, bans); got {base!r}"
        )
    if b == 2:
        return Unit("bits", 2.0)
    if b == 10:
        return Unit("bans", 10.0)
    if b == math.e:
        return Unit("nats", math.e)
    return Unit(f"log base {_fmt(b)}", b)


def convert(value: Any, from_base: Any, to_base: Any) -> Any:
    """Convert an information quantity between units.

    Examples
    --------
    >>> convert(1.0, "bits", "nats")  # doctest: +ELLIPSIS
    0.6931471805599...
    >>> convert(1.0, 10, "bits")  # doctest: +ELLIPSIS
    3.3219280948873...
    """
    return resolve_unit(to_base).from_nats(resolve_unit(from_base).to_nats(value))
