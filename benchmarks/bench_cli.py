"""The command line at scale: label alignment and ``compare``/``explain --plot`` on many outcomes.

Run:  python benchmarks/bench_cli.py [--quick] [--repeat N]

1. Aligning two labelled distributions by name (outcomes of Q in a shuffled order, 1 % of the
   labels on one side only): ``kullback.cli._io.align`` against pandas
   (``Series.align(join="outer", fill_value=0)``) and against the O(n²) matching the CLI used
   before (a list scan per label; only up to 2e4, where it already takes seconds).
2. ``kullback compare p.json q.json --json`` end to end in-process (read both JSON objects,
   align, every measure) against the same job in pandas + SciPy (``pd.read_json`` twice,
   ``align``, ``scipy.stats.entropy`` for both KLs).
3. ``kullback explain p.json q.json --plot out.png`` end to end (the table and the figure show
   the largest contributions and sum the rest, so past reading the inputs the time stays flat
   in n; before, 1e4 outcomes took 69 s and 1e5 over 120 s).

Times are the best of ``--repeat`` runs, in one process; ratios are peer / kullback (> 1: kullback
is faster).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from _machine import cpu_model  # benchmarks/_machine.py: one description of the CPU

from kullback.cli import _io, main


def best_time(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def labelled_pair(n: int, seed: int = 0) -> tuple[dict[str, float], dict[str, float]]:
    """P and Q over ~n labels: Q's order shuffled, 1 % of labels only in P, 1 % only in Q."""
    rng = np.random.default_rng(seed)
    labels = [f"outcome-{i}" for i in range(n + n // 100)]
    p_labels, q_labels = labels[:n], labels[n // 100:]
    p = dict(zip(p_labels, rng.random(n).tolist(), strict=True))
    order = rng.permutation(len(q_labels))
    q_values = rng.random(len(q_labels))
    q = {q_labels[i]: float(q_values[i]) for i in order}
    return p, q


def quadratic_align(p: _io.Masses, q: _io.Masses) -> None:
    """The matching the CLI used before this change (a set rebuilt per label: O(n²))."""
    labels = list(p.labels) + [lab for lab in q.labels if lab not in set(p.labels)]
    pv = dict(zip(p.labels, p.values.tolist(), strict=True))
    qv = dict(zip(q.labels, q.values.tolist(), strict=True))
    np.array([pv.get(k, 0.0) for k in labels]), np.array([qv.get(k, 0.0) for k in labels])


def pandas_align(ps, qs) -> None:
    ps.align(qs, join="outer", fill_value=0.0)


def pandas_compare(p_path: Path, q_path: Path) -> None:
    import pandas as pd
    from scipy import stats

    p = pd.read_json(p_path, typ="series")
    q = pd.read_json(q_path, typ="series")
    a, b = p.align(q, join="outer", fill_value=0.0)
    stats.entropy(a.to_numpy(), b.to_numpy()), stats.entropy(b.to_numpy(), a.to_numpy())


def run_cli(*args: str) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        status = main(list(args))
    assert status == 0, args


def row(cells: list[str]) -> str:
    return "  ".join(c.rjust(w) for c, w in zip(cells, (9, 12, 12, 12, 9, 9), strict=False))


def bench_alignment(sizes: list[int], repeat: int) -> None:
    import pandas as pd

    print("\n1. align two labelled distributions by name")
    print(row(["outcomes", "kullback s", "pandas s", "O(n²) s", "pandas/k", "O(n²)/k"]))
    for n in sizes:
        p, q = labelled_pair(n)
        mp = _io.Masses("P", np.array(list(p.values())), tuple(p), "bench")
        mq = _io.Masses("Q", np.array(list(q.values())), tuple(q), "bench")
        ps, qs = pd.Series(p), pd.Series(q)
        ours = best_time(lambda: _io.align(mp, mq), repeat)  # noqa: B023
        theirs = best_time(lambda: pandas_align(ps, qs), repeat)  # noqa: B023
        old = best_time(lambda: quadratic_align(mp, mq), 1) if n <= 20_000 else None  # noqa: B023
        print(row([f"{n:.0e}", f"{ours:.4f}", f"{theirs:.4f}",
                   f"{old:.3f}" if old else "-", f"{theirs / ours:.2f}",
                   f"{old / ours:.0f}" if old else "-"]))


def write_pair(folder: Path, n: int) -> tuple[Path, Path]:
    p, q = labelled_pair(n)
    paths = folder / f"p{n}.json", folder / f"q{n}.json"
    for path, obj in zip(paths, (p, q), strict=True):
        path.write_text(json.dumps(obj))
    return paths


def bench_end_to_end(folder: Path, sizes: list[int], repeat: int) -> None:
    print("\n2. kullback compare p.json q.json  vs  pandas.read_json + align + scipy.stats.entropy")
    print(row(["outcomes", "kullback s", "pandas s", "", "pandas/k"]))
    for n in sizes:
        p_path, q_path = write_pair(folder, n)
        ours = best_time(lambda: run_cli("compare", str(p_path), str(q_path), "--json"),  # noqa: B023
                         repeat)
        theirs = best_time(lambda: pandas_compare(p_path, q_path), repeat)  # noqa: B023
        print(row([f"{n:.0e}", f"{ours:.3f}", f"{theirs:.3f}", "", f"{theirs / ours:.2f}"]))

    print("\n3. kullback explain p.json q.json --plot out.png (30 bars + 'the other N')")
    print(row(["outcomes", "kullback s"]))
    for n in sizes:
        p_path, q_path = write_pair(folder, n)
        args = ("explain", str(p_path), str(q_path), "--plot", str(folder / "out.png"))
        ours = best_time(lambda: run_cli(*args), max(1, repeat // 2))  # noqa: B023
        print(row([f"{n:.0e}", f"{ours:.3f}"]))


def main_() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="up to 1e5 outcomes")
    args = ap.parse_args()
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    print(f"CPU: {cpu_model()}; Python {platform.python_version()}; NumPy {np.__version__}")
    bench_alignment([1_000, *sizes], args.repeat)
    with tempfile.TemporaryDirectory() as folder:
        bench_end_to_end(Path(folder), sizes, args.repeat)


if __name__ == "__main__":
    main_()
