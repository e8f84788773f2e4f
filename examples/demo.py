"""The README's demo: kullback's jobs on bundled example data, as a person would run them.

1. ``kullback explain``: a weather forecast (``weather_forecast.json``: probabilities for sunny,
   rain, cloudy, fog, snow and hail) scored against a year of observed weather
   (``weather_observed.json``: days counted per outcome). The outcomes are matched by label;
   hail was never observed, so it gets p = 0. Writes ``out/explain.png``.
2. ``kullback drift``: which columns of a customer table moved between a reference cohort
   (``drift_reference.csv``) and a current one (``drift_current.csv``), and which bins drive
   it. Writes ``out/drift.png``.
3. ``kullback explore``: the interactive page, started from the weather pair. Writes
   ``out/explore.html`` (self-contained: open it in any browser, no network needed).

Run it with ``make demo`` (or ``.venv/bin/python examples/demo.py`` in a set-up checkout).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "out"

STEPS = [
    ("explain", ["explain", "examples/weather_observed.json", "examples/weather_forecast.json",
                 "--base", "bits", "--plot", "out/explain.png"], "out/explain.png"),
    ("drift", ["drift", "examples/drift_reference.csv", "examples/drift_current.csv",
               "--base", "bits", "--plot", "out/drift.png"], "out/drift.png"),
    ("explore", ["explore", "examples/weather_observed.json", "examples/weather_forecast.json",
                 "--base", "bits", "-o", "out/explore.html"], "out/explore.html"),
]


def kullback_command() -> list[str]:
    """The installed console script beside this interpreter, else ``python -m kullback``."""
    beside = Path(sys.executable).parent / "kullback"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("kullback")
    return [found] if found else [sys.executable, "-m", "kullback"]


def run(args: list[str], output: str) -> int:
    """Run one ``kullback`` command from the project root and check that it wrote ``output``."""
    print("$ kullback " + " ".join(args), flush=True)
    print(flush=True)
    result = subprocess.run([*kullback_command(), *args], cwd=ROOT, check=False)
    if result.returncode != 0:
        print(f"demo: kullback exited with status {result.returncode}", file=sys.stderr)
        return result.returncode
    if not (ROOT / output).is_file():
        print(f"demo: {output} was not written", file=sys.stderr)
        return 1
    print(f"\n-> {output}\n", flush=True)
    return 0


def main() -> int:
    OUT.mkdir(exist_ok=True)
    for _, args, output in STEPS:
        status = run(args, output)
        if status:
            return status
    print("Open out/explore.html in a browser and drag the bars.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
