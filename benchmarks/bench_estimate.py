"""Sample estimators: kullback.estimate against the peers users would otherwise pick.

Peers (each run on the same data, in one process, so the time ratios are comparable):

- infomeasure (``pip install infomeasure``; optional, skipped if missing): Kozachenko-Leonenko
  entropy and its KL (``im.kld``), and its discrete bias-corrected estimators;
- ``scipy.stats.differential_entropy`` (1-D only; its default method for the sample size);
- "NPEET-style": the plain textbook implementation written below (scipy KDTree, one thread,
  max-norm, 1e-10 noise), as found in NPEET-like snippets; likewise a textbook KSG;
- scikit-learn (optional, skipped if missing): ``mutual_info_regression`` (KSG on standardised
  data with 1e-10 noise, clipped at 0) and ``mutual_info_score`` (plug-in MI of labels).

Continuous data: P = N(0, I_d), Q = N(0.5, 1.5^2 I_d), so the truths are closed forms.
Discrete data: a Zipf(1.1) distribution on K = 1000 outcomes, undersampled with N = 500, and
well sampled with N = 20 000; the error is averaged over 20 draws.

Run:  .venv/bin/python benchmarks/bench_estimate.py          (about a minute)
      .venv/bin/python benchmarks/bench_estimate.py --quick  (skips n = 1e5)
"""

from __future__ import annotations

import argparse
import math
import os
import time
import warnings
from functools import partial

import numpy as np
import scipy.special
import scipy.stats
from _machine import cpu_model  # benchmarks/_machine.py: one description of the CPU
from scipy.spatial import KDTree

from kullback import estimate

try:
    import infomeasure as im
except ImportError:  # benchmark-only peer
    im = None

try:
    import sklearn
    from sklearn.feature_selection import mutual_info_regression
    from sklearn.metrics import mutual_info_score
except ImportError:  # benchmark-only peer: the NPEET-style KSG below stands in
    sklearn = None


# ------------------------------------------------------------------ NPEET-style peer
def npeet_entropy(x: np.ndarray, k: int = 3) -> float:
    """Textbook KL entropy: max-norm, tiny noise, single-threaded KDTree."""
    x = x + 1e-10 * np.random.default_rng(0).standard_normal(x.shape)
    n, d = x.shape
    dist, _ = KDTree(x).query(x, k=k + 1, p=np.inf)
    return scipy.special.digamma(n) - scipy.special.digamma(k) + d * math.log(2) + d * np.mean(
        np.log(dist[:, -1])
    )


def npeet_kl(x: np.ndarray, y: np.ndarray, k: int = 3) -> float:
    """Textbook WKV KL: max-norm, single-threaded KDTree."""
    n, d = x.shape
    m = y.shape[0]
    rho = KDTree(x).query(x, k=k + 1, p=np.inf)[0][:, -1]
    nu = KDTree(y).query(x, k=k, p=np.inf)[0]
    nu = nu[:, -1] if nu.ndim == 2 else nu
    return math.log(m / (n - 1)) + d * np.mean(np.log(nu) - np.log(rho))


def npeet_mi(x: np.ndarray, y: np.ndarray, k: int = 3) -> float:
    """Textbook KSG (algorithm 1): max-norm, single-threaded KDTree, counts below eps."""
    z = np.hstack([x, y])
    eps = KDTree(z).query(z, k=k + 1, p=np.inf)[0][:, -1]
    r = np.nextafter(eps, 0)
    nx = KDTree(x).query_ball_point(x, r, p=np.inf, return_length=True) - 1
    ny = KDTree(y).query_ball_point(y, r, p=np.inf, return_length=True) - 1
    psi = scipy.special.digamma
    return psi(k) + psi(len(x)) - np.mean(psi(nx + 1) + psi(ny + 1))


# ------------------------------------------------------------------------- helpers


def timed(fn, repeat: int = 1) -> tuple[float, float]:
    best, out = math.inf, math.nan
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return float(out), best


def gauss_kl(d: int) -> float:
    s, mu = 1.5, 0.5
    return d * (math.log(s) + (1 + mu**2) / (2 * s**2) - 0.5)


def row(table, case, name, fn, truth, ref_time=None, repeat=1):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            val, sec = timed(fn, repeat)
    except Exception as exc:  # a peer failing is a result too
        table.append((case, name, "error", "", f"{type(exc).__name__}", ""))
        return None
    ratio = "" if ref_time is None else f"{sec / ref_time:6.2f}x"
    table.append((case, name, f"{val:+.4f}", f"{val - truth:+.4f}", f"{sec:8.3f}", ratio))
    return sec


