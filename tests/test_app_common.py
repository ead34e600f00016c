"""The app's shared layer: escaping, URL validation, small corpora on every page."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_common import escape_markdown
from nanomlqa_viz.escaping import markdown_text

ROOT = Path(__file__).resolve().parents[1]


def test_escape_markdown_neutralises_markup_and_links():
    text = "**bold** [link](http://x.invalid) ![img](x) :red[red] <script>a()</script> see https://a.invalid www.b.org"
    out = escape_markdown(text)
    for raw in ("**", "[link]", "![", ":red[", "<script>"):
        assert raw not in out
    assert "://" not in out and "www." not in out, "bare URLs are not autolinked"
    assert out.replace("\\", "").replace("\u2060", "") == text, "nothing but escapes and word joiners is added"
    assert escape_markdown is markdown_text, "pages escape with the package's one markdown helper"


def test_highlighted_passage_keeps_spaces_between_words():
    from app_widgets import highlighted
    from nanomlqa_viz.tokenizer import tokenize

    text = "  indented line with <a href> and **stars**\n  next line"
    out = highlighted(text, frozenset(tokenize("line href stars")))
    assert ":blue[**line**]" in out and ":blue[**href**]" in out, out
    assert "\u00a0" not in out.replace("\u00a0\u00a0indented", "").replace("\u00a0\u00a0next", ""), (
        "only a line's leading blanks become no-break spaces"
    )
    assert out.replace(":blue[**", "").replace("**]", "").replace("\\", "").replace("\u00a0", " ").replace("  \n", "\n") == text


@pytest.mark.parametrize("page", ["app.py", *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))])
def test_every_page_renders_on_a_six_passage_corpus(page, tiny_folder, tmp_path, monkeypatch):
    """Defaults sized for 10,000 passages (rank thresholds, top-k) must not break a tiny corpus."""
    monkeypatch.setenv("NANOMLQA_DATASET", str(tiny_folder))
    monkeypatch.setenv("NANOMLQA_CACHE_DIR", str(tmp_path / "cache"))
    at = AppTest.from_file(str(ROOT / page), default_timeout=180).run()
    if not at.exception:  # the first run may have encoded the dense profile and asked for a rerun
        at.run()
    assert not at.exception, [e.value for e in at.exception]


def test_url_cannot_name_an_unconfigured_source(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NANOMLQA_DATASET", "demo")
    monkeypatch.setenv("NANOMLQA_CACHE_DIR", str(tmp_path))
    AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()  # warm: no dense rerun below
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["dataset"] = "/etc"
    at.query_params["models"] = "/tmp/some/model"
    at.query_params["split"] = "../../etc"
    at.run()
    assert not at.exception
    warnings = " ".join(w.value for w in at.sidebar.warning)
    assert "not a configured source" in warnings and "not a configured one" in warnings
    assert "not one this source declares" in warnings
    assert at.sidebar.selectbox(key="dataset_select").value == "demo"
    assert "/tmp/some/model" not in at.sidebar.multiselect(key="models_select").value
    assert at.sidebar.selectbox(key="split_select").value == "mlqa"
