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
	$(BIN)/pip install -q -c constraints.txt -e '.[web,test,spark]'
	touch $(STAMP)

install: $(STAMP)

# Debian chromium for the browser tests (never `playwright install`: it cannot download here),
# and a Java 17 runtime for the spark engine's tests (pyspark runs Spark in a JVM).
# Only attempted as root with apt-get; elsewhere those tests skip and say why.
system-deps:
	@if ! command -v java >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian openjdk-17-jre-headless for the spark engine"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	fi
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