def print_table(title, table):
    print(f"\n### {title}\n")
    print("| case | estimator | value | error (nats) | time (s) | time / kullback |")
    print("|---|---|---|---|---|---|")
    for r in table:
        print("| " + " | ".join(r) + " |")


# ---------------------------------------------------------------------- continuous
def continuous(quick: bool) -> None:
    rng = np.random.default_rng(12345)
    table: list[tuple] = []
    big = [] if quick else [100_000]
    for d, n in [(1, 10_000), (5, 10_000)] + [(5, b) for b in big]:
        x = rng.normal(size=(n, d))
        h_true = 0.5 * d * math.log(2 * math.pi * math.e)
        rep = 3 if n <= 10_000 else 1
        case = f"H, d={d}, n={n}"
        t = row(table, case, "kullback knn (euclidean)", partial(estimate.entropy, x), h_true,
                repeat=rep)
        row(table, case, "kullback knn (chebyshev)",
            partial(estimate.entropy, x, metric="chebyshev"), h_true, t, rep)
        if d == 1:
            row(table, case, "kullback spacing", partial(estimate.entropy, x, method="spacing"),
                h_true, t, rep)
            row(table, case, "scipy differential_entropy",
                partial(scipy.stats.differential_entropy, x[:, 0]), h_true, t, rep)
        if im is not None:
            row(table, case, "infomeasure metric (p=2)",
                partial(im.entropy, x, approach="metric", k=3, minkowski_p=2, base="e"),
                h_true, t, rep)
        row(table, case, "NPEET-style (max-norm)", partial(npeet_entropy, x), h_true, t, rep)

    kl_cases = [(1, 10_000, 10_000), (1, 10_000, 2_000), (1, 2_000, 10_000), (5, 10_000, 10_000)]
    for d, n, m in kl_cases + [(5, b, b) for b in big]:
        x = rng.normal(size=(n, d))
        y = rng.normal(0.5, 1.5, size=(m, d))
        rep = 3 if n <= 10_000 else 1
        kl_true = gauss_kl(d)
        case = f"KL, d={d}, n={n}, m={m}"
        t = row(table, case, "kullback knn (euclidean)", partial(estimate.kl_divergence, x, y),
                kl_true, repeat=rep)
        row(table, case, "kullback knn (chebyshev)",
            partial(estimate.kl_divergence, x, y, metric="chebyshev"), kl_true, t, rep)
        if im is not None:
            row(table, case, "infomeasure kld metric (p=2)",
                partial(im.kld, x, y, approach="metric", k=3, minkowski_p=2, base="e"),
                kl_true, t, rep)
        row(table, case, "NPEET-style (max-norm)", partial(npeet_kl, x, y), kl_true, t, rep)
    print_table("Continuous: P = N(0, I), Q = N(0.5, 1.5^2 I), k = 3", table)


# ------------------------------------------------------------------------ discrete
def discrete() -> None:
    k_alpha = 1000
    w = 1.0 / np.arange(1, k_alpha + 1) ** 1.1
    p = w / w.sum()
    truth = float(-(p * np.log(p)).sum())
    rng = np.random.default_rng(7)
    # (kullback method, its options, infomeasure approach, its options)
    pairs = [
        ("plugin", {}, "discrete", {}),
        ("miller_madow", {}, "miller_madow", {}),
        ("grassberger", {}, "grassberger", {}),
        ("chao_shen", {}, "chao_shen", {}),
        ("james_stein", {}, "shrink", {}),  # both shrink toward 1/K_obs
        ("james_stein", {"alphabet_size": k_alpha}, None, {}),
        ("nsb", {"alphabet_size": k_alpha}, "nsb", {"K": k_alpha}),
    ]
    table: list[tuple] = []
    for n in (500, 20_000):
        draws = [rng.choice(k_alpha, size=n, p=p) for _ in range(20)]
        case = f"H, Zipf K={k_alpha}, N={n}"
        for method, opts, approach, iopts in pairs:
            label = f"kullback {method}" + (" (K given)" if opts else "")
            t0 = time.perf_counter()
            vals = np.array([estimate.entropy(s, method=method, **opts) for s in draws])
            t_kb = (time.perf_counter() - t0) / len(draws)
            table.append((case, label, f"{vals.mean():+.4f}",
                          f"{vals.mean() - truth:+.4f} (sd {vals.std():.3f})", f"{t_kb:8.4f}", ""))
            if im is None or approach is None:
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t0 = time.perf_counter()
                    ivals = np.array([im.entropy(s, approach=approach, base="e", **iopts)
                                      for s in draws], dtype=float)
                    t_im = (time.perf_counter() - t0) / len(draws)
                table.append((case, f"infomeasure {approach}", f"{ivals.mean():+.4f}",
                              f"{ivals.mean() - truth:+.4f} (sd {ivals.std():.3f})",
                              f"{t_im:8.4f}", f"{t_im / t_kb:6.2f}x"))
            except Exception as exc:
                table.append((case, f"infomeasure {approach}", "error", "",
                              type(exc).__name__, ""))
    print_table(f"Discrete entropy, truth {truth:.4f} nats; mean over 20 draws; time per call",
                table)


