"""Notebook parameters: one parser for the quick-mode variable, and one sentence for a bad value, checked in
the cell right after the parameters cell of every notebook."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from mnist_explore.errors import UserError
from mnist_explore.parameters import check, notebook_profile, notebook_seed

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("quick, profile, expected", [
    ("1", None, "quick"), ("1", "full", "quick"), ("0", None, "default"), (None, None, "default"),
    ("", "full", "full"), (" 0 ", "quick", "quick")])
def test_one_parser_for_the_quick_mode_and_profile_variables(monkeypatch, quick, profile, expected):
    for name, value in (("MNIST_EXPLORE_QUICK", quick), ("MNIST_EXPLORE_PROFILE", profile)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert notebook_profile() == expected


@pytest.mark.parametrize("name, value, message", [
    ("MNIST_EXPLORE_QUICK", "yes", r"MNIST_EXPLORE_QUICK='yes' is not understood: set it to 1 \(quick mode\) or 0"),
    ("MNIST_EXPLORE_QUICK", "true", "is not understood"),
    ("MNIST_EXPLORE_PROFILE", "huge", "MNIST_EXPLORE_PROFILE='huge' is not a profile: set it to quick, default"),
])
def test_other_values_of_the_variables_are_refused(monkeypatch, name, value, message):
    monkeypatch.delenv("MNIST_EXPLORE_QUICK", raising=False)
    monkeypatch.setenv(name, value)
    with pytest.raises(UserError, match=message):
        notebook_profile()


@pytest.mark.parametrize("parameters, message", [
    (dict(OPTIMIZERS="adam"), r"OPTIMIZERS must be None or a non-empty list of names such as \['adam', 'sgd'\]"),
    (dict(OPTIMIZERS=[]), "OPTIMIZERS must be None or a non-empty list"),
    (dict(OPTIMIZERS=["adam", "adamax"]), "OPTIMIZERS has unknown optimizer\\(s\\) 'adamax'"),
    (dict(DIGIT="7"), "DIGIT must be a whole number from 0 to 9, got '7'"),
    (dict(DIGIT=10), "DIGIT must be a whole number from 0 to 9, got 10"),
    (dict(MEMBERS=2.5), r"MEMBERS must be a whole number of at least 1 \(or None\), got 2.5"),
    (dict(SEED=-1), "SEED must be a whole number from 0"),
    (dict(PROFILE="fast"), "PROFILE must be 'quick', 'default' or 'full'"),
    (dict(DEVICE="tpu"), "Unknown device 'tpu'"),
    (dict(CONCURRENT="no"), "CONCURRENT must be None, True or False"),
    (dict(BATCH_SIZE=32, N_SHOW=40), "N_SHOW must be a whole number from 1 to 32, got 40"),
    (dict(VAL_SIZE=0), "VAL_SIZE must be a whole number from 1 to 59999"),
    (dict(WIDTH=3), "No check for parameter\\(s\\) WIDTH"),
])
def test_a_bad_parameter_is_one_sentence(parameters, message):
    with pytest.raises(UserError, match=message) as info:
        check(**parameters)
    assert "\n" not in str(info.value)


def test_good_parameters_pass():
    check(PROFILE="quick", SEED=0, DEVICE="cpu", DIGIT=7, OPTIMIZERS=["adam"], CONCURRENT=None, MEMBERS=None,
          EPOCHS=3, BACKEND=None, BATCH_SIZE=32, N_SHOW=25, VAL_SIZE=5000)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_cell_after_the_parameters_checks_every_parameter(path):
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    first = next(i for i, c in enumerate(cells) if "parameters" in c["metadata"].get("tags", []))
    defined = {t.id for node in ast.parse("".join(cells[first]["source"])).body if isinstance(node, ast.Assign)
               for t in node.targets if isinstance(t, ast.Name)}
    source = "".join(cells[first + 1]["source"])
    calls = [node for node in ast.walk(ast.parse("\n".join(line for line in source.splitlines()
                                                           if not line.startswith("%"))))
             if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check"]
    assert len(calls) == 1, "the cell after the parameters cell calls check(...) once"
    assert {k.arg for k in calls[0].keywords} == defined


@pytest.mark.parametrize("value, expected", [(None, 0), ("", 0), ("3", 3), (" 7 ", 7), ("4294967295", 4294967295)])
def test_the_seed_comes_from_the_seed_variable(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("MNIST_EXPLORE_SEED", raising=False)
    else:
        monkeypatch.setenv("MNIST_EXPLORE_SEED", value)
    assert notebook_seed() == expected


@pytest.mark.parametrize("value", ["-1", "1.5", "abc", "4294967296", "²"])
def test_a_bad_seed_variable_is_one_sentence(monkeypatch, value):
    monkeypatch.setenv("MNIST_EXPLORE_SEED", value)
    with pytest.raises(UserError, match=f"MNIST_EXPLORE_SEED={value!r} is not a seed: set it to a whole number") as info:
        notebook_seed()
    assert "\n" not in str(info.value)
