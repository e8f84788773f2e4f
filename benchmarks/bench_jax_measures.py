"""kullback's measures under ``jax.jit`` vs the naive ``jnp`` expressions, side by side.

Run:  python benchmarks/bench_jax_measures.py [--repeat N] [--quick] [--x64 both|on|off]
                                               [--grad] [--threads N] [--clock wall|cpu]

For each shape (rows x outcomes, normalised probabilities along the last axis), dtype and
``jax_enable_x64`` setting (off: float32 only, the common case; on: float32 and float64), both
functions are jitted once and timed on the same inputs in interleaved rounds
(``block_until_ready``); ``best`` is the ratio of the best times, ``median`` the median of the
per-round ratios (robust to load that drifts between rounds). Peers:

* entropy:        ``-(p * log p).sum(-1)``
* cross-entropy:  ``-(p * log q).sum(-1)``
* KL:             ``(p * (log p - log q)).sum(-1)``
* JS:             ``m = (p + q)/2``, then ``(p log(p/m)).sum(-1)/2 + (q log(q/m)).sum(-1)/2``

``ratio`` = kullback/peer (target <= 1.1). The peers neither normalise nor handle zeros and
lose all relative accuracy for nearly identical inputs; kullback's jitted function checks a
per-row error bound and runs its exact branch (``lax.cond``) only when a row needs it. The
``exact`` column times that branch alone (the general path under ``jit``): a kullback time far
below it shows that the branch is not run when every row is vouched for. ``temp`` is the
scratch memory XLA reserves for kullback's compiled function (``memory_analysis``), in operand
sizes: it holds the exact branch's buffers even when that branch does not run. ``--grad`` also
times ``jax.grad`` of the summed measure (with respect to every operand) under ``jit``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def _args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="interleaved rounds")
    ap.add_argument("--quick", action="store_true", help="skip 1024 x 32000")
    ap.add_argument("--measures", default="entropy,cross_entropy,kl_divergence,js_divergence")
    ap.add_argument("--x64", choices=("both", "on", "off"), default="both")
    ap.add_argument("--grad", action="store_true", help="also time grad under jit")
    ap.add_argument("--threads", type=int, default=0, help="1: one XLA thread (default: all)")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="cpu: process CPU time (steadier on a loaded machine)")
    args = ap.parse_args()
    if args.threads == 1:  # before JAX is imported
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                                   + " --xla_cpu_multi_thread_eigen=false"
                                   + " intra_op_parallelism_threads=1")
    return args


ARGS = _args() if __name__ == "__main__" else None

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from _machine import describe  # noqa: E402

import kullback as kb  # noqa: E402


def _js(p: jax.Array, q: jax.Array) -> jax.Array:
    m = (p + q) / 2
    lm = jnp.log(m)
    return ((p * (jnp.log(p) - lm)).sum(-1) + (q * (jnp.log(q) - lm)).sum(-1)) / 2


PEERS: dict[str, Callable[..., jax.Array]] = {
    "entropy": lambda p, q: -(p * jnp.log(p)).sum(-1),
    "cross_entropy": lambda p, q: -(p * jnp.log(q)).sum(-1),
    "kl_divergence": lambda p, q: (p * (jnp.log(p) - jnp.log(q))).sum(-1),
    "js_divergence": _js,
}


def ours(name: str, **options: Any) -> Callable[..., jax.Array]:
    fn = getattr(kb, name)
    if name == "entropy":
        return lambda p, q: fn(p, **options)
    return lambda p, q: fn(p, q, **options)


def exact(name: str) -> Callable[..., jax.Array]:
    """The general path alone (``keepdims=True`` skips the fast paths)."""
    fn = ours(name, keepdims=True)
    return lambda p, q: fn(p, q)[..., 0]


def grad_of(fn: Callable[..., jax.Array], name: str) -> Callable[..., Any]:
    return jax.grad(lambda p, q: fn(p, q).sum(), argnums=0 if name == "entropy" else (0, 1))


def timed(fns: list[Callable[[], Any]], rounds: int, number: int,
          clock: Callable[[], float]) -> tuple[list[float], list[list[float]]]:
    """Best time of each function and the per-round times, in interleaved rounds."""
    per = [[] for _ in fns]
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            t0 = clock()
            for _ in range(number):
                jax.block_until_ready(fn())
            per[i].append((clock() - t0) / number)
    return [min(t) for t in per], per


def temp(fn: Callable[..., Any], p: jax.Array, q: jax.Array) -> str:
    """The scratch memory of ``fn``'s compiled form, in operand sizes."""
    memory = fn.lower(p, q).compile().memory_analysis()
    return "?" if memory is None else f"{memory.temp_size_in_bytes / p.nbytes:.1f}"


