"""kullback vs SciPy on NumPy inputs, every size and batch shape: time ratios side by side.

Run:  python benchmarks/bench_discrete.py [--repeat N] [--quick] [--huge] [--memory]
      [--clock wall|cpu] [--only SUBSTRING ...] [--shapes LABEL ...] [--measures NAME ...]

One process, the same input for both libraries, best of ``--repeat`` runs (interleaved, so a
noisy neighbour slows both). ``--clock cpu`` times the process's CPU time instead of the wall
clock: on a machine shared with other jobs it does not count the time a thread waits for a
core (it does count every thread's work, so it suits a machine whose threads do not scale).
``--only`` keeps the rows whose "dtype measure shape" label contains one of the substrings;
``--shapes`` the shapes with one of these labels (e.g. ``1e6 1e6x3:0 1e4x100:-1``: a vector,
or rows x outcomes along the first (0) or last (-1) axis), ``--measures`` these measures
(``entropy cross-entropy "CE vs H+KL" kl "js distance"``).

Columns: kullback's time, the peer's, ``speed-up`` = peer/kullback
(>= 1 means kullback is faster), and for 1-D inputs from 1e6 elements the machine's limit: one
tiled ``np.log`` pass over the same data on all threads (for two-argument measures, over both
arrays), with ``vs limit`` = kullback/limit (target <= 1.25 for entropy and KL), the two timed
alternately (each call after the other's, in the same cache state; the ``kullback`` column is
timed alternately with SciPy).

Peers: ``scipy.stats.entropy(p)`` (entropy), ``scipy.stats.entropy(p, q)`` (KL), for
cross-entropy ``-xlogy(p/sum p, q/sum q).sum()`` (SciPy has no cross-entropy function; this bare
one-liner validates nothing) and, as "CE vs H+KL", SciPy's own functions composed,
``stats.entropy(p) + stats.entropy(p, q)``, and
``scipy.spatial.distance.jensenshannon`` (JS distance). ``--memory`` adds the peak extra memory
of the large calls (tracemalloc). ``--huge`` adds 1e8 elements (1.6 GB of input).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy
from scipy import special, stats
from scipy.spatial.distance import jensenshannon

import kullback as kb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _machine import describe


def log_pass(arrays: list[np.ndarray], threads: int, tile: int = 1 << 16) -> Callable[[], None]:
    """One tiled ``np.log`` pass over ``arrays`` (flattened), split over ``threads``."""
    flat = [a.reshape(-1) for a in arrays]
    pool = ThreadPoolExecutor(threads)
    bufs = [np.empty(tile, dtype=arrays[0].dtype) for _ in range(threads)]

    def work(i: int) -> None:
        for a in flat:
            n = a.size
            chunk = -(-n // threads)
            lo, hi = i * chunk, min(n, (i + 1) * chunk)
            for s in range(lo, hi, tile):
                e = min(hi, s + tile)
                np.log(a[s:e], out=bufs[i][: e - s])

    return lambda: list(pool.map(work, range(threads)))


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = CLOCKS["wall"]


def best_times(fns: list[Callable[[], object]], repeat: int) -> list[float]:
    for fn in fns:
        fn()  # warm up (thread pool, caches)
    best = [float("inf")] * len(fns)
    number = 1
    t0 = time.perf_counter()
    fns[0]()
    if time.perf_counter() - t0 < 1e-3:
        number = 200  # tiny inputs: time loops of calls
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t0 = clock()
            for _ in range(number):
                fn()
            best[i] = min(best[i], (clock() - t0) / number)
    return best


def peak_extra(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - base


def _xent(p: np.ndarray, q: np.ndarray, axis: int) -> np.ndarray:
    pn = p / p.sum(axis=axis, keepdims=True)
    qn = q / q.sum(axis=axis, keepdims=True)
    return -special.xlogy(pn, qn).sum(axis=axis)


def cases(p: np.ndarray, q: np.ndarray, axis: int) -> list[tuple]:
    """(measure, ours, peer, number of arrays read)."""
    return [
        ("entropy", lambda: kb.entropy(p, axis=axis), lambda: stats.entropy(p, axis=axis), 1),
        ("cross-entropy", lambda: kb.cross_entropy(p, q, axis=axis), lambda: _xent(p, q, axis),
         2),
        ("CE vs H+KL", lambda: kb.cross_entropy(p, q, axis=axis),
         lambda: stats.entropy(p, axis=axis) + stats.entropy(p, q, axis=axis), 2),
        ("kl", lambda: kb.kl_divergence(p, q, axis=axis),
         lambda: stats.entropy(p, q, axis=axis), 2),
        ("js distance", lambda: kb.js_distance(p, q, axis=axis),
         lambda: jensenshannon(p, q, axis=axis), 2),
    ]


def shapes(quick: bool, huge: bool) -> list[tuple[str, tuple[int, ...], int]]:
    sizes = [3, 10, 100, 1000, 10**4, 10**5, 10**6, 10**7] if not quick else [3, 10**4, 10**6]
    if huge:
        sizes.append(10**8)
    out = [(_short(n), (n,), -1) for n in sizes]
    batches = [(10**6, 3), (10**4, 100), (10**3, 10**3), (10, 10**6)]
    if quick:
        batches = batches[:2]
    for rows, n in batches:
        out.append((f"{_short(rows)}x{_short(n)}:-1", (rows, n), -1))
        out.append((f"{_short(rows)}x{_short(n)}:0", (n, rows), 0))
    return out


def _short(n: int) -> str:
    """``1e6`` for 10**6, ``100`` for 100: the labels ``--shapes`` takes."""
    return f"1e{len(str(n)) - 1}" if n > 1000 and str(n).strip("0") == "1" else str(n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="fewer sizes")
    ap.add_argument("--huge", action="store_true", help="also 1e8 elements")
    ap.add_argument("--memory", action="store_true", help="peak extra memory from 1e6 on")
    ap.add_argument("--dtype", default="float64,float32")
    ap.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                    help="wall clock, or process CPU time (all threads)")
    ap.add_argument("--only", nargs="*", default=[], help="rows whose label contains one of these")
    ap.add_argument("--shapes", nargs="*", default=[],
                    help="only these shapes: 1e6 (a vector), 1e6x3:0 (rows x outcomes, axis)")
    ap.add_argument("--measures", nargs="*", default=[],
                    help='only these measures: entropy cross-entropy "CE vs H+KL" kl '
                         '"js distance"')
    args = ap.parse_args()
    global clock
    clock = CLOCKS[args.clock]

    print(f"# kullback {kb.__version__} vs scipy {scipy.__version__}, numpy {np.__version__}, "
          f"Python {platform.python_version()}")
    print(f"# {describe()}, load average {os.getloadavg()[0]:.2f}, clock: {args.clock}")
    header = (f"{'dtype':<8} {'measure':<14} {'shape':<18} {'kullback':>10} {'scipy':>10} "
              f"{'speed-up':>8} {'log limit':>10} {'vs limit':>8}"
              + (f" {'kb mem':>8} {'peer mem':>8}" if args.memory else ""))
    print(header)
    print("-" * len(header))
    for dtype in args.dtype.split(","):
        for label, shape, axis in shapes(args.quick, args.huge or "1e8" in args.shapes):
            if args.shapes and label not in args.shapes:
                continue
            rng = np.random.default_rng([*shape, axis + 1])  # the same data, whatever runs
            p = rng.random(shape).astype(dtype)
            q = rng.random(shape).astype(dtype)
            limits: dict[int, Callable[[], None]] = {}
            for name, ours, peer, n_arrays in cases(p, q, axis):
                if (args.only and not any(o in f"{dtype} {name} {label}" for o in args.only)) \
                        or (args.measures and name not in args.measures):
                    continue
                t_ours, t_peer = best_times([ours, peer], args.repeat)
                big = p.size >= 10**6 and p.ndim == 1
                lim = ratio = None
                if big:  # timed alternately with kullback: both in the cache state the other
                    # leaves (after SciPy's call, which passes over several input-sized
                    # temporaries, the input is no longer in the last-level cache)
                    if n_arrays not in limits:
                        limits[n_arrays] = log_pass([p, q][:n_arrays], os.cpu_count() or 1)
                    t_warm, lim = best_times([ours, limits[n_arrays]], args.repeat)
                    ratio = t_warm / lim
                row = (f"{dtype:<8} {name:<14} {label:<18} {_fmt(t_ours):>10} {_fmt(t_peer):>10} "
                       f"{t_peer / t_ours:7.2f}x "
                       f"{_fmt(lim) if lim else '':>10} "
                       f"{(f'{ratio:7.2f}x') if ratio else '':>8}")
                if args.memory and p.size >= 10**6:
                    row += (f" {100 * peak_extra(ours) / (n_arrays * p.nbytes):7.0f}%"
                            f" {100 * peak_extra(peer) / (n_arrays * p.nbytes):7.0f}%")
                print(row, flush=True)
    print(f"# load average at the end {os.getloadavg()[0]:.2f}")


def _fmt(t: float) -> str:
    return f"{t * 1e6:.1f} us" if t < 1e-3 else f"{t * 1e3:.2f} ms"


if __name__ == "__main__":
    main()
