# The two commands: `make run` brings the whole system up, `make test` runs every test.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Test workers: the suite shares one PostgreSQL and one broker; each worker has its own
# databases and topic.
WORKERS ?= 2

.PHONY: run test faults lint typecheck install clean browser bench

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

run: $(BIN)/.installed
	$(BIN)/python -m devstack run

# The dashboard's browser test (tests/browser) drives headless Chromium: Debian's package,
# installed here when missing (Playwright's own browser download is not used).
CHROMIUM ?= /usr/bin/chromium

browser:
	@test -x $(CHROMIUM) || { \
		echo "installing Debian's chromium for the dashboard's browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	}

test: $(BIN)/.installed browser
	$(BIN)/ruff check .
	$(BIN)/mypy shared services/intake/domain services/routing/domain services/tracking/domain services/notify/domain
	$(BIN)/python -m devstack test -- -n $(WORKERS) --dist loadfile -q

# The fault suite alone (it also runs within `make test`): faults under load, then every
# promise checked, and the table of what was done and found.
faults: $(BIN)/.installed
	$(BIN)/python -m devstack test -- -q tests/faults

lint: $(BIN)/.installed
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy shared services/intake/domain services/routing/domain services/tracking/domain services/notify/domain

clean:
	rm -rf $(VENV) .stack

# The AsyncAPI document of the lifecycle topic, regenerated from the event catalogue
# (tests/unit/deploy/test_asyncapi.py fails while the committed one is stale).
.PHONY: asyncapi
asyncapi: $(BIN)/.installed
	$(BIN)/python -m shared.asyncapi --output docs/asyncapi.yaml

# The tracking benchmark at a million events (about 11 minutes; see docs/benchmarks/tracking.md).
# EVENTS=200000 for a shorter run; MLA_BENCH_POSTGRES_URL to use a running PostgreSQL.
EVENTS ?= 1000000
.PHONY: bench-tracking
bench-tracking: $(BIN)/.installed
	$(BIN)/python -m bench.tracking --events $(EVENTS) --json docs/benchmarks/tracking.json

# The system benchmark (about 5 minutes): its own PostgreSQL, broker and the four services;
# intake's sustained rate, received -> routed latency at 100 requests/s, full lifecycles,
# event appends against the `eventsourcing` library, memory per service. Figures go into
# docs/benchmarks/system.md (and system.json); BENCH_ARGS for other durations or rates.
BENCH_ARGS ?=
bench: $(BIN)/.installed
	$(BIN)/python -m bench.system --output docs/benchmarks/system.md $(BENCH_ARGS)