def row(label: str, fns: list[Callable[[], Any]], rounds: int, number: int, clock: Any,
        diff: str, scratch: str, general: Callable[[], Any] | None = None) -> None:
    best, per = timed(fns, rounds, number, clock)
    med = float(np.median(np.array(per[0]) / np.array(per[1])))
    extra = f" {'':>10}"
    if general is not None:  # once: it is slow, and only its order of magnitude matters
        extra = f" {_fmt(timed([general], 1, 1, clock)[0][0]):>10}"
    print(f"{label} {_fmt(best[0]):>10} {_fmt(best[1]):>10} {best[0] / best[1]:5.2f}x "
          f"{med:6.2f}x{extra} {scratch:>5} {diff:>12}", flush=True)


def main(args: argparse.Namespace) -> None:
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    print(describe())
    print(f"# kullback {kb.__version__}, jax {jax.__version__}, load average "
          f"{os.getloadavg()[0]:.2f}, XLA threads: {'1' if args.threads == 1 else 'all'}, "
          f"clock: {args.clock}, rounds: {args.repeat}")
    shapes = [(64, 10), (4096, 1000)] + ([] if args.quick else [(1024, 32000)])
    header = (f"{'measure':<14} {'mode':<5} {'shape':<11} {'dtype':<8} {'x64':<4} "
              f"{'kullback':>10} {'jnp':>10} {'best':>6} {'median':>7} {'exact':>10} "
              f"{'max rel diff':>12}")
    print(header)
    print("-" * len(header))
    modes = {"both": (False, True), "on": (True,), "off": (False,)}[args.x64]
    for x64 in modes:
        jax.config.update("jax_enable_x64", x64)
        for rows, n in shapes:
            rng = np.random.default_rng(0)
            p0, q0 = (rng.random((rows, n)) + 1e-3 for _ in range(2))
            for dtype in (np.float32, np.float64) if x64 else (np.float32,):
                p, q = (jnp.asarray(x / x.sum(-1, keepdims=True), dtype=dtype)
                        for x in (p0, q0))
                number = 100 if rows * n < 10**4 else 2
                for name in args.measures.split(","):
                    _compare(name, p, q, rows, n, x64, args, number, clock)


def _compare(name: str, p: jax.Array, q: jax.Array, rows: int, n: int, x64: bool,
             args: argparse.Namespace, number: int, clock: Any) -> None:
    mine, peer, general = jax.jit(ours(name)), jax.jit(PEERS[name]), jax.jit(exact(name))
    a, b = mine(p, q), peer(p, q)
    diff = f"{float(jnp.max(jnp.abs(a - b) / jnp.abs(b))):.1e}"
    label = f"{name:<14} {{:<5}} {f'{rows}x{n}':<11} {np.dtype(p.dtype).name:<8} " \
            f"{'on' if x64 else 'off':<4}"
    fns = [partial(mine, p, q), partial(peer, p, q)]
    jax.block_until_ready(general(p, q))
    row(label.format("fwd"), fns, args.repeat, number, clock, diff, temp(mine, p, q),
        partial(general, p, q))
    if args.grad:
        gm, gp = jax.jit(grad_of(ours(name), name)), jax.jit(grad_of(PEERS[name], name))
        fns = [partial(gm, p, q), partial(gp, p, q)]
        for f in fns:
            jax.block_until_ready(f())
        row(label.format("grad"), fns, args.repeat, number, clock, "", temp(gm, p, q))


def _fmt(t: float) -> str:
    return f"{t * 1e6:.0f} us" if t < 1e-3 else f"{t * 1e3:.1f} ms"


if __name__ == "__main__":
    main(ARGS)
