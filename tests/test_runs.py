"""User runs (TREC, JSON, parquet, CSV) read into score matrices, checked against ir_measures."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nanomlqa_viz.errors import DatasetError
from nanomlqa_viz.metrics import METRIC_KEYS
from nanomlqa_viz.ranking import RankedProfile, id_order
from nanomlqa_viz.runs import (
    ACCEPTED_FORMATS,
    RunScores,
    load_run,
    parse_run_spec,
    parse_run_specs_env,
    validate_run_name,
)

Rankings = Mapping[str, Sequence[tuple[str, float]]]


def write_trec_run(path: Path, rankings: Rankings, *, tag: str = "x", rank_column=None) -> Path:
    """One ``qid Q0 docid rank score tag`` line per entry, in the given order; rank = position unless given."""
    lines = []
    for qid, ranked in rankings.items():
        for position, (docid, score) in enumerate(ranked, start=1):
            rank = position if rank_column is None else rank_column(position)
            lines.append(f"{qid} Q0 {docid} {rank} {score!r} {tag}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def demo_task(tmp_path_factory):
    from nanomlqa_viz.loader import load_task

    return load_task(source="demo", cache_dir=tmp_path_factory.mktemp("runs_cache"))


@pytest.fixture
def tiny_task(tiny_folder, tmp_path):
    from nanomlqa_viz.loader import load_task

    return load_task(source=str(tiny_folder), cache_dir=tmp_path / "cache")


def random_rankings(task, *, depth: int, seed: int, uncovered: int = 0) -> dict[str, list[tuple[str, float]]]:
    """Distinct scores, best first; the last ``uncovered`` queries are left out; some positives are missed."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[tuple[str, float]]] = {}
    for qid in task.query_ids[: task.n_queries - uncovered]:
        docs = list(rng.choice(task.n_docs, size=depth, replace=False))
        positive = task.doc_index[task.first_positive(qid)]
        if rng.random() < 0.8 and positive not in docs:  # most runs find the positive, somewhere in the list
            docs[int(rng.integers(depth))] = positive
        scores = np.sort(rng.normal(size=depth))[::-1]
        assert len(set(scores.tolist())) == depth  # distinct: no tie-breaking convention is involved
        out[qid] = [(task.doc_ids[d], float(s)) for d, s in zip(docs, scores)]
    return out


def expected_matrix(task, rankings: Rankings) -> np.ndarray:
    m = np.full((task.n_queries, task.n_docs), -np.inf)
    for qid, ranked in rankings.items():
        for docid, score in ranked:
            m[task.query_index[qid], task.doc_index[docid]] = score
    return m


