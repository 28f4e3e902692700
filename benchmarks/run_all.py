"""Every benchmark and the GPU tests in one command, ending in a table of every goal.

    python benchmarks/run_all.py [--device cuda] [--full] [--budget SECONDS] [--out DIR] [--host NAME]
    python benchmarks/run_all.py --dry-run

``make bench-gpu`` runs it on a CUDA GPU, sized to finish within 10 minutes on one H200: the tests marked
``cuda``, then each benchmark of ``PLAN`` in its own process, in that order, under the time its entry allows
and within the overall ``--budget``; a benchmark left without time is reported as not run. ``--full`` runs
the full profiles instead (well over 10 minutes). Results go to results/<benchmark>-<host>*.json, and the
table to results/run_all-<host>.json. The exit status is 1 when a goal is missed, a test fails, or a
benchmark fails or runs out of time.

``--dry-run`` runs every benchmark at tiny sizes in this process (a minute on a 2-core CPU), writes to a
temporary folder, never to results/, and reports the goals without failing on them; it fails only when
something breaks. tests/test_benchmarks.py runs it, so that the scripts cannot rot.
"""
from __future__ import annotations

import argparse
import importlib
import json
import re
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402

from mnist_explore.errors import UserError  # noqa: E402
from mnist_explore.paths import write_text_atomic  # noqa: E402
from mnist_explore.runtime import describe_device, get_device  # noqa: E402

# (benchmark, arguments, seconds allowed) for the 10-minute plan, most important first; --full swaps in FULL.
PLAN = [("train", [], 90), ("hooks", [], 90), ("embeddings", ["--others"], 240),
        ("gan", ["--profile", "default"], 60), ("best", ["--profile", "default"], 60),
        ("scratch", [], 90), ("optimizers", ["--profile", "quick"], 90)]
FULL = {"embeddings": [], "gan": ["--profile", "full"], "best": ["--profile", "full"],
        "optimizers": ["--profile", "full"]}
TESTS_SECONDS = 120


def cuda_test_files() -> list[str]:
    """The test files that hold tests marked ``cuda`` (collecting only these keeps the run short)."""
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("test_*.py")
                  if "mark.cuda" in p.read_text())


def run_cuda_tests(timeout: float) -> dict:
    """``pytest -m cuda`` over the files that have such tests; the counts from its summary line."""
    command = [sys.executable, "-m", "pytest", "-m", "cuda", "-q", "-p", "no:cacheprovider", *cuda_test_files()]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"status": "timed out", "seconds": timeout}
    counts = {kind: int(n) for n, kind in re.findall(r"(\d+) (passed|failed|skipped|errors?)", done.stdout)}
    status = "ok" if done.returncode == 0 else "failed"
    if status == "failed":
        print(done.stdout[-3000:])
    return {"status": status, "counts": counts, "seconds": time.perf_counter() - start}


def run_in_process(name: str, argv: list[str]) -> str:
    """A benchmark's ``main(argv)`` in this process (a dry run: one interpreter, imports paid once)."""
    try:
        rc = importlib.import_module(f"bench_{name}").main(argv)
    except Exception:  # noqa: BLE001 - any failure is reported, and the next benchmark still runs
        traceback.print_exc()
        return "failed"
    return "ok" if rc == 0 else "goal missed"


def run_in_subprocess(name: str, argv: list[str], timeout: float | None) -> str:
    """A benchmark in its own process, killed after ``timeout`` seconds (None: never)."""
    try:
        done = subprocess.run([sys.executable, str(HERE / f"bench_{name}.py"), *argv], cwd=ROOT, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout:.0f} s"
    return {0: "ok", 1: "goal missed"}.get(done.returncode, "failed")


