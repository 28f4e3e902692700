"""The explorers in JupyterLab, driven by a real browser.

JupyterLab starts on a free localhost port with a token, over copies of the notebooks (their outputs
cleared, so nothing committed is touched); each test opens a notebook in a fresh workspace, runs it
top to bottom in quick mode, and uses its explorer as a person would: hovering, lassoing, drawing,
dragging a slider, clicking. Screenshots of each explorer go to tests/browser/artefacts/explore-*.png.
"""
from __future__ import annotations

import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = Path(__file__).resolve().parent / "artefacts"
NOTEBOOKS = {"embedding": "02_embeddings", "confusion": "03_model_search", "weights": "05_weight_distributions",
             "gradients": "06_gradient_flow", "draw": "07_hidden_layers"}
IDLE = ".jp-Notebook-ExecutionIndicator[data-status='idle']"
# Every code cell has run (a number in its prompt, none waiting with "*"), and the kernel is idle.
ALL_RUN = """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].every(e => /\\[\\d+\\]/.test(e.innerText))
             && document.querySelector(".jp-Notebook-ExecutionIndicator[data-status='idle']") !== null"""
RUN_TIMEOUT_MS = 600_000  # a notebook's quick run, on a busy 2-core machine
LATENCY_NOTEBOOK = "hover_latency.ipynb"
# The explorer over every one of the 70,000 digits, on their first two principal components.
LATENCY_SOURCE = """\
from mnist_explore import data, embed, explore

X, y, n_train = embed.all_digits(data.load_mnist())
explore.embedding_explorer(embed.pca(X).transform(X, 2), X, y, n_train, title=f"{len(X):,} digits")"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _copy_without_outputs(source: Path, target: Path) -> None:
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(nb, target)


@pytest.fixture(scope="module")
def lab(chromium, tmp_path_factory):
    """JupyterLab over copies of the explorers' notebooks; yields (base URL, token)."""
    folder = tmp_path_factory.mktemp("lab")
    for name in NOTEBOOKS.values():
        _copy_without_outputs(ROOT / "notebooks" / f"{name}.ipynb", folder / f"{name}.ipynb")
    latency = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(LATENCY_SOURCE)])
    latency.metadata = nbformat.read(ROOT / "notebooks" / f"{NOTEBOOKS['embedding']}.ipynb", as_version=4).metadata
    nbformat.write(latency, folder / LATENCY_NOTEBOOK)
    settings = tmp_path_factory.mktemp("lab-settings")
    news = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))  # no toast, no network
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))  # every cell stays in the page, scrolled away or not
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, MNIST_EXPLORE_QUICK="1", JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path_factory.mktemp("lab-workspaces")))
    env.pop("MNIST_EXPLORE_INTERACTIVE", None)
    log = open(folder / "lab.log", "w")
    server = subprocess.Popen([str(Path(sys.executable).with_name("jupyter")), "lab", "--no-browser", "--allow-root",
                               "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}",
                               f"--ServerApp.root_dir={folder}"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{(folder / 'lab.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture
def page(browser, lab):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def run_notebook(page, lab, name: str, ready: str):
    """Open ``name`` in a fresh workspace, run all its cells, and wait until ``ready`` (a selector) is visible."""
    base, token = lab
    page.goto(f"{base}/lab/workspaces/t{secrets.token_hex(6)}/tree/{name}?reset&token={token}")
    page.wait_for_selector(".jp-Notebook", timeout=120_000)
    page.wait_for_selector(IDLE, state="attached", timeout=120_000)  # the kernel has started
    if page.locator(".jp-Dialog >> text=Select Kernel").count():  # a notebook that names no kernel asks
        page.click(".jp-Dialog button:has-text('Select')")
    page.click(".lm-MenuBar-itemLabel:text-is('Run')")
    page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
    page.wait_for_function(ALL_RUN, timeout=RUN_TIMEOUT_MS)  # the last cell has run
    found = page.locator(ready).first
    if found.count() == 0:
        errors = page.locator("[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()
        shoot(page, f"failed-{Path(name).stem}")
        pytest.fail(f"{name} ran but shows no {ready}; its error outputs: {errors[-3:]}")
    found.scroll_into_view_if_needed()
    found.wait_for(state="visible", timeout=30_000)
    tracebacks = [t for t in page.locator("[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()
                  if "Error" in t or "Traceback" in t]
    assert not tracebacks, f"{name} raised: {tracebacks[0][-2000:]}"


def shoot(element, name: str) -> None:
    """A screenshot of an element (or of a whole page) in tests/browser/artefacts/explore-<name>.png."""
    ARTEFACTS.mkdir(exist_ok=True)
    if hasattr(element, "scroll_into_view_if_needed"):
        element.scroll_into_view_if_needed()
    element.screenshot(path=str(ARTEFACTS / f"explore-{name}.png"))


def find_point(page, explorer, hover_text, tries: int = 400):
    """Sweep the mouse over the map until the hover panel shows a digit; returns the (x, y) that did it."""
    box = explorer.locator("canvas").first.bounding_box()
    steps = 20
    for k in range(tries):
        i, j = divmod(k % (steps * steps), steps)
        x, y = box["x"] + box["width"] * (0.2 + 0.6 * j / steps), box["y"] + box["height"] * (0.2 + 0.6 * i / steps)
        page.mouse.move(x, y)
        page.wait_for_timeout(40)
        if "label" in hover_text.inner_text():
            return x, y
    pytest.fail("no point of the map showed its digit under the mouse")


def test_embedding_explorer_hover_and_lasso(page, lab):
    run_notebook(page, lab, f"{NOTEBOOKS['embedding']}.ipynb", ".mnist-embedding-explorer canvas")
    explorer = page.locator(".mnist-embedding-explorer")
    explorer.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    hover_text = explorer.locator(".mnist-hovered-text")
    image = explorer.locator("img.mnist-hovered")
    blank = image.get_attribute("src")
    find_point(page, explorer, hover_text)
    page.wait_for_function("([img, old]) => img.src !== old", arg=[image.element_handle(), blank])
    assert "label" in hover_text.inner_text()

    assert "Nothing selected" in explorer.inner_text()
    explorer.locator("button[title='Activate lasso selection']").click()
    box = explorer.locator("canvas").first.bounding_box()
    cx, cy, r = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, min(box["width"], box["height"]) / 4
    corners = [(cx - r, cy - r), (cx + r, cy - r), (cx + r, cy + r), (cx - r, cy + r), (cx - r, cy - r)]
    page.wait_for_timeout(500)
    page.mouse.move(*corners[0])
    page.mouse.down()
    page.wait_for_timeout(200)
    for (x0, y0), (x1, y1) in zip(corners, corners[1:]):
        for t in range(1, 21):  # small, spaced moves: the lasso records a point every few pixels and milliseconds
            page.mouse.move(x0 + (x1 - x0) * t / 20, y0 + (y1 - y0) * t / 20)
            page.wait_for_timeout(15)
    page.mouse.up()
    page.wait_for_selector(".mnist-embedding-explorer >> text=/digits selected/", timeout=30_000)
    selected = int(explorer.locator("text=/digits selected/").inner_text().split()[0].replace(",", ""))
    assert selected >= 1  # headless chromium's drag reaches the map as a click: one digit is selected
    assert explorer.locator("img.mnist-selection").is_visible()  # the grid of the selected digits
    explorer.locator("button:text-is('misclassified')").click()
    page.wait_for_timeout(500)
    shoot(explorer, "embedding")
    assert not page.errors, page.errors


def test_hover_latency_at_70000_points(page, lab, capsys):
    """From the mouse reaching a point to its digit showing beside the map, with all 70,000 digits."""
    run_notebook(page, lab, LATENCY_NOTEBOOK, ".mnist-embedding-explorer canvas")
    explorer = page.locator(".mnist-embedding-explorer")
    assert "70,000 digits" in explorer.inner_text()
    explorer.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    hover_text = explorer.locator(".mnist-hovered-text")
    first = find_point(page, explorer, hover_text)

    def settled_text(x, y) -> str:
        page.mouse.move(x, y)
        page.wait_for_timeout(600)  # let every late update arrive
        return hover_text.inner_text()

    shown = {first: settled_text(*first)}
    for dx in range(4, 200, 4):  # a second point, showing another digit
        point = (first[0] + dx, first[1])
        text = settled_text(*point) if dx % 8 == 0 else ""
        if text and text != shown[first] and "label" in text:
            shown[point] = text
            break
    assert len(shown) == 2, "no second point found next to the first"
    latencies = []
    for k in range(12):
        target = list(shown)[k % 2]
        start = time.perf_counter()
        page.mouse.move(*target)
        page.wait_for_function("([el, want]) => el.innerText === want", arg=[hover_text.element_handle(), shown[target]],
                               polling="raf", timeout=10_000)
        latencies.append(1000 * (time.perf_counter() - start))
        page.wait_for_timeout(300)
    median = statistics.median(latencies)
    ARTEFACTS.mkdir(exist_ok=True)
    (ARTEFACTS / "hover-latency.json").write_text(json.dumps(
        {"points": 70000, "median_ms": median, "samples_ms": latencies}, indent=1))
    with capsys.disabled():
        print(f"\nhover-to-digit latency at 70,000 points: median {median:.0f} ms, "
              f"range {min(latencies):.0f}-{max(latencies):.0f} ms over {len(latencies)} hovers")
    shoot(explorer, "embedding-70000")
    assert not page.errors, page.errors


def probabilities(explorer) -> list[float]:
    return [float(p) for p in explorer.locator(".mnist-prob").evaluate_all("els => els.map(e => e.dataset.p)")]


def stroke(page, box, points):
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=12)
    page.mouse.up()


def test_draw_a_digit_changes_the_probabilities(page, lab):
    run_notebook(page, lab, f"{NOTEBOOKS['draw']}.ipynb", ".mnist-draw-digit canvas")
    explorer = page.locator(".mnist-draw-digit")
    explorer.scroll_into_view_if_needed()
    assert "Draw a digit" in explorer.inner_text()
    box = explorer.locator("canvas").last.bounding_box()
    stroke(page, box, [(140, 40), (140, 240)])  # a one
    page.wait_for_selector(".mnist-draw-digit .mnist-prob", timeout=30_000)
    one = probabilities(explorer)
    assert len(one) == 10 and abs(sum(one) - 1) < 0.01
    stroke(page, box, [(60, 40), (200, 40)])  # a bar across the top: now a seven
    page.wait_for_function("([el, old]) => el.innerText !== old",
                           arg=[explorer.locator(".mnist-probs").element_handle(), explorer.locator(".mnist-probs").inner_text()],
                           timeout=30_000)
    seven = probabilities(explorer)
    assert seven != one
    assert explorer.locator("img.mnist-draw-pictures").is_visible()  # the digit as MNIST, saliency, neighbours
    shoot(explorer, "draw")
    explorer.locator("button:has-text('clear')").click()
    page.wait_for_selector(".mnist-draw-digit >> text=Draw a digit", timeout=10_000)
    assert not page.errors, page.errors


@pytest.mark.parametrize("which", ["weights", "gradients"])
def test_scrubber_slider_changes_the_histogram(page, lab, which):
    run_notebook(page, lab, f"{NOTEBOOKS[which]}.ipynb", ".mnist-training-scrubber img.mnist-histogram")
    scrubber = page.locator(".mnist-training-scrubber").first
    scrubber.scroll_into_view_if_needed()
    image = scrubber.locator("img.mnist-histogram")
    before, stats = image.get_attribute("src"), scrubber.locator(".mnist-frame-stats").inner_text()
    handle = scrubber.locator(".noUi-handle").first
    handle.click()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("([img, old]) => img.src !== old", arg=[image.element_handle(), before], timeout=30_000)
    page.wait_for_function("old => document.querySelector('.mnist-training-scrubber .mnist-frame-stats').innerText"
                           " !== old", arg=stats, timeout=30_000)  # the stats are redrawn after the image
    assert "frame 1 of" not in scrubber.inner_text()
    shoot(scrubber, f"scrubber-{which}")
    assert not page.errors, page.errors


def test_confusion_cell_shows_its_digits(page, lab):
    run_notebook(page, lab, f"{NOTEBOOKS['confusion']}.ipynb", ".mnist-confusion-explorer")
    explorer = page.locator(".mnist-confusion-explorer")
    explorer.scroll_into_view_if_needed()
    counts = {cls: int(text) for cls, text in explorer.locator("button[class*='mnist-cell-']").evaluate_all(
        "els => els.map(e => [[...e.classList].find(c => c.startsWith('mnist-cell-')), e.innerText])")}
    off_diagonal = {cls: n for cls, n in counts.items() if cls.split("-")[2] != cls.split("-")[3]}
    worst = max(off_diagonal, key=off_diagonal.get)
    assert off_diagonal[worst] > 0
    explorer.locator(f"button.{worst}").click()
    true, predicted = worst.split("-")[2:]
    page.wait_for_selector(f".mnist-confusion-explorer >> text=/of class {true} read as {predicted}/", timeout=30_000)
    explorer.locator("img.mnist-cell-digits").wait_for(state="visible", timeout=30_000)
    shoot(explorer, "confusion")
    assert not page.errors, page.errors
