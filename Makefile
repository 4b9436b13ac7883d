# Two set-up commands for a fresh machine: `make run` and `make test`.
# Everything is installed into the project virtualenv .venv from the requirements files.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test bench synth layer smoke clean

$(STAMP): requirements.txt requirements-dev.txt requirements-infra.txt layers/helpdesk/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -e layers/helpdesk
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) -m local

test: install
	$(PY) -m pytest

bench: install
	$(PY) -m bench

synth: install
	$(PY) app.py

# The Lambda layer alone (synth builds it too): arm64 wheels for CPython 3.12 and bytecode compiled by a
# CPython 3.12 (LAYER_PYTHON names one if it is not on PATH, pyenv or uv); `make layer FORCE=1` rebuilds.
layer: install
	$(PY) scripts/build_layer.py $(if $(FORCE),--force)

# End-to-end check of the local stack (`make run` first), or of a deployed stage: STAGE=dev make smoke
smoke: install
	$(PY) scripts/smoke.py

clean:
	rm -rf $(VENV) .local cdk.out layers/build
