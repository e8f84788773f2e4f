# `make demo` and `make test` work on a fresh machine: they create .venv and install what they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup browser demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The local CPU wheel; a bare `torch` requirement would download a multi-GB CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

# Debian's Chromium for the explorer's browser tests (Playwright cannot download a browser here):
# installed when missing, as root or through password-less sudo; otherwise those tests skip with
# one line saying why (and fail when KULLBACK_REQUIRE_BROWSER=1, as on CI).
browser:
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
		else echo "note: cannot install chromium (not root); browser tests will skip"; exit 0; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
			chromium >/dev/null; \
	fi

setup: browser $(STAMP)

demo: setup
	$(PY) examples/demo.py

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks examples

test: setup lint
	$(PY) -m pytest -n 2 -q

bench: setup
	$(PY) benchmarks/bench_discrete.py
	$(PY) benchmarks/bench_estimate.py --quick
	$(PY) benchmarks/bench_linear_cross_entropy.py --quick
	$(PY) benchmarks/bench_cli.py --quick
	$(PY) benchmarks/bench_losses.py --quick
	$(PY) benchmarks/bench_torch_measures.py --quick
	$(PY) benchmarks/bench_jax_measures.py --quick
	$(PY) benchmarks/bench_lm.py --quick
	$(PY) benchmarks/bench_drift.py --rows-evidently 1e5 --rows 1e6

clean:
	rm -rf $(VENV) out
