"""Progress bars and widgets that suit where the code runs.

Three places run this code, and each wants something different from a long loop:

- **JupyterLab**, a person watching: a widget bar that redraws in place (``tqdm.auto``);
- **an executed notebook** (``make notebooks``, the claims run, any batch execution that sets
  ``MNIST_EXPLORE_INTERACTIVE=0``): no redraws at all, since every redraw becomes one more saved
  output; a bar that stays (``leave=True``) prints one line when it closes, a nested one prints nothing;
- **a terminal**: tqdm's text bar.

The same switch tells the explorers (:mod:`mnist_explore.explore`) whether anyone can
interact with them: in an executed notebook they print a one-line note instead of a widget
that nothing would render.
"""
from __future__ import annotations

import importlib.util
import io
import os
import sys

from tqdm import std

from .errors import UserError

INTERACTIVE_ENV = "MNIST_EXPLORE_INTERACTIVE"


def in_kernel() -> bool:
    """True inside a Jupyter kernel (JupyterLab, an executed notebook, nbval), False in a terminal."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def interactive() -> bool:
    """Whether a person can see widgets: inside a kernel, with ipywidgets installed, unless
    ``MNIST_EXPLORE_INTERACTIVE=0`` says the notebook is being executed in batch."""
    setting = os.environ.get(INTERACTIVE_ENV, "").strip()
    if setting not in ("", "0", "1"):
        raise UserError(f"{INTERACTIVE_ENV}={setting!r} is not understood: set it to 1 (widgets) or 0 "
                        "(an executed notebook: one line per progress bar, no widgets), or unset it.")
    if setting == "0" or not in_kernel():
        return False
    return importlib.util.find_spec("ipywidgets") is not None


class _OneLine(std.tqdm):
    """A tqdm that draws nothing while it runs and, if it is kept (``leave=True``), prints one line
    to stdout when it closes: an executed notebook saves that line and nothing else."""

    def __init__(self, *args, **kwargs):
        kwargs["file"] = io.StringIO()
        kwargs["mininterval"] = float("inf")
        super().__init__(*args, **kwargs)

    def close(self):
        if self.disable:
            return
        keep = self.leave and not self.pos  # nested bars (pos > 0) stay silent
        summary = self.format_meter(**{**self.format_dict, "ncols": 0}) if keep else None
        super().close()
        if summary:
            print(summary.replace("\r", "").strip(), flush=True)


def bar(iterable=None, **kwargs) -> std.tqdm:
    """A tqdm progress bar (same arguments) drawn the way the current place wants it."""
    if in_kernel() and not interactive():
        return _OneLine(iterable, **kwargs)
    if in_kernel():
        from tqdm.notebook import tqdm as notebook_tqdm
        return notebook_tqdm(iterable, **kwargs)
    return std.tqdm(iterable, **kwargs)
