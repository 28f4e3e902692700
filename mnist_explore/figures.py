"""The figure registry: named recipes, profiles, ``save_figure`` and figures/MANIFEST.json.

A recipe is a function ``make(ctx) -> Figure`` (or an ``animate.Animation``) registered
under a unique name with :func:`recipe`; the modules of ``mnist_explore.recipes``
register theirs, one module per notebook. ``mnist-explore figures`` renders any
selection of them under one profile and records each in the manifest.
"""
from __future__ import annotations

import importlib
import json
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from . import __version__
from .data import Dataset, load_dataset
from .errors import UserError
from .paths import atomic_path, check_writable, figures_dir, locked, output_path, write_text_atomic
from .progress import bar as progress_bar

DPI = 110
MANIFEST = "MANIFEST.json"
# Profiles, smallest first. Budgets are for all registered recipes together.
PROFILES = {
    "quick": "CI: tiny data and epochs, seconds per figure",
    "default": "`make figures`: within 20 minutes on a 2-core CPU and 3 minutes on a GPU",
    "full": "the notebooks' complete settings",
}
# Modules whose import registers recipes; later topics append theirs here.
RECIPE_MODULES = ["mnist_explore.recipes"]


@dataclass
class Context:
    """What a recipe may use: the profile, the device, the seed, and a memo of shared work."""

    profile: str = "default"
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    seed: int = 0
    out: Path | None = None  # where render() writes; recipes that write files besides a figure use it
    _memo: dict = field(default_factory=dict, repr=False)

    def memo(self, key: str, compute: Callable[[], object]):
        """Return ``compute()``, computed once per context and shared by every recipe."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def dataset(self, name: str = "mnist") -> Dataset:
        """The named data set, loaded once and moved to the context's device."""
        return self.memo(f"dataset:{name}", lambda: load_dataset(name).to(self.device))

    def study(self, module: ModuleType):
        """``module.run`` (a study of ``mnist_explore.studies``) at this context's profile, device and seed,
        run once and shared by every recipe that draws from it."""
        settings = module.Settings.profile(self.profile)
        return self.memo(module.__name__, lambda: module.run(settings, self.dataset(), device=self.device,
                                                             seed=self.seed, progress=False))


@dataclass(frozen=True)
class Recipe:
    name: str
    make: Callable[[Context], Figure]
    summary: str
    notebook: str


_REGISTRY: dict[str, Recipe] = {}


def recipe(name: str, summary: str, notebook: str) -> Callable:
    """Register ``make(ctx)`` as the recipe for ``figures/<name>.png`` (a Figure) or ``<name>.gif`` (an Animation)."""
    def register(make: Callable[[Context], Figure]) -> Callable[[Context], Figure]:
        if name in _REGISTRY and _REGISTRY[name].make is not make:
            raise ValueError(f"two recipes are named {name!r}")
        _REGISTRY[name] = Recipe(name, make, summary, notebook)
        return make
    return register


def recipes() -> dict[str, Recipe]:
    """Every registered recipe by name, in registration order."""
    for module in RECIPE_MODULES:
        importlib.import_module(module)
    return dict(_REGISTRY)


def save_figure(fig: Figure, name: str, directory: str | Path | None = None) -> Path:
    """Write ``fig`` to ``<directory>/<name>.png`` at the suite's fixed dpi, atomically; return the path."""
    path = output_path(name, ".png", directory)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=DPI, facecolor="white")
    return path


def select(names: Iterable[str] | None) -> list[Recipe]:
    """The recipes named (all when ``names`` is empty), or a UserError listing the valid names."""
    available = recipes()
    names = list(names or available)
    unknown = [n for n in names if n not in available]
    if unknown:
        raise UserError(f"Unknown figure name(s) {', '.join(unknown)}: choose from {', '.join(available)}.")
    return [available[n] for n in dict.fromkeys(names)]


def _read_manifest(path: Path) -> dict[str, dict]:
    if not path.exists():
        return {}
    try:
        return {entry["name"]: entry for entry in json.loads(path.read_text())["figures"]}
    except (ValueError, KeyError, TypeError) as exc:
        warnings.warn(f"{path} is unreadable ({exc}); starting a new manifest.", stacklevel=2)
        return {}


def _record(path: Path, entry: dict) -> None:
    """Add ``entry`` to the manifest at ``path``: read, merge and write under a lock, so that runs at the same
    time keep each other's entries, and atomically, so that a reader never sees half a file."""
    with locked(path):
        entries = _read_manifest(path)
        entries[entry["name"]] = entry
        order = {name: i for i, name in enumerate(recipes())}
        figures = sorted(entries.values(), key=lambda e: order.get(e["name"], len(order)))
        write_text_atomic(path, json.dumps({"figures": figures}, indent=2) + "\n")


def render(selected: list[Recipe], ctx: Context, directory: str | Path | None = None) -> list[dict]:
    """Make and save each recipe's figure, recording it in the manifest as it goes.

    Entries for figures not rendered this time are kept, so ``--only`` updates
    the manifest rather than replacing it; a failing recipe leaves every figure
    made before it saved and recorded. A figure is recorded only once its file is
    complete, and the folder is checked for writing before any recipe runs.
    """
    directory = check_writable(directory if directory is not None else figures_dir(), "output",
                               "--out (or MNIST_EXPLORE_FIGURES)")
    manifest = directory / MANIFEST
    ctx.out = directory
    done = []
    for item in progress_bar(selected, desc=f"figures ({ctx.profile})", unit="fig"):
        start = time.perf_counter()
        made = item.make(ctx)
        if isinstance(made, Figure):
            path = save_figure(made, item.name, directory)
            plt.close(made)
        else:  # an animate.Animation
            from .animate import save_gif

            path = save_gif(made, item.name, directory)
        entry = {"name": item.name, "file": path.name, "profile": ctx.profile, "device": str(ctx.device),
                 "seed": ctx.seed, "version": __version__,
                 "seconds": round(time.perf_counter() - start, 2)}
        _record(manifest, entry)
        done.append(entry)
    return done
