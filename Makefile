# Two commands for a newcomer: `make demo` and `make test`. Everything else is set up by them.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
DEMO    ?= demo-out

.PHONY: demo test bench install system-deps clean

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[web,test]'
	touch $(STAMP)

install: $(STAMP)

# Debian chromium for the browser tests (never `playwright install`: it cannot download here).
# Only attempted as root with apt-get; elsewhere the browser tests skip and say why.
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian chromium for browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

demo: $(STAMP)
	$(BIN)/python -m harmlens.demo --out $(DEMO)

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -n 2 -q

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO) harmlens.duckdb .pytest_cache
