# Thin wrappers over scripts/: every target installs what is missing first.
VENV := .venv/bin

.PHONY: install run test lint schema bench bench-scale bench-lists bench-load bench-anchor bench-pixels

install:
	@bash scripts/install.sh

run: install
	$(VENV)/cytogate serve

test: install lint
	$(VENV)/python -m pytest -q -n auto --maxprocesses=4

lint:
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy

schema: install
	$(VENV)/cytogate export-schema

bench: install
	$(VENV)/python -m bench.run

# One image of 1 000 000 annotations (generated once into bench/.data, a few minutes).
bench-scale: install
	$(VENV)/python -m bench.scale

# Every list a client or the web UI asks for, on bench-scale's database with activity added.
bench-lists: install
	$(VENV)/python -m bench.lists

bench-load: install
	$(VENV)/python -m bench.load

# PostGraphile and the Node.js it needs come from the npm registry into bench/anchor/ only.
bench-anchor: install
	cd bench/anchor && npm ci --no-audit --no-fund --engine-strict=false --loglevel=error
	$(VENV)/python -m bench.anchor

bench-pixels: install
	$(VENV)/python -m bench.pixels
