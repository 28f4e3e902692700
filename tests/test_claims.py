"""Claims: the sentence-as-a-check that notebooks state, its log, the runner's checks, and the committed
report, which must hold every claim the notebooks make, for seeds 0 and 1."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from mnist_explore import claims
from mnist_explore.claims import Claim, claim, claims_in_source, read_log
from mnist_explore.cli import main
from mnist_explore.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
REPORTS = sorted(p for p in (ROOT / "benchmarks" / "results").glob("claims-*.json")
                 if not p.stem.endswith(("-quick", "-full")))  # the default profile's reports


def write_notebook(path: Path, *sources: str) -> Path:
    cells = [{"cell_type": "code", "execution_count": None, "id": f"cell{i}", "metadata": {}, "outputs": [],
              "source": s} for i, s in enumerate(sources)]
    path.write_text(json.dumps({"cells": cells, "metadata": {"kernelspec": {"name": "python3", "language": "python",
                                                                            "display_name": "Python 3"}},
                                "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_a_claim_is_shown_with_its_mark_and_appended_to_the_log(tmp_path, monkeypatch, capsys):
    log = tmp_path / "claims.jsonl"
    monkeypatch.setenv(claims.LOG_ENV, str(log))
    monkeypatch.setenv(claims.NOTEBOOK_ENV, "01_data_statistics")
    claim("Class 1 uses the least ink", holds=np.bool_(True), evidence="0.076 against 0.115")
    claim("Class 0 uses the least ink", holds=torch.tensor(False))
    assert capsys.readouterr().out.splitlines() == ["✓ Class 1 uses the least ink (0.076 against 0.115)",
                                                    "✗ does not hold: Class 0 uses the least ink"]
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert records == [
        {"text": "Class 1 uses the least ink", "holds": True, "evidence": "0.076 against 0.115",
         "notebook": "01_data_statistics"},
        {"text": "Class 0 uses the least ink", "holds": False, "evidence": "", "notebook": "01_data_statistics"}]


def test_without_the_log_variable_nothing_is_written(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(claims.LOG_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    claim("A sentence", holds=True)
    assert capsys.readouterr().out == "✓ A sentence\n" and not list(tmp_path.iterdir())


def test_in_a_notebook_the_claim_is_markdown():
    assert Claim("The 1s are thin", True, "12%")._repr_markdown_() == "✓ *The 1s are thin* (12%)"
    assert Claim("The 1s are thin", False)._repr_markdown_() == "✗ does not hold: *The 1s are thin*"


@pytest.mark.parametrize("text, holds, message", [
    ("", True, "one non-empty line"), ("two\nlines", True, "one non-empty line"), (3, True, "one non-empty line"),
    ("A sentence", "yes", "needs holds=True or False, got 'yes'"), ("A sentence", None, "needs holds=True or False"),
    ("A sentence", np.array([True, False]), "needs holds=True or False")])
def test_a_malformed_claim_is_one_sentence(text, holds, message):
    with pytest.raises(UserError, match=message):
        claim(text, holds)


def test_the_log_merges_repeated_claims_and_refuses_a_damaged_line(tmp_path):
    log = tmp_path / "log.jsonl"
    lines = [{"text": "A", "holds": True, "evidence": "x"}, {"text": "B", "holds": True},
             {"text": "A", "holds": False, "evidence": "y"}]
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert read_log(log) == [{"text": "A", "holds": False, "evidence": "x; y"},
                             {"text": "B", "holds": True, "evidence": ""}]
    log.write_text('{"text": "A", "holds": true}\n{"text": "A", "ho\n')
    with pytest.raises(UserError, match="Line 2 of the claims log .* is not a claim record"):
        read_log(log)


def test_claims_are_read_from_the_source_and_must_be_literals(tmp_path):
    nb = write_notebook(tmp_path / "01_x.ipynb", "%matplotlib inline\nfrom mnist_explore.claims import claim\n"
                        "claim('First', holds=True)\n", "import mnist_explore.claims as c\n"
                        "c.claim(text='Second' ' part', holds=False)\nclaim('First', holds=True)\n")
    assert claims_in_source(nb) == ["First", "Second part"]
    write_notebook(nb, "n = 3\nclaim(f'{n} classes', holds=True)\n")
    with pytest.raises(UserError, match="claim\\(\\) in cell 0 of 01_x.ipynb, line 2, must take its text as a string"):
        claims_in_source(nb)


def test_notebook_names_and_seeds_are_checked_before_any_work(tmp_path):
    write_notebook(tmp_path / "01_first.ipynb", "claim('A', holds=True)")
    write_notebook(tmp_path / "02_second.ipynb", "x = 1")
    every = claims.select_notebooks(None, tmp_path)
    assert [p.name for p in every] == ["01_first.ipynb"]
    assert claims.select_notebooks(["01", "01_first.ipynb"], tmp_path) == every
    with pytest.raises(UserError, match=r"Unknown notebook '7': name one by its number \(01, 02\) or its file name"):
        claims.select_notebooks(["7"], tmp_path)
    with pytest.raises(UserError, match="Notebook 02_second.ipynb states no claim"):
        claims.select_notebooks(["02"], tmp_path)
    assert claims.check_seeds([1, 0, 1]) == [1, 0]
    for bad, message in (([], "at least one seed"), ([0, -1], "got -1"), ([2**32], "from 0 to 4294967295")):
        with pytest.raises(UserError, match=message):
            claims.check_seeds(bad)


@pytest.mark.parametrize("argv, message", [
    (["--notebooks", "99"], "Unknown notebook '99'"), (["--seeds", "-1"], "Seeds must be whole numbers")])
def test_the_command_refuses_bad_arguments_in_one_sentence(capsys, argv, message):
    assert main(["claims", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_a_new_report_keeps_the_notebooks_it_did_not_run(tmp_path):
    path = tmp_path / "claims-host.json"
    old = claims._merge(path, {"host": "host"}, {"01_a": {"errors": {}}, "02_b": {"errors": {}}},
                        [{"notebook": "01_a", "text": "A", "held": {"0": True}},
                         {"notebook": "02_b", "text": "B", "held": {"0": True}}])
    path.write_text(json.dumps(old))
    new = claims._merge(path, {"host": "host"}, {"02_b": {"errors": {}}},
                        [{"notebook": "02_b", "text": "C", "held": {"0": False}}])
    assert [(c["notebook"], c["text"]) for c in new["claims"]] == [("01_a", "A"), ("02_b", "C")]
    assert set(new["notebooks"]) == {"01_a", "02_b"} and new["all_held"] is False


def test_the_runner_executes_a_copy_per_seed_and_reports_each_claim(tmp_path, monkeypatch):
    (tmp_path / "work").mkdir()
    monkeypatch.setattr(claims.tempfile, "mkdtemp", lambda prefix: str(tmp_path / "work"))  # executed copies land here
    source = ("from mnist_explore.claims import claim\nfrom mnist_explore.parameters import notebook_profile, "
              "notebook_seed\nSEED = notebook_seed()\nclaim('The seed is even', holds=SEED % 2 == 0, "
              "evidence=f'seed {SEED}')\nclaim('The profile is quick', holds=notebook_profile() == 'quick')\n"
              "if SEED > 5:\n    claim('A large seed', holds=True)\n")
    nb = write_notebook(tmp_path / "01_tiny.ipynb", source)
    before = nb.read_text()
    report, path, ok = claims.run(["01"], [3], "quick", folder=tmp_path, results=tmp_path / "results")
    assert not ok and nb.read_text() == before
    assert path.parent == tmp_path / "results" and path.name.endswith("-quick.json")
    assert json.loads(path.read_text()) == report
    by_text = {c["text"]: c for c in report["claims"]}
    assert by_text["The seed is even"]["held"] == {"3": False}
    assert by_text["The seed is even"]["evidence"] == {"3": "seed 3"}
    assert by_text["The profile is quick"]["held"] == {"3": True}
    assert by_text["A large seed"] == {"notebook": "01_tiny", "text": "A large seed", "held": {"3": False},
                                      "evidence": {"3": "not stated"}}
    assert report["profile"] == "quick" and report["notebooks"]["01_tiny"]["seeds"] == [3]
    assert (tmp_path / "work" / "01_tiny-seed3.ipynb").exists()  # kept, since a claim did not hold


def test_notebooks_that_state_claims_take_their_seed_from_the_runner():
    for nb in NOTEBOOKS:
        if not claims_in_source(nb):
            continue
        cells = [c for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code"]
        parameters = next(c for c in cells if "parameters" in c["metadata"].get("tags", []))
        seeds = [node for node in ast.parse("".join(parameters["source"])).body if isinstance(node, ast.Assign)
                 and any(getattr(t, "id", None) == "SEED" for t in node.targets)]
        assert len(seeds) == 1 and ast.unparse(seeds[0].value) == "notebook_seed()", nb.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_claim_in_the_notebook_held_in_the_committed_report_for_seeds_0_and_1(path):
    stated = claims_in_source(path)
    if not stated:
        pytest.skip("states no claim")
    covering = []
    for report_path in REPORTS:
        report = json.loads(report_path.read_text())
        run = report["notebooks"].get(path.stem)
        if run is None:
            continue
        reported = {c["text"]: c for c in report["claims"] if c["notebook"] == path.stem}
        assert set(reported) == set(stated), (
            f"{report_path.name} is not up to date with {path.name}: run `make claims NOTEBOOKS={path.stem[:2]}`")
        assert not run["errors"], f"{path.name} stopped in {report_path.name}: {run['errors']}"
        for text, entry in reported.items():
            assert set(entry["held"]) == {str(s) for s in run["seeds"]}
            failed = {seed: entry["evidence"][seed] for seed, held in entry["held"].items() if not held}
            assert not failed, f"{text!r} did not hold in {report_path.name}: {failed}"
        covering.extend(run["seeds"])
    assert {0, 1} <= set(covering), f"no committed claims report ran {path.name} for seeds 0 and 1"


def test_the_prediction_interval_is_students_t_for_one_more_draw():
    low, high = claims.prediction_interval([1.0, 2.0, 3.0])
    half = 4.302652729911275 * 1.0 * np.sqrt(1 + 1 / 3)  # t(0.975, 2 degrees of freedom), std 1
    assert (low, high) == pytest.approx((2 - half, 2 + half))
    assert claims.prediction_interval([5.0, 5.0]) == (5.0, 5.0)
    with pytest.raises(UserError, match="two or more samples"):
        claims.prediction_interval([1.0])