def one_line_error(excinfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message and "Traceback" not in message
    return message


# --------------------------------------------------------------------------- formats


def test_every_scored_format_round_trips_to_the_same_scores(demo_task, tmp_path):
    rankings = random_rankings(demo_task, depth=40, seed=1, uncovered=3)
    expected = expected_matrix(demo_task, rankings)
    rows = [(q, d, s) for q, ranked in rankings.items() for d, s in ranked]
    frame = pd.DataFrame(rows, columns=["query-id", "corpus-id", "score"]).sample(frac=1.0, random_state=0)

    files = {
        "trec": write_trec_run(tmp_path / "run.trec", rankings),
        "json": tmp_path / "run.json",
        "parquet": tmp_path / "run.parquet",
        "csv": tmp_path / "run.csv",
    }
    files["json"].write_text(json.dumps({q: dict(ranked) for q, ranked in rankings.items()}), encoding="utf-8")
    frame.to_parquet(files["parquet"], index=False)
    frame.to_csv(files["csv"], index=False)
    frame.to_csv(tmp_path / "table.tsv", sep="\t", index=False)  # sniffed: a header -> tab-separated table
    write_trec_run(tmp_path / "run.txt", rankings)  # sniffed: six fields -> TREC

    loaded = {fmt: load_run(path, name=f"r-{fmt}", task=demo_task) for fmt, path in files.items()}
    loaded["tsv"] = load_run(tmp_path / "table.tsv", name="r-tsv", task=demo_task)
    loaded["txt"] = load_run(tmp_path / "run.txt", name="r-txt", task=demo_task)
    loaded["upload"] = load_run(files["json"].read_bytes(), name="up", task=demo_task, file_label="mine.json")
    for key, run in loaded.items():
        assert isinstance(run, RunScores)
        np.testing.assert_array_equal(run.scores, expected, err_msg=key)
        assert run.scored and run.n_entries == len(rows) and run.n_kept == len(rows)
        assert run.covered.tolist() == [q in rankings for q in demo_task.query_ids]
        assert run.n_covered == demo_task.n_queries - 3
        assert (run.dropped_unknown_queries, run.dropped_unknown_passages) == (0, 0)
        assert not run.scores.flags.writeable
    assert [loaded[k].format for k in ("trec", "json", "parquet", "csv", "tsv", "txt")] == [
        "trec",
        "json",
        "parquet",
        "csv",
        "csv",
        "trec",
    ]
    assert loaded["upload"].file_label == "mine.json"
    assert loaded["csv"].file_label == "run.csv"


def test_hand_written_csv_with_spaces_after_commas(tiny_task, tmp_path):
    path = tmp_path / "by_hand.csv"
    path.write_text("query-id, corpus-id, score\nq1, d3, 2.5\nq1, d1, -1\nq3, d6, 0\n", encoding="utf-8")
    run = load_run(path, name="by-hand", task=tiny_task)
    assert run.scores[0, tiny_task.doc_index["d3"]] == 2.5 and run.scores[0, tiny_task.doc_index["d1"]] == -1.0
    assert run.covered.tolist() == [True, False, True] and run.n_entries == 3


def test_ranked_list_formats_score_minus_position(demo_task, tmp_path):
    rng = np.random.default_rng(2)
    lists = {
        q: [demo_task.doc_ids[d] for d in rng.choice(demo_task.n_docs, size=25, replace=False)] for q in demo_task.query_ids[:-2]
    }
    table = pd.DataFrame({"query-id": list(lists), "corpus-ids": list(lists.values())})
    table.to_parquet(tmp_path / "lists.parquet", index=False)
    table.to_csv(tmp_path / "python_cells.csv", index=False)  # pandas writes ['d1', 'd2']
    json_cells = table.assign(**{"corpus-ids": [json.dumps(v) for v in lists.values()]})
    json_cells.to_csv(tmp_path / "json_cells.csv", index=False)
    expected = expected_matrix(demo_task, {q: [(d, -float(p)) for p, d in enumerate(ids, 1)] for q, ids in lists.items()})
    for name in ("lists.parquet", "python_cells.csv", "json_cells.csv"):
        run = load_run(tmp_path / name, name="lists", task=demo_task)
        assert not run.scored
        np.testing.assert_array_equal(run.scores, expected, err_msg=name)
        assert run.listed().tolist() == [25 if q in lists else 0 for q in demo_task.query_ids]
        profile = RankedProfile(name="lists", scores=run.scores, id_rank=id_order(demo_task.doc_ids))
        first = demo_task.query_ids[0]
        assert [demo_task.doc_ids[i] for i in profile.top(0, 25)] == lists[first]


def test_trec_orders_by_score_and_ignores_rank_q0_tag_comments_blank_lines(tiny_task, tmp_path):
    text = (
        "# produced by my system\r\n"
        "q1 Q0 d1 1 0.10 a\r\n"  # rank 1 but the lowest score
        "\r\n"
        "q1\tQ0\td3\t2\t0.90\tb\r\n"
        "   \r\n"
        "  q1 ignored d2 3 0.50 c  \r\n"
        "#q1 Q0 d4 4 9.9 commented-out\r\n"
        "q2 Q0 d5 -7 2 d\r\n"
    )
    path = tmp_path / "mine.run"
    path.write_bytes(text.encode("utf-8"))
    run = load_run(path, name="mine", task=tiny_task)
    profile = RankedProfile(name="mine", scores=run.scores, id_rank=id_order(tiny_task.doc_ids))
    assert [tiny_task.doc_ids[i] for i in profile.top(0, 3)] == ["d3", "d2", "d1"]
    assert run.n_entries == 4 and run.covered.tolist() == [True, True, False]
    assert run.scores[0, tiny_task.doc_index["d4"]] == -np.inf
    assert run.scores[1, tiny_task.doc_index["d5"]] == 2.0


def test_unlisted_passages_form_one_tie_block_below_the_list(tiny_task, tmp_path):
    path = write_trec_run(tmp_path / "short.trec", {"q1": [("d2", 3.0), ("d6", 1.0)]})
    run = load_run(path, name="short", task=tiny_task)
    profile = RankedProfile(name="short", scores=run.scores, id_rank=id_order(tiny_task.doc_ids))
    positive = tiny_task.doc_index["d3"]  # q1's positive, not listed
    info = profile.rank_info(0, positive)
    assert (info.tie_first, info.tie_last, info.score) == (3, tiny_task.n_docs, -math.inf)
    assert profile.rank_info(0, tiny_task.doc_index["d6"]).rank == 2


# --------------------------------------------------------------------------- against ir_measures


def test_metrics_agree_with_ir_measures_and_missing_queries_score_zero(demo_task, tmp_path):
    import ir_measures
    from ir_measures import RR, R, Success, nDCG

    from nanomlqa_viz.analysis import profile_query_metrics

    # Up to three positives per query, so recall and nDCG see more than one relevant passage.
    rng = np.random.default_rng(7)
    qrels = {
        q: frozenset(
            {demo_task.first_positive(q), *(demo_task.doc_ids[d] for d in rng.choice(demo_task.n_docs, rng.integers(0, 3)))}
        )
        for q in demo_task.query_ids
    }
    # Depth 150 > every cutoff: an unlisted positive counts as not retrieved on both sides.
    rankings = random_rankings(demo_task, depth=150, seed=3, uncovered=6)
    path = write_trec_run(tmp_path / "mine.trec", rankings, rank_column=lambda p: 1)  # a useless rank column
    run = load_run(path, name="mine", task=demo_task)
    assert run.n_covered == demo_task.n_queries - 6

    profile = RankedProfile(name="mine", scores=run.scores, id_rank=id_order(demo_task.doc_ids))
    ours = profile_query_metrics(demo_task, profile, qrels=qrels)
    ours.loc[~run.covered, :] = 0.0  # a query the run lacks scores 0 (and still counts in n)

    measures = {"ndcg@10": nDCG @ 10, "hit@1": Success @ 1, "hit@10": Success @ 10, "recall@100": R @ 100, "mrr@10": RR @ 10}
    by_measure = {m: k for k, m in measures.items()}
    qrels_list = [ir_measures.Qrel(q, d, 1) for q, docs in qrels.items() for d in docs]
    theirs: dict[str, dict[str, float]] = {}
    for row in ir_measures.iter_calc(list(measures.values()), qrels_list, ir_measures.read_trec_run(str(path))):
        theirs.setdefault(row.query_id, {})[by_measure[row.measure]] = row.value
    # ir_measures gives a query that is missing from the run a row of zeros.
    assert set(theirs) == set(demo_task.query_ids)
    uncovered = [q for q, c in zip(demo_task.query_ids, run.covered) if not c]
    assert all(theirs[q][k] == 0.0 for q in uncovered for k in measures)
    for q in demo_task.query_ids:
        for key in measures:
            assert ours.at[q, key] == pytest.approx(theirs[q][key], abs=1e-12), (q, key)
    assert ours["hit@10"].sum() > 0 and ours["mrr@10"].between(0, 1).all()  # the run does find positives

    aggregate = ir_measures.calc_aggregate(list(measures.values()), qrels_list, ir_measures.read_trec_run(str(path)))
    for key, measure in measures.items():  # the mean is over every query, uncovered ones at 0
        assert ours[key].mean() == pytest.approx(aggregate[measure], abs=1e-12), key
    assert set(METRIC_KEYS) >= set(measures)


# --------------------------------------------------------------------------- bad input


BAD_TREC = [
    ("q1 Q0 d1 1 0.5 t\nq1 Q0 d2 2 0.4 t\nq1 Q0 d3 3 0.3\n", "bad.trec:3", "expected 6 fields"),
    ("q1 Q0 d1 1 0.5 t\nq1 Q0 d2 2 0.4 t extra\n", "bad.trec:2", "found 7"),
    ("q1 Q0 d1 1 0.5 t x\nq1 Q0 d2 2 0.4 t\n", "bad.trec:1", "found 7"),
    ("# header\nq1 Q0 d1 1 high t\n", "bad.trec:2", "score 'high' is not a number"),
    ("q1 Q0 d1 1 0.5 t\nq1 Q0 d2 2.5 0.4 t\n", "bad.trec:2", "rank '2.5' is not an integer"),
    ("q1 Q0 d1 1 0.5 t\n\nq1 Q0 d2 2 nan t\n", "bad.trec:3", "score of passage 'd2' for query 'q1' is NaN"),
    ("q1 Q0 d1 1 0.5 t\nq1 Q0 d2 2 -inf t\n", "bad.trec:2", "score of passage 'd2' for query 'q1' is infinite"),
    ("q1 Q0 d1 1 0.5 t\nq1 Q0 d2 3.0 0.4 t\nq1 Q0 d3 x 0.3 t\n", "bad.trec:3", "rank 'x' is not an integer"),
    (
        "q1 Q0 d1 1 0.5 t\nq2 Q0 d2 1 0.5 t\n# again\nq1 Q0 d1 2 0.4 t\n",
        "bad.trec:4",
        "'d1' is listed twice for query 'q1' (first on line 1)",
    ),
    (
        "q1 Q0 d1 1 0.5 t\nq7 Q0 d2 1 0.5 t\nq8 Q0 d2 1 0.5 t\nq7 Q0 d3 2 0.4 t\n",
        "bad.trec:2",
        "query id 'q7' is not in this task (2 unknown query ids in 3 of 4 entries)",
    ),
    (
        "q1 Q0 d1 1 0.5 t\nq1 Q0 D1 2 0.4 t\n",
        "bad.trec:2",
        "passage id 'D1' (query 'q1') is not in this task (1 unknown passage id in 1 of 2",
    ),
    ("", "bad.trec", "no entries"),
    ("# only a comment\n\n", "bad.trec", "no entries"),
]


BAD_JSON = [
    ('["q1", "q2"]', "bad.json", "must be a JSON object {query id: {passage id: score}}, found a list"),
    ('{"q1": ["d1", "d2"]}', "bad.json", "query 'q1': must be an object {passage id: score}, found a list"),
    ('{"q1": {"d1": 1.0, "d2": "high"}}', "bad.json", "query 'q1': the score of passage 'd2' is a string 'high', not a number"),
    ('{"q1": {"d1": true}}', "bad.json", "not a number"),
    ('{"q1": {"d1": 1.0},\n "q2": {"d2": NaN}}', "bad.json", "score of passage 'd2' for query 'q2' is NaN"),
    ('{"q1": {"d1": 1.0, "d1": 2.0}}', "bad.json", "passage 'd1' is listed twice for query 'q1'"),
    ('{"q1": {"d1": 1.0}, "q1": {"d2": 2.0}}', "bad.json", "query 'q1' appears twice"),
    ('{"q1": {"d1": 1.0},\n "q2": {"d2": 2.0,}}', "bad.json:2", "not valid JSON"),
    ('{"q1": {}, "q2": {}}', "bad.json", "no entries"),
    ('{"q1": {"d1": 1.0}, "nope": {"d1": 1.0}}', "bad.json", "query id 'nope' is not in this task"),
]


BAD_TABLES = [
    ({"qid": ["q1"], "docid": ["d1"], "score": [1.0]}, "needs the columns query-id, corpus-id, score"),
    ({"query-id": ["q1", "q1"], "corpus-id": ["d1", "d2"], "score": [1.0, None]}, "query 'q1': passage 'd2' has no score"),
    (
        {"query-id": ["q1", "q2"], "corpus-id": ["d1", "d2"], "score": [1.0, math.inf]},
        "score of passage 'd2' for query 'q2' is infinite",
    ),
    ({"query-id": ["q1", "q1"], "corpus-id": ["d1", "d1"], "score": [1.0, 0.5]}, "passage 'd1' is listed twice for query 'q1'"),
    ({"query-id": ["q1", "q1"], "corpus-id": ["d1", "d2"], "score": ["a", "b"]}, "column 'score' must be numeric"),
    ({"query-id": ["q1", "q1"], "corpus-ids": [["d1"], ["d2"]]}, "query 'q1' has a second corpus-ids row"),
    ({"query-id": ["q1"], "corpus-ids": [["d1", "d2", "d1"]]}, "passage 'd1' is listed twice for query 'q1'"),
    ({"query-id": ["q1", "q2"], "corpus-ids": [["d1"], ["zz"]]}, "passage id 'zz' (query 'q2') is not in this task"),
]


@pytest.mark.parametrize(("columns", "problem"), BAD_TABLES)
def test_bad_parquet_runs_name_the_query(tiny_task, tmp_path, columns, problem):
    path = tmp_path / "bad.parquet"
    pd.DataFrame(columns).to_parquet(path, index=False)
    with pytest.raises(DatasetError) as excinfo:
        load_run(path, name="bad", task=tiny_task)
    message = one_line_error(excinfo)
    assert excinfo.value.location == "bad.parquet", message
    assert problem in excinfo.value.problem, message


BAD_CSV = [
    ("qid,docid,score\nq1,d1,1\n", "bad.csv", "needs the columns query-id, corpus-id, score (one row per entry)"),
    ("query-id,corpus-id,score\nq1,d1,1\nq1,d2,lots\n", "bad.csv:3", "score 'lots' is not a number"),
    ("query-id,corpus-id,score\nq1,d1,1\nq1,d2,\n", "bad.csv:3", "score '' is not a number"),
    ("query-id,corpus-id,score\nq1,d1,1\n\nq1,d2,2,3\n", "bad.csv:4", "expected 3 fields like the header, found 4"),
    ("query-id,corpus-id,score\nq1,d1,1,9\nq1,d2,2\n", "bad.csv:2", "expected 3 fields like the header, found 4"),
    ("query-id,corpus-id,score\nq1,d1,1\nq1,d1,nan\n", "bad.csv:3", "is NaN"),
    ("query-id,corpus-id,score\nq1,d1,1\n,d2,2\n", "bad.csv:3", "empty query-id"),
    ('query-id,corpus-ids\nq1,"[""d1"", ""d2""]"\nq2,d1 d2\n', "bad.csv:3", "is not a list of ids"),
    ('query-id,corpus-ids\nq1,"[""d1"",\n""d2""]"\nq2,"[""d3"", ""d9""]"\n', "bad.csv:4", "passage id 'd9' (query 'q2')"),
    ("query-id,corpus-id,score\n", "bad.csv", "no entries"),
]


BAD_TEXT_RUNS = [
    *(pytest.param("bad.trec", *case, id=f"trec{i}") for i, case in enumerate(BAD_TREC)),
    *(pytest.param("bad.json", *case, id=f"json{i}") for i, case in enumerate(BAD_JSON)),
    *(pytest.param("bad.csv", *case, id=f"csv{i}") for i, case in enumerate(BAD_CSV)),
]


@pytest.mark.parametrize(("file_name", "content", "location", "problem"), BAD_TEXT_RUNS)
def test_bad_text_runs_give_one_line_with_file_and_line(tiny_task, tmp_path, file_name, content, location, problem):
    path = tmp_path / file_name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DatasetError) as excinfo:
        load_run(path, name="bad", task=tiny_task)
    message = one_line_error(excinfo)
    assert excinfo.value.location == location, message
    assert problem in excinfo.value.problem, message


