# From a fresh clone: `make run` starts the product, `make test` runs the tests.
# Without DATABASE_URL / REDIS_URL, embedded PostgreSQL and Redis are started and stopped.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
WITH_SERVICES := $(PY) -m crm_platform.devservices exec --
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: install run test bench lint format messages clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed, found " + sys.version.split()[0] + ": set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

run: install
	$(PY) -m crm_platform.devservices stack

test: install
	CRM_TESTING=1 $(WITH_SERVICES) $(PY) -m pytest $(PYTEST_ARGS)

bench: install
	CRM_TESTING=1 $(WITH_SERVICES) $(PY) -m bench $(BENCH_ARGS)

lint: install
	$(VENV)/bin/ruff check .

format: install
	$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

# Refresh the translation catalogues after changing strings (needs gettext).
messages: install
	cd $(CURDIR) && CRM_TESTING=1 $(PY) manage.py makemessages -l zh_Hans -l ja --no-obsolete \
		--ignore='.venv/*' --ignore='.data/*' --ignore='tests/*' --ignore='bench/*'
	CRM_TESTING=1 $(PY) manage.py compilemessages --ignore='.venv/*'

clean:
	rm -rf $(VENV) .data staticfiles .pytest_cache .ruff_cache
