"""What every benchmark prints about the machine: the CPU, its SIMD level, thread scaling.

Ratios against SciPy or torch depend on how fast this CPU evaluates ``log``/``exp`` and on
whether a second thread helps, so every table starts with these lines.
"""

from __future__ import annotations

import os
import platform
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["cpu_model", "describe", "simd_level", "threads_scale"]


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def simd_level() -> str:
    """The widest SIMD extension NumPy dispatches to on this CPU."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as feats
    except ImportError:  # pragma: no cover - older NumPy
        return "unknown"
    order = ["SSE42", "AVX2", "AVX512F", "AVX512_SKX", "AVX512_ICL", "AVX512_SPR"]
    have = [k for k in order if feats.get(k)]
    return have[-1] if have else "baseline"


def threads_scale(n: int = 1 << 22) -> float:
    """Speed-up of ``np.log`` over ``n`` float64 on all cores against one (1.0: no scaling)."""
    x = np.random.default_rng(0).random(n) + 0.5
    out = np.empty_like(x)
    workers = os.cpu_count() or 1

    def one(lo: int, hi: int) -> None:
        np.log(x[lo:hi], out=out[lo:hi])

    def timed(k: int) -> float:
        bounds = [n * i // k for i in range(k + 1)]
        with ThreadPoolExecutor(k) as pool:
            best = float("inf")
            for _ in range(5):
                t0 = time.perf_counter()
                list(pool.map(one, bounds[:-1], bounds[1:]))
                best = min(best, time.perf_counter() - t0)
        return best

    return timed(1) / timed(workers) if workers > 1 else 1.0


def describe() -> str:
    """One line: CPU, cores, SIMD level and whether threads scale."""
    s = threads_scale()
    return (f"CPU: {cpu_model()} ({os.cpu_count()} logical), SIMD {simd_level()}, "
            f"threads scale np.log by {s:.2f}x ({'yes' if s > 1.3 else 'no'})")
