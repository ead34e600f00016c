"""The Label audit page's frames: verdict counts, the audited queries as read and exported, one query's evidence.

Everything comes from :meth:`nanomlqa_viz.pipeline.View.audit` (the verdicts of
:mod:`nanomlqa_viz.audit`) and the view's registry; nothing here draws. Tables hold plain text
and numbers; the page escapes what it writes as markdown.

- :func:`vote_options` / :func:`default_votes` / :func:`chosen_votes` — which profiles may vote
  (independent ones: BM25, dense models, runs; never a fusion), in registry order.
- :func:`verdict_counts` — every verdict with n, of the audited queries and of all queries.
- :func:`audit_rows` — the table a person reads (question first, in a display copy the data grid
  draws in every script; short ids last) and the same rows and columns for the CSV (raw text, full ids).
- :func:`passage_table`, :func:`evidence_table`, :func:`candidate_relation` — the open query.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence

import pandas as pd

from nanomlqa_viz.audit import AuditParams, Verdict, far_rank
from nanomlqa_viz.display_text import ShortIds, grid_text, short_ids
from nanomlqa_viz.escaping import markdown_text
from nanomlqa_viz.formatting import format_interval, format_rate
from nanomlqa_viz.pipeline import View
from nanomlqa_viz.registry import ProfileKind, ProfileRegistry

VOTE_KINDS = (ProfileKind.SPARSE, ProfileKind.DENSE, ProfileKind.RUN)
DEFAULT_VOTE_KINDS = (ProfileKind.SPARSE, ProfileKind.DENSE)
ALL = "all"
VERDICTS: Mapping[str, Verdict] = {v.name.lower(): v for v in Verdict}
"""URL value (``?verdict=label_wrong``) -> verdict, in display order: "label looks wrong" first."""
DEFAULT_VERDICT = Verdict.LABEL_WRONG.name.lower()
QUESTION_WIDTH_PX = 340


# --------------------------------------------------------------------------- votes


def vote_options(registry: ProfileRegistry) -> list[str]:
    """Profiles that may vote: independent ones (BM25, every dense model) and the user's runs, registry order."""
    return registry.names(*VOTE_KINDS)


def default_votes(registry: ProfileRegistry) -> list[str]:
    """Every BM25 and dense profile of the registry."""
    return registry.names(*DEFAULT_VOTE_KINDS)


def chosen_votes(registry: ProfileRegistry, names: Collection[str]) -> list[str]:
    """``names`` that may vote, in registry order (the order of the audit's rank columns and of its memo key)."""
    return [n for n in vote_options(registry) if n in set(names)]


def vote_label(registry: ProfileRegistry, name: str) -> str:
    """A vote's label as plain text, a run that ranks few queries marked."""
    entry = registry[name]
    return entry.label + (f" · ⚠ {entry.coverage_note}" if entry.partial_coverage else "")


# --------------------------------------------------------------------------- counts and filter


def verdict_option_label(value: str, verdicts: pd.DataFrame) -> str:
    """``label looks wrong (n=5)`` / ``all audited (n=36)``: a filter option as plain text."""
    if value == ALL:
        return f"all audited (n={len(verdicts):,})"
    verdict = VERDICTS[value]
    return f"{verdict.value} (n={int((verdicts['verdict'] == verdict.name).sum()):,})"


def verdict_counts(verdicts: pd.DataFrame, *, n_queries: int) -> pd.DataFrame:
    """One row per verdict (every one, zeros included), then the audited total: n, share of the audited, of all queries."""
    n_audited = len(verdicts)
    rows = []
    for verdict in Verdict:
        n = int((verdicts["verdict"] == verdict.name).sum())
        rows.append(
            {
                "verdict": verdict.value,
                "n": n,
                "of audited": format_rate(n, n_audited),
                "of all queries": format_rate(n, n_queries),
            }
        )
    rows.append({"verdict": "audited", "n": n_audited, "of audited": "", "of all queries": format_rate(n_audited, n_queries)})
    return pd.DataFrame(rows, columns=["verdict", "n", "of audited", "of all queries"])


