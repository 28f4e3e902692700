"""What every benchmark shares: sides timed in alternating order, cold and warm figures, the machine in
words, goals stated with their thresholds, and one results file per benchmark and host.

A benchmark script parses its arguments with :func:`parse` (after :func:`parser` has added the common
ones), builds a :class:`Run`, times its sides with :meth:`Run.paired` and :meth:`Run.cold`, states its
goals with :meth:`Run.goal`, and ends with ``return run.finish()``. The exit status is 1 when a goal that
applies on this machine is missed, unless ``--no-fail`` or ``--dry-run`` is given.
"""
from __future__ import annotations

import argparse
import datetime
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from mnist_explore.paths import write_text_atomic  # noqa: E402
from mnist_explore.runtime import describe_device, get_device  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
MIN_PAIRS = 5
COLD_PREFIX = "COLD-PROBE "  # the line a cold probe prints for its parent

Side = Callable[[int], "dict | None"]  # round index -> measurements; "seconds" replaces the wall-clock time


def parser(doc: str, script: str) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark takes; ``script`` (its ``__file__``) runs the cold probes."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.set_defaults(script=script)
    p.add_argument("--device", help="cpu, cuda, cuda:N or mps (default: the best present)")
    p.add_argument("--pairs", type=int, default=MIN_PAIRS,
                   help=f"rounds of each timed comparison, sides alternating first (default and minimum {MIN_PAIRS})")
    p.add_argument("--dry-run", action="store_true",
                   help="tiny sizes and 2 rounds, written to a temporary folder; goals are reported, never fail")
    p.add_argument("--cold-rounds", type=int, default=1,
                   help="fresh processes per side for the cold figures, where a benchmark has them (0: none)")
    p.add_argument("--no-fail", action="store_true", help="exit 0 even when a goal is missed")
    p.add_argument("--out", type=Path, help=f"folder for the results file (default {RESULTS}; a temporary one "
                                            "in a dry run)")
    p.add_argument("--host", help="name for the results file (default: from the device)")
    p.add_argument("--cold", help=argparse.SUPPRESS)  # set by Run.cold in the fresh process it starts
    return p


def parse(p: argparse.ArgumentParser, argv: list[str] | None = None) -> argparse.Namespace:
    """Parse ``argv`` (default: the command line), keeping it for the cold probes."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = p.parse_args(argv)
    if args.dry_run and args.pairs == MIN_PAIRS:
        args.pairs = 2
    if args.pairs < MIN_PAIRS and not args.dry_run:
        p.error(f"--pairs must be at least {MIN_PAIRS} (fewer only with --dry-run)")
    args.argv = argv
    return args


def sync(device: torch.device) -> None:
    """Wait for the device's queued work, so that a clock read after it means something."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def spread(values: list[float]) -> dict:
    """Median, quartiles, minimum and maximum of ``values``."""
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else values * 3
    return {"median": statistics.median(values), "q1": q1, "q3": q3, "min": min(values), "max": max(values),
            "n": len(values)}


def host_label(device: torch.device) -> str:
    """A file-name slug of the hardware, e.g. ``cpu-amd-epyc-2-threads`` or ``nvidia-h100-80gb-hbm3``."""
    return re.sub(r"[^a-z0-9]+", "-", describe_device(device).split("(CUDA")[0].lower()).strip("-")


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo") as f:
            return set(next(line for line in f if line.startswith("flags")).split(":", 1)[1].split())
    except (OSError, StopIteration):
        return set()


def environment(device: torch.device, bf16_autocast: bool) -> dict:
    """The machine and the numeric paths a result was measured with."""
    flags = _cpu_flags()
    env = {"cpu": describe_device(torch.device("cpu")).removeprefix("CPU: ").rsplit(",", 1)[0],
           "threads": torch.get_num_threads(), "torch": torch.__version__, "device": describe_device(device),
           "cpu_capability": torch.backends.cpu.get_cpu_capability(),
           "cpu_bf16_flags": sorted(flags & {"avx512_bf16", "amx_bf16", "amx_tile"}),
           "bf16_autocast": bf16_autocast,
           "amx_used": bf16_autocast and device.type == "cpu" and "amx_bf16" in flags,
           "host": host_label(device), "python": sys.version.split()[0]}
    if device.type == "cuda":
        env["cuda"] = torch.version.cuda
        env["gpu_memory_gib"] = round(torch.cuda.get_device_properties(device).total_memory / 2**30, 1)
    return env