def test_undecodable_text_names_the_line(tiny_task):
    data = b"q1 Q0 d1 1 0.5 t\nq1 Q0 d2 2 0.4 t\n" + "q2 Q0 d5 1 0.3 é\n".encode("latin-1")
    with pytest.raises(DatasetError) as excinfo:
        load_run(data, name="bad", task=tiny_task, file_label="C:\\Users\\me\\latin.trec")
    assert one_line_error(excinfo) == "latin.trec:3: not UTF-8 text (byte 0xe9); save the run as UTF-8"


def test_unrecognised_content_lists_the_accepted_formats(tiny_task, tmp_path):
    path = tmp_path / "run.dat"
    path.write_text("q1 d1 0.5\n", encoding="utf-8")
    with pytest.raises(DatasetError) as excinfo:
        load_run(path, name="bad", task=tiny_task)
    assert one_line_error(excinfo) == f"run.dat: not a run format this app reads ({ACCEPTED_FORMATS})"


def test_a_file_too_large_for_the_task_is_refused_before_it_is_read(tiny_task, tmp_path, monkeypatch):
    path = tmp_path / "huge.trec"
    with path.open("wb") as f:
        f.truncate(64 * 2**20)  # sparse: 64 MiB, far more than 3 queries x 6 passages can take

    def never(self):
        raise AssertionError("the file was read")

    monkeypatch.setattr(Path, "read_bytes", never)
    with pytest.raises(DatasetError) as excinfo:
        load_run(path, name="huge", task=tiny_task)
    assert "64.0 MiB is too large for a run of this task (3 queries × 6 passages" in one_line_error(excinfo)
    with pytest.raises(DatasetError, match="too large"):
        load_run(bytes(2 * 2**20), name="huge", task=tiny_task, file_label="upload.run")