def filter_verdicts(verdicts: pd.DataFrame, value: str) -> pd.DataFrame:
    """The rows of one verdict (a :data:`VERDICTS` key), or every row for :data:`ALL`; the audit's order kept."""
    if value == ALL:
        return verdicts
    return verdicts[verdicts["verdict"] == VERDICTS[value].name]


# --------------------------------------------------------------------------- display text and short ids

# --------------------------------------------------------------------------- the table of audited queries


def task_short_ids(view: View) -> tuple[ShortIds, ShortIds]:
    """Short query ids and short passage ids over the whole task (the same short id whatever rows are shown)."""
    task = view.task
    return view.cached("audit_short_ids", lambda: (short_ids(task.query_ids), short_ids(task.doc_ids)))


def audit_rows(
    verdicts: pd.DataFrame,
    table: pd.DataFrame,
    *,
    votes: Sequence[str],
    query_ids: ShortIds,
    doc_ids: ShortIds,
    question_width_px: int = QUESTION_WIDTH_PX,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The audited queries as shown, and the same rows and columns for the CSV.

    Columns, in reading order: ``question`` (shown: :func:`grid_text`; CSV: the raw text),
    ``pair`` (query language → positive's language), ``verdict`` (its label), ``confidence``,
    ``candidate`` (copy / translation / parallel / best match), ``candidate_rank`` (its best rank
    in any vote), ``best_rank_<vote>`` (the positive's, last rank of its tie), then the ids:
    ``query`` / ``positive`` / ``candidate_doc`` shown short (``query_ids``, ``doc_ids``),
    ``query_id`` / ``positive_id`` / ``candidate_id`` full in the CSV. The shown frame also carries
    the full ``query_id`` and ``candidate_id`` (last; for row selection, not drawn).
    """
    pairs = dict(zip(table["query_id"], table["pair"]))
    rank_columns = [f"best_rank_{v}" for v in votes]
    body = pd.DataFrame(
        {
            "pair": verdicts["query_id"].map(pairs).fillna(""),
            "verdict": verdicts["verdict_label"],
            "confidence": verdicts["confidence"].astype(float),
            "candidate": verdicts["candidate_kind"],
            "candidate_rank": verdicts["candidate_rank"].astype("Int64"),
            **{c: verdicts[c].astype("Int64") for c in rank_columns},
        },
        index=verdicts.index,
    )
    display = [grid_text(t, width_px=question_width_px) for t in verdicts["query_text"]]
    shown = pd.concat([pd.DataFrame({"question": display}, index=body.index), body], axis=1)
    shown["query"] = [query_ids(q) for q in verdicts["query_id"]]
    shown["positive"] = [doc_ids(d) for d in verdicts["positive_id"]]
    shown["candidate_doc"] = [doc_ids(d) for d in verdicts["candidate_id"]]
    shown["query_id"] = verdicts["query_id"]
    shown["candidate_id"] = verdicts["candidate_id"]
    export = pd.concat([pd.DataFrame({"question": verdicts["query_text"]}, index=body.index), body], axis=1)
    export["query_id"] = verdicts["query_id"]
    export["positive_id"] = verdicts["positive_id"]
    export["candidate_id"] = verdicts["candidate_id"]
    return shown.reset_index(drop=True), export.reset_index(drop=True)


def column_headers(registry: ProfileRegistry, votes: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Column -> (header, help) of :func:`audit_rows`' shown frame in display order: headers plain text, help
    markdown (a run's name escaped)."""
    headers = {
        "question": ("question", "the question, cut to the column (the CSV and the open query have all of it)"),
        "pair": ("pair", "query language → positive's language (detected from the texts)"),
        "verdict": ("verdict", "why no vote ranks the positive in its top 10 (see 'How the verdicts are reached')"),
        "confidence": ("confidence", "strength of the evidence for this verdict, 0.5–1 (0: no dense model to judge with)"),
        "candidate": ("candidate", "a copy, translation or parallel version of the positive, or the question's best match"),
        "candidate_rank": ("cand. rank", "the candidate's best rank in any vote"),
    }
    for vote in votes:
        entry = registry[vote]
        note = f"; ⚠ {entry.coverage_note}, a query it does not rank counts as not found by it" if entry.partial_coverage else ""
        label = markdown_text(entry.label)
        headers[f"best_rank_{vote}"] = (entry.label, f"the positive's rank under {label} (the last rank of its tie){note}")
    headers |= {
        "query": ("query", "query id (common parts left out; full ids in the CSV)"),
        "positive": ("positive", "the dataset's positive"),
        "candidate_doc": ("candidate id", "the passage the audit offers instead"),
    }
    return headers


# --------------------------------------------------------------------------- the open query


def _number(value: object, fmt: str) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, fmt)


def passage_table(view: View, row: Mapping[str, object], *, votes: Sequence[str]) -> pd.DataFrame:
    """The positive and the candidate side by side (plain text): cosine to the question, z in its language, rank per vote.

    Ranks are tie-aware (``"97–9,731"`` where the passage shares its score); a passage a partial
    vote does not list is "not listed".
    """
    task = view.task
    qi = task.query_index[str(row["query_id"])]
    docs = {"dataset's positive": task.doc_index[str(row["positive_id"])], "candidate": task.doc_index[str(row["candidate_id"])]}
    values = {
        "dataset's positive": [_number(row["positive_cosine"], ".3f"), _number(row["positive_z"], "+.2f")],
        "candidate": [_number(row["candidate_cosine"], ".3f"), _number(row["candidate_z"], "+.2f")],
    }
    index = ["cosine to the question", "z in its language"]
    for vote in votes:
        profile = view.registry[vote].profile
        index.append(f"rank · {view.registry[vote].label}")
        for side, doc in docs.items():
            info = profile.rank_info(qi, doc)
            values[side].append(format_interval(info.tie_first, info.tie_last) if profile.listed(qi, doc) else "not listed")
    return pd.DataFrame(values, index=pd.Index(index, name="measure"))


def evidence_table(row: Mapping[str, object], *, params: AuditParams = AuditParams()) -> pd.DataFrame:
    """The verdict's evidence (plain text): name, value, what it says, one line each (the module docstring of
    :mod:`nanomlqa_viz.audit` in short)."""
    specific = float(row["specific_z"]) if not pd.isna(row["specific_z"]) else float("nan")
    lines = [
        ("wrong score", _number(row["wrong_score"], "+.2f"),
         "≥ 0 (and none of the vetoes below) → label looks wrong: best match above the specific z, positive and "
         "topic far below their references"),
        ("question z of the positive", _number(row["positive_z"], "+.2f"),
         f"its cosine to the question in standard deviations over passages of its language; above "
         f"{params.max_positive_z:g} it is never called wrong"),
        ("question z of the candidate", _number(row["candidate_z"], "+.2f"), "the same for the candidate"),
        ("best question z", _number(row["top_z"], "+.2f"),
         f"the best match in the corpus; it must beat the positive by {params.min_margin:g} for a wrong label"),
        ("specific z", _number(specific, ".2f"),
         "sqrt(2 ln n) − 0.6 over the distinct texts: a best match below it does not single out a passage "
         "(question does not identify its passage)"),
        ("topic z", _number(row["topic_z"], "+.2f"),
         "the positive's closest relation (pair z both ways, averaged) to what the votes found — their top "
         f"{params.topic_depth} that match the question: high when they found its article; "
         f"from {params.max_topic_z:g} never wrong"),
        ("version pair z", _number(row["version_pair_z"], "+.2f"),
         f"a parallel version found: its pair z with the positive (from {params.parallel_z:g} both ways)"),
        ("shared terms", str(row["shared_terms"]) or "none",
         "numbers and Latin-script names the question and the positive share; any → never wrong"),
        ("agreeing queries", str(row["agreeing_queries"]) or "none",
         "other queries retrieving the same passages whose positives are versions or on the topic of this one; "
         "any → never wrong"),
        ("far rank", f"> {far_rank(params):,}", "the positive's rank in every vote (outside every vote's top 10)"),
    ]  # fmt: skip
    return pd.DataFrame(lines, columns=["evidence", "value", "what it says"])


def candidate_relation(view: View, row: Mapping[str, object]) -> tuple[str, float] | None:
    """How the candidate relates to the positive — copy / parallel passage / same topic / other — and the
    candidate's similarity z to the positive; ``None`` without a dense model (no embeddings to tell)."""
    explanations = view.analysis().explanations
    if explanations is None:
        return None
    task = view.task
    positive, candidate = task.doc_index[str(row["positive_id"])], task.doc_index[str(row["candidate_id"])]
    return str(explanations.label(candidate, positive)), float(explanations.similarity_z(positive, candidate))


# --------------------------------------------------------------------------- help

CAN_AND_CANNOT = """
Every query whose labelled positive no vote ranks in its top 10 gets one verdict, from the votes'
rankings, the dense model's cosines (standardised within each passage language) and the passages'
embeddings — never from ids. **Label looks wrong**: the positive does not match the question while
another passage clearly does, and nothing links them (no shared number or name, not on the topic of
what the votes found, no other query asking the same agrees with the label). **A parallel passage
or copy ranks first**: a copy, detected translation or parallel version of the positive is in a
vote's top 10 and matches the question — found, under another id. **Question does not identify its
passage**: the best match does not stand out (the question leans on a context it does not name).
**Retriever miss**: a specific question, a plausible label, not found.

What it **cannot** tell: a wrong label on a question that names nothing (it reads as
*underspecified*) from a right one; a swap to another paragraph of the positive's own article (same
topic: it reads as a plausible label). It **misses** an error repeated across the queries that ask
one question (they agree with each other). It is evidence for a person to read, not a correction.
Without a dense model only copies and detected translations can be told; the rest is a retriever miss.
"""


def verdict_rules(params: AuditParams = AuditParams()) -> str:
    """How the verdicts are reached, with the thresholds in ``params`` (markdown, no data in it)."""
    p = params
    return f"""
First match wins. **A parallel passage or copy ranks first** — a copy, detected translation or
parallel version of the positive (pair z ≥ {p.parallel_z:g} both ways, within {p.parallel_slack:g} of each
side's best match in the other's language) is in a vote's top {p.found_depth} with a question z of at
least {p.found_z:g}. **Label looks wrong** — the wrong score is ≥ 0, the best match reaches
sqrt(2 ln n) − {p.wrong_below_max:g} and beats the positive by {p.min_margin:g}, the positive's question
z is at most {p.max_positive_z:g}, its topic z below {p.max_topic_z:g}, no shared terms, no agreeing
queries. **Question does not identify its passage** — the best question z is below the specific z
(sqrt(2 ln n) − {p.specific_below_max:g}, n distinct texts). **Retriever miss** — anything else.

*Question z*: the dense model's question–passage cosine in standard deviations over the distinct
passages of that passage's language (a small multilingual model scores the question's own language
higher; within one language an answering passage stands out). *Pair z*: two passages' cosine in
standard deviations over the first one's cosines to the second one's language. *Wrong score*: (best
question z − specific z) + {p.positive_weight:g} · ({p.wrong_positive_z:g} − positive's question z) +
{p.topic_weight:g} · ({p.wrong_topic_z:g} − topic z). *Confidence*, in [0.5, 1]: the wrong score / 3 for a
wrong label, how far below the specific z for an underspecified question, the pair z above
{p.parallel_z:g} for a parallel version; 1 for copies and detected translations, 0.5 for a retriever
miss. Ranks are the last rank of a tie (a zero BM25 score shared by most passages is not "rank 2").
"""
