# `make figures` and `make test` set everything up on a fresh clone: they create
# .venv when it is missing and install the package with its extras into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: figures test notebooks lab book claims clean bench-gpu

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[notebooks,test,book]'
	touch $(STAMP)

figures: $(STAMP)
	$(BIN)/mnist-explore figures --profile default

test: $(STAMP)
	MNIST_EXPLORE_QUICK=1 $(BIN)/python -m pytest

# Re-execute every notebook in place, top to bottom, at the default profile (PROFILE=quick or full to
# change it). MNIST_EXPLORE_INTERACTIVE=0: each progress bar saves one line, each explorer a short note.
PROFILE ?= default
notebooks: $(STAMP)
	MNIST_EXPLORE_PROFILE=$(PROFILE) MNIST_EXPLORE_INTERACTIVE=0 $(BIN)/jupyter nbconvert --to notebook \
		--execute --inplace --ExecutePreprocessor.timeout=3600 notebooks/*.ipynb

# JupyterLab from the project's environment, offline, with the notebooks folder open.
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_FLAGS)

# Execute copies of the notebooks that state claims, for seeds 0 and 1 at the default profile, and write
# which claims held to benchmarks/results/claims-<host>.json (NOTEBOOKS="01 10" runs just those).
claims: $(STAMP)
	$(BIN)/mnist-explore claims --profile default --seeds 0 1 $(if $(NOTEBOOKS),--notebooks $(NOTEBOOKS))

# Every benchmark and the tests marked cuda on a CUDA GPU, sized to finish within 10 minutes on one H200:
# benchmarks/results/*.json named by host, and a table of every goal (value, threshold, met) at the end.
bench-gpu: $(STAMP)
	$(BIN)/python benchmarks/run_all.py --device cuda

# The walkthroughs as a website in book/_build/html (git ignores it), from the notebooks' committed
# outputs: nothing re-runs. MathJax comes from npm (once, into book/_vendor); the t-SNE explorer
# shows 5,000 of the default profile's 70,000 digits (its map is cached under data/cache).
book: $(STAMP)
	$(BIN)/python book/build.py --profile default --points 5000

# data/cache holds every derived data file; data/*/raw/*-ubyte are leftovers of the older layout,
# which decompressed next to the .gz files.
clean:
	rm -rf $(VENV) data/cache data/*/raw/*-ubyte book/_build book/_vendor