# ---------------------------------------------------------------- mutual information
def mutual_information(quick: bool) -> None:
    rng = np.random.default_rng(99)
    table: list[tuple] = []
    rho = 0.8
    sizes = [10_000] if quick else [10_000, 100_000]
    for n in sizes:
        x = rng.normal(size=(n, 1))
        y = rho * x + math.sqrt(1 - rho**2) * rng.normal(size=(n, 1))
        truth = -0.5 * math.log(1 - rho**2)
        case = f"MI, rho={rho}, n={n}"
        t = row(table, case, "kullback ksg", partial(estimate.mutual_information, x, y), truth)
        if sklearn is not None:  # scales to unit variance, adds 1e-10 noise, clips at 0
            row(table, case, "sklearn mutual_info_regression",
                partial(lambda a, b: mutual_info_regression(a, b, n_neighbors=3,
                                                            random_state=0)[0], x, y[:, 0]),
                truth, t)
        row(table, case, "NPEET-style KSG", partial(npeet_mi, x, y), truth, t)
    cov = np.array([[1.0, 0.5, 0.6], [0.5, 2.0, 0.3], [0.6, 0.3, 1.5]])
    truth = 0.5 * math.log(np.linalg.det(cov[:2, :2]) * cov[2, 2] / np.linalg.det(cov))
    z = rng.multivariate_normal(np.zeros(3), cov, size=10_000)
    case = "MI, d_x=2, d_y=1, n=10000"  # sklearn has no joint MI of a 2-D X: no row
    t = row(table, case, "kullback ksg", partial(estimate.mutual_information, z[:, :2], z[:, 2]),
            truth)
    row(table, case, "NPEET-style KSG", partial(npeet_mi, z[:, :2], z[:, 2:]), truth, t)
    # discrete: the plug-in MI of a 100 x 100 contingency table from 10^6 pairs
    a = rng.integers(0, 100, size=1_000_000)
    b = (a + rng.integers(0, 10, size=a.size)) % 100
    truth = math.log(100) - math.log(10)  # H(Y) - H(Y | X): Y uniform, Y | X uniform on 10
    case = "MI, labels 100x100, N=1e6"
    t = row(table, case, "kullback plugin", partial(estimate.mutual_information, a, b), truth)
    if sklearn is not None:
        row(table, case, "sklearn mutual_info_score", partial(mutual_info_score, a, b), truth, t)
    print_table("Mutual information (k = 3); errors against closed forms", table)


# ------------------------------------------------------- pseudocount over huge alphabets
def huge_alphabet() -> None:
    """Add-1 smoothing of 3 observed outcomes over K outcomes: one closed-form term for the
    unseen ones (kullback) against the dense vector of K counts (the textbook way)."""
    counts = np.array([5.0, 3.0, 2.0])
    table: list[tuple] = []
    for k in (10**6, 10**7, 10**10):
        case = f"H, add-1, K={k:.0e}"

        def dense(k=k):
            c = np.ones(k)
            c[:3] += counts
            return scipy.stats.entropy(c)

        truth = float(estimate.entropy(counts=counts, method="plugin", pseudocount=1,
                                       alphabet_size=k))
        t = row(table, case, "kullback plugin (pseudocount=1)",
                partial(estimate.entropy, counts=counts, method="plugin", pseudocount=1,
                        alphabet_size=k), truth, repeat=3)
        if k <= 10**7:
            row(table, case, "dense vector + scipy.stats.entropy", dense, truth, t)
    print_table("Pseudocount over a huge alphabet (error vs kullback's value)", table)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="skip the n = 1e5 case")
    args = ap.parse_args()
    print(f"CPU: {cpu_model()}, load average: {os.getloadavg()}, cores: {os.cpu_count()}, "
          f"infomeasure: {getattr(im, '__version__', 'not installed')}, "
          f"scikit-learn: {getattr(sklearn, '__version__', 'not installed')}")
    continuous(args.quick)
    discrete()
    mutual_information(args.quick)
    huge_alphabet()


if __name__ == "__main__":
    main()
