# Two commands do all the set-up on a fresh machine:
#   make demo   build the 2025-06-11 sample brief (no network, no keys) into output/
#   make test   lint, type-check (mypy strict) and run the test suite
# Both create .venv, install the project and check the system libraries WeasyPrint needs.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Debian packages WeasyPrint needs (Pango for text layout) and a font family.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core

.PHONY: demo test setup syslibs chromium axe lint mdlint typecheck golden docs bench clean

setup: $(STAMP) syslibs

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "reportgen needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

# WeasyPrint loads Pango at import time; install it when missing (as root), else say which
# Debian packages to install.
syslibs: $(STAMP)
	@if ! $(BIN)/python -c 'import weasyprint' >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing $(SYSTEM_PACKAGES) for WeasyPrint"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES); \
	  else \
	    echo "WeasyPrint cannot load Pango. Install the Debian packages: sudo apt-get install $(SYSTEM_PACKAGES)"; exit 1; \
	  fi; \
	fi

demo: setup
	@$(BIN)/reportgen --output output run --sample; code=$$?; \
	  if [ $$code -eq 0 ] || [ $$code -eq 3 ]; then \
	    echo "open output/reports/2025-06-11/brief.html (also brief.pdf, brief.md)"; \
	  else exit $$code; fi

lint: $(STAMP)
	$(BIN)/ruff check reportgen tests bench scripts

# Markdown lint of the sample brief as rendered (its golden copy) and of the docs written
# for it; rules and their one exception in pyproject.toml [tool.pymarkdown].
mdlint: $(STAMP)
	$(BIN)/pymarkdown scan tests/golden/brief.md docs/the-day-in-brief.md

# Strict type check of the package (settings in pyproject.toml, [tool.mypy]).
typecheck: $(STAMP)
	$(BIN)/mypy

# The browser tests (tests/publish/test_browser.py) need Debian's chromium; installed as
# root when missing, otherwise they are skipped with the reason.
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } || \
	  echo "chromium not installed: browser tests will be skipped (sudo apt-get install chromium)"

# axe-core (the accessibility engine the browser test runs in Chromium) from the npm registry,
# pinned, into the venv; without npm the axe checks are skipped with the reason.
AXE_VERSION := 4.14.1
AXE_JS := $(VENV)/axe/node_modules/axe-core/axe.min.js
axe: $(AXE_JS)
$(AXE_JS):
	@command -v npm >/dev/null 2>&1 && npm install --silent --no-audit --no-fund --prefix $(VENV)/axe axe-core@$(AXE_VERSION) || \
	  echo "npm not found: the axe-core checks in tests/publish/test_browser.py will be skipped"

test: setup chromium axe lint mdlint typecheck
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2

# Regenerate the golden sample briefs on purpose, after an intended change of output.
golden: setup
	$(BIN)/python -m tests.golden

# Regenerate docs/cli.md from the real --help output (a test checks it is current).
docs: setup
	$(BIN)/python scripts/cli_reference.py

# Benchmarks print their figures; nothing is asserted. Results vary with the machine.
bench: setup
	$(BIN)/python bench/bench_brief.py
	$(BIN)/python bench/bench_liqmap.py
	$(BIN)/python bench/bench_backfill.py
	$(BIN)/python bench/bench_formats.py
	$(BIN)/python bench/bench_publish_s3.py
	$(BIN)/python bench/bench_mailing.py
	@command -v chromium >/dev/null 2>&1 && $(BIN)/python bench/bench_liqpages.py || \
	  echo "bench_liqpages.py skipped: chromium not installed (make chromium)"

clean:
	rm -rf output/reports output/archive.sqlite output/site