def test_more_entries_than_query_passage_pairs_is_refused(tiny_task, tmp_path):
    rankings = {f"x{q}": [(f"y{d}", float(-d)) for d in range(7)] for q in range(3)}  # 21 > 3 x 6
    path = write_trec_run(tmp_path / "many.trec", rankings)
    with pytest.raises(DatasetError) as excinfo:
        load_run(path, name="many", task=tiny_task, allow_unknown_ids=True)
    assert one_line_error(excinfo) == "many.trec: 21 entries are more than this task's 3 queries × 6 passages (18 pairs)"


def test_missing_file_is_one_line(tiny_task, tmp_path):
    with pytest.raises(DatasetError) as excinfo:
        load_run(tmp_path / "absent.trec", name="gone", task=tiny_task)
    assert one_line_error(excinfo) == "absent.trec: cannot be read (No such file or directory)"


def test_bytes_need_a_file_label_and_an_empty_upload_is_one_line(tiny_task):
    with pytest.raises(ValueError, match="file_label"):
        load_run(b"q1 Q0 d1 1 1 t\n", name="up", task=tiny_task)
    with pytest.raises(DatasetError) as excinfo:
        load_run(b" \n", name="up", task=tiny_task, file_label="empty.json")
    assert one_line_error(excinfo) == "empty.json: no entries (the file is empty)"


