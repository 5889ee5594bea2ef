# The two commands: `make run` (a working site with demo data) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test lint format bench deps dev-deps system-deps system-test-deps assets messages worker clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.deps: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.deps $@

deps: $(VENV)/.deps
dev-deps: $(VENV)/.dev-deps

# Front-end data from npm at install time, served locally (no CDN): the Natural Earth country
# outline for the public map (MAP_COUNTRY: ISO 3166-1 numeric id, 760 = Syria).
MAP_COUNTRY ?= 760
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static/vendor/outline.geojson: node_modules/.installed scripts/build_outline.mjs
	node scripts/build_outline.mjs $(MAP_COUNTRY) $@

assets: static/vendor/outline.geojson

# Recompile translations when gettext is present; the compiled .mo files are committed for machines without it.
messages:
	@if command -v msgfmt >/dev/null; then DEBUG=1 $(BIN)/python manage.py compilemessages --ignore=$(VENV) -v0; fi

run: deps system-deps messages assets
	@mkdir -p var
	DEBUG=1 $(BIN)/python manage.py migrate --noinput -v0
	DEBUG=1 $(BIN)/python manage.py load_demo
	@if [ -n "$$REDIS_URL" ]; then \
		echo "REDIS_URL is set: starting a Celery worker"; \
		DEBUG=1 $(BIN)/celery -A config worker --beat --loglevel=INFO --concurrency=2 & \
		WORKER=$$!; trap "kill $$WORKER 2>/dev/null" EXIT INT TERM; \
		DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:$(PORT); \
	else \
		echo "Celery tasks run eagerly in-process (set REDIS_URL to use Redis and a worker)"; \
		DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:$(PORT); \
	fi

# Debian packages needed at run and test time, installed only when missing and only as root:
# libmagic (file types by content), ffmpeg (audio/video checks and metadata stripping), Pango and
# HarfBuzz for WeasyPrint's PDF reports and the fonts they embed (Amiri for Arabic, DejaVu for Latin);
# Node/npm for the front-end assets (make assets); Chromium for the browser tests and nginx for the
# reverse-proxy test (tests/test_behind_nginx.py, docs/deploy-behind-a-proxy.md) only.
SYSTEM_PACKAGES := libmagic1 ffmpeg libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 \
	fontconfig fonts-hosny-amiri fonts-dejavu-core nodejs npm
TEST_SYSTEM_PACKAGES := chromium nginx
# Tools that may come from elsewhere than Debian (e.g. Node with its own npm): present on PATH is enough.
SYSTEM_COMMANDS := chromium:chromium nodejs:node npm:npm nginx:nginx
system-deps: PACKAGES = $(SYSTEM_PACKAGES)
system-test-deps: PACKAGES = $(SYSTEM_PACKAGES) $(TEST_SYSTEM_PACKAGES)
system-deps system-test-deps:
	@missing=$$(for p in $(PACKAGES); do \
		for pair in $(SYSTEM_COMMANDS); do [ "$${pair%%:*}" = "$$p" ] && command -v "$${pair#*:}" >/dev/null && continue 2; done; \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing system packages:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
		echo "missing system packages (install them as root):" $$missing; \
	fi

# Uses DATABASE_URL and REDIS_URL when set; SQLite and eager tasks otherwise.
test: dev-deps system-test-deps messages assets
	SECRET_KEY="$${SECRET_KEY:-$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(64))')}" \
		$(BIN)/pytest $(PYTEST_ARGS)

lint: dev-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/audit_dependencies.py

format: dev-deps
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The figures at a million victims (bench/README.md): PostgreSQL only, in a database it may fill with
# synthetic records (DATABASE_URL). BENCH_ARGS="--runs 3 --only 1,2" etc.; see `python -m bench.run --help`.
bench: dev-deps system-deps
	@case "$$DATABASE_URL" in \
		postgres://*|postgresql://*) ;; \
		*) echo "make bench measures PostgreSQL and refuses to run without it: set DATABASE_URL=postgres://... to a database it may fill with a million synthetic records (not production)." >&2; exit 2;; \
	esac
	SECRET_KEY="$${SECRET_KEY:-$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(64))')}" \
		$(BIN)/python -m bench.run $(BENCH_ARGS)

worker: deps
	$(BIN)/celery -A config worker --loglevel=INFO

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
