"""The blocked driver's thread pool in child processes: fork, spawn and forkserver never hang.

Each scenario runs in a fresh interpreter with a timeout: the parent makes one large call (so
its thread pool exists), then a pool of child processes makes large calls too. Before the
pool was reset at fork, a forked child waited forever on the inherited, thread-less pool.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import multiprocessing as mp
    import sys

    import numpy as np

    import kullback as kb
    from kullback.measures import _blocked


    def work(seed):
        rng = np.random.default_rng(seed)
        p = rng.random(_blocked.MIN_BLOCKED * 2)
        return float(kb.entropy(p)) + float(kb.kl_divergence(p, p[::-1]))


    if __name__ == "__main__":
        p = np.random.default_rng(0).random(_blocked.MIN_BLOCKED * 4)
        kb.entropy(p)  # the parent's pool now exists, with its threads
        assert _blocked._POOL is not None or _blocked._workers() == 1
        ctx = mp.get_context(sys.argv[1])
        with ctx.Pool(2) as pool:
            got = pool.map(work, [1, 2])
        want = [work(1), work(2)]
        assert got == want, (got, want)
        print("ok")
    """
)


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_child_processes_do_not_hang(method, tmp_path):
    script = tmp_path / "child.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), method], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the hung children too, not only the parent
        proc.communicate()
        pytest.fail(f"child processes ({method}) hung after the parent's large call")
    assert proc.returncode == 0, err[-2000:]
    assert out.strip() == "ok"
