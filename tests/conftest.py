"""Shared fixtures: one backend fixture runs a test on every installed array library."""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("JAX_ENABLE_X64", "1")  # float64 tests on JAX too; float32 is tested explicitly

SHARED = Path(__file__).resolve().parents[2] / "shared"
if not SHARED.exists():  # a clone without shared/ beside it: the copy in tests/data
    SHARED = Path(os.environ.get("KULLBACK_SHARED", Path(__file__).resolve().parent / "data"))

_BACKENDS = {
    "numpy": "numpy",
    "array_api_strict": "array_api_strict",
    "torch": "torch",
    "jax": "jax.numpy",
    "dask": "dask.array",
}


def _load(name: str):
    try:
        return importlib.import_module(_BACKENDS[name])
    except ImportError:
        return None


class Backend:
    """An array library under test: its namespace plus helpers to move data in and out."""

    def __init__(self, name: str, module):
        self.name = name
        self.xp = module
        self.lazy = name == "dask"

    def asarray(self, x, dtype: str = "float64"):
        a = np.asarray(x, dtype=dtype)
        if self.name == "torch":
            import torch

            return torch.asarray(a)
        if self.name == "dask":
            import dask.array as da

            return da.from_array(a, chunks=max(1, a.shape[-1] // 2) if a.ndim else ())
        return self.xp.asarray(a)

    def to_numpy(self, x) -> np.ndarray:
        if self.name == "dask":
            import dask

            (x,) = dask.compute(x, scheduler="threads")
        if self.name == "torch":
            return x.detach().cpu().numpy()
        if self.name == "array_api_strict":
            return np.asarray(x._array) if hasattr(x, "_array") else np.asarray(x)
        return np.asarray(x)

    def __repr__(self) -> str:
        return self.name


@pytest.fixture(params=list(_BACKENDS), scope="session")
def backend(request) -> Backend:
    """Every installed array library: numpy, array_api_strict, torch, jax, dask."""
    module = _load(request.param)
    if module is None:
        pytest.skip(f"{request.param} is not installed")
    return Backend(request.param, module)


@pytest.fixture(scope="session")
def discrete_reference() -> list[dict]:
    """mpmath (60-digit) reference values from shared/reference/discrete.json."""
    path = SHARED / "reference" / "discrete.json"
    if not path.exists():
        pytest.skip(f"{path} not found")
    return json.loads(path.read_text())["cases"]


@pytest.fixture(scope="session")
def distributions_reference() -> dict:
    """mpmath (50-digit) reference values from shared/reference/distributions.json."""
    path = SHARED / "reference" / "distributions.json"
    if not path.exists():
        pytest.skip(f"{path} not found")
    return json.loads(path.read_text())
