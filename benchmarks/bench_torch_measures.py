"""kullback's measures on torch tensors vs the hand-written torch expressions, side by side.

Run:  python benchmarks/bench_torch_measures.py [--repeat N] [--quick] [--shapes 64x10 ...]
                                                 [--threads N] [--clock cpu]
                                                 [--measures cross_entropy ...]

For each shape (rows x outcomes, normalised probabilities along the last axis), dtype
(float32, float64) and mode (forward; forward+backward through ``p``), the best of ``--repeat``
interleaved runs of kullback and of the naive expression a user would otherwise write:

* entropy:        ``-(p * p.log()).sum(-1)``
* cross-entropy:  ``-(p * q.log()).sum(-1)``
* KL:             ``(p * (p.log() - q.log())).sum(-1)``
* JS:             ``m = (p + q)/2``, then
                  ``(p*(p.log()-m.log())).sum(-1)/2 + (q*(q.log()-m.log())).sum(-1)/2``

``ratio`` = kullback/peer (target <= 1.25; for the small shape, <= 2: the call overhead). The
peers do not normalise, validate, or handle zeros; kullback does all three.

On a shared, loaded machine wall-clock ratios swing by 2x from run to run (a kernel waits for
its slowest thread); ``--threads 1 --clock cpu`` measures the work instead (process CPU time,
one thread), which is stable under load.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable

import torch

import kullback as kb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _machine import describe

PEERS: dict[str, Callable[..., torch.Tensor]] = {
    "entropy": lambda p, q: -(p * p.log()).sum(-1),
    "cross_entropy": lambda p, q: -(p * q.log()).sum(-1),
    "kl_divergence": lambda p, q: (p * (p.log() - q.log())).sum(-1),
    "js_divergence": lambda p, q: _js(p, q),
}


def _js(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    m = (p + q) / 2
    return (p * (p.log() - m.log())).sum(-1) / 2 + (q * (q.log() - m.log())).sum(-1) / 2


def ours(name: str) -> Callable[..., torch.Tensor]:
    fn = getattr(kb, name)
    return (lambda p, q: fn(p)) if name == "entropy" else (lambda p, q: fn(p, q))


def timed(fn: Callable[[], object], number: int, clock: Callable[[], float]) -> float:
    t0 = clock()
    for _ in range(number):
        fn()
    return (clock() - t0) / number


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="skip 1024 x 32000")
    ap.add_argument("--shapes", nargs="+", metavar="ROWSxN",
                    help="only these shapes (default 64x10 4096x1000 1024x32000)")
    ap.add_argument("--threads", type=int, help="torch threads (default: torch's own)")
    ap.add_argument("--measures", nargs="+", choices=sorted(PEERS), metavar="NAME",
                    help=f"only these measures (default all: {', '.join(PEERS)})")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="wall-clock time, or this process's CPU time (stable under load)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    shapes = [(64, 10), (4096, 1000)] + ([] if args.quick else [(1024, 32000)])
    if args.shapes:
        shapes = [tuple(int(x) for x in s.split("x")) for s in args.shapes]
    print(f"# {describe()}")
    print(f"# kullback {kb.__version__}, torch {torch.__version__}, Python "
          f"{platform.python_version()}, {torch.get_num_threads()} torch threads, "
          f"{os.cpu_count()} cores, {args.clock} clock, load average {os.getloadavg()[0]:.2f}")
    header = (f"{'measure':<14} {'shape':<12} {'dtype':<8} {'mode':<9} {'kullback':>10} "
              f"{'torch':>10} {'ratio':>6} {'max rel diff':>12}")
    print(header)
    print("-" * len(header))
    g = torch.Generator().manual_seed(0)
    for rows, n in shapes:
        for dtype in (torch.float32, torch.float64):
            p = torch.rand(rows, n, generator=g, dtype=dtype) + 1e-3
            q = torch.rand(rows, n, generator=g, dtype=dtype) + 1e-3
            p /= p.sum(-1, keepdim=True)
            q /= q.sum(-1, keepdim=True)
            number = 200 if rows * n < 10**4 else 1
            for name, peer in PEERS.items():
                if args.measures and name not in args.measures:
                    continue
                mine = ours(name)
                diff = float(((mine(p, q) - peer(p, q)).abs() / peer(p, q).abs()).max())
                for mode in ("forward", "fwd+bwd"):
                    a, b = _calls(mine, peer, p, q, backward=mode != "forward")
                    a(), b()
                    ta = tb = float("inf")
                    for _ in range(args.repeat):
                        ta = min(ta, timed(a, number, clock))
                        tb = min(tb, timed(b, number, clock))
                    print(f"{name:<14} {f'{rows}x{n}':<12} {str(dtype)[6:]:<8} {mode:<9} "
                          f"{_fmt(ta):>10} {_fmt(tb):>10} {ta / tb:5.2f}x {diff:12.1e}",
                          flush=True)
    print(f"# load average at the end {os.getloadavg()[0]:.2f}")


def _calls(mine: Callable, peer: Callable, p: torch.Tensor, q: torch.Tensor,
           backward: bool) -> tuple[Callable[[], object], Callable[[], object]]:
    if not backward:
        return (lambda: mine(p, q)), (lambda: peer(p, q))
    pg = p.clone().requires_grad_()
    return (lambda: mine(pg, q).sum().backward()), (lambda: peer(pg, q).sum().backward())


def _fmt(t: float) -> str:
    return f"{t * 1e6:.0f} us" if t < 1e-3 else f"{t * 1e3:.1f} ms"


if __name__ == "__main__":
    main()
