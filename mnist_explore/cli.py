"""The ``mnist-explore`` command (also ``python -m mnist_explore``)."""
from __future__ import annotations

import argparse
import sys

from .errors import UserError


def _parser() -> argparse.ArgumentParser:
    from .figures import PROFILES

    parser = argparse.ArgumentParser(prog="mnist-explore", description="Explore MNIST: regenerate the suite's figures.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    figures = commands.add_parser("figures", help="render figures into figures/ and update MANIFEST.json",
                                  description="Render the registered figures into figures/ and update MANIFEST.json.")
    figures.add_argument("--only", nargs="+", metavar="NAME", help="render just these figures (see --list)")
    figures.add_argument("--profile", choices=list(PROFILES), default="default",
                         help="quick (CI), default (`make figures`) or full (the notebooks' settings)")
    figures.add_argument("--device", help="cpu, cuda, cuda:N or mps (default: $MNIST_EXPLORE_DEVICE, else the best present)")
    figures.add_argument("--seed", type=int, default=0, help="seed for every recipe (default 0)")
    figures.add_argument("--out", metavar="DIR", help="write here instead of figures/")
    figures.add_argument("--list", action="store_true", help="list the figure names and exit")
    claims = commands.add_parser("claims", help="execute the notebooks for some seeds and check every claim they state",
                                 description="Execute copies of the notebooks for each seed and write which of their "
                                             "claims held to benchmarks/results/claims-<host>.json.")
    claims.add_argument("--notebooks", nargs="+", metavar="NAME",
                        help="by number (01 10) or file name (default: every notebook that states a claim)")
    claims.add_argument("--seeds", nargs="+", type=int, default=[0, 1], metavar="SEED", help="default: 0 1")
    claims.add_argument("--profile", choices=list(PROFILES), default="default", help="the notebooks' profile (default)")
    return parser


def _figures(args: argparse.Namespace) -> None:
    from .figures import Context, recipes, render, select
    from .runtime import get_device, seed_everything

    if args.list:
        for item in recipes().values():
            print(f"{item.name:28s} {item.summary}  [{item.notebook}]")
        return
    selected = select(args.only)
    seed_everything(args.seed)
    ctx = Context(profile=args.profile, device=get_device(args.device), seed=args.seed)
    done = render(selected, ctx, args.out)
    total = sum(entry["seconds"] for entry in done)
    print(f"wrote {len(done)} figure(s) on {ctx.device} in {total:.1f} s ({args.profile} profile)")


def _claims(args: argparse.Namespace) -> int:
    from .claims import run

    report, path, ok = run(args.notebooks, args.seeds, args.profile)
    held = sum(all(c["held"].values()) for c in report["claims"])
    print(f"wrote {path}: {held} of {len(report['claims'])} claims held for every seed"
          + ("" if ok else "; the ones run here that did not are listed above"))
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only; set here, never at import
        if args.command == "claims":
            return _claims(args)
        _figures(args)
    except UserError as exc:
        print(f"mnist-explore: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        done = "the figures already written are kept in the manifest" if args.command == "figures" else "no report written"
        print(f"mnist-explore: interrupted; {done}.", file=sys.stderr)
        return 130
    return 0
