# `make figures` and `make test` set everything up on a fresh clone: they create
# .venv when it is missing and install the package with its extras into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: figures test notebooks book clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[notebooks,test,book]'
	touch $(STAMP)

figures: $(STAMP)
	$(BIN)/mnist-explore figures --profile default

test: $(STAMP)
	MNIST_EXPLORE_QUICK=1 $(BIN)/python -m pytest

# Re-execute every notebook in place, top to bottom, with its full settings.
notebooks: $(STAMP)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=3600 notebooks/*.ipynb

# The walkthroughs as a website in book/_build/html (git ignores it), from the notebooks' committed
# outputs: nothing re-runs. MathJax comes from npm (once, into book/_vendor); the t-SNE explorer
# shows 5,000 of the default profile's 70,000 digits (its map is cached under data/cache).
book: $(STAMP)
	$(BIN)/python book/build.py --profile default --points 5000

# data/cache holds every derived data file; data/*/raw/*-ubyte are leftovers of the older layout,
# which decompressed next to the .gz files.
clean:
	rm -rf $(VENV) data/cache data/*/raw/*-ubyte book/_build book/_vendor
