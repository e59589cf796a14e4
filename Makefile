# The two commands of README.md: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# The PostgreSQL pass of make test; it is skipped with a message where no server answers,
# and fails under CI=true.
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test

# Debian packages the browser and translation tests use; installed when missing (as root).
DEBIAN_PACKAGES := chromium fonts-wqy-microhei gettext
# The Chinese font the paper previews draw with (make run needs only this one).
RUN_PACKAGES := fonts-wqy-microhei

.PHONY: run test bench mutate lint format clean system-packages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	@$(MAKE) --no-print-directory system-packages DEBIAN_PACKAGES="$(RUN_PACKAGES)"
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py loaddemo
	$(BIN)/python manage.py runprintserver

system-packages:
	@missing=""; \
	for package in $(DEBIAN_PACKAGES); do \
		dpkg -s $$package >/dev/null 2>&1 || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "missing Debian packages:$$missing (browser/translation tests skip; previews say the font is missing)"; \
		fi; \
	fi

test: $(VENV)/.dev-installed system-packages
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -m "not postgres"
	DATABASE_URL=$(TEST_POSTGRES_URL) $(BIN)/python -m pytest -p no:cacheprovider \
		-m "(django_db or postgres) and not browser and not engine_agnostic"

# Figures, not pass/fail: writes the tables of docs/performance.md (about 20 minutes).
bench: $(VENV)/.dev-installed
	$(BIN)/python -m bench.run_all

# Mutation testing of the pure core modules (docs/testing.md); not part of make test.
# MODULE=printing.tspl runs one module; MUTATE_JOBS is the number of worker processes (one
# a core by default).
MODULE ?=
MUTATE_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
# mutmut keeps its results and which tests reach which function across runs, but does not
# notice an edited test: every run starts from scratch. Then the mutants not killed, and
# killed/total per module ("timeout", a mutant that loops for ever, counts as killed; "no
# tests" and "survived" as not killed).
mutate: $(VENV)/.dev-installed
	@$(MAKE) --no-print-directory system-packages DEBIAN_PACKAGES="$(RUN_PACKAGES)"
	rm -rf mutants
	$(BIN)/mutmut run --max-children $(MUTATE_JOBS) $(if $(MODULE),"$(MODULE).*")
	@$(BIN)/mutmut results | grep -v "not checked" || true
	@$(BIN)/mutmut results --all true | awk -F': ' '$$2 != "not checked" { \
		m = $$1; sub(/^ +/, "", m); sub(/\.x[^.]*$$/, "", m); n[m]++; if ($$2 == "killed" || $$2 == "timeout") k[m]++ } \
		END { for (m in n) printf "%-30s %4d/%-4d killed (%.1f %%)\n", m, k[m], n[m], 100 * k[m] / n[m] }'

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache mutants
