# Two entry points (README): `make run` runs the experiment lab, `make test` passes the tests.
# Both create .venv on first use and install what they need, Debian packages included.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := dataset-fashion-mnist fonts-noto-cjk chromium postgresql

.PHONY: run test lint docs notebooks system-packages clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[lab,test]'
	touch $@

system-packages:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages: $$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

lint: $(VENV)/.installed
	$(PY) -m ruff check src tests benchmarks notebooks/build.py

test: system-packages $(VENV)/.installed lint
	$(PY) -m pytest

run: system-packages $(VENV)/.installed
	$(VENV)/bin/dlfs run all --out results
	$(VENV)/bin/dlfs report --out results

docs: $(VENV)/.installed
	$(VENV)/bin/mkdocs build --strict --site-dir site

notebooks: $(VENV)/.installed
	$(PY) notebooks/build.py

clean:
	rm -rf $(VENV) results
