# Two commands do all the set-up on a fresh machine:
#   make demo   build the 2025-06-11 sample brief (no network, no keys) into output/
#   make test   lint, type-check (mypy strict) and run the test suite
# Both create .venv, install the project and check the system libraries WeasyPrint needs.
#   make lock   refresh requirements.lock after changing a dependency in pyproject.toml

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The exact versions (with hashes) every install of the project's own commands uses;
# pyproject.toml keeps the ranges a `pip install` of the package accepts.
LOCK   := requirements.lock
UV_VERSION := 0.13.10
# Locked beside the project's dependencies: the build backend and what it asks for an
# editable build (the install is built without isolation, so from the lock too), and pip.
LOCK_TOOLS := 'hatchling>=1.25' editables pip
# Debian packages WeasyPrint needs (Pango for text layout) and a font family.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core

.PHONY: demo test setup lock syslibs chromium poppler axe lint mdlint typecheck golden docs readme screenshots bench clean

setup: $(STAMP) syslibs

# A new venv each time (--clear), so it holds what the lock names and nothing left over.
$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "reportgen needs Python 3.11 or newer")'
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	@touch $(STAMP)

# Resolve pyproject.toml's dependencies (and the test extra) anew with uv, pinned with hashes
# for every platform and Python >= 3.11. Run it after changing a dependency, or to take newer
# releases; then `make test` and commit pyproject.toml and requirements.lock together.
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	printf '%s\n' $(LOCK_TOOLS) | $(BIN)/uv pip compile pyproject.toml - --extra test \
	  --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock" \
	  --quiet -o $(LOCK)

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

# poppler-utils: pdftotext, the second of the two extractors that read the PDF's text layer
# for the golden files (tests/pdftext.py), and pdftoppm for the README's pictures. Installed
# as root when missing; otherwise the golden test fails saying to install it.
poppler:
	@command -v pdftotext >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils; } || \
	  echo "poppler-utils not installed: the golden PDF test will fail (sudo apt-get install poppler-utils)"

# axe-core (the accessibility engine the browser test runs in Chromium) from the npm registry,
# pinned, into the venv; without npm the axe checks are skipped with the reason.
AXE_VERSION := 4.14.1
AXE_JS := $(VENV)/axe/node_modules/axe-core/axe.min.js
axe: $(AXE_JS)
$(AXE_JS):
	@command -v npm >/dev/null 2>&1 && npm install --silent --no-audit --no-fund --prefix $(VENV)/axe axe-core@$(AXE_VERSION) || \
	  echo "npm not found: the axe-core checks in tests/publish/test_browser.py will be skipped"

test: setup chromium poppler axe lint mdlint typecheck
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2

# Regenerate the golden sample briefs on purpose, after an intended change of output; refused
# (nothing written) when the PDF's text layer is garbled or its two extractors disagree.
golden: setup poppler
	$(BIN)/python -m tests.golden

# Regenerate docs/cli.md from the real --help output (a test checks it is current).
docs: setup
	$(BIN)/python scripts/cli_reference.py

# Regenerate README.md's `make demo` transcript and test count (tests/core/test_readme.py
# checks them), after changing what a sample run prints or adding tests.
readme: setup
	$(BIN)/python scripts/readme.py

# The README's pictures: pages 1 and 2 of the current sample brief's PDF (pdftoppm, from
# poppler-utils).
screenshots: setup poppler
	rm -rf .screenshots && $(BIN)/reportgen --output .screenshots run --sample --formats pdf --no-send --no-publish
	pdftoppm -png -r 60 -f 1 -l 1 -singlefile .screenshots/reports/2025-06-11/brief.pdf docs/brief-page1
	pdftoppm -png -r 60 -f 2 -l 2 -singlefile .screenshots/reports/2025-06-11/brief.pdf docs/brief-page2
	rm -rf .screenshots

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
