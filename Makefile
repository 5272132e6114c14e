# One entry point for people and CI. Every target sets up what it needs first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Lambda runs Python 3.13: use it for the virtual environment when pyenv has it, else 3.12 (the local IdP
# needs 3.12 or newer), else python3.
PYTHON_FOR_VENV := $(shell \
  if PYENV_VERSION=3.13.0 python3.13 --version >/dev/null 2>&1; then echo "env PYENV_VERSION=3.13.0 python3.13"; \
  elif command -v python3.13 >/dev/null 2>&1; then echo python3.13; \
  elif PYENV_VERSION=3.12.1 python3.12 --version >/dev/null 2>&1; then echo "env PYENV_VERSION=3.12.1 python3.12"; \
  elif command -v python3.12 >/dev/null 2>&1; then echo python3.12; \
  else echo python3; fi)
VENV := .venv
PY := $(VENV)/bin/python
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONPATH := $(CURDIR)/lambda:$(CURDIR)

.PHONY: help dev test test-fast unit infra e2e lint typecheck docs synth deploy destroy fuzz load bench messages translations clean

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# Two steps: `make dev` needs only the local run's packages; every other target adds the full toolchain.
$(VENV)/.local-installed: requirements-local.txt lambda/requirements.txt
	test -x $(PY) || $(PYTHON_FOR_VENV) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-local.txt
	touch $@

$(VENV)/.installed: requirements.txt $(VENV)/.local-installed
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

dev: $(VENV)/.local-installed ## Run the portal on http://127.0.0.1:8000 with a local IdP and a simulated SageMaker
	$(PY) -m local.dev

lint: $(VENV)/.installed ## ruff over the whole repository
	$(VENV)/bin/ruff check .

typecheck: $(VENV)/.installed ## mypy over lambda/portal, infra and local (configured in pyproject.toml)
	$(VENV)/bin/mypy

docs: $(VENV)/.installed ## Rewrite the settings tables of README.md and docs/deploy.md from the settings catalog
	$(PY) scripts/settings_tables.py

test: $(VENV)/.installed node_modules/.installed ## Run every test: lint, types, unit, flows, infrastructure, browser
	bash scripts/ensure-chromium
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest --cov --cov-report=term

unit: $(VENV)/.installed ## The unit tier only (tests/unit: seconds, no network, no synth)
	$(PY) -m pytest tests/unit -q

infra: $(VENV)/.installed node_modules/.installed ## The infrastructure tier only (CDK synth, cdk-nag, cfn-lint, the bundle)
	$(PY) -m pytest -m infra -q

e2e: $(VENV)/.installed node_modules/.installed ## The browser tier only (headless Chromium through the local runner)
	bash scripts/ensure-chromium
	$(PY) -m pytest -m e2e -q

test-fast: $(VENV)/.installed ## Unit and flow tests only (no CDK synth, no browser)
	$(PY) -m pytest -m "not e2e and not infra"

synth: $(VENV)/.installed node_modules/.installed ## Synthesize the CloudFormation template into cdk.out/ (offline)
	npx cdk synth --quiet

deploy: $(VENV)/.installed node_modules/.installed ## cdk deploy with the context in cdk.json (and -c overrides in CDK_ARGS)
	npx cdk deploy $(CDK_ARGS)

destroy: $(VENV)/.installed node_modules/.installed ## Remove the stack (the Cognito user pool and the log groups are retained)
	npx cdk destroy $(CDK_ARGS)

fuzz: $(VENV)/.installed ## Longer Hypothesis run over API Gateway events
	PORTAL_FUZZ_EXAMPLES=5000 $(PY) -m pytest tests/fuzz -q -p no:cacheprovider

load: $(VENV)/.installed ## A longer load run on loopback (500 users x 5 clicks), figures printed
	PORTAL_LOAD_USERS=500 PORTAL_LOAD_CLICKS=5 $(PY) -m pytest tests/flow/test_load.py -q -s -p no:cacheprovider

bench: $(VENV)/.installed ## Cold start (from the Lambda bundle), warm launch and memory against a bare handler
	$(PY) -m bench

# The pages' translations: .po sources (edit these) and the compiled .mo the function reads, both committed.
LOCALE := lambda/portal/locale
PYBABEL := $(VENV)/bin/pybabel

messages: $(VENV)/.installed ## Extract the pages' texts into lambda/portal/locale (messages.pot, each language's .po)
	$(PYBABEL) --quiet extract --mapping-file babel.cfg --output-file $(LOCALE)/messages.pot --add-comments Translators: \
	  --add-location=file --sort-by-file --no-wrap --project "SageMaker Studio portal" --version 1 \
	  --header-comment "# The texts of the portal's pages, as written in templates/ and lambda/portal (make messages)." \
	  lambda/portal templates
	$(PYBABEL) --quiet update --input-file $(LOCALE)/messages.pot --output-dir $(LOCALE) --domain messages \
	  --no-wrap --ignore-obsolete

translations: $(VENV)/.installed ## Compile the .po translations into the .mo files the function ships
	$(PYBABEL) compile --directory $(LOCALE) --domain messages --statistics

clean: ## Remove the virtual environment, node_modules and build output
	rm -rf $(VENV) node_modules cdk.out .build .pytest_cache .mypy_cache .coverage