class Run:
    """One benchmark's run: its device, its record (written as JSON) and its goals."""

    def __init__(self, name: str, args: argparse.Namespace, *, bf16_autocast: bool | None = None,
                 suffix: str = "", settings: dict | None = None):
        self.name, self.args = name, args
        self.device = get_device(args.device)
        self.dry_run = bool(args.dry_run)
        autocast = self.device.type == "cuda" if bf16_autocast is None else bf16_autocast  # the engine's default
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        self.file_name = f"{name}-{args.host or host_label(self.device)}{suffix}.json"
        self.path: Path | None = None  # chosen on the first save, so that a cold probe makes no folder
        self.record = {"benchmark": name, "date": datetime.date.today().isoformat(),
                       "mode": "dry run (tiny sizes; not a measurement)" if self.dry_run else "measured",
                       "measured_on": "this machine (see environment)",
                       "environment": environment(self.device, autocast), "settings": settings or {},
                       "goals": [], "anchors": []}

    # -- timing --------------------------------------------------------------------------------------
    def timed(self, fn: Side, i: int) -> dict:
        """Call ``fn(i)`` between two device synchronisations; ``seconds`` is its own figure or the wall clock."""
        sync(self.device)
        start = time.perf_counter()
        out = dict(fn(i) or {})
        sync(self.device)
        out["wall_s"] = time.perf_counter() - start
        out.setdefault("seconds", out["wall_s"])
        return out

    def paired(self, key: str, sides: dict[str, Side], *, pairs: int | None = None, warmup: int = 1) -> dict:
        """Time every side ``pairs`` times, rotating which goes first each round, after ``warmup`` rounds of each.

        The warm-up rounds use negative round indices (a side may pick a seed from them) and are not kept.
        Returns, per side, every round's measurements and the spread of its seconds; with two sides also the
        spread of the per-round ratio second / first (drift in the machine's speed hits both sides of a round).
        """
        names = list(sides)
        for w in range(warmup):
            for name in names[w % len(names):] + names[:w % len(names)]:
                self.timed(sides[name], -1 - w)
        rounds = {name: [] for name in names}
        for i in range(pairs or self.args.pairs):
            for name in names[i % len(names):] + names[:i % len(names)]:
                rounds[name].append({"round": i, "first": name == names[i % len(names)], **self.timed(sides[name], i)})
        result = {name: {"rounds": r, "seconds": spread([x["seconds"] for x in r])} for name, r in rounds.items()}
        if len(names) == 2:
            a, b = (rounds[n] for n in names)
            result["ratio"] = {"of": f"{names[1]} / {names[0]}",
                               **spread([y["seconds"] / x["seconds"] for x, y in zip(a, b, strict=True)])}
        result["warm_up_rounds_per_side"] = warmup
        self.record.setdefault("timings", {})[key] = result
        return result

    def cold(self, key: str, sides: list[str], rounds: int | None = None) -> dict:
        """Each side's first call in a fresh process (this script run again with ``--cold SIDE``), sides alternating.

        ``first_call_s`` is that call's own time; ``process_s`` also counts starting Python, importing and loading.
        """
        if self.dry_run:
            sides = sides[:1]  # the probe's code path at half the cost: a dry run measures nothing
        result = {name: [] for name in sides}
        for i in range(self.args.cold_rounds if rounds is None else rounds):
            for name in sides[i % len(sides):] + sides[:i % len(sides)]:
                start = time.perf_counter()
                done = subprocess.run([sys.executable, self.args.script, *self.args.argv, "--cold", name],
                                      capture_output=True, text=True, check=False)
                lines = [x for x in done.stdout.splitlines() if x.startswith(COLD_PREFIX)]
                if done.returncode != 0 or not lines:
                    raise RuntimeError(f"the cold probe of {name!r} failed:\n{done.stderr[-2000:]}")
                probe = json.loads(lines[-1][len(COLD_PREFIX):])
                result[name].append({**probe, "process_s": time.perf_counter() - start})
        self.record.setdefault("cold", {})[key] = result
        return result

    def cold_probe(self, sides: dict[str, Side]) -> int:
        """In the fresh process started by :meth:`cold`: time the side's first call and print it for the parent."""
        out = self.timed(sides[self.args.cold], 0)
        print(COLD_PREFIX + json.dumps({"first_call_s": out["seconds"],
                                        **{k: v for k, v in out.items() if isinstance(v, (int, float, str))}}))
        return 0

    # -- goals and the record ------------------------------------------------------------------------
    def goal(self, name: str, value: float | None, threshold: float, *, at_most: bool, unit: str = "",
             applies: bool = True, why_not: str = "", missed_because: str = "") -> dict:
        """State a goal: ``value`` against ``threshold`` (at most or at least).

        A goal that does not apply on this machine or at these sizes, or whose value could not be measured, has
        ``met`` None and says why (``why_not``); ``missed_because`` marks it missed whatever the value.
        """
        measured = applies and value is not None
        met = (value <= threshold if at_most else value >= threshold) if measured else None
        goal = {"name": name, "value": value, "threshold": threshold, "direction": "at most" if at_most else "at least",
                "unit": unit, "met": False if measured and missed_because else met}
        if missed_because and measured:
            goal["missed_because"] = missed_because
        if not measured:
            goal["not_measured"] = why_not or "no value"
        self.record["goals"].append(goal)
        return goal

    def only_on_cpu(self, threads: int = 2) -> dict:
        """``goal`` keywords for a goal set for ``threads`` CPU threads: it applies only to such a run."""
        here = torch.get_num_threads()
        if self.device.type != "cpu":
            return {"applies": False, "why_not": f"set for {threads} CPU threads; this run is on {self.device.type}"}
        return {"applies": here == threads, "why_not": f"set for {threads} CPU threads; this run had {here}"}

    def only_on_gpu(self) -> dict:
        """``goal`` keywords for a goal set for a CUDA GPU: it applies only to a run on one."""
        return {"applies": self.device.type == "cuda", "why_not": f"set for a CUDA GPU; this run is on {self.device.type}"}

    def anchor(self, name: str, value: float, unit: str, hardware: str, source: str) -> None:
        """A figure measured elsewhere, kept for context and never compared with this machine's."""
        self.record["anchors"].append({"name": name, "value": value, "unit": unit, "hardware": hardware,
                                       "source": source, "measured_here": False})

    def save(self) -> Path:
        """Write the record so far (an interrupted run keeps what it measured)."""
        if self.path is None:
            out = self.args.out or (Path(tempfile.mkdtemp(prefix="mnist-bench-")) if self.dry_run else RESULTS)
            self.path = out / self.file_name
        if self.device.type == "cuda":
            self.record["environment"]["max_memory_allocated_mib"] = round(
                torch.cuda.max_memory_allocated(self.device) / 2**20, 1)
        return write_text_atomic(self.path, json.dumps(self.record, indent=2, default=float) + "\n")

    def finish(self) -> int:
        """Write the record, print every goal, and return the exit status: 1 if a goal that applies was missed."""
        path = self.save()
        missed = [g for g in self.record["goals"] if g["met"] is False]
        for g in self.record["goals"]:
            state = {True: "met", False: "MISSED", None: f"not measured ({g.get('not_measured')})"}[g["met"]]
            print(f"goal {g['name']}: {format_value(g['value'])} {g['unit']} "
                  f"({g['direction']} {format_value(g['threshold'])}): {state}")
        for g in missed:
            gap = abs(g["value"] - g["threshold"])
            relative = f" ({100 * gap / abs(g['threshold']):.0f}% of the threshold)" if g["threshold"] else ""
            print(f"MISSED {g['name']} by {format_value(gap)} {g['unit']}{relative}")
        print(f"wrote {path}")
        return 1 if missed and not (self.dry_run or self.args.no_fail) else 0


def format_value(x) -> str:
    """A number in at most 4 significant digits, or '-' for none."""
    return "-" if x is None else f"{x:.4g}" if isinstance(x, float) else str(x)