def rows(out: Path, host: str, statuses: dict[str, str], since: float = 0.0) -> list[dict]:
    """One row per goal from the results files in ``out`` written after ``since`` (a time.time()), and one per
    benchmark that wrote no goals; a file left by an earlier run never stands in for one that failed."""
    table = []
    for name, status in statuses.items():
        files = [f for f in sorted(out.glob(f"{name}-{host}*.json")) if f.stat().st_mtime >= since]
        goals = [g for f in files for g in json.loads(f.read_text()).get("goals", [])]
        for g in goals:
            table.append({"benchmark": name, "goal": g["name"], "value": g["value"], "threshold": g["threshold"],
                          "direction": g["direction"], "unit": g["unit"], "met": g["met"],
                          "note": g.get("not_measured", g.get("missed_because", ""))})
        if not goals or status not in ("ok", "goal missed"):
            table.append({"benchmark": name, "goal": f"(benchmark {status})", "value": None, "threshold": None,
                          "direction": "", "unit": "", "met": None if status in ("ok", "goal missed") else False,
                          "note": status})
    return table


def print_table(table: list[dict]) -> None:
    print("\n| benchmark | goal | value | threshold | met |\n|---|---|---|---|---|")
    for r in table:
        met = {True: "yes", False: "NO", None: "not measured"}[r["met"]]
        threshold = f"{r['direction']} {harness.format_value(r['threshold'])} {r['unit']}".strip()
        print(f"| {r['benchmark']} | {r['goal']} | {harness.format_value(r['value'])} | {threshold} | {met} |")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", help="cpu, cuda, cuda:N or mps (default: the best present)")
    p.add_argument("--dry-run", action="store_true", help="tiny sizes, in this process, to a temporary folder")
    p.add_argument("--full", action="store_true", help="the full profiles (well over 10 minutes)")
    p.add_argument("--budget", type=float, default=570.0, help="seconds for the whole run, tests included (default 570)")
    p.add_argument("--out", type=Path, help="folder for the results (default results/; a temporary one in a dry run)")
    p.add_argument("--host", help="name in the results files (default: from the device)")
    p.add_argument("--only", nargs="+", choices=[name for name, _, _ in PLAN], help="run these benchmarks only")
    args = p.parse_args(argv)
    try:
        device = get_device(args.device)
    except UserError as exc:
        print(exc, file=sys.stderr)
        return 2
    host = args.host or harness.host_label(device)
    out = args.out or (Path(tempfile.mkdtemp(prefix="mnist-bench-all-")) if args.dry_run else harness.RESULTS)
    deadline = time.perf_counter() + (float("inf") if args.full or args.dry_run else args.budget)
    since = time.time()
    common = ["--out", str(out), "--host", host, *(["--device", args.device] if args.device else [])]
    tests = run_cuda_tests(TESTS_SECONDS)
    print(f"tests marked cuda: {tests}", flush=True)
    statuses: dict[str, str] = {}
    for name, extra, seconds in PLAN:
        if args.only and name not in args.only:
            continue
        extra = FULL.get(name, extra) if args.full else extra
        left = deadline - time.perf_counter()
        print(f"\n== {name}", flush=True)
        started = time.perf_counter()
        if args.dry_run:
            statuses[name] = run_in_process(name, ["--dry-run", *common])
        elif left < 20:
            statuses[name] = "not run: out of time"
        else:
            statuses[name] = run_in_subprocess(name, [*extra, *common], None if args.full else min(seconds, left))
        print(f"== {name}: {statuses[name]} in {time.perf_counter() - started:.0f} s", flush=True)
    table = rows(out, host, statuses, since)
    print_table(table)
    summary = {"host": host, "device": describe_device(device), "torch": torch.__version__,
               "mode": "dry run" if args.dry_run else "full profiles" if args.full else "10-minute plan",
               "cuda_tests": tests, "benchmarks": statuses, "goals": table}
    write_text_atomic(out / f"run_all-{host}.json", json.dumps(summary, indent=2, default=float) + "\n")
    print(f"wrote {out}/run_all-{host}.json")
    broken = tests["status"] != "ok" or any(s not in ("ok", "goal missed") for s in statuses.values())
    missed = any(r["met"] is False for r in table)
    return 1 if broken or (missed and not args.dry_run) else 0


if __name__ == "__main__":
    sys.exit(main())
