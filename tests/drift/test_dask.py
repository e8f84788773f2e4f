"""Dask DataFrames on a process cluster give the same report as pandas (one cluster, ~10 s)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kullback.drift import drift

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("dask.distributed")


def _table(n, shift, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1.0, n)
    x[rng.random(n) < 0.05] = np.nan
    colors = ["red", "green", "blue"] + (["violet"] if shift else [])
    return pd.DataFrame({"x": x, "level": rng.integers(0, 6, n),
                         "count": rng.integers(0, 1000, n),
                         "color": rng.choice(colors, n), "flag": rng.random(n) < 0.2 + shift})


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        yield c


def test_dask_on_a_process_cluster_equals_pandas(client):
    ref, cur = _table(4000, 0.0, 1), _table(3000, 0.3, 2)
    got = drift(dd.from_pandas(ref, npartitions=4), dd.from_pandas(cur, npartitions=3),
                ci=0.95, random_state=3)
    want = drift(ref, cur, ci=0.95, random_state=3)
    assert got.to_dict() == want.to_dict()
    assert len(client.scheduler_info()["workers"]) == 2   # it ran on the process cluster
    assert got["x"].reference.sum() == 4000 and got["color"].kl_cur_ref == np.inf
