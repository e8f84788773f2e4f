"""kullback.losses against torch.nn.functional, side by side in one process.

For each loss (cross_entropy, nll_loss, kl_div, binary_cross_entropy and its with-logits form),
shape (64 x 10, 4096 x 1000, 1024 x 32000), dtype (float32, float64) and mode (forward, and
forward + backward) both implementations run round-robin on the same tensors; each cell is the
median over ``--repeats`` rounds of the mean time of a batch of calls (batches sized to about
``--target-ms``). The ratio is kullback / torch (below 1.1 meets the target; at 64 x 10 the
times are the per-call overhead); "best" is the ratio of the two fastest rounds, steadier than
the medians on a loaded machine (other processes only ever add time). A second table times
``jax.jit`` of ``losses.cross_entropy`` against the jitted naive ``jnp`` expression.

Usage::

    python benchmarks/bench_losses.py                 # the full grid (a few minutes)
    python benchmarks/bench_losses.py --quick         # 64 x 10 and 4096 x 1000, 3 rounds
    python benchmarks/bench_losses.py --loss kl_div --shape 4096x1000
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

from _machine import describe  # benchmarks/_machine.py: one description of the machine

SHAPES = ((64, 10), (4096, 1000), (1024, 32000))
DTYPES = ("float32", "float64")
MODES = ("fwd", "fwd+bwd")


def _inputs(loss: str, shape: tuple[int, int], dtype, g):
    """(input leaf, target, keyword arguments) for one loss, in torch."""
    import torch

    N, C = shape
    z = torch.randn(N, C, dtype=dtype, generator=g)
    if loss in ("cross_entropy",):
        return z, torch.randint(0, C, (N,), generator=g), {}
    if loss == "nll_loss":
        return torch.log_softmax(z, 1), torch.randint(0, C, (N,), generator=g), {}
    if loss == "kl_div":
        p = torch.softmax(torch.randn(N, C, dtype=dtype, generator=g), 1)
        return torch.log_softmax(z, 1), p, {"reduction": "batchmean"}
    y = torch.rand(N, C, dtype=dtype, generator=g)
    if loss == "binary_cross_entropy":
        return torch.sigmoid(z), y, {}
    return z, y, {}  # binary_cross_entropy_with_logits


LOSSES = ("cross_entropy", "nll_loss", "kl_div", "binary_cross_entropy",
          "binary_cross_entropy_with_logits")


def _call(fn: Callable, x, y, kw: dict, backward: bool) -> Callable[[], None]:
    if not backward:
        return lambda: fn(x, y, **kw)
    leaf = x.detach().clone().requires_grad_()

    def step() -> None:
        fn(leaf, y, **kw).backward()
        leaf.grad = None

    return step


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = time.perf_counter


def _batch_size(step: Callable[[], None], target_ms: float) -> int:
    step()
    t0 = clock()
    step()
    one = max(clock() - t0, 1e-7)
    return max(1, int(target_ms / 1e3 / one))


def side_by_side(steps: dict[str, Callable[[], None]], repeats: int,
                 target_ms: float) -> dict[str, float]:
    """Median per-call seconds of each step, timed round-robin (and the best round of each,
    under ``"<name> best"``: on a shared machine other processes only ever add time)."""
    sizes = {k: _batch_size(s, target_ms) for k, s in steps.items()}
    n = min(sizes.values())
    samples: dict[str, list[float]] = {k: [] for k in steps}
    for _ in range(repeats):
        for k, s in steps.items():
            t0 = clock()
            for _ in range(n):
                s()
            samples[k].append((clock() - t0) / n)
    best = {f"{k} best": min(v) for k, v in samples.items()}
    return {k: statistics.median(v) for k, v in samples.items()} | best


def _fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:8.1f} us"
    return f"{seconds * 1e3:8.2f} ms"


def torch_table(args) -> list[tuple]:
    import torch
    import torch.nn.functional as F

    from kullback import losses

    rows = []
    print(f"{'loss':34} {'shape':>11} {'dtype':>8} {'mode':>8} {'kullback':>11} "
          f"{'torch.F':>11} {'ratio':>6} {'best':>6}")
    for loss in args.loss:
        for shape in args.shape:
            for dname in DTYPES:
                g = torch.Generator().manual_seed(0)
                x, y, kw = _inputs(loss, shape, getattr(torch, dname), g)
                for mode in MODES:
                    back = mode == "fwd+bwd"
                    steps = {"kullback": _call(getattr(losses, loss), x, y, kw, back),
                             "torch": _call(getattr(F, loss), x, y, kw, back)}
                    t = side_by_side(steps, args.repeats, args.target_ms)
                    ratio = t["kullback"] / t["torch"]
                    best = t["kullback best"] / t["torch best"]
                    rows.append((loss, shape, dname, mode, t["kullback"], t["torch"], best, ratio))
                    print(f"{loss:34} {shape[0]:>5}x{shape[1]:<5} {dname:>8} {mode:>8} "
                          f"{_fmt(t['kullback'])} {_fmt(t['torch'])} {ratio:6.2f} {best:6.2f}",
                          flush=True)
    return rows


def jax_table(args) -> None:
    """``jax.jit`` of losses.cross_entropy vs the jitted naive expression, float32 forward."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        print("jax not installed: no JAX table")
        return
    from kullback import losses

    def naive(x, y):
        logp = x - jax.scipy.special.logsumexp(x, axis=1, keepdims=True)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    ours = jax.jit(lambda x, y: losses.cross_entropy(x, y))
    ref = jax.jit(naive)
    print(f"\n{'jax.jit cross_entropy':34} {'shape':>11} {'kullback':>11} {'naive jnp':>11} "
          f"{'ratio':>6}")
    for N, C in args.shape:
        key = jax.random.PRNGKey(0)
        x = jax.random.normal(key, (N, C), dtype=jnp.float32)
        y = jax.random.randint(key, (N,), 0, C)
        steps = {"kullback": lambda x=x, y=y: ours(x, y).block_until_ready(),
                 "naive": lambda x=x, y=y: ref(x, y).block_until_ready()}
        t = side_by_side(steps, args.repeats, args.target_ms)
        print(f"{'':34} {N:>5}x{C:<5} {_fmt(t['kullback'])} {_fmt(t['naive'])} "
              f"{t['kullback'] / t['naive']:6.2f}", flush=True)


