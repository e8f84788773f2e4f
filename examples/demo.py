"""The README's main job: explain a KL divergence on bundled example data, with a plot.

A weather forecast (``weather_forecast.json``: probabilities for sunny, rain, cloudy, fog,
snow and hail) is scored against a year of observed weather (``weather_observed.json``:
days counted per outcome, normalised by the command). The two files list their outcomes in
different orders, and the forecast names one (hail) that was never observed, so the outcomes
are matched by label and hail gets p = 0.

Run it with ``make demo`` (or ``.venv/bin/python examples/demo.py`` in a set-up checkout).
It runs the installed ``kullback`` command as a person would::

    kullback explain examples/weather_observed.json examples/weather_forecast.json \\
        --base bits --plot out/explain.png

and prints where the plot is.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
OUT = ROOT / "out"


def kullback_command() -> list[str]:
    """The installed console script beside this interpreter, else ``python -m kullback``."""
    beside = Path(sys.executable).parent / "kullback"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("kullback")
    return [found] if found else [sys.executable, "-m", "kullback"]


def main() -> int:
    OUT.mkdir(exist_ok=True)
    plot = OUT / "explain.png"
    observed = EXAMPLES / "weather_observed.json"
    forecast = EXAMPLES / "weather_forecast.json"
    cmd = [*kullback_command(), "explain", str(observed.relative_to(ROOT)),
           str(forecast.relative_to(ROOT)), "--base", "bits", "--plot",
           str(plot.relative_to(ROOT))]
    print("$ kullback " + " ".join(cmd[len(kullback_command()):]), flush=True)
    print(flush=True)
    result = subprocess.run(cmd, cwd=ROOT, check=False)
    if result.returncode != 0:
        print(f"demo: kullback exited with status {result.returncode}", file=sys.stderr)
        return result.returncode
    if not plot.is_file():
        print(f"demo: the plot was not written to {plot}", file=sys.stderr)
        return 1
    print()
    print(f"The plot is at {plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