def test_allow_unknown_ids_drops_and_counts(tiny_task, tmp_path):
    rankings = {
        "q1": [("d3", 3.0), ("d99", 2.0), ("d1", 1.0)],
        "q9": [("d1", 5.0), ("d2", 4.0)],  # a query the task lacks
        "q2": [("zz", 1.0)],  # only unknown passages: not covered
    }
    path = write_trec_run(tmp_path / "other.trec", rankings)
    with pytest.raises(DatasetError) as excinfo:
        load_run(path, name="other", task=tiny_task)
    assert excinfo.value.location == "other.trec:4" and "'q9'" in excinfo.value.problem
    run = load_run(path, name="other", task=tiny_task, allow_unknown_ids=True)
    assert (run.n_entries, run.dropped_unknown_queries, run.dropped_unknown_passages, run.n_kept) == (6, 2, 2, 2)
    assert run.covered.tolist() == [True, False, False]
    assert np.isfinite(run.scores).sum() == 2
    assert run.scores[0, tiny_task.doc_index["d3"]] == 3.0 and run.scores[0, tiny_task.doc_index["d1"]] == 1.0


def test_integer_ids_in_parquet_are_read_as_text(tmp_path):
    from conftest import write_hub_folder

    from nanomlqa_viz.loader import load_task

    folder = write_hub_folder(
        tmp_path / "ints",
        {
            "corpus": {"_id": [10, 11, 12], "text": ["a b", "c d", "e f"]},
            "queries": {"_id": [1, 2], "text": ["a", "c"]},
            "qrels": {"query-id": [1, 2], "corpus-id": [10, 11]},
        },
    )
    task = load_task(source=str(folder), cache_dir=tmp_path / "cache")
    pd.DataFrame({"query-id": [2, 1], "corpus-ids": [[11, 12], [12]]}).to_parquet(tmp_path / "ints.parquet", index=False)
    run = load_run(tmp_path / "ints.parquet", name="ints", task=task)
    assert run.scores.tolist() == [[-math.inf, -math.inf, -1.0], [-math.inf, -1.0, -2.0]]