def _load() -> str:
    return ", ".join(f"{v:.1f}" for v in os.getloadavg())


def _shape(text: str) -> tuple[int, int]:
    n, c = text.lower().split("x")
    return int(n), int(c)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loss", nargs="+", choices=LOSSES, default=list(LOSSES))
    parser.add_argument("--shape", nargs="+", type=_shape, default=list(SHAPES))
    parser.add_argument("--repeats", type=int, default=7, help="rounds (median); default 7")
    parser.add_argument("--target-ms", type=float, default=60.0,
                        help="length of one timed batch of calls; default 60 ms")
    parser.add_argument("--quick", action="store_true", help="the two smaller shapes, 3 rounds")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--clock", choices=list(CLOCKS), default="wall",
                        help="wall time (default) or this process's CPU time: steadier on a "
                        "loaded machine, meaningful with --threads 1")
    parser.add_argument("--no-jax", action="store_true", help="skip the jax.jit table")
    args = parser.parse_args()
    if args.quick:
        args.shape, args.repeats = list(SHAPES[:2]), 3
    import torch

    global clock
    clock = CLOCKS[args.clock]
    if args.threads:
        torch.set_num_threads(args.threads)
    print(describe())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; median of "
          f"{args.repeats} round-robin rounds, {args.clock} clock; load average "
          f"{_load()} at the start")
    rows = torch_table(args)
    print(f"load average {_load()} at the end")
    worst = max(rows, key=lambda r: r[-1])
    print(f"\nworst ratio {worst[-1]:.2f}: {worst[0]} {worst[1][0]}x{worst[1][1]} {worst[2]} "
          f"{worst[3]}")
    if not args.no_jax:
        jax_table(args)


if __name__ == "__main__":
    main()
