# Two commands: `make run` (demo on SQLite, nothing to install) and `make test`.
VENV ?= .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

export TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
export TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: install run test bench chaos clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/ordergraph demo

test: install
	./scripts/ensure-chromium
	$(VENV)/bin/python -m pytest

bench: install
	for script in bench/*.py; do $(VENV)/bin/python $$script || exit 1; done

# The full chaotic day of issue 19 on PostgreSQL + a private Redis with two processes (about 20 minutes).
chaos: install
	$(VENV)/bin/ordergraph simulate --orders 20000 --hours 24 --speed 100 --profile chaos --seed 7 \
		--database-url $(TEST_DATABASE_URL) --redis private --workers 2 --report var/chaos/report.html

clean:
	rm -rf $(VENV) var tests/artifacts
