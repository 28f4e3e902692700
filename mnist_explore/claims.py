"""Sentences about results, stated as checks.

A notebook states each qualitative result with :func:`claim`: the sentence, whether the numbers just
computed support it, and the numbers themselves. The claim shows in the notebook's output with a tick
or a cross, and, when ``MNIST_EXPLORE_CLAIMS_LOG`` names a file, is appended to it as one JSON line.
``mnist-explore claims`` (:func:`run`) executes the notebooks for a few seeds with that variable set and
writes what it collected to ``benchmarks/results/claims-<host>.json``.

    from mnist_explore.claims import claim
    claim("Class 1 uses the least ink", holds=int(intensity.argmin()) == 1,
          evidence=f"mean intensity {intensity.min():.3f}")

The text is a string literal, the same on every seed and machine, so that the report can match it to
the notebook's source; the numbers belong in ``evidence``. A claim that does not hold shows a cross and
does not raise: the runner counts it.
"""
from __future__ import annotations

import ast
import datetime
import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError

LOG_ENV = "MNIST_EXPLORE_CLAIMS_LOG"
NOTEBOOK_ENV = "MNIST_EXPLORE_NOTEBOOK"


@dataclass(frozen=True)
class Claim:
    """One sentence about a result, whether it held, and the numbers it rests on."""

    text: str
    holds: bool
    evidence: str = ""
    notebook: str | None = None

    def _line(self, emphasis: str) -> str:
        mark = "✓" if self.holds else "✗ does not hold:"
        tail = f" ({self.evidence})" if self.evidence else ""
        return f"{mark} {emphasis}{self.text}{emphasis}{tail}"

    def __str__(self) -> str:
        return self._line("")

    __repr__ = __str__  # what an executed notebook saves as text/plain

    def _repr_markdown_(self) -> str:
        return self._line("*")


def claim(text: str, holds: object, evidence: str = "", *, notebook: str | None = None) -> None:
    """State ``text`` as a result, show whether it ``holds``, and record it for the claims report.

    Parameters
    ----------
    text : str
        The sentence, one line, written as a string literal: no numbers that change between runs.
    holds : bool
        Whether the data support it (a NumPy or 0-d torch boolean is fine).
    evidence : str
        The numbers behind it, shown in brackets after the sentence.
    notebook : str, optional
        The notebook's name for the record; ``$MNIST_EXPLORE_NOTEBOOK`` (set by the runner) when omitted.
    """
    if not isinstance(text, str) or not text.strip() or "\n" in text:
        raise UserError(f"A claim's text must be one non-empty line of text, got {text!r}.")
    if getattr(holds, "shape", None) == ():
        holds = holds.item()  # numpy.bool_ and 0-d tensors
    if not isinstance(holds, bool):
        raise UserError(f"claim({text!r}) needs holds=True or False, got {holds!r}.")
    item = Claim(text.strip(), holds, str(evidence), notebook or os.environ.get(NOTEBOOK_ENV) or None)
    _show(item)
    _record(item)


def prediction_interval(samples, level: float = 0.95) -> tuple[float, float]:
    """The range one more run would fall in, judged from ``samples`` (one number per seed): the mean ± Student's
    t quantile (n - 1 degrees of freedom) × the standard deviation × sqrt(1 + 1/n).

    A result inside it is indistinguishable from these runs at this budget; with few seeds the range is wide.
    """
    import numpy as np
    from scipy import stats

    x = np.asarray(samples, dtype=float)
    if x.ndim != 1 or len(x) < 2 or not 0 < level < 1:
        raise UserError(f"A prediction interval needs two or more samples and a level between 0 and 1, got {len(x)} "
                        f"sample(s) and level {level}.")
    half = float(stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) * np.sqrt(1 + 1 / len(x)))
    return float(x.mean()) - half, float(x.mean()) + half


def _show(item: Claim) -> None:
    ipython = sys.modules.get("IPython")
    if ipython is not None and ipython.get_ipython() is not None:
        from IPython.display import display

        display(item)
    else:
        print(item)


def _record(item: Claim) -> None:
    """Append one JSON line to ``$MNIST_EXPLORE_CLAIMS_LOG``: a single write to a file opened for appending,
    so lines from several processes never interleave."""
    path = os.environ.get(LOG_ENV)
    if not path:
        return
    line = json.dumps({"text": item.text, "holds": item.holds, "evidence": item.evidence,
                       "notebook": item.notebook}, ensure_ascii=False) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def read_log(path: str | Path) -> list[dict]:
    """The claims a log holds, in the order they were made, repeated texts merged: held only if every
    statement of it held, with the evidence of each joined by '; '."""
    merged: dict[str, dict] = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            text, holds, evidence = record["text"], record["holds"], record.get("evidence", "")
        except (ValueError, KeyError, TypeError):
            raise UserError(f"Line {number} of the claims log {path} is not a claim record: {line[:80]!r}.") from None
        entry = merged.setdefault(text, {"text": text, "holds": True, "evidence": []})
        entry["holds"] = entry["holds"] and holds is True
        if evidence and evidence not in entry["evidence"]:
            entry["evidence"].append(evidence)
    return [{**e, "evidence": "; ".join(e["evidence"])} for e in merged.values()]


