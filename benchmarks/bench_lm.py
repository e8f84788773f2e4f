"""kullback.lm.compare against a straightforward torch implementation: speed, memory, accuracy.

The peer (``torch``) is what people write by hand::

    lp, lq = F.log_softmax(a, -1), F.log_softmax(b, -1)
    kl = F.kl_div(lq, lp, reduction="none", log_target=True).sum(-1)      # KL(ref || cand)
    kl_rev = F.kl_div(lp, lq, reduction="none", log_target=True).sum(-1)  # KL(cand || ref)
    same_top = a.argmax(-1) == b.argmax(-1)
    nll_ref, nll_cand = -lp.gather(-1, t), -lq.gather(-1, t)

``kullback`` is ``kullback.lm.compare(a, b, t)`` on the same float32 tensors: KL both ways, JS,
agreement and NLLs, in float64 working precision, tile by tile (torch tensors take the fused
native torch path of ``kullback.lm._fused``: one pass per cache-sized row tile, on
``KULLBACK_THREADS`` threads with single-threaded torch ops). Each (method, vocabulary) runs
in a fresh subprocess on the same seeded data: float32 logits ``a`` (N x V, scale 3) and a
nearly identical candidate ``b = a + 0.05 * noise`` (a good quantisation). Reported:

- tokens/s (best of ``--rounds`` within a process, and of ``--repeat`` fresh processes per
  method, run alternately -- torch, kullback, torch, kullback, ... -- so that a change in the
  load of a shared machine does not favour one side), and the ratio to the torch peer;
- peak extra memory: the process's peak RSS (``VmHWM``, reset through ``/proc/self/clear_refs``
  once the inputs exist) minus its RSS at that moment -- this sees torch's allocations, which
  ``tracemalloc`` cannot;
- accuracy against a float64 reference on the same inputs (``log_softmax`` in float64, then
  ``sum P (lp - lq)``, accurate to ~1e-13 relative here): the largest relative error of the
  per-token KL, and how many per-token KLs came out negative.

Usage::

    python benchmarks/bench_lm.py            # N=4096, V=32000 and V=131072 (torch needs ~9 GB)
    python benchmarks/bench_lm.py --quick    # N=1024, V=8000 and V=32000
    python benchmarks/bench_lm.py --tokens 2048 --vocab 32000 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from _machine import cpu_model  # benchmarks/_machine.py: one description of the CPU

METHODS = ("torch", "kullback")


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS


def _data(n: int, v: int):
    import torch

    g = torch.Generator().manual_seed(0)
    a = 3.0 * torch.randn(n, v, generator=g)
    b = a + 0.05 * torch.randn(n, v, generator=g)
    t = torch.randint(0, v, (n,), generator=g)
    return a, b, t


def _torch(a, b, t):
    import torch.nn.functional as F

    lp, lq = F.log_softmax(a, -1), F.log_softmax(b, -1)
    kl = F.kl_div(lq, lp, reduction="none", log_target=True).sum(-1)
    kl_rev = F.kl_div(lp, lq, reduction="none", log_target=True).sum(-1)
    same = a.argmax(-1) == b.argmax(-1)
    nll = -lp.gather(-1, t[:, None]), -lq.gather(-1, t[:, None])
    return kl.double().numpy(), kl_rev, same, nll


def _kullback(a, b, t):
    from kullback.lm import compare

    c = compare(a, b, t)
    return c.kl, c.kl_reverse, c.same_top, (c.nll_reference, c.nll_candidate)


def _reference_kl(a, b, rows: int):
    import torch

    lp = torch.log_softmax(a[:rows].double(), -1)
    lq = torch.log_softmax(b[:rows].double(), -1)
    return (lp.exp() * (lp - lq)).sum(-1).numpy()


def child(method: str, n: int, v: int, rounds: int) -> dict:
    """Run one method in this (fresh) process and return its measurements."""
    import numpy as np

    a, b, t = _data(n, v)
    run = {"torch": _torch, "kullback": _kullback}[method]
    run(a[:8], b[:8], t[:8])  # warm-up: imports, thread pools
    best = float("inf")
    extra = 0
    for _ in range(rounds):
        _reset_peak()
        base = _status("VmRSS")
        start = time.perf_counter()
        kl = run(a, b, t)[0]
        best = min(best, time.perf_counter() - start)
        extra = max(extra, _status("VmHWM") - base)
        del_kl = np.asarray(kl, dtype=np.float64)
    rows = min(n, 256)
    want = _reference_kl(a, b, rows)
    got = del_kl[:rows]
    sel = want >= 1e-8
    rel = float(np.max(np.abs(got[sel] - want[sel]) / want[sel])) if sel.any() else 0.0
    return {"tokens_per_s": n / best, "extra_bytes": extra, "max_rel_err": rel,
            "negative": int(np.sum(del_kl < 0)), "kl_mean": float(np.mean(del_kl))}




def _run_case(method: str, n: int, v: int, rounds: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", method, "--tokens", str(n), "--vocab", str(v),
         "--rounds", str(rounds)],
        capture_output=True, text=True, check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{method} V={v} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _best_of(n: int, v: int, rounds: int, repeat: int) -> dict[str, dict]:
    """Each method ``repeat`` times in fresh processes, alternately; per method the run with
    the best tokens/s, and the largest peak memory seen over its runs."""
    runs: dict[str, list[dict]] = {m: [] for m in METHODS}
    for _ in range(max(1, repeat)):
        for m in METHODS:
            runs[m].append(_run_case(m, n, v, rounds))
    best = {m: max(r, key=lambda x: x["tokens_per_s"]) for m, r in runs.items()}
    for m, r in runs.items():
        best[m] = {**best[m], "extra_bytes": max(x["extra_bytes"] for x in r)}
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="N=1024, V=8000 and 32000")
    ap.add_argument("--tokens", type=int, help="N (default 4096; 1024 with --quick)")
    ap.add_argument("--vocab", type=int, nargs="*", help="V values (default 32000 131072)")
    ap.add_argument("--rounds", type=int, default=1, help="timed rounds, best kept")
    ap.add_argument("--repeat", type=int, default=2,
                    help="fresh processes per method, run alternately; best kept")
    ap.add_argument("--child", choices=METHODS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    n = args.tokens or (1024 if args.quick else 4096)
    vocabs = args.vocab or ([8000, 32000] if args.quick else [32000, 131072])
    if args.child:
        print(json.dumps(child(args.child, n, vocabs[0], args.rounds)))
        return
    import numpy
    import torch

    print(f"CPU: {cpu_model()} ({os.cpu_count()} CPUs); torch {torch.__version__} with "
          f"{torch.get_num_threads()} threads; NumPy {numpy.__version__}; "
          f"kullback threads: {os.environ.get('KULLBACK_THREADS', 'all CPUs (max 8)')}")
    print(f"float32 logits, N = {n} tokens, b = a + 0.05 noise; best of {args.rounds} round(s) "
          f"in each of {args.repeat} alternating fresh process(es) per method\n")
    head = ("V", "method", "tokens/s", "x torch", "peak extra MiB", "x torch", "max rel err KL",
            "negative KLs")
    rows = [head]
    for v in vocabs:
        res = _best_of(n, v, args.rounds, args.repeat)
        t0, m0 = res["torch"]["tokens_per_s"], res["torch"]["extra_bytes"]
        for m in METHODS:
            r = res[m]
            rows.append((str(v), m, f"{r['tokens_per_s']:,.0f}", f"{r['tokens_per_s'] / t0:.2f}",
                         f"{r['extra_bytes'] / 2**20:,.0f}",
                         f"{r['extra_bytes'] / m0:.3f}" if m0 else "-",
                         f"{r['max_rel_err']:.1e}", str(r["negative"])))
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    for r in rows:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()
