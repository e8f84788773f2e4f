"""Distribution drift between two tables: every column compared exactly, and explained.

:func:`drift` bins each column of a reference and a current table the same way (categories;
equal-mass bins at the reference's exact quantiles for numbers; null/NaN as its own
``"(missing)"`` bin) and scores the two count vectors with kullback's core: KL both ways, JS
divergence and distance, and PSI (the symmetrised KL), each with its per-bin terms, optional
bootstrap intervals and a permutation p-value. Inputs are pandas, polars or Dask DataFrames,
pyarrow Tables, or Parquet/CSV files streamed in batches. pandas, pyarrow, Dask and matplotlib
are imported only when used (``pip install 'kullback[drift]'``).

- :mod:`~kullback.drift._api`: :func:`drift`, the passes over the tables;
- :mod:`~kullback.drift._sources`: one reader per kind of input;
- :mod:`~kullback.drift._counting`: the mergeable per-batch counts;
- :mod:`~kullback.drift._quantiles`: exact quantiles by radix selection, in bounded memory;
- :mod:`~kullback.drift._scores`: scores, bootstrap and permutation through the core;
- :mod:`~kullback.drift._report`: :class:`DriftReport` and :class:`ColumnDrift`;
- :mod:`~kullback.drift._plot`: the small-multiples figure.

Examples
--------
>>> import pandas as pd
>>> from kullback.drift import drift
>>> ref = pd.DataFrame({"x": range(100)})
>>> r = drift(ref, ref, bins=4)      # or kullback.drift(ref, ref, bins=4)
>>> r["x"].edges, r["x"].reference.tolist(), r["x"].psi
((24.0, 49.0, 74.0), [25, 25, 25, 25], 0.0)
"""

from __future__ import annotations

import inspect
import sys
from types import ModuleType
from typing import Any

from kullback.drift._api import drift
from kullback.drift._report import ColumnDrift, DriftReport
from kullback.drift._sources import DriftInputError

__all__ = ["ColumnDrift", "DriftInputError", "DriftReport", "drift"]


class _CallableModule(ModuleType):
    """``kullback.drift`` is both this subpackage and the function :func:`drift`.

    Importing a submodule binds it as an attribute of its package, which would shadow a
    function of the same name exported by ``kullback``; calling the module calls the function,
    so ``kb.drift(reference, current)`` works whichever of the two the name holds.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> DriftReport:
        return drift(*args, **kwargs)

    __call__.__doc__ = drift.__doc__
    __call__.__signature__ = inspect.signature(drift).replace(parameters=[  # type: ignore[attr-defined]
        inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY),
        *inspect.signature(drift).parameters.values(),
    ])


sys.modules[__name__].__class__ = _CallableModule