def claims_in_source(path: str | Path) -> list[str]:
    """The text of every ``claim(...)`` call in a notebook's code cells, in order, each once.

    A call whose text is not a string literal is refused: the report could not match it.
    """
    path = Path(path)
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    texts: list[str] = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError as exc:
            raise UserError(f"Cell {index} of {path.name} is not valid Python ({exc.msg}, line {exc.lineno}).") from None
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _name(node.func) == "claim"):
                continue
            arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "text"), None)
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                raise UserError(f"claim() in cell {index} of {path.name}, line {node.lineno}, must take its text as "
                                "a string literal (numbers go in evidence), so the claims report can match it.")
            if arg.value.strip() not in texts:
                texts.append(arg.value.strip())
    return texts


def _name(func: ast.expr) -> str | None:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


# The runner: ``mnist-explore claims``.

def notebooks_dir() -> Path:
    """The checkout's notebooks/ folder; the runner needs a source checkout (the notebooks do not ship)."""
    from .paths import checkout_root

    root = checkout_root()
    if root is None or not (root / "notebooks").is_dir():
        raise UserError("mnist-explore claims executes the notebooks of a source checkout: run it from one "
                        "(pip install -e .).")
    return root / "notebooks"


def select_notebooks(names: list[str] | None, folder: Path) -> list[Path]:
    """The notebooks named (``01``, ``01_data_statistics`` or its file name), or every notebook that states
    a claim; one sentence for an unknown name or a notebook without claims."""
    every = sorted(folder.glob("*.ipynb"))
    if not names:
        chosen = [p for p in every if claims_in_source(p)]
        if not chosen:
            raise UserError(f"No notebook in {folder} states a claim(...): nothing to check.")
        return chosen
    chosen = []
    for name in names:
        stem = Path(name).name.removesuffix(".ipynb")
        match = [p for p in every if p.stem == stem or p.stem.split("_", 1)[0] == stem]
        if len(match) != 1:
            known = ", ".join(p.stem.split("_", 1)[0] for p in every)
            raise UserError(f"Unknown notebook {name!r}: name one by its number ({known}) or its file name.")
        if not claims_in_source(match[0]):
            raise UserError(f"Notebook {match[0].name} states no claim(...): there is nothing to check in it.")
        if match[0] not in chosen:
            chosen.append(match[0])
    return chosen


def check_seeds(seeds: list[int]) -> list[int]:
    """The seeds, each once, in order; one sentence for an empty list or a seed out of range."""
    if not seeds:
        raise UserError("Give at least one seed, e.g. --seeds 0 1.")
    bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s < 2**32]
    if bad:
        raise UserError(f"Seeds must be whole numbers from 0 to {2**32 - 1}, got {bad[0]!r}.")
    return list(dict.fromkeys(seeds))


def host_label(device) -> str:
    """A file-name slug of the hardware, e.g. ``cpu-amd-epyc-2-threads`` (as the benchmarks name theirs)."""
    from .runtime import describe_device

    return re.sub(r"[^a-z0-9]+", "-", describe_device(device).split("(CUDA")[0].lower()).strip("-")


def report_path(results: Path, host: str, profile: str) -> Path:
    """``claims-<host>.json`` for the default profile, ``claims-<host>-<profile>.json`` for the others."""
    return results / (f"claims-{host}.json" if profile == "default" else f"claims-{host}-{profile}.json")