# --------------------------------------------------------------------------- names


def test_run_names():
    assert validate_run_name("my-bm25_v2.1+rm3") == "my-bm25_v2.1+rm3"
    for bad in ("", "-x", "has space", "a/b", "dense:e5", "x" * 41, "naïve"):
        with pytest.raises(DatasetError, match="letters, digits"):
            validate_run_name(bad)
    for taken in ("bm25", "BM25", "hybrid", "dense"):
        with pytest.raises(DatasetError, match="already taken"):
            validate_run_name(taken)
    with pytest.raises(DatasetError, match="already taken"):
        validate_run_name("mine", reserved=("Mine",))


def test_run_specs():
    assert parse_run_spec("mine=runs/a=b.trec") == ("mine", "runs/a=b.trec")
    assert parse_run_specs_env(" a=x.trec, ,b=y.json,") == [("a", "x.trec"), ("b", "y.json")]
    for bad in ("mine", "=x.trec", "mine=", "bm25=x.trec", "bad name=x.trec"):
        with pytest.raises(DatasetError) as excinfo:
            parse_run_spec(bad)
        assert excinfo.value.location == "--run" and "\n" not in str(excinfo.value)
    with pytest.raises(DatasetError) as excinfo:
        parse_run_specs_env("a=x.trec,A=y.trec")
    assert str(excinfo.value) == "NANOMLQA_RUNS: run name 'A' is given twice"
