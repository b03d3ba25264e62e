# beatdesk: `make demo` runs a demo desk; `make test` runs every check CI runs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test soak lint typecheck migrations-check test-sqlite test-postgres system-deps interop clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev,scale]"
	touch $@ $(VENV)/.installed-demo

demo: $(VENV)/.installed-demo
	$(BIN)/beatdesk demo

system-deps:
	scripts/system-deps.sh

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy src

migrations-check: $(VENV)/.installed-dev
	BEATDESK_HOME=$$(mktemp -d) $(BIN)/beatdesk makemigrations --check --dry-run
	BEATDESK_HOME=$$(mktemp -d) BEATDESK_SECURE=1 BEATDESK_SECRET_KEY=$$(head -c 48 /dev/urandom | base64) \
		BEATDESK_ALLOWED_HOSTS=desk.force.example $(BIN)/beatdesk check --deploy --fail-level WARNING

test-sqlite: $(VENV)/.installed-dev
	BEATDESK_HOME=$$(mktemp -d) $(BIN)/pytest -m "not interop"

test-postgres: $(VENV)/.installed-dev
	BEATDESK_HOME=$$(mktemp -d) scripts/with-postgres.sh $(BIN)/pytest -m "not browser and not interop"

# Against the real software, on loopback: Bluesky's development network (@atproto/dev-env,
# pinned in interop/bluesky/package-lock.json) and Debian's Dovecot. A test harness only:
# the product never downloads anything when it runs.
INTEROP_NODE := interop/bluesky/node_modules/.installed
$(INTEROP_NODE): interop/bluesky/package.json interop/bluesky/package-lock.json
	cd interop/bluesky && npm_config_build_from_source=true npm ci --no-audit --no-fund \
		$$([ -f /usr/include/node/node_version.h ] && echo --nodedir=/usr)
	touch $@

interop: system-deps $(VENV)/.installed-dev $(INTEROP_NODE)
	BEATDESK_HOME=$$(mktemp -d) BEATDESK_INTEROP=1 scripts/with-postgres.sh \
		$(BIN)/pytest -m interop tests/interop

# The two passes run side by side (one core each), each one's output shown as it ends.
test: system-deps lint typecheck migrations-check
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

# The long runs: the fault suite at 100,000 messages and the hypothesis suites' longer hunt.
soak: system-deps $(VENV)/.installed-dev
	BEATDESK_HOME=$$(mktemp -d) BEATDESK_FAULT_MESSAGES=100000 BEATDESK_FAULT_KILLS=30 \
		scripts/with-postgres.sh $(BIN)/pytest -s src/beatdesk/core/tests/test_faults.py
	BEATDESK_HOME=$$(mktemp -d) HYPOTHESIS_PROFILE=beatdesk-long $(BIN)/pytest \
		$$(find src -name 'test_fuzz_*.py' -o -name 'test_*_hostile.py' | sort)

clean:
	rm -rf $(VENV) var interop/bluesky/node_modules
