# Two commands on a fresh machine:  `make run`  and  `make test`  (see README.md).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test lint bench bench-feed bench-sweep bench-delivery bench-faults messages clean

run: $(VENV)/.installed
	$(PY) -m bot

test: $(VENV)/.installed-dev
	bash scripts/ensure_postgres.sh
	bash scripts/ensure_synapse.sh
	bash scripts/ensure_dovecot.sh
	bash scripts/ensure_chromium.sh
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q -p no:cacheprovider -n 2

lint: $(VENV)/.installed-dev
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m ruff format --check bot handlers storage

bench: $(VENV)/.installed-dev
	$(PY) bench/throughput.py

bench-feed: $(VENV)/.installed-dev
	$(PY) bench/feed.py

bench-sweep: $(VENV)/.installed-dev
	$(PY) bench/sweep.py

bench-delivery: $(VENV)/.installed-dev
	$(PY) bench/delivery.py

bench-faults: $(VENV)/.installed-dev
	$(PY) bench/faults.py --platform both

messages: $(VENV)/.installed-dev
	bash scripts/update_messages.sh

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(VENV)/.installed $@

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache

.PHONY: bench-email
bench-email: $(VENV)/.installed-dev
	$(PY) bench/email_delivery.py

.PHONY: bench-processes
bench-processes: $(VENV)/.installed-dev
	$(PY) bench/processes.py --processes 1,2,4

.PHONY: bench-scale
bench-scale: $(VENV)/.installed-dev
	$(PY) bench/scale.py --database postgresql
	$(PY) bench/scale.py --database sqlite
