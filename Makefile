# Thin wrappers over scripts/: every target installs what is missing first.
VENV := .venv/bin

.PHONY: install run test lint schema bench bench-load bench-pixels

install:
	@bash scripts/install.sh

run: install
	$(VENV)/cytogate serve

test: install lint
	$(VENV)/python -m pytest -q

lint:
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy

schema: install
	$(VENV)/cytogate export-schema

bench: install
	$(VENV)/python -m bench.run

bench-load: install
	$(VENV)/python -m bench.load

bench-pixels: install
	$(VENV)/python -m bench.pixels
