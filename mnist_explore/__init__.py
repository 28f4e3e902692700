"""mnist-explore: the helper package behind the MNIST notebook suite.

Importing it has no side effects: it seeds nothing, sets no rcParams, reads no
files and imports neither torch nor matplotlib until a submodule needs them.
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mnist-explore")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
