"""Fixtures for the command-line tests: the real ``kullback`` executable, and ``main`` in-process.

``cli`` runs the installed console script in a subprocess with a timeout, as a user would;
``inproc`` calls :func:`kullback.cli.main` in this process (for speed, in the fuzz test). Both
return a :class:`Result` and check the command-line promise with :meth:`Result.one_line_error`:
exit status 2, nothing on stdout, exactly one line ``error: ...`` on stderr.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from dataclasses import dataclass

import pytest
from helpers import kullback_script


@dataclass
class Result:
    """What a run left: exit status, stdout, stderr."""

    returncode: int
    stdout: str
    stderr: str

    def one_line_error(self) -> str:
        """Assert the error promise; return the message after ``error: ``."""
        assert self.returncode == 2, (self.returncode, self.stdout[:500], self.stderr[:500])
        assert self.stdout == "", self.stdout[:500]
        lines = self.stderr.splitlines()
        assert len(lines) == 1, self.stderr[:2000]
        assert lines[0].startswith("error: "), lines[0]
        assert "internal error" not in lines[0] and "Traceback" not in self.stderr
        return lines[0].removeprefix("error: ")


class Runner:
    """``runner(*args, stdin=..., timeout=..., **popen_kwargs)`` -> :class:`Result`."""

    def __init__(self) -> None:
        self.command = kullback_script()

    def __call__(self, *args: str, stdin: str | bytes | None = None, timeout: float = 120,
                 **kwargs) -> Result:
        data = stdin.encode() if isinstance(stdin, str) else stdin
        kwargs.setdefault("stdout", subprocess.PIPE)
        r = subprocess.run([*self.command, *args], input=data if data is not None else b"",
                           stderr=subprocess.PIPE, timeout=timeout, check=False, **kwargs)
        return Result(r.returncode, _text(r.stdout), _text(r.stderr))


def _text(data: bytes | None) -> str:
    return data.decode("utf-8") if data is not None else ""


@pytest.fixture(scope="session")
def cli() -> Runner:
    """The real ``kullback`` executable."""
    return Runner()


def run_inproc(*args: str, stdin: str | None = None) -> Result:
    """:func:`kullback.cli.main` in this process, stdin from a string."""
    from kullback.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin
    sys.stdin = io.StringIO(stdin or "")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        sys.stdin = old
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="session")
def inproc():
    """``kullback.cli.main`` in-process, as a :class:`Runner`-like callable."""
    return run_inproc
