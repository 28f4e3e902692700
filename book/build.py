"""Build the book from the committed, executed notebooks, offline: ``python book/build.py [--profile quick]``.

1. MathJax comes from npm (``mathjax@3``) into ``book/_vendor/mathjax/mathjax3``, once, so that pages
   render math with no CDN.
2. The standalone t-SNE explorer is written to ``<out>/_build/extra/explorer/tsne.html`` from the
   embeddings study at ``--profile`` (its t-SNE is cached, so a second build skips it).
3. Jupyter Book renders the notebooks' stored outputs (``execute_notebooks: "off"``) into
   ``<out>/_build/html``; any Sphinx warning fails the build.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

BOOK = Path(__file__).resolve().parent
MATHJAX_PARENT = BOOK / "_vendor" / "mathjax"  # an html_extra_path: its mathjax3/ lands at the site's root
MATHJAX = MATHJAX_PARENT / "mathjax3" / "tex-mml-chtml.js"
NPM_PREFIX = BOOK / "_vendor" / "npm"


def fetch_mathjax() -> Path:
    """MathJax 3's ``es5`` folder, installed with npm into ``book/_vendor`` unless it is already there."""
    if MATHJAX.exists():
        return MATHJAX
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("The book vendors MathJax from npm, which is not installed: install Node.js and npm "
                 "(Debian: apt-get install -y npm), then run make book again.")
    subprocess.run([npm, "install", "--prefix", str(NPM_PREFIX), "--no-audit", "--no-fund", "--no-save",
                    "--loglevel", "error", "mathjax@3"], check=True)
    target = MATHJAX.parent
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(NPM_PREFIX / "node_modules" / "mathjax" / "es5", target)
    return MATHJAX


def write_explorer(path: Path, profile: str, points: int | None) -> Path:
    """The t-SNE map of the embeddings study at ``profile`` as a standalone page of ``points`` digits."""
    from mnist_explore.data import load_mnist
    from mnist_explore.explore_html import embedding_page
    from mnist_explore.studies import embeddings

    result = embeddings.run(embeddings.Settings.profile(profile, methods=("tsne",)), load_mnist(), progress=False)
    E, score = result.maps["tsne"]
    digits = result.digits
    title = f"t-SNE map of {len(E):,} MNIST digits (kNN accuracy in 2-D: {score.accuracy:.1%})"
    return embedding_page(E, digits.y.cpu().numpy(), digits.X.cpu().numpy(), path, n=points, seed=0, title=title)


def build_config(out: Path) -> Path | None:
    """A copy of ``_config.yml`` whose extra paths are absolute, for a build outside ``book/``; None inside it."""
    if out.resolve() == BOOK:
        return None
    import yaml

    config = yaml.safe_load((BOOK / "_config.yml").read_text())
    config["sphinx"]["config"]["html_extra_path"] = [str(MATHJAX_PARENT), str(out.resolve() / "_build" / "extra")]
    path = out / "_build" / "_config.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def build(out: Path = BOOK, profile: str = "default", points: int | None = 5000) -> Path:
    """Fetch MathJax, write the explorer, build the site into ``<out>/_build/html``, and return that folder."""
    fetch_mathjax()
    start = time.perf_counter()
    write_explorer(out / "_build" / "extra" / "explorer" / "tsne.html", profile, points)
    print(f"explorer: {time.perf_counter() - start:.1f} s", flush=True)
    config = build_config(out)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", str(BOOK), "--path-output", str(out), "--warningiserror", "--keep-going"]
    subprocess.run(command + (["--config", str(config)] if config else []), check=True)
    return out / "_build" / "html"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default", choices=("quick", "default", "full"),
                        help="the embeddings study's profile for the explorer's map (quick: 2,000 digits)")
    parser.add_argument("--points", type=int, default=5000, help="digits shown in the explorer (0: all of the map)")
    parser.add_argument("--out", type=Path, default=BOOK, help="folder to build in; the site lands in OUT/_build/html")
    args = parser.parse_args(argv)
    site = build(args.out, args.profile, args.points or None)
    print(f"The book is in {site}; open {site / 'index.html'}.")


if __name__ == "__main__":
    main()
