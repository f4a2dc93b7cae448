# Two commands a user needs: `make run` (the app on the embedded demo data) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
CHROMIUM ?= /usr/bin/chromium
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test setup setup-dev chromium bench demo-data clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

setup: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/python -c "from pathlib import Path; from geo.assets import install_static; install_static(Path('static'))"

setup-dev: setup
	$(BIN)/pip install --quiet -r requirements-dev.txt

chromium:
	@[ -x $(CHROMIUM) ] || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

run: setup
	$(BIN)/streamlit run app.py --server.port $(PORT)

test: setup-dev chromium
	CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -q

bench: setup-dev chromium
	CHROMIUM=$(CHROMIUM) $(BIN)/python bench/run.py

demo-data: setup
	$(BIN)/python boundaries/make_demo_pack.py

clean:
	rm -rf $(VENV) static/vendor .pytest_cache
