# `make figures` and `make test` set everything up on a fresh clone: they create
# .venv when it is missing and install the package with its extras into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: figures test notebooks clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[notebooks,test]'
	touch $(STAMP)

figures: $(STAMP)
	$(BIN)/mnist-explore figures --profile default

test: $(STAMP)
	MNIST_EXPLORE_QUICK=1 $(BIN)/python -m pytest

# Re-execute every notebook in place, top to bottom, with its full settings.
notebooks: $(STAMP)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=3600 notebooks/*.ipynb

# data/cache holds every derived data file; data/*/raw/*-ubyte are leftovers of the older layout,
# which decompressed next to the .gz files.
clean:
	rm -rf $(VENV) data/cache data/*/raw/*-ubyte
