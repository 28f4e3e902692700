"""A 2-D map of the digits as one self-contained HTML page: hover a point to see its image.

The page is a bokeh scatter with bokeh's JavaScript inlined (``bokeh.resources.INLINE``) and every
thumbnail a data-URL PNG, so it opens from a file or any static server with no network and no kernel.
"""
from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np

from .paths import write_text_atomic

# One colour per digit, matplotlib's tab10 (the colours of the suite's static maps).
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")

TOOLTIP = """
<div class="digit-tooltip">
  <img src="@img" width="84" height="84" alt="digit @label" style="image-rendering: pixelated; border: 1px solid #ccc;">
  <div>label <b>@label</b> &middot; #@index</div>
</div>
"""


def png_data_url(image: np.ndarray) -> str:
    """A 2-D grey image (values in [0, 1], or uint8 0-255) as a ``data:image/png;base64,...`` URL, ink dark on white."""
    from PIL import Image

    image = np.asarray(image)
    grey = image if image.dtype == np.uint8 else np.clip(np.rint(image * 255), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(255 - grey).save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def subsample(n_total: int, n: int | None, seed: int = 0) -> np.ndarray:
    """Sorted indices of a seeded sample of ``n`` of ``n_total`` points (all of them when ``n`` is None or larger)."""
    if n is None or n >= n_total:
        return np.arange(n_total)
    return np.sort(np.random.default_rng(seed).choice(n_total, size=n, replace=False))


def embedding_figure(E, y, images, *, n: int | None = 5000, seed: int = 0, title: str = "t-SNE map"):
    """A bokeh layout: a heading, then the map coloured by label with an image tooltip per point.

    Parameters
    ----------
    E : array (N, 2)
        The 2-D map.
    y : array (N,)
        Labels 0-9.
    images : array (N, 28, 28) or (N, 784)
        The digits, in [0, 1] or uint8.
    n : int or None
        How many points to show, a seeded sample; None shows all N.
    seed : int
        Seed of the sample.
    title : str
        The page's heading.

    Returns
    -------
    bokeh.models.LayoutDOM
        The heading above the map; clicking a legend entry hides that digit.
    """
    from bokeh.layouts import column
    from bokeh.models import ColumnDataSource, Div, HoverTool
    from bokeh.plotting import figure

    E, y, images = np.asarray(E, dtype=float), np.asarray(y).astype(int), np.asarray(images)
    if not (E.ndim == 2 and E.shape[1] == 2 and len(E) == len(y) == len(images)):
        raise ValueError(f"E must be (N, 2) with one label and one image per row; got {E.shape}, {len(y)}, {len(images)}.")
    side = int(round(np.sqrt(images[0].size)))
    keep = subsample(len(E), n, seed)
    shown = f"all {len(E):,}" if len(keep) == len(E) else f"a seeded sample of {len(keep):,} of the {len(E):,}"

    fig = figure(width=900, height=760, match_aspect=True, tools="pan,wheel_zoom,box_zoom,reset,save",
                 active_scroll="wheel_zoom", x_axis_label="t-SNE 1", y_axis_label="t-SNE 2",
                 title=f"{shown} digits, coloured by label", name="map")
    fig.toolbar.logo = None  # a link to bokeh.org: the page links nowhere outside itself
    renderers = []
    for digit in range(10):
        rows = keep[y[keep] == digit]
        source = ColumnDataSource(dict(
            x=E[rows, 0], y=E[rows, 1], label=y[rows], index=rows,
            img=[png_data_url(images[i].reshape(side, side)) for i in rows]))
        renderers.append(fig.scatter("x", "y", source=source, size=5, alpha=0.7, color=PALETTE[digit],
                                     legend_label=str(digit), name=f"digit-{digit}"))
    fig.add_tools(HoverTool(renderers=renderers, tooltips=TOOLTIP))
    fig.legend.click_policy = "hide"
    fig.legend.title = "label (click to hide)"
    fig.add_layout(fig.legend[0], "right")
    heading = Div(text=f"<h1 style='font-family: sans-serif; margin: 0'>{html.escape(title)}</h1>"
                       "<p style='font-family: sans-serif'>Hover over a point to see its digit; scroll to zoom, "
                       "drag to pan, click a label in the legend to hide that digit.</p>")
    return column(heading, fig)


def embedding_page(E, y, images, path: str | Path, *, n: int | None = 5000, seed: int = 0,
                   title: str = "t-SNE map of the MNIST digits") -> Path:
    """Write the map of :func:`embedding_figure` to ``path`` as one self-contained HTML file.

    Bokeh's JavaScript is inlined and the thumbnails are data URLs: the page loads nothing else.

    Parameters
    ----------
    E, y, images, n, seed, title
        As for :func:`embedding_figure`.
    path : str or Path
        The HTML file to write (atomically; its folder is created).

    Returns
    -------
    Path
        ``path``.
    """
    from bokeh.embed import file_html
    from bokeh.resources import INLINE

    page = file_html(embedding_figure(E, y, images, n=n, seed=seed, title=title), resources=INLINE, title=title)
    # An empty icon, so that a browser does not ask the server for /favicon.ico.
    page = page.replace("<head>", '<head>\n    <link rel="icon" href="data:,">', 1)
    path = write_text_atomic(path, page)
    path.chmod(0o644)  # a web page, readable by a server running as another user
    return path
