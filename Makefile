# The two README commands: `make demo` and `make test`. Everything else is what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
PYTEST_ARGS ?=
# Translations: each committed .po is compiled to its .mo by the set-up (needs gettext's msgfmt).
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/*.po))

.PHONY: setup assets demo test lint typecheck migrations-check security audit check messages clean-demo bench bench-kpi bench-kpi-pages bench-lifecycle bench-imports

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

static/vendor/.copied: node_modules/.package-lock.json scripts/copy_vendor.sh
	bash scripts/copy_vendor.sh
	touch $@

assets: static/vendor/.copied

%.mo: %.po $(VENV)/.installed
	if command -v msgfmt >/dev/null; then msgfmt --check-format -o $@ $<; \
	else $(PY) -c 'import polib, sys; polib.pofile(sys.argv[1]).save_as_mofile(sys.argv[2])' $< $@; fi

setup: $(VENV)/.installed assets $(MO_FILES)

## Run the app with demo data (embedded PostgreSQL when DATABASE_URL is unset) on http://127.0.0.1:$(PORT)
demo: setup
	$(PY) manage.py rundemo --port $(PORT)

## Run the whole test suite (unit, integration, API, browser). Skips count as failures.
test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

# Every app package whole (services, selectors, api, views, forms, ...); migrations are excluded in pyproject.toml.
typecheck: setup
	$(VENV)/bin/mypy crm accounts leads imports lifecycle sales_ops

migrations-check: setup
	$(PY) manage.py makemigrations --check --dry-run

# bandit over the app packages: a finding not accepted in .bandit-baseline.json fails (docs/security-findings.md).
security: setup
	$(VENV)/bin/bandit -q -r crm accounts leads lifecycle sales_ops imports -x "*/migrations/*" -b .bandit-baseline.json

## Known vulnerabilities of the installed packages (PyPI's advisories; SAFETY_DB=<safety-db insecure.json> for all)
audit: setup
	$(PY) scripts/audit_deps.py $(if $(SAFETY_DB),--safety-db $(SAFETY_DB))

check: lint typecheck migrations-check security test

messages: setup
	$(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=node_modules --ignore=static/vendor
	$(PY) manage.py compilemessages --ignore=.venv

bench: setup
	$(PY) bench/run.py

bench-kpi: setup
	$(PY) bench/kpi.py --reuse

# Dashboards at 1% and full size; freshness with a private worker (BROKER: a Redis database nobody else uses).
bench-kpi-pages: setup
	$(PY) bench/kpi_pages.py --reuse $(if $(BROKER),--freshness --broker $(BROKER))

bench-lifecycle: setup
	$(PY) -m bench.lifecycle --reuse

bench-imports: setup
	$(PY) -m bench.imports

clean-demo:
	rm -rf var/pgdata
