"""Linear + cross-entropy over a large vocabulary: wall time and peak memory, side by side.

Every method runs forward + backward in a *fresh* subprocess (so peak RSS is its own), on the
same data: hidden states ``h`` (N x d), head weight ``W`` (V x d), integer targets ``y``,
float32. Reported as ratios to the naive path ``F.cross_entropy(h @ W.T, y)``:

- ``naive``           -- ``F.cross_entropy(h @ W.T, y)``: holds N x V logits, log-softmax, grad
- ``torch auto``      -- ``F.linear_cross_entropy(..., options=LinearCrossEntropyOptions())``,
  torch 2.13's chunked path with its automatic chunk size (falls back to the dense path, with a
  warning, for label smoothing)
- ``torch 1024 rows`` -- the same with ``batch_chunk_size=1024``
- ``kullback``        -- ``kullback.losses.linear_cross_entropy`` (automatic chunk size)

"extra" memory is the process's peak RSS (VmHWM, reset once the inputs exist) minus its RSS at
that moment; the weight gradient (V x d, 128 MiB at V=32768, 512 MiB at V=131072) is part of
every method's extra. A second table times
``kullback.losses.cross_entropy`` against ``F.cross_entropy`` on ready logits.

Usage::

    python benchmarks/bench_linear_cross_entropy.py            # N=4096, d=1024, V=32768, 131072
    python benchmarks/bench_linear_cross_entropy.py --quick    # N=1024, d=256, V=8192
    python benchmarks/bench_linear_cross_entropy.py --vocab 32768 --rounds 3

The configurations run one at a time (the naive path at V=131072 needs ~6 GB).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

METHODS = ("naive", "torch auto", "torch 1024 rows", "kullback")


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0), so setup's temporaries don't count."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def child(cfg: dict) -> dict:
    """Run one method (inside the fresh subprocess); return time and memory."""
    import time
    import warnings

    import torch
    import torch.nn.functional as F

    torch.set_num_threads(cfg["threads"])
    g = torch.Generator().manual_seed(0)
    N, d, V = cfg["N"], cfg["d"], cfg["V"]
    ls = cfg["label_smoothing"]
    method = cfg["method"]
    if method.startswith("logits"):
        x = torch.randn(N, V, generator=g).requires_grad_()
        y = torch.randint(0, V, (N,), generator=g)
        from kullback import losses

        fn = F.cross_entropy if method == "logits torch" else losses.cross_entropy

        def step():
            x.grad = None
            fn(x, y, label_smoothing=ls).backward()
            return x.grad

    else:
        h = torch.randn(N, d, generator=g).mul_(0.05).requires_grad_()
        W = torch.randn(V, d, generator=g).mul_(0.02).requires_grad_()
        y = torch.randint(0, V, (N,), generator=g)
        if method == "naive":

            def loss():
                return F.cross_entropy(h @ W.T, y, label_smoothing=ls)

        elif method.startswith("torch"):
            from torch.nn import LinearCrossEntropyOptions

            opts = (
                LinearCrossEntropyOptions()
                if method == "torch auto"
                else LinearCrossEntropyOptions(batch_chunk_size=1024, chunking_method=None)
            )

            def loss():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return F.linear_cross_entropy(h, W, y, label_smoothing=ls, options=opts)

        else:
            from kullback.losses import linear_cross_entropy

            def loss():
                return linear_cross_entropy(h, W, y, label_smoothing=ls)

        def step():
            h.grad = W.grad = None
            loss().backward()
            return W.grad

    import kullback.losses  # noqa: F401  (import cost outside the timed region)

    base = _rss_bytes()
    if not _reset_peak_rss():
        raise RuntimeError("cannot reset the peak RSS (/proc/self/clear_refs)")
    times = []
    for _ in range(cfg["repeats"]):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return {"time": min(times), "extra": _peak_rss_bytes() - base}


def run_in_subprocess(cfg: dict) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(cfg)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fmt_row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="N=1024, d=256, V=8192")
    ap.add_argument("--vocab", type=int, nargs="*", help="vocabulary sizes (default 32768 131072)")
    ap.add_argument("--tokens", type=int, default=None)
    ap.add_argument("--hidden", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=2, help="timed steps per subprocess")
    ap.add_argument("--rounds", type=int, default=2,
                    help="round-robin passes over the methods (fresh subprocesses each)")
    ap.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--methods", nargs="*", default=list(METHODS))
    ap.add_argument("--no-logits", action="store_true", help="skip the ready-logits table")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return

    if args.quick:
        N, d, vocabs = 1024, 256, [8192]
    else:
        N, d, vocabs = 4096, 1024, [32768, 131072]
    N = args.tokens or N
    d = args.hidden or d
    vocabs = args.vocab or vocabs
    print(f"load average before: {os.getloadavg()}")
    print(f"N={N} d={d} float32, {args.threads} threads, fastest of {args.rounds} rounds x "
          f"{args.repeats} steps, each round a fresh subprocess per method\n")
    print(_fmt_row(["V", "label smoothing", "method", "time s", "time / naive",
                    "extra MB", "extra / naive"]))
    print(_fmt_row(["---"] * 7))
    for V in vocabs:
        for ls in (0.0, 0.1):
            # round-robin over the methods, `rounds` times: load from other processes then
            # drifts over all methods alike; each method keeps its fastest step and its
            # largest peak
            results: dict[str, dict] = {}
            for _ in range(args.rounds):
                for m in args.methods:
                    cfg = dict(N=N, d=d, V=V, label_smoothing=ls, method=m,
                               repeats=args.repeats, threads=args.threads)
                    r = run_in_subprocess(cfg)
                    prev = results.get(m)
                    if prev is None or "error" in r or "error" in prev:
                        results[m] = prev if prev is not None and "error" in r else r
                    else:
                        results[m] = {"time": min(prev["time"], r["time"]),
                                      "extra": max(prev["extra"], r["extra"])}
            ref = results.get("naive")
            for m in args.methods:
                r = results[m]
                if "error" in r:
                    print(_fmt_row([str(V), str(ls), m, "error: " + r["error"], "", "", ""]))
                    continue
                t_ratio = f"{r['time'] / ref['time']:.2f}" if ref and "time" in ref else ""
                m_ratio = f"{r['extra'] / ref['extra']:.3f}" if ref and "extra" in ref else ""
                print(_fmt_row([str(V), str(ls), m, f"{r['time']:.2f}", t_ratio,
                                f"{r['extra'] / 2**20:.0f}", m_ratio]), flush=True)
    if args.no_logits:
        print(f"\nload average after: {os.getloadavg()}")
        return
    V = vocabs[0]
    print(f"\nReady logits ({N} x {V}, float32), forward + backward:\n")
    print(_fmt_row(["label smoothing", "F.cross_entropy s", "losses.cross_entropy s", "ratio"]))
    print(_fmt_row(["---"] * 4))
    for ls in (0.0, 0.1):
        res: dict[str, dict] = {}
        for _ in range(max(3, args.rounds)):
            for m in ("logits torch", "logits kullback"):
                cfg = dict(N=N, d=d, V=V, label_smoothing=ls, method=m, repeats=5,
                           threads=args.threads)
                r = run_in_subprocess(cfg)
                if m not in res or "error" in r or "error" in res[m]:
                    res[m] = r
                else:
                    res[m]["time"] = min(res[m]["time"], r["time"])
        a, b = res["logits torch"], res["logits kullback"]
        if "error" in a or "error" in b:
            print(_fmt_row([str(ls), str(a), str(b), ""]))
            continue
        print(_fmt_row([str(ls), f"{a['time']:.3f}", f"{b['time']:.3f}",
                        f"{b['time'] / a['time']:.2f}"]), flush=True)
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
