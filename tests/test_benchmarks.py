"""The benchmarks: the shared harness's rules (alternating order, goals, exit status, the CUDA path), and the
dry run of every script through benchmarks/run_all.py, so that none of them can rot."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import harness  # noqa: E402

BENCHMARKS = ("train", "hooks", "embeddings", "gan", "best", "scratch", "optimizers")
ENVIRONMENT = ("cpu", "threads", "torch", "device", "cpu_capability", "bf16_autocast", "amx_used", "host")


def _run(tmp_path, *argv: str) -> harness.Run:
    args = harness.parse(harness.parser("A test benchmark.", __file__), ["--out", str(tmp_path), *argv])
    return harness.Run("unit", args)


def test_pairs_alternate_which_side_goes_first_after_equal_warm_ups(tmp_path):
    run, calls = _run(tmp_path), []
    sides = {name: (lambda i, name=name: calls.append((name, i)) or {"seconds": 2.0 if name == "b" else 1.0})
             for name in ("a", "b")}
    timing = run.paired("t", sides, warmup=2)
    assert calls[:4] == [("a", -1), ("b", -1), ("b", -2), ("a", -2)]  # warm-ups: both sides, order rotating
    assert calls[4:] == [("a", 0), ("b", 0), ("b", 1), ("a", 1), ("a", 2), ("b", 2), ("b", 3), ("a", 3),
                         ("a", 4), ("b", 4)]
    assert [r["first"] for r in timing["a"]["rounds"]] == [True, False, True, False, True]
    assert timing["ratio"]["of"] == "b / a" and timing["ratio"]["median"] == 2.0
    assert timing["a"]["seconds"] == {"median": 1.0, "q1": 1.0, "q3": 1.0, "min": 1.0, "max": 1.0, "n": 5}


def test_fewer_than_five_pairs_only_in_a_dry_run(tmp_path):
    with pytest.raises(SystemExit):
        _run(tmp_path, "--pairs", "3")
    assert _run(tmp_path, "--pairs", "3", "--dry-run").args.pairs == 3


def test_spread_matches_numpy_quartiles():
    values = [5.0, 1.0, 4.0, 2.0, 3.0, 10.0]
    s = harness.spread(values)
    assert (s["q1"], s["median"], s["q3"]) == tuple(float(x) for x in np.percentile(values, [25, 50, 75]))
    assert (s["min"], s["max"]) == (1.0, 10.0)


def test_a_missed_goal_fails_the_run_unless_told_not_to(tmp_path, capsys):
    run = _run(tmp_path)
    run.goal("fast", 3.0, 2.0, at_most=True, unit="s")
    run.goal("accurate", 0.99, 0.98, at_most=False)
    run.goal("elsewhere", 1.0, 2.0, at_most=True, applies=False, why_not="set for a GPU")
    run.goal("reached", 0.1, 0.5, at_most=True, missed_because="never got there")
    assert run.finish() == 1
    printed = capsys.readouterr().out
    assert "MISSED fast by 1 s (50% of the threshold)" in printed and "MISSED reached" in printed
    goals = {g["name"]: g for g in json.loads(run.path.read_text())["goals"]}
    assert [goals[n]["met"] for n in ("fast", "accurate", "elsewhere", "reached")] == [False, True, None, False]
    assert goals["elsewhere"]["not_measured"] == "set for a GPU"
    for flag in ("--no-fail", "--dry-run"):
        run = _run(tmp_path, flag)
        run.goal("fast", 3.0, 2.0, at_most=True)
        assert run.finish() == 0


def test_the_cuda_path_syncs_around_timings_and_records_peak_memory(tmp_path, monkeypatch):
    """Run on the CPU with the CUDA calls stood in for, since the timing code must not wait for a GPU to be tested."""
    run, calls = _run(tmp_path), []
    run.device = torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: calls.append("sync"))
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda device=None: 3 * 2**20)
    out = run.timed(lambda i: calls.append("work") or None, 0)
    assert calls == ["sync", "work", "sync"] and out["seconds"] == out["wall_s"]
    run.save()
    assert json.loads(run.path.read_text())["environment"]["max_memory_allocated_mib"] == 3.0


def _digest(folder: Path) -> dict[str, str]:
    """The benchmarks' own results files (other tools write beside them) and their contents."""
    files = [p for name in (*BENCHMARKS, "run_all") for p in folder.glob(f"{name}-*.json")]
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(files)}


def test_dry_run_of_every_benchmark_reports_goals_and_the_machine(tmp_path):
    committed = _digest(harness.RESULTS)
    done = subprocess.run([sys.executable, "benchmarks/run_all.py", "--dry-run", "--out", str(tmp_path),
                           "--device", "cpu"], cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "| benchmark | goal | value | threshold | met |" in done.stdout
    assert _digest(harness.RESULTS) == committed  # a dry run never touches the committed results
    summary = json.loads(next(tmp_path.glob("run_all-*.json")).read_text())
    assert summary["mode"] == "dry run" and summary["cuda_tests"]["status"] == "ok"
    assert summary["benchmarks"] == {name: "ok" for name in BENCHMARKS}
    for name in BENCHMARKS:
        (path,) = tmp_path.glob(f"{name}-*.json")
        record = json.loads(path.read_text())
        assert record["mode"].startswith("dry run")
        assert set(ENVIRONMENT) <= set(record["environment"]), name
        assert record["environment"]["threads"] == torch.get_num_threads()
        assert record["goals"], name
        for goal in record["goals"]:
            assert {"name", "value", "threshold", "direction", "met"} <= set(goal)
            assert goal["met"] in (True, False, None) and (goal["met"] is not None or goal["not_measured"])
    train = json.loads(next(tmp_path.glob("train-*.json")).read_text())
    race = train["timings"]["race_to_99"]
    assert len(race) == 4 and race["ratio"]["of"].startswith("suite") and race["ratio"]["of"].endswith("(8_Final_00s76.ipynb)")
    assert all(len(side["rounds"]) == 2 for key, side in race.items() if key not in ("ratio", "warm_up_rounds_per_side"))
    (cold,) = train["cold"]["race_to_99"].values()
    assert cold[0]["first_call_s"] > 0 and cold[0]["process_s"] > cold[0]["first_call_s"]
    assert train["anchors"] and not any(a["measured_here"] for a in train["anchors"])
    assert all(a["hardware"] for a in train["anchors"])


def test_every_benchmark_states_its_goals_and_takes_the_shared_options():
    for name in BENCHMARKS:
        assert "\nGoals" in __import__(f"bench_{name}").__doc__, name
    options = harness.parser("x", __file__)._option_string_actions
    assert {"--pairs", "--dry-run", "--no-fail", "--out", "--host", "--device", "--cold-rounds"} <= set(options)


def test_a_benchmark_out_of_time_is_stopped_and_reported(tmp_path):
    import run_all

    status = run_all.run_in_subprocess("train", ["--dry-run", "--out", str(tmp_path)], timeout=0.5)
    assert status == "timed out after 0 s"
    table = run_all.rows(tmp_path, "no-such-host", {"train": status})
    assert table == [{"benchmark": "train", "goal": "(benchmark timed out after 0 s)", "value": None,
                      "threshold": None, "direction": "", "unit": "", "met": False, "note": status}]
