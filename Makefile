# `make demo` and `make test` work on a fresh machine: they create .venv and install what they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint bench clean

$(STAMP): pyproject.toml
	@# Debian's Chromium for the explorer's browser tests (Playwright cannot download a browser
	@# here). Installed when missing and we are root; otherwise those tests skip, saying why.
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The local CPU wheel; a bare `torch` requirement would download a multi-GB CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

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

clean:
	rm -rf $(VENV) out
