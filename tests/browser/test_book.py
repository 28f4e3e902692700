"""The book in a real browser: built in quick form, served on localhost, every page opened in headless chromium.

Each page must load with no console error, show every image, link only to pages and anchors that
exist, and request nothing from outside 127.0.0.1; the standalone t-SNE explorer must show a digit
when the mouse is over a point. Screenshots go to tests/browser/artefacts/ (git ignores it).

Needs Debian's chromium (``apt-get install -y chromium``; CI installs it) and Playwright for Python,
which drives that browser: ``playwright install`` is never needed. ``MNIST_EXPLORE_BROWSER_TESTS=0``
skips these tests.
"""
from __future__ import annotations

import functools
import html.parser
import http.server
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
ARTEFACTS = Path(__file__).resolve().parent / "artefacts"
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
# Every page of the site: the toc's, Sphinx's own, and the standalone explorer.
PAGES = (["index.html", "intro.html"] + [f"notebooks/{name}.html" for name in NOTEBOOKS]
         + ["explore_tsne.html", "running.html", "genindex.html", "search.html", "explorer/tsne.html"])
NOT_PAGES = ("_static", "_sources", "_images", "mathjax3")  # folders of assets, not pages


@pytest.fixture(scope="module")
def site(chromium, tmp_path_factory) -> Path:
    """The book built in quick form (the explorer from the quick profile's 2,000 digits) in a temporary folder."""
    out = tmp_path_factory.mktemp("book")
    start = time.perf_counter()
    built = subprocess.run([sys.executable, str(BOOK / "build.py"), "--profile", "quick", "--points", "0",
                            "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert built.returncode == 0, f"the book did not build:\n{built.stdout[-5000:]}\n{built.stderr[-5000:]}"
    print(f"book built in {time.perf_counter() - start:.1f} s")
    return out / "_build" / "html"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


@pytest.fixture(scope="module")
def server(site):
    """The site served by http.server on a free localhost port; yields its base URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


class Visit:
    """One page opened in a fresh browser context, with everything that went wrong on the way recorded."""

    def __init__(self, browser, base: str):
        self.base = base
        self.errors: list[str] = []
        self.external: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.errors.append(f"failed: {r.url} ({r.failure})"))
        self.page.on("response", lambda r: self.errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)

    def _route(self, route):
        """Let requests to the local server through; refuse, and record, any other."""
        url = route.request.url
        if url.startswith(self.base) or url.startswith("data:"):
            route.continue_()
        else:
            self.external.append(url)
            route.abort()

    def open(self, path: str):
        self.page.goto(self.base + path, wait_until="networkidle")
        return self.page

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, server):
    visit = Visit(browser, server)
    yield visit
    visit.close()


class _Ids(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.ids.update(value for name, value in attrs if name in ("id", "name") and value)


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # localhost, whatever http_proxy says


@functools.lru_cache(maxsize=None)
def _fetch(url: str) -> tuple[int, str]:
    """HTTP status and text of a local URL (cached: many pages link to the same ones)."""
    try:
        with _NO_PROXY.open(url, timeout=30) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, ""


def _broken_links(hrefs: list[str], base: str) -> list[str]:
    """The local links among ``hrefs`` (absolute URLs) whose page is not there, or whose #anchor is not on it."""
    broken = []
    for href in sorted(set(hrefs)):
        if not href.startswith(base):
            continue
        url, fragment = urldefrag(href)
        status, text = _fetch(url)
        if status != 200:
            broken.append(f"{href} (HTTP {status})")
        elif fragment and urlsplit(url).path.endswith(".html"):
            ids = _Ids()
            ids.feed(text)
            if fragment not in ids.ids:
                broken.append(f"{href} (no #{fragment} on that page)")
    return broken


def _screenshot(page, path: str) -> Path:
    target = ARTEFACTS / (path.replace("/", "__").removesuffix(".html") + ".png")
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target))
    return target


