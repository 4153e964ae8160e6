# The two commands of the README: `make run` and `make test`. Both set themselves up.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
ASSETS_STAMP := chalicelib/web/static/dsfr/.built

.PHONY: setup run test lint format routes bench package clean screenshots screenshots-compare

setup: $(PY_STAMP) $(ASSETS_STAMP)

$(PY_STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet pip==26.2.1  # chalice 1.34 needs pip < 26.3
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# The DSFR's preinstall script expects a project generator; we only need its dist/ files.
$(NODE_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# The build scans the templates for the icons they name: a template change may need a rebuild.
$(ASSETS_STAMP): $(NODE_STAMP) $(PY_STAMP) local/build_assets.py $(wildcard chalicelib/web/templates/*.html)
	$(PY) -m local.build_assets

run: setup
	$(PY) -m local.stack

test: setup lint
	$(PY) -m pytest

# The import rules (pyproject.toml, [tool.importlinter]): layers, the API apart from the pages,
# services without the container, no import cycle; the route table up to date (`make routes`). The templates too: cfn-lint with the project's
# rules (infra/lint_rules) on infra/*.yaml and on what `chalice package` generates, and the checks
# across the two (infra/lint.py).
lint: $(PY_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports --no-logo
	$(PY) -m chalicelib.lazy_entry_points --check
	$(PY) -m infra.lint

format: $(PY_STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# The table of routes app.py registers before their modules load (chalicelib/lazy_entry_points.py),
# written from the route decorators; tests/integration/test_route_table.py says when to rerun it.
routes: $(PY_STAMP)
	$(PY) -m chalicelib.lazy_entry_points
	$(PY) -m ruff format --quiet chalicelib/route_table.py

bench: setup
	$(PY) -m bench

# The README's screenshots, in docs/screenshots/ (its own local stack; see local/screenshots.py).
screenshots: setup
	$(PY) -m local.screenshots

# The same screenshots from the current tree against an earlier commit's (REF=..., default: before
# issue 16's asset work) or, with REF=committed, docs/screenshots/: share of differing pixels.
REF ?=
screenshots-compare: setup
	$(PY) -m local.screenshots_compare $(if $(filter committed,$(REF)),--committed,$(if $(REF),--ref $(REF),))

# The Lambda package of a stage (default dev), its size beside the budget.
STAGE ?= dev
package: setup
	$(PY) -m infra.package --stage $(STAGE)

clean:
	rm -rf $(VENV) node_modules chalicelib/web/static/dsfr .local .pytest_cache build
