"""Running app pages under Streamlit's AppTest, shared by the page tests."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def run_page(script: str | Path, /, **params: str) -> AppTest:
    """Run a page (path relative to the repo root, or absolute) with URL parameters (any name, ``script``
    too); no exception allowed.

    The first run on a fresh cache computes the dense profile and reruns; a second run makes sure
    the page is shown with it.
    """
    at = AppTest.from_file(str(ROOT / script), default_timeout=120)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    if any("being computed" in i.value for i in at.info):
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def by_label(widgets, label: str):
    found = [w for w in widgets if w.label == label]
    assert found, f"no widget labelled {label!r}: {[w.label for w in widgets]}"
    return found[0]


def shown_strings(node, key: str = "") -> list[str]:
    """Every string of a figure's JSON that plotly may render (``customdata`` holds raw ids for clicks only)."""
    if key == "customdata":
        return []
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in shown_strings(v, k)]
    if isinstance(node, list):
        return [s for v in node for s in shown_strings(v, key)]
    return [node] if isinstance(node, str) else []
