# Cadenza - controllable symbolic music generation studio.
#
#   make run        install what is missing, then start the studio (http://127.0.0.1:7860)
#   make test       install what is missing (incl. chromium), then lint and run the whole test suite
#   make lint       ruff (lint + format check) on the repository and mypy on engine/
#   make bench      run the benchmarks (prints JSON)
#   make train      train EC2-VAE on $(DATA) into checkpoints/ec2vae
#   make train-latent  train the latent sequence model on $(DATA) over checkpoints/ec2vae
#   make clean      remove caches (keeps .venv)
#   make distclean  clean + remove .venv
#
# Installs are incremental: system packages are only apt-installed when missing
# (a dpkg check, no network), and .venv is only (re)built when requirements.txt
# is newer than .venv/.installed-stamp.  A second `make run`/`make test` starts
# straight away.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
DATA   ?= ../shared/data/nottingham/midi
CKPT   ?= checkpoints/ec2vae

# Extra arguments, e.g. `make test PYTEST_ARGS="-k midi -x"`,
# `make train TRAIN_ARGS="--device cuda --resume"`.
PYTEST_ARGS ?=
TRAIN_ARGS  ?=
APP_ARGS    ?=
BENCH_ARGS  ?=

# Keep Gradio / Hugging Face from phoning home; headless plotting.
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export MPLBACKEND := Agg
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export VENV

.PHONY: help install install-test sysdeps sysdeps-test venv run lint test bench train train-latent clean distclean

help:
	@sed -n '3,10p' $(firstword $(MAKEFILE_LIST)) | sed 's/^# \{0,1\}//'

# ---- installation ----------------------------------------------------------

# System packages (fluidsynth, GM soundfont); only installs what is missing.
sysdeps:
	@bash scripts/install_system_deps.sh

# Same plus chromium + chromium-driver for the browser test (one apt run).
sysdeps-test:
	@bash scripts/install_system_deps.sh --browser

# Python virtualenv: rebuilt only when requirements.txt changes.
venv: $(STAMP)

$(STAMP): requirements.txt
	@bash scripts/ensure_venv.sh

install: sysdeps venv
install-test: sysdeps-test venv

# ---- main targets ----------------------------------------------------------

run: install
	$(PY) app.py $(APP_ARGS)

# ruff and mypy keep the code's shape (pyproject.toml); make test runs them first so CI keeps the line.
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: install-test lint
	$(PY) -m pytest -q --durations=20 tests $(PYTEST_ARGS)

bench: install
	$(PY) -m bench $(BENCH_ARGS)

# Training reads the corpus from $(DATA) (training only; the studio never reads ../shared).
train: venv
	$(PY) -m engine.train ec2vae --data $(DATA) --out $(CKPT) $(TRAIN_ARGS)

train-latent: venv
	$(PY) -m engine.train latent --vae $(CKPT) --data $(DATA) --out checkpoints/latent \
	    --cache data_cache/latent_nottingham.npz --procs 2 $(TRAIN_ARGS)

# ---- cleanup ---------------------------------------------------------------

clean:
	find . \( -path ./$(VENV) -o -path ./.git \) -prune -o \
	     \( -name __pycache__ -o -name .pytest_cache -o -name '*.egg-info' \) -type d -print0 \
	     | xargs -0 rm -rf
	find . \( -path ./$(VENV) -o -path ./.git \) -prune -o -name '*.py[co]' -type f -print0 \
	     | xargs -0 rm -f
	rm -rf .gradio data_cache

distclean: clean
	rm -rf $(VENV)
