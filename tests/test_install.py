"""The package installed non-editably runs from anywhere, and the path rules of mnist_explore.paths."""
from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from mnist_explore import paths

ROOT = Path(__file__).resolve().parents[1]
ENV_VARS = ("MNIST_EXPLORE_DATA", "MNIST_EXPLORE_CACHE", "MNIST_EXPLORE_FIGURES")


def _listing(folder: Path) -> dict[str, tuple[int, int] | None]:
    """Every file and folder under ``folder`` with its size and modification time (folders: None)."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): None if p.is_dir() else (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*")}


def _repo_mnist_cache() -> dict:
    """The checkout's own MNIST cache files, which an installed copy must never touch."""
    return {k: v for k, v in _listing(ROOT / "data" / "cache").items() if k.startswith("MNIST")}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """``pip install .`` (not editable) of this checkout into a private folder; returns the folder."""
    tmp = tmp_path_factory.mktemp("install")
    # Built from a copy: an in-tree build would write build/ and *.egg-info into the checkout.
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src)
    shutil.copytree(ROOT / "mnist_explore", src / "mnist_explore",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    site = tmp / "site"
    # --no-build-isolation and --no-index: offline, with the setuptools already in this environment.
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                             "--no-index", "--target", str(site), str(src)],
                            cwd=src, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return site


def _env(site: Path, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    env.update(PYTHONPATH=str(site), MNIST_EXPLORE_CACHE=str(cache), MNIST_EXPLORE_QUICK="1",
               PYTHONDONTWRITEBYTECODE="1", PYTHONNOUSERSITE="1", MPLBACKEND="Agg")
    return env


def test_installed_package_ships_the_data_and_is_the_one_imported(installed, tmp_path):
    bundled = installed / "mnist_explore" / "datasets" / "MNIST" / "raw"
    assert sorted(p.name for p in bundled.iterdir()) == sorted(p.name for p in (ROOT / "mnist_explore" / "datasets"
                                                                                / "MNIST" / "raw").glob("*.gz"))
    code = "import mnist_explore, mnist_explore.paths as p; print(mnist_explore.__file__); print(p.checkout_root())"
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_env(installed, tmp_path / "cache"),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    module_file, checkout = result.stdout.split()
    assert Path(module_file).resolve().is_relative_to(installed.resolve())
    assert checkout == "None"


def test_installed_package_renders_a_figure_from_an_unrelated_folder(installed, tmp_path):
    cwd, out, cache = tmp_path / "elsewhere", tmp_path / "out", tmp_path / "cache"
    cwd.mkdir()
    site_before, repo_before = _listing(installed), _repo_mnist_cache()

    result = subprocess.run([sys.executable, "-m", "mnist_explore", "figures", "--only", "data_samples",
                             "--out", str(out)],
                            cwd=cwd, env=_env(installed, cache), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr

    png = (out / "data_samples.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert width >= 200 and height >= 200 and len(png) > 10_000
    entries = json.loads((out / "MANIFEST.json").read_text())["figures"]
    assert [(e["name"], e["file"]) for e in entries] == [("data_samples", "data_samples.png")]

    # Every derived file is in the cache folder; nothing is written into the installed package,
    # the working folder or the checkout's own cache.
    assert (cache / "MNIST.pt").stat().st_size > 50_000_000
    assert sorted(p.name for p in (cache / "MNIST" / "raw").iterdir()) == sorted(
        p.name.removesuffix(".gz") for p in (installed / "mnist_explore" / "datasets" / "MNIST" / "raw").iterdir())
    assert _listing(installed) == site_before
    assert list(cwd.iterdir()) == []
    assert _repo_mnist_cache() == repo_before


# The path rules, checked in-process.

@pytest.fixture
def clean_env(monkeypatch):
    for name in ENV_VARS + ("XDG_CACHE_HOME",):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_a_checkout_keeps_its_own_folders(clean_env):
    assert paths.checkout_root() == ROOT
    assert paths.cache_dir() == ROOT / "data" / "cache"
    assert paths.figures_dir() == ROOT / "figures"
    assert paths.data_dir() == ROOT / "data"
    assert paths.benchmark_results("nothing-matches-*.none") == []


def test_installed_defaults_are_per_user_and_the_working_folder(clean_env, tmp_path):
    clean_env.setattr(paths, "checkout_root", lambda: None)
    clean_env.setattr(sys, "platform", "linux")
    clean_env.chdir(tmp_path)
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert paths.cache_dir() == tmp_path / "xdg" / "mnist-explore"
    clean_env.setenv("XDG_CACHE_HOME", "relative/cache")  # invalid per the XDG spec: ignored
    assert paths.cache_dir() == Path.home() / ".cache" / "mnist-explore"
    assert paths.figures_dir() == tmp_path / "figures"
    assert paths.data_dir() == paths.bundled_data_dir() == paths.PACKAGE_DIR / "datasets"
    assert paths.benchmark_results() == []


def test_environment_variables_override_every_rule(clean_env, tmp_path):
    for name, folder in zip(ENV_VARS, ("d", "c", "f")):
        clean_env.setenv(name, str(tmp_path / folder))
    assert (paths.data_dir(), paths.cache_dir(), paths.figures_dir()) == (tmp_path / "d", tmp_path / "c", tmp_path / "f")
    clean_env.setenv("MNIST_EXPLORE_CACHE", "")  # empty counts as unset
    assert paths.cache_dir() == ROOT / "data" / "cache"
