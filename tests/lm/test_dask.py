"""compare on Dask arrays: lazy until asked, and equal to the eager run on a process cluster."""

from __future__ import annotations

import numpy as np
import pytest
from lm.reference import assert_same_result, random_logits

from kullback.lm import compare, save_logits

da = pytest.importorskip("dask.array")


def _data(seed=0, n=120, v=17):
    rng = np.random.default_rng(seed)
    a = random_logits(rng, n, v, masked=0.1)
    b = a + 0.2 * rng.standard_normal(a.shape)
    t = np.array([rng.choice(np.flatnonzero(np.isfinite(r))) for r in a])
    return a, b, t


def _no_compute(*args, **kwargs):
    raise AssertionError("computed too early")


def test_nothing_is_computed_until_the_result_is_used():
    import dask

    a, b, t = _data()
    with dask.config.set(scheduler=_no_compute):
        c = compare(da.from_array(a, chunks=(30, 17)), da.from_array(b, chunks=(40, 5)), t)
        assert "lazy" in repr(c)
        with pytest.raises(AssertionError, match="computed too early"):
            c.summary()
    assert_same_result(c.compute(), compare(a, b, t))


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as c:
            yield c


def test_process_cluster_equals_eager_run_arrays_and_sharded_store(client, tmp_path):
    a, b, t = _data(1)
    eager = compare(a, b, t)
    lazy = compare(da.from_array(a, chunks=(25, 17)), da.from_array(b, chunks=(25, 17)),
                   da.from_array(t, chunks=25))
    assert lazy.dask.npartitions == 5  # one task per token chunk
    assert_same_result(lazy, eager)
    # a sharded store read by the workers themselves
    ref = save_logits(tmp_path / "ref", [a[:50], a[50:]], targets=t)
    cand = save_logits(tmp_path / "cand", [b[:70], b[70:]])
    distributed = compare(ref.to_dask(), cand.to_dask(), ref.targets)
    assert_same_result(distributed, eager)
    # an error in a worker names the chunk and token
    bad = b.copy()
    bad[60, 3] = np.nan
    with pytest.raises(ValueError, match=r"NaN at chunk 2, token 60, vocabulary entry 3"):
        compare(da.from_array(a, chunks=25), da.from_array(bad, chunks=25)).summary()