def test_the_site_has_every_page(site):
    """The pages the tests visit are all the site has: an introduction, each walkthrough, the explorer, how to run."""
    built = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                   if not set(p.relative_to(site).parts) & set(NOT_PAGES))
    assert built == sorted(PAGES)
    assert len(NOTEBOOKS) >= 11


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_cleanly(path, visit):
    """No console error, every image drawn, every local link and anchor resolves, nothing from the internet."""
    page = visit.open(path)
    page.wait_for_function("() => Array.from(document.images).every(img => img.complete)", timeout=30_000)
    unloaded = page.evaluate("() => Array.from(document.images)"
                             ".filter(img => !(img.naturalWidth > 0)).map(img => img.src.slice(0, 120))")
    hrefs = page.evaluate("() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
    _screenshot(page, path)
    assert visit.errors == [], f"{path}: {visit.errors}"
    assert visit.external == [], f"{path} asked the internet for {visit.external}"
    assert unloaded == [], f"{path}: images that did not load: {unloaded}"
    assert _broken_links(hrefs, visit.base) == [], f"{path}: broken links"


def test_the_walkthroughs_are_in_order(visit):
    """The sidebar lists the eleven walkthroughs in order, with the explorer after notebook 02."""
    page = visit.open("intro.html")
    links = page.evaluate("() => Array.from(document.querySelectorAll('nav.bd-docs-nav a.reference'))"
                          ".map(a => a.getAttribute('href'))")
    chapters = [link.removesuffix(".html") for link in links if link.startswith("notebooks/")]
    assert chapters == [f"notebooks/{name}" for name in NOTEBOOKS]
    assert links.index("explore_tsne.html") == links.index(f"notebooks/{NOTEBOOKS[1]}.html") + 1
    assert links[-1] == "running.html"


def test_walkthroughs_show_their_outputs(visit):
    """Stored outputs are on the pages: figures, an inline GIF, and math typeset by the vendored MathJax."""
    page = visit.open(f"notebooks/{NOTEBOOKS[4]}.html")  # 05: the weight histograms through training
    gifs = page.evaluate("() => Array.from(document.images).filter(i => i.src.endsWith('.gif') && i.naturalWidth > 0).length")
    assert gifs >= 1
    page = visit.open(f"notebooks/{NOTEBOOKS[9]}.html")  # 10: the backward pass, in equations
    page.wait_for_selector("mjx-container", timeout=30_000)
    assert page.locator("mjx-container").count() >= 5
    assert page.locator(".cell_output img").count() >= 3


def test_the_intro_links_to_the_explorer(visit):
    page = visit.open("explore_tsne.html")
    page.click("text=Open the t-SNE explorer")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/explorer/tsne.html")
    assert visit.errors == [] and visit.external == []


# Where point ``i`` of a renderer is drawn, in page pixels: bokeh's own data-to-screen scales.
_POINT_ON_SCREEN = """([name, i]) => {
  const views = [...Bokeh.index.all_views()];
  const plot = views.find(v => v.model.name === 'map');
  const glyph = views.find(v => v.model.name === name);
  const data = glyph.model.data_source.data;
  const box = plot.canvas_view.el.getBoundingClientRect();
  return {x: box.left + plot.frame.x_scale.compute(data.x[i]), y: box.top + plot.frame.y_scale.compute(data.y[i]),
          label: Number(data.label[i]), index: Number(data.index[i]), n: data.x.length};
}"""


def test_the_explorer_shows_a_digit_on_hover(visit):
    """Hovering a point shows a tooltip with the digit's image and its label; moving away hides it."""
    page = visit.open("explorer/tsne.html")
    page.wait_for_function("() => window.Bokeh && Bokeh.index && [...Bokeh.index.all_views()].length > 0")
    total = sum(page.evaluate(_POINT_ON_SCREEN, [f"digit-{d}", 0])["n"] for d in range(10))
    assert total == 2000  # the quick profile's map, every point
    tooltip = page.locator(".digit-tooltip").filter(has=page.locator("img"))
    latencies = []
    for digit in (3, 7):
        point = page.evaluate(_POINT_ON_SCREEN, [f"digit-{digit}", 5])
        page.mouse.move(10, 10)
        start = time.perf_counter()
        page.mouse.move(point["x"], point["y"])
        tooltip.first.wait_for(state="visible", timeout=5_000)
        latencies.append(time.perf_counter() - start)
        texts = tooltip.all_inner_texts()
        assert any(f"label {digit}" in text and f"#{point['index']}" in text for text in texts), texts
        widths = tooltip.locator("img").evaluate_all("imgs => imgs.map(i => i.naturalWidth)")
        assert widths and all(w == 28 for w in widths)
    _screenshot(page, "explorer/tsne-hover.html")
    print(f"hover to tooltip: {', '.join(f'{1000 * s:.0f} ms' for s in latencies)}")
    page.mouse.move(5, 5)
    tooltip.first.wait_for(state="hidden", timeout=5_000)
    assert visit.errors == [] and visit.external == []


class _Loads(html.parser.HTMLParser):
    """The URLs a page would load by itself: scripts, stylesheets, icons, images, frames, media."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "audio", "video", "embed", "track", "input"):
            self.urls.append(attrs.get("src") or "")
        elif tag == "link":
            self.urls.append(attrs.get("href") or "")
        elif tag == "object":
            self.urls.append(attrs.get("data") or "")
        self.urls.extend(re.findall(r"url\(\s*['\"]?([^'\")]+)", attrs.get("style") or ""))


def test_no_page_loads_anything_from_the_internet(site):
    """No page, and no stylesheet, names an http(s) URL to load (scripts, stylesheets, fonts, images)."""
    offenders = []
    for path in sorted(site.rglob("*.html")):
        if "mathjax3" in path.relative_to(site).parts:
            continue
        parser = _Loads()
        parser.feed(path.read_text(encoding="utf-8"))
        text = path.read_text(encoding="utf-8")
        urls = parser.urls + re.findall(r"@import\s+(?:url\()?['\"]?(https?://[^'\")\s]+)", text)
        offenders += [f"{path.relative_to(site)}: {url}" for url in urls if re.match(r"\s*(https?:)?//", url)]
    for path in sorted(site.rglob("*.css")):
        urls = re.findall(r"(?:url\(\s*['\"]?|@import\s+['\"])((?:https?:)?//[^'\")\s]+)", path.read_text(encoding="utf-8"))
        offenders += [f"{path.relative_to(site)}: {url}" for url in urls]
    assert offenders == []
