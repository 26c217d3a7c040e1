# Two entry points (README): `make run` runs the experiment lab, `make test` passes the tests.
# Both create .venv on first use and install what they need, Debian packages included: the lab
# needs only the plain install (`pip install -e .`), the tests add the [test] extra.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
RUN_PACKAGES := dataset-fashion-mnist fonts-noto-cjk
TEST_PACKAGES := $(RUN_PACKAGES) chromium chromium-driver postgresql

.PHONY: run test test-fast lint docs notebook notebooks clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Stamps: the plain install for the lab, the test extra for the tests.
$(VENV)/.installed-run: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-run

# JupyterLab and ipywidgets (the notebooks' sliders and progress bars), for `make notebook`.
$(VENV)/.installed-notebook: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[notebook]'
	touch $@ $(VENV)/.installed-run

define apt_install
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages: $$missing"; \
		$(SUDO) apt-get -o DPkg::Lock::Timeout=300 update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get -o DPkg::Lock::Timeout=300 install -y -qq $$missing >/dev/null; \
	fi
endef

lint: $(VENV)/.installed-test
	$(PY) -m ruff check src tests benchmarks notebooks/build.py docs

test: $(VENV)/.installed-test lint
	$(call apt_install,$(TEST_PACKAGES))
	$(PY) -m pytest

# The fast tier, while you work (under a minute): every test not marked slow (pyproject.toml's
# markers): the library, dlfs check, the catalogue, the lab's quick paths. `make test` runs all.
# Bytecode is cached even where the environment says not to (PYTHONDONTWRITEBYTECODE): without
# it, compiling the tests and dlfs again costs each run about 8 s of CPU.
test-fast: $(VENV)/.installed-test lint
	$(call apt_install,$(RUN_PACKAGES))
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -m "not slow"

run: $(VENV)/.installed-run
	$(call apt_install,$(RUN_PACKAGES))
	$(VENV)/bin/dlfs run all --out results
	$(VENV)/bin/dlfs report --out results

docs: $(VENV)/.installed-test
	$(VENV)/bin/mkdocs build --strict --site-dir site

# Opens the chapter notebooks (notebooks/en, notebooks/ko) in JupyterLab, in the browser.
notebook: $(VENV)/.installed-notebook
	$(call apt_install,$(RUN_PACKAGES))
	$(VENV)/bin/jupyter lab notebooks

# Rebuilds the notebooks from notebooks/build.py and stores their full-mode outputs (minutes).
notebooks: $(VENV)/.installed-test $(VENV)/.installed-notebook
	$(call apt_install,$(RUN_PACKAGES))
	$(PY) notebooks/build.py

clean:
	rm -rf $(VENV) results
