"""kullback vs SciPy on large discrete inputs: time ratios and peak extra memory, side by side.

Run:  python benchmarks/bench_discrete.py [--repeat N] [--quick]

For each measure and size, both libraries get the same float64 input (uniform random masses,
normalised by each library) in one process. Time is the best of ``--repeat`` runs; "extra
memory" is the peak of memory allocated during one call beyond its inputs and output, as
traced by ``tracemalloc`` (NumPy reports its buffers to it), shown as a percentage of the input
size. The peers: ``scipy.stats.entropy`` (entropy and KL), ``scipy.special.rel_entr(p, q).sum()``
on pre-normalised inputs (KL's bare kernel, which checks nothing: "kl unchecked" is kullback with
``validate=False`` against it), and ``scipy.spatial.distance.jensenshannon``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import scipy
from scipy import special, stats
from scipy.spatial.distance import jensenshannon

import kullback as kb


def best_time(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm up (thread pool, caches)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def peak_extra(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - base


def _cases(p: np.ndarray, q: np.ndarray, axis: int) -> list[tuple]:
    """(name, peer, ours, theirs, input bytes) for one input pair."""
    pn = p / p.sum(axis=axis, keepdims=True)
    qn = q / q.sum(axis=axis, keepdims=True)
    return [
        ("entropy", "stats.entropy(p)", lambda: kb.entropy(p, axis=axis),
         lambda: stats.entropy(p, axis=axis), p.nbytes),
        ("kl", "stats.entropy(p, q)", lambda: kb.kl_divergence(p, q, axis=axis),
         lambda: stats.entropy(p, q, axis=axis), p.nbytes + q.nbytes),
        ("kl (normed)", "rel_entr(p, q).sum()", lambda: kb.kl_divergence(pn, qn, axis=axis),
         lambda: special.rel_entr(pn, qn).sum(axis=axis), pn.nbytes + qn.nbytes),
        ("kl unchecked", "rel_entr(p, q).sum()",
         lambda: kb.kl_divergence(pn, qn, axis=axis, validate=False),
         lambda: special.rel_entr(pn, qn).sum(axis=axis), pn.nbytes + qn.nbytes),
        ("js distance", "jensenshannon(p, q)", lambda: kb.js_distance(p, q, axis=axis),
         lambda: jensenshannon(p, q, axis=axis), p.nbytes + q.nbytes),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="1e6 only")
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    sizes: list[tuple[str, tuple[int, ...], int]] = [("1e6", (10**6,), -1)]
    if not args.quick:
        sizes += [("1e7", (10**7,), -1), ("1000x10000 ax1", (1000, 10_000), 1)]

    print(
        f"# kullback {kb.__version__} vs scipy {scipy.__version__}, numpy {np.__version__}, "
        f"Python {platform.python_version()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    header = (
        f"{'measure':<12} {'size':<15} {'peer':<24} {'kullback ms':>11} {'peer ms':>9} "
        f"{'speed-up':>8} {'kb extra mem':>13} {'peer extra':>11} {'max rel diff':>12}"
    )
    print(header)
    print("-" * len(header))
    for label, shape, axis in sizes:
        p = rng.random(shape)
        q = rng.random(shape)
        cases = _cases(p, q, axis)
        for name, peer, ours, theirs, in_bytes in cases:
            t_ours = best_time(ours, args.repeat)
            t_peer = best_time(theirs, max(3, args.repeat // 2))
            m_ours = peak_extra(ours)
            m_peer = peak_extra(theirs)
            a = np.asarray(ours(), dtype=float)
            b = np.asarray(theirs(), dtype=float)
            rel = float(np.max(np.abs(a - b) / np.abs(b)))
            print(
                f"{name:<12} {label:<15} {peer:<24} {t_ours * 1e3:11.1f} {t_peer * 1e3:9.1f} "
                f"{t_peer / t_ours:7.1f}x {m_ours / 2**20:7.2f} MiB {100 * m_ours / in_bytes:3.0f}%"
                f" {100 * m_peer / in_bytes:9.0f}% {rel:12.1e}"
            )


if __name__ == "__main__":
    main()
