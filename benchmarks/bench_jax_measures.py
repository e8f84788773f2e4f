"""kullback's measures under ``jax.jit`` vs the naive ``jnp`` expressions, side by side.

Run:  python benchmarks/bench_jax_measures.py [--repeat N] [--quick]

For each shape (rows x outcomes, normalised probabilities along the last axis) and dtype
(float32; float64 with ``jax_enable_x64``), both functions are jitted once and timed on the
same inputs, best of ``--repeat`` interleaved runs (``block_until_ready``). Peers:

* entropy:        ``-(p * log p).sum(-1)``
* cross-entropy:  ``-(p * log q).sum(-1)``
* KL:             ``(p * (log p - log q)).sum(-1)``
* JS:             ``m = (p + q)/2``, then ``(p log(p/m)).sum(-1)/2 + (q log(q/m)).sum(-1)/2``

``ratio`` = kullback/peer (target <= 1.1). The peers neither normalise nor handle zeros and
lose all relative accuracy for nearly identical inputs; kullback's jitted function checks a
per-call error bound and runs its exact correction only when that bound demands it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from functools import partial

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import jax

jax.config.update("jax_enable_x64", True)

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


def ours(name: str) -> Callable[..., jax.Array]:
    fn = getattr(kb, name)
    return (lambda p, q: fn(p)) if name == "entropy" else (lambda p, q: fn(p, q))


def best(fn: Callable[[], jax.Array], repeat: int, number: int) -> float:
    out = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn().block_until_ready()
        out = min(out, (time.perf_counter() - t0) / number)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="skip 1024 x 32000")
    ap.add_argument("--measures", default=",".join(PEERS))
    args = ap.parse_args()
    print(describe())
    print(f"# kullback {kb.__version__}, jax {jax.__version__}, load average "
          f"{os.getloadavg()[0]:.2f}")
    shapes = [(64, 10), (4096, 1000)] + ([] if args.quick else [(1024, 32000)])
    header = (f"{'measure':<14} {'shape':<12} {'dtype':<8} {'kullback':>10} {'jnp':>10} "
              f"{'ratio':>6} {'max rel diff':>12}")
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(0)
    for rows, n in shapes:
        for dtype in (np.float32, np.float64):
            p = rng.random((rows, n)) + 1e-3
            q = rng.random((rows, n)) + 1e-3
            p, q = (jnp.asarray(x / x.sum(-1, keepdims=True), dtype=dtype) for x in (p, q))
            number = 200 if rows * n < 10**4 else 3
            for name in args.measures.split(","):
                mine, peer = jax.jit(ours(name)), jax.jit(PEERS[name])
                a, b = mine(p, q), peer(p, q)
                diff = float(jnp.max(jnp.abs(a - b) / jnp.abs(b)))
                ta = tb = float("inf")
                call_a, call_b = partial(mine, p, q), partial(peer, p, q)
                for _ in range(args.repeat):
                    ta = min(ta, best(call_a, 1, number))
                    tb = min(tb, best(call_b, 1, number))
                print(f"{name:<14} {f'{rows}x{n}':<12} {np.dtype(dtype).name:<8} "
                      f"{_fmt(ta):>10} {_fmt(tb):>10} {ta / tb:5.2f}x {diff:12.1e}", flush=True)


def _fmt(t: float) -> str:
    return f"{t * 1e6:.0f} us" if t < 1e-3 else f"{t * 1e3:.1f} ms"


if __name__ == "__main__":
    main()