def _execute(path: Path, seed: int, profile: str, work: Path, timeout: int) -> tuple[list[dict], str | None, float]:
    """Execute a copy of one notebook for one seed; its claims, the error that stopped it (or None), seconds."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    log = work / f"{path.stem}-seed{seed}.jsonl"
    env = {**os.environ, "MNIST_EXPLORE_PROFILE": profile, "MNIST_EXPLORE_SEED": str(seed), LOG_ENV: str(log),
           NOTEBOOK_ENV: path.stem, "MNIST_EXPLORE_INTERACTIVE": "0",
           "MNIST_EXPLORE_FIGURES": str(work / "figures")}  # never over the committed figures/
    env.pop("MNIST_EXPLORE_QUICK", None)  # it would override the profile
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, resources={"metadata": {"path": str(path.parent)}})
    start, error = time.perf_counter(), None
    with open(work / f"{path.stem}-seed{seed}.kernel.log", "w") as kernel_log:  # the kernel's own warnings
        try:
            client.execute(env=env, stderr=kernel_log)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
            error = next((line for line in str(exc).splitlines()[::-1] if line.strip()), type(exc).__name__)[:300]
    seconds = time.perf_counter() - start
    nbformat.write(nb, work / f"{path.stem}-seed{seed}.ipynb")  # kept for a look when something failed
    return (read_log(log) if log.exists() else []), error, seconds


def run(names: list[str] | None = None, seeds: list[int] = (0, 1), profile: str = "default", *,
        folder: Path | None = None, results: Path | None = None, timeout: int = 3600) -> tuple[dict, Path, bool]:
    """Execute each notebook for each seed and merge its claims into the host's report.

    Every name, seed and the profile are checked before anything runs. ``folder`` holds the notebooks
    (default: the checkout's notebooks/), ``results`` the report (default: benchmarks/results/).
    Returns the report, where it was written, and whether every claim held for every seed. Notebooks
    not run keep their earlier entries in the report.
    """
    import torch

    from .paths import write_text_atomic
    from .runtime import describe_device, get_device
    from .studies.profiles import check_profile

    check_profile(profile)
    seeds = check_seeds(list(seeds))
    chosen = select_notebooks(names, folder or notebooks_dir())
    try:
        import nbclient  # noqa: F401  (the notebooks extra)
    except ImportError:
        raise UserError("mnist-explore claims executes notebooks with nbclient: pip install -e '.[notebooks]'.") from None
    results = results or notebooks_dir().parent / "benchmarks" / "results"
    host = host_label(get_device(None))
    path = report_path(results, host, profile)
    work = Path(tempfile.mkdtemp(prefix="mnist-explore-claims-"))
    runs, claims, ok = {}, [], True
    for nb in chosen:
        runs[nb.stem], found, held = _run_notebook(nb, seeds, profile, work, timeout)
        claims.extend(found)
        ok = ok and held
    report = _merge(path, {"host": host, "profile": profile, "cpu": describe_device(torch.device("cpu")),
                           "device": describe_device(get_device(None)), "torch": torch.__version__}, runs, claims)
    write_text_atomic(path, json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    if ok:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"the executed copies of the notebooks are in {work}", flush=True)
    return report, path, ok


def _run_notebook(nb: Path, seeds: list[int], profile: str, work: Path, timeout: int) -> tuple[dict, list[dict], bool]:
    """One notebook for every seed: its run record, its claims (held and evidence per seed), whether all held.

    A claim in the source that a run did not state counts as not held for that seed.
    """
    import numpy
    import torch

    from .runtime import describe_device

    found = {text: {"notebook": nb.stem, "text": text, "held": {}, "evidence": {}} for text in claims_in_source(nb)}
    record = {"seeds": seeds, "seconds": {}, "errors": {}, "date": datetime.date.today().isoformat(),
              "torch": torch.__version__, "numpy": numpy.__version__, "cpu": describe_device(torch.device("cpu"))}
    ok = True
    for seed in seeds:
        key = str(seed)
        made, error, seconds = _execute(nb, seed, profile, work, timeout)
        record["seconds"][key] = round(seconds, 1)
        if error:
            record["errors"][key] = error
        for item in made:
            entry = found.setdefault(item["text"], {"notebook": nb.stem, "text": item["text"], "held": {}, "evidence": {}})
            entry["held"][key], entry["evidence"][key] = item["holds"], item["evidence"]
        for entry in found.values():
            if key not in entry["held"]:
                entry["held"][key] = False
                entry["evidence"][key] = "not stated: the notebook stopped before it" if error else "not stated"
        failed = [e for e in found.values() if not e["held"][key]]
        ok = ok and not failed and not error
        print(f"{nb.stem} seed {seed}: {len(found) - len(failed)} of {len(found)} claims hold in {seconds:.0f} s"
              + (f"; stopped: {error}" if error else ""), flush=True)
        for entry in failed:
            print(f"  ✗ {entry['text']} ({entry['evidence'][key]})", flush=True)
    return record, list(found.values()), ok


def _merge(path: Path, header: dict, runs: dict[str, dict], claims: list[dict]) -> dict:
    """The report at ``path`` with the notebooks just run replaced; an unreadable report starts afresh."""
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
        old_runs, old_claims = dict(old["notebooks"]), list(old["claims"])
    except (OSError, ValueError, KeyError, TypeError):
        old_runs, old_claims = {}, []
    kept_runs = {name: r for name, r in old_runs.items() if name not in runs}
    kept_claims = [c for c in old_claims if isinstance(c, dict) and c.get("notebook") not in runs]
    every_run = dict(sorted({**kept_runs, **runs}.items()))
    every_claim = sorted(kept_claims + claims, key=lambda c: c["notebook"])  # stable: source order within a notebook
    held = all(all(c["held"].values()) for c in every_claim) and not any(r["errors"] for r in every_run.values())
    return {"about": "Every claim(...) the notebooks state and whether it held, per seed; written by "
                     "`mnist-explore claims` (make claims).", **header, "all_held": held,
            "notebooks": every_run, "claims": every_claim}
