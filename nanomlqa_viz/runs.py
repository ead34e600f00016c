"""A user's own retrieval run (rankings made elsewhere), read into a score matrix of a loaded task.

Accepted formats (chosen by the file name's extension; ``.txt``, ``.tsv``, any other extension
and none are recognised from the content):

- **TREC run** (``.trec``, ``.run``): ``qid Q0 docid rank score tag``, six fields separated by
  spaces or tabs, one entry per line; blank lines and lines starting with ``#`` are skipped.
  As in trec_eval, passages are ordered by ``score`` (higher is better); the ``rank`` column must
  hold an integer (``3.0`` passes) but is otherwise ignored, and so are ``Q0`` and ``tag``.
- **JSON** (``.json``): ``{query id: {passage id: score}}``, as ranx and ir_measures write it.
- **Parquet** (``.parquet``) or **CSV** (``.csv``; ``.tsv`` when tab-separated) with a header and
  the columns ``query-id``, ``corpus-id``, ``score`` (one row per entry), or ``query-id`` and a
  ``corpus-ids`` list like the dataset's own candidate configs (one row per query, best first,
  no scores). A CSV list cell is a JSON list (``["d1", "d2"]``) or the Python list literal that
  ``pandas.DataFrame.to_csv`` writes (``['d1', 'd2']``); ``[]`` is a query with no passages.
  Spaces after a delimiter and other columns are ignored. Ids may be strings or integers
  (integers are read as their decimal text, as the loader does).

Scores: a ranked-list run (``corpus-ids``) gets ``score = -position`` (1-based), so that its order
is its rank. Every passage a run does not list for a query scores ``-inf``: it ranks below every
listed passage, all of them in one tie block. A query with no entry for any of the task's
passages is *not covered* (``covered`` is False, its row all ``-inf``): the pipeline scores it 0 on
every metric and still counts it in *n*. ir_measures does the same: a query of the qrels that the
run lacks gets a per-query row of 0 and counts in the mean.

Ties: passages with equal scores are ordered as everywhere in the app (see
:mod:`nanomlqa_viz.ranking`): by corpus id ascending, each rank carrying its tie interval (the
first and last rank it could hold), and the pipeline reports tie-aware expected metrics over such
intervals. trec_eval breaks ties by docno *descending*, so a run with tied scores can score
differently there; with distinct scores the metrics agree exactly (tested against ir_measures).
The ``-inf`` block of unlisted passages is such a tie interval too: a positive the run does not
list for a covered query ranks somewhere after the last listed passage. trec_eval counts it as not
retrieved; the two agree at every cutoff up to the run's depth (a run of 100 or more passages per
query agrees on every metric the app shows), whereas for a shorter run the tie interval reaches
into the cutoff and a tie-aware metric credits the positive its share of the block.

Bad input raises one :class:`~nanomlqa_viz.errors.DatasetError` naming the file (with the line
for TREC and CSV, the query for JSON and parquet) and the problem, e.g.
``run.trec:7: expected 6 fields 'qid Q0 docid rank score tag', found 5``. Ids that the task does
not have are refused (first id and how many) unless ``allow_unknown_ids``, which drops and counts
them. A file larger than a complete run of the task could be is refused before it is read.
"""

from __future__ import annotations

import ast
import csv
import io
import itertools
import json
import math
import os
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nanomlqa_viz.errors import DatasetError
from nanomlqa_viz.loader import id_lists_column
from nanomlqa_viz.task import Task

FORMATS: tuple[str, ...] = ("trec", "json", "parquet", "csv")
ACCEPTED_FORMATS = (
    "accepted: a TREC run 'qid Q0 docid rank score tag' (.trec, .run, .txt), "
    "JSON {query id: {passage id: score}} (.json), "
    "parquet or CSV with columns query-id, corpus-id, score or query-id, corpus-ids (.parquet, .csv, .tsv)"
)
RESERVED_RUN_NAMES: tuple[str, ...] = ("bm25", "dense", "hybrid")
RESERVED_RUN_PREFIXES: tuple[str, ...] = ("reference/", "dense:")
RUNS_ENV = "NANOMLQA_RUNS"

_RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,39}")
_BY_EXTENSION = {".trec": "trec", ".run": "trec", ".json": "json", ".parquet": "parquet", ".csv": "csv"}
_TREC_FIELDS = 6
# A generous upper bound on the bytes of one entry beyond its two ids (Q0, rank, score, tag, spaces).
_ENTRY_OVERHEAD_BYTES = 256
_SLACK_BYTES = 1 << 20
_COMMENT_LINE = re.compile(r"^[ \t]*#[^\n]*", re.MULTILINE)
_FIRST_ENTRY_LINE = re.compile(r"^[ \t]*[^ \t\n][^\n]*", re.MULTILINE)
_FIELD_SEPARATOR = re.compile(r"[ \t]+")
_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:nan|inf|infinity)", re.IGNORECASE)


@dataclass(frozen=True, eq=False)
class RunScores:
    """A loaded run as a full score matrix over the task's queries and passages."""

    name: str
    file_label: str  # the file name as shown to users (never a full path)
    format: str  # one of FORMATS
    scored: bool  # False for corpus-ids lists (rank order only)
    scores: np.ndarray  # (n_queries, n_docs) float64; -inf where the run does not list the passage
    covered: np.ndarray  # (n_queries,) bool: the run ranks at least one of the task's passages for this query
    n_entries: int  # entries read from the file, dropped ones included
    dropped_unknown_queries: int  # entries whose query id the task does not have
    dropped_unknown_passages: int  # entries of a known query whose passage id the task does not have

    def __post_init__(self) -> None:
        self.scores.flags.writeable = False
        self.covered.flags.writeable = False

    @property
    def n_kept(self) -> int:
        return self.n_entries - self.dropped_unknown_queries - self.dropped_unknown_passages

    @property
    def n_covered(self) -> int:
        return int(np.count_nonzero(self.covered))

    def listed(self) -> np.ndarray:
        """(n_queries,) how many passages the run lists for each query (its depth)."""
        return np.count_nonzero(np.isfinite(self.scores), axis=1)


# --------------------------------------------------------------------------- names and specs


def validate_run_name(name: str, *, reserved: Collection[str] = ()) -> str:
    """``name`` if it is a short, safe run name that no built-in profile (or ``reserved``) uses."""
    if not isinstance(name, str) or not _RUN_NAME.fullmatch(name):
        raise DatasetError(
            f"run name {_quote(str(name))}",
            "use 1-40 letters, digits and _ . + - starting with a letter or digit",
        )
    taken = {r.casefold() for r in (*RESERVED_RUN_NAMES, *reserved)}
    if name.casefold() in taken or name.casefold().startswith(RESERVED_RUN_PREFIXES):
        raise DatasetError(f"run name {_quote(name)}", "is already taken by a profile; choose another name")
    return name


def parse_run_spec(spec: str, *, where: str = "--run") -> tuple[str, str]:
    """``NAME=PATH`` (from ``--run`` or ``$NANOMLQA_RUNS``) as ``(name, path)``."""
    name, sep, path = spec.partition("=")
    name, path = name.strip(), path.strip()
    if not sep or not name or not path:
        raise DatasetError(where, f"{_quote(spec)} is not NAME=PATH (e.g. mybm25=runs/bm25.trec)")
    try:
        validate_run_name(name)
    except DatasetError as exc:
        raise DatasetError(where, f"{_quote(spec)}: {exc.location} {exc.problem}") from None
    return name, path


def parse_run_specs_env(value: str) -> list[tuple[str, str]]:
    """``NAME=PATH,NAME=PATH`` (``$NANOMLQA_RUNS``; a path cannot contain a comma); empty items are skipped."""
    specs = [parse_run_spec(item, where=RUNS_ENV) for item in value.split(",") if item.strip()]
    seen: set[str] = set()
    for name, _ in specs:
        if name.casefold() in seen:
            raise DatasetError(RUNS_ENV, f"run name {_quote(name)} is given twice")
        seen.add(name.casefold())
    return specs


# --------------------------------------------------------------------------- loading


def load_run(
    source: str | os.PathLike[str] | bytes,
    *,
    name: str,
    task: Task,
    file_label: str | None = None,
    allow_unknown_ids: bool = False,
) -> RunScores:
    """Read a run file (a path, or the bytes of an uploaded file with its ``file_label``) for ``task``."""
    validate_run_name(name)
    if isinstance(source, bytes | bytearray | memoryview):
        if not file_label:
            raise ValueError("file_label is required when the run is given as bytes")
        label = _display_name(file_label)
        data = bytes(source)
        _check_size(len(data), label, task)
    else:
        path = Path(source).expanduser()
        label = _display_name(file_label or path.name)
        try:
            _check_size(path.stat().st_size, label, task)
            data = path.read_bytes()
        except OSError as exc:
            raise DatasetError(label, f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    if not data.strip():
        raise DatasetError(label, "no entries (the file is empty)")
    fmt, sep = _choose_format(label, data)
    if fmt == "parquet":
        entries = _read_parquet(data, label, task)
    else:
        text = _decode(data, label)
        if fmt == "trec":
            entries = _read_trec(text, label)
        elif fmt == "json":
            entries = _read_json(text, label)
        else:
            entries = _read_csv(text, label, sep=sep)
    return _to_scores(entries, name=name, label=label, fmt=fmt, task=task, allow_unknown_ids=allow_unknown_ids)


def _display_name(label: str) -> str:
    base = label.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return base or "run"


def _quote(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _max_entries(task: Task) -> int:
    return task.n_queries * task.n_docs


def _check_size(n_bytes: int, label: str, task: Task) -> None:
    longest_query = max((len(q.encode("utf-8")) for q in task.query_ids), default=0)
    longest_doc = max((len(d.encode("utf-8")) for d in task.doc_ids), default=0)
    limit = _max_entries(task) * (longest_query + longest_doc + _ENTRY_OVERHEAD_BYTES) + _SLACK_BYTES
    if n_bytes > limit:
        raise DatasetError(
            label,
            f"{_size(n_bytes)} is too large for a run of this task ({task.n_queries:,} queries × "
            f"{task.n_docs:,} passages; a complete run would take under {_size(limit)})",
        )


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:,.1f} MiB" if n_bytes >= 2**20 else f"{n_bytes:,} bytes"


def _choose_format(label: str, data: bytes) -> tuple[str, str]:
    """(format, CSV delimiter) from the extension, else from the content."""
    suffix = Path(label).suffix.lower()
    if suffix in _BY_EXTENSION:
        return _BY_EXTENSION[suffix], ","
    if data.startswith(b"PAR1"):
        return "parquet", ","
    head = data[:65536].decode("utf-8", errors="replace").lstrip("\ufeff")
    if head.lstrip().startswith("{"):
        return "json", ","
    first = next((line for line in head.splitlines() if line.strip() and not line.lstrip().startswith("#")), None)
    if first is None:
        raise DatasetError(label, "no entries (the file is empty)")
    if first.lstrip().lstrip("\"'").startswith("query-id"):
        return "csv", "\t" if "\t" in first else ","
    if len(first.split()) == _TREC_FIELDS:
        return "trec", ","
    raise DatasetError(label, f"not a run format this app reads ({ACCEPTED_FORMATS})")


def _decode(data: bytes, label: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DatasetError(f"{label}:{line}", f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the run as UTF-8") from None
    return text.removeprefix("\ufeff")


# --------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class _Entries:
    """Parsed entries before validation against the task; ``line(i)`` is entry i's line, if any."""

    query_ids: np.ndarray  # object array of str
    doc_ids: np.ndarray  # object array of str
    scores: np.ndarray  # float64
    scored: bool
    line: Callable[[int], int | None]


def _entries(
    query_ids: Sequence[str], doc_ids: Sequence[str], scores, *, scored: bool, line: Callable[[int], int | None]
) -> _Entries:
    return _Entries(
        query_ids=np.asarray(query_ids, dtype=object),
        doc_ids=np.asarray(doc_ids, dtype=object),
        scores=np.asarray(scores, dtype=np.float64),
        scored=scored,
        line=line,
    )


def _no_line(_: int) -> None:
    return None


def _at(label: str, line: int | None) -> str:
    return label if line is None else f"{label}:{line}"


def _to_scores(entries: _Entries, *, name: str, label: str, fmt: str, task: Task, allow_unknown_ids: bool) -> RunScores:
    import pandas as pd

    n = len(entries.scores)
    if n == 0:
        raise DatasetError(label, "no entries (the file lists no passage for any query)")
    if n > _max_entries(task):
        raise DatasetError(
            label,
            f"{n:,} entries are more than this task's {task.n_queries:,} queries × {task.n_docs:,} passages "
            f"({_max_entries(task):,} pairs)",
        )
    bad = np.flatnonzero(~np.isfinite(entries.scores))
    if bad.size:
        i = int(bad[0])
        what = "NaN" if math.isnan(entries.scores[i]) else "infinite"
        raise DatasetError(
            _at(label, entries.line(i)),
            f"score of passage {_quote(entries.doc_ids[i])} for query {_quote(entries.query_ids[i])} is {what}",
        )
    # Each distinct id is looked up once: factorize, then map the uniques through the task's index.
    q_codes, q_uniques = pd.factorize(entries.query_ids)
    d_codes, d_uniques = pd.factorize(entries.doc_ids)
    qi = _lookup(q_uniques, task.query_index)[q_codes]
    unknown_q = qi < 0
    if unknown_q.any() and not allow_unknown_ids:
        _refuse_unknown(entries, unknown_q, label, kind="query")
    di = _lookup(d_uniques, task.doc_index)[d_codes]
    unknown_d = (di < 0) & ~unknown_q
    if unknown_d.any() and not allow_unknown_ids:
        _refuse_unknown(entries, unknown_d, label, kind="passage")
    _refuse_duplicates(entries, q_codes.astype(np.int64) * max(len(d_uniques), 1) + d_codes, label)
    keep = ~(unknown_q | unknown_d)
    scores = np.full((task.n_queries, task.n_docs), -np.inf, dtype=np.float64)
    scores[qi[keep], di[keep]] = entries.scores[keep]
    covered = np.zeros(task.n_queries, dtype=bool)
    covered[qi[keep]] = True
    return RunScores(
        name=name,
        file_label=label,
        format=fmt,
        scored=entries.scored,
        scores=scores,
        covered=covered,
        n_entries=n,
        dropped_unknown_queries=int(np.count_nonzero(unknown_q)),
        dropped_unknown_passages=int(np.count_nonzero(unknown_d)),
    )


def _lookup(uniques: np.ndarray, index: Mapping[str, int]) -> np.ndarray:
    return np.fromiter((index.get(u, -1) for u in uniques), dtype=np.int64, count=len(uniques))


def _refuse_unknown(entries: _Entries, mask: np.ndarray, label: str, *, kind: str) -> None:
    ids = entries.query_ids if kind == "query" else entries.doc_ids
    i = int(np.flatnonzero(mask)[0])
    distinct = len(set(ids[mask].tolist()))
    where = f" (query {_quote(entries.query_ids[i])})" if kind == "passage" else ""
    raise DatasetError(
        _at(label, entries.line(i)),
        f"{kind} id {_quote(ids[i])}{where} is not in this task "
        f"({distinct:,} unknown {kind} id{'s' if distinct != 1 else ''} in {int(mask.sum()):,} of {len(ids):,} entries)",
    )


def _refuse_duplicates(entries: _Entries, pairs: np.ndarray, label: str) -> None:
    """``pairs``: one code per (query id, passage id) of each entry."""
    ordered = np.sort(pairs)
    if not (ordered[1:] == ordered[:-1]).any():
        return
    order = np.argsort(pairs, kind="stable")
    repeated = pairs[order][1:] == pairs[order][:-1]
    if not repeated.any():
        return
    i = int(order[1:][repeated].min())  # the earliest entry that repeats an earlier one
    first = int(np.flatnonzero(pairs == pairs[i])[0])
    first_line = entries.line(first)
    before = f" (first on line {first_line})" if first_line is not None else ""
    raise DatasetError(
        _at(label, entries.line(i)),
        f"passage {_quote(entries.doc_ids[i])} is listed twice for query {_quote(entries.query_ids[i])}{before}",
    )


# --------------------------------------------------------------------------- TREC


def _read_trec(text: str, label: str) -> _Entries:
    import pandas as pd

    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "#" in text:
        text = _COMMENT_LINE.sub("", text)  # keeps the line, so line numbers stay those of the file
    first = _FIRST_ENTRY_LINE.search(text)
    if first is None:
        raise DatasetError(label, "no entries (the file is empty or holds only comments)")
    if len(_FIELD_SEPARATOR.split(first.group().strip(" \t"))) != _TREC_FIELDS:
        _trec_line_errors(text, label)  # pandas would take extra fields on the first line for an index
    try:
        frame = pd.read_csv(
            io.BytesIO(text.encode("utf-8")),
            sep=r"\s+",
            header=None,
            names=range(_TREC_FIELDS),
            index_col=False,
            dtype={0: object, 1: object, 2: object, 3: np.float64, 4: np.float64, 5: object},
            quoting=csv.QUOTE_NONE,
            na_filter=False,
            engine="c",
        )
    except (ValueError, pd.errors.ParserError) as exc:
        _trec_line_errors(text, label)
        raise DatasetError(label, f"cannot be read as a TREC run ({str(exc).splitlines()[0]})") from None
    if (frame[5] == "").any():  # a line with fewer than 6 fields
        _trec_line_errors(text, label)
    ranks = frame[3].to_numpy()
    if not (np.isfinite(ranks) & (np.floor(ranks) == ranks)).all():
        _trec_line_errors(text, label)
    lines = _LazyLines(text)
    return _entries(frame[0].to_numpy(), frame[2].to_numpy(), frame[4].to_numpy(), scored=True, line=lines.line_of)


class _LazyLines:
    """Line numbers of the entry lines of a TREC text, counted only when an error needs one."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._lines: list[int] | None = None

    def line_of(self, i: int) -> int:
        if self._lines is None:
            self._lines = [n for n, line in enumerate(self._text.split("\n"), start=1) if line.strip(" \t")]
        return self._lines[i]


def _trec_line_errors(text: str, label: str) -> None:
    """Raise for the first malformed line (wrong field count, rank not an integer, score not a number)."""
    for n, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip(" \t")
        if not stripped:
            continue
        fields = _FIELD_SEPARATOR.split(stripped)
        if len(fields) != _TREC_FIELDS:
            raise DatasetError(f"{label}:{n}", f"expected 6 fields 'qid Q0 docid rank score tag', found {len(fields)}")
        if not (_FLOAT.fullmatch(fields[3]) and float(fields[3]).is_integer()):
            raise DatasetError(f"{label}:{n}", f"rank {_quote(fields[3])} is not an integer")
        if not _FLOAT.fullmatch(fields[4]):
            raise DatasetError(f"{label}:{n}", f"score {_quote(fields[4])} is not a number")
        if not math.isfinite(score := float(fields[4])):
            what = "NaN" if math.isnan(score) else "infinite"
            raise DatasetError(f"{label}:{n}", f"score of passage {_quote(fields[2])} for query {_quote(fields[0])} is {what}")


# --------------------------------------------------------------------------- JSON


class _Pairs(list):
    """A JSON object kept as its (key, value) pairs, so that repeated keys are seen."""


def _read_json(text: str, label: str) -> _Entries:
    shape = "must be a JSON object {query id: {passage id: score}}"
    try:
        root = json.loads(text, object_pairs_hook=_Pairs)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{label}:{exc.lineno}", f"not valid JSON ({exc.msg}, column {exc.colno})") from None
    if not isinstance(root, _Pairs):
        raise DatasetError(label, f"{shape}, found {_json_type(root)}")
    query_ids: list[str] = []
    doc_ids: list[str] = []
    scores: list[float] = []
    seen: set[str] = set()
    for qid, ranking in root:
        if qid in seen:
            raise DatasetError(label, f"query {_quote(qid)} appears twice")
        seen.add(qid)
        if not isinstance(ranking, _Pairs):
            found = _json_type(ranking)
            raise DatasetError(label, f"query {_quote(qid)}: must be an object {{passage id: score}}, found {found}")
        if not ranking:
            continue
        dids, values = zip(*ranking)
        if not set(map(type, values)) <= {int, float}:  # bool is its own type, so true/false is refused
            did, score = next((d, v) for d, v in ranking if type(v) not in (int, float))
            problem = f"the score of passage {_quote(did)} is {_json_type(score)}, not a number"
            raise DatasetError(label, f"query {_quote(qid)}: {problem}")
        query_ids.extend([qid] * len(dids))
        doc_ids.extend(dids)
        scores.extend(values)
    return _entries(query_ids, doc_ids, scores, scored=True, line=_no_line)


def _json_type(value: object) -> str:
    if isinstance(value, _Pairs):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"a string {_quote(value, 30)}"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return type(value).__name__


# --------------------------------------------------------------------------- parquet and CSV


def _table_form(columns: Sequence[str], label: str) -> str:
    """ "scored" (query-id, corpus-id, score) or "lists" (query-id, corpus-ids)."""
    if "query-id" in columns and "corpus-id" in columns and "score" in columns:
        return "scored"
    if "query-id" in columns and "corpus-ids" in columns:
        return "lists"
    raise DatasetError(
        label,
        "needs the columns query-id, corpus-id, score (one row per entry) or query-id, corpus-ids "
        f"(one ranked list per query); has {', '.join(map(str, columns)) or 'none'}",
    )


def _read_parquet(data: bytes, label: str, task: Task) -> _Entries:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(pa.BufferReader(data))
        form = _table_form(file.schema_arrow.names, label)
        if form == "scored" and file.metadata.num_rows > _max_entries(task):
            raise DatasetError(
                label, f"{file.metadata.num_rows:,} rows are more than this task's {_max_entries(task):,} (query, passage) pairs"
            )
        table = file.read(columns=["query-id", "corpus-id", "score"] if form == "scored" else ["query-id", "corpus-ids"])
    except (pa.ArrowException, OSError) as exc:
        raise DatasetError(label, f"cannot be read as parquet ({str(exc).splitlines()[0]})") from None
    query_ids = _arrow_ids(table.column("query-id"), "query-id", label)
    if form == "scored":
        doc_ids = _arrow_ids(table.column("corpus-id"), "corpus-id", label, query_ids=query_ids)
        col = table.column("score")
        if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
            raise DatasetError(label, f"column 'score' must be numeric, found {col.type}")
        if col.null_count:
            i = _first_null(col)
            raise DatasetError(label, f"query {_quote(query_ids[i])}: passage {_quote(doc_ids[i])} has no score (null)")
        return _entries(query_ids, doc_ids, col.to_numpy().astype(np.float64), scored=True, line=_no_line)
    col = id_lists_column(table, label)
    lists = []
    for qid, ids in zip(query_ids, col.to_pylist()):
        if ids is not None and any(d is None or d == "" for d in ids):
            raise DatasetError(label, f"query {_quote(qid)}: corpus-ids holds an empty (null) id")
        lists.append([str(d) for d in ids or ()])
    return _ranked_lists(query_ids, lists, label, line=_no_line)


def _arrow_ids(col, column: str, label: str, *, query_ids: Sequence[str] | None = None) -> list[str]:
    import pyarrow as pa

    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type) or pa.types.is_integer(col.type)):
        raise DatasetError(label, f"column '{column}' must hold string or integer ids, found {col.type}")
    values = col.to_pylist()
    for i, v in enumerate(values):
        if v is None or v == "":
            where = f"query {_quote(query_ids[i])}: " if query_ids is not None else f"row {i + 1}: "
            raise DatasetError(label, f"{where}empty (null) {column}")
    return [v if isinstance(v, str) else str(v) for v in values]


def _first_null(col) -> int:
    return int(np.flatnonzero(col.is_null().to_numpy(zero_copy_only=False))[0])


def _ranked_lists(query_ids: Sequence[str], lists: Sequence[Sequence[str]], label: str, *, line) -> _Entries:
    """Entries of one ranked list per query: score = -(1-based position)."""
    seen: dict[str, int] = {}
    for row, qid in enumerate(query_ids):
        if qid in seen:
            first = line(seen[qid])
            before = f" (first on line {first})" if first is not None else ""
            raise DatasetError(_at(label, line(row)), f"query {_quote(qid)} has a second corpus-ids row{before}")
        seen[qid] = row
    rows = np.repeat(np.arange(len(lists)), [len(ids) for ids in lists])
    positions = np.concatenate([np.arange(1, len(ids) + 1) for ids in lists]) if len(rows) else np.zeros(0)
    return _entries(
        np.asarray(query_ids, dtype=object)[rows] if len(rows) else [],
        [d for ids in lists for d in ids],
        -positions.astype(np.float64),
        scored=False,
        line=lambda i: line(int(rows[i])),
    )


def _read_csv(text: str, label: str, *, sep: str) -> _Entries:
    import pandas as pd

    records = list(itertools.islice(filter(None, csv.reader(io.StringIO(text), delimiter=sep, skipinitialspace=True)), 2))
    if not records:
        raise DatasetError(label, "no entries (the file is empty)")
    header = records[0]
    form = _table_form(header, label)
    if len(records) == 2 and len(records[1]) > len(header):
        _csv_row_errors(text, label, sep=sep)  # pandas would take the extra fields of the first row for an index
    lines = _LazyCsvLines(text, sep)
    data = text.encode("utf-8")

    def read(score_dtype) -> pd.DataFrame:
        dtype = {column: object for column in header} | ({"score": score_dtype} if form == "scored" else {})
        options = {"keep_default_na": False, "na_filter": False, "index_col": False, "skipinitialspace": True, "engine": "c"}
        return pd.read_csv(io.BytesIO(data), sep=sep, dtype=dtype, **options)

    try:
        frame = read(np.float64)
    except pd.errors.ParserError as exc:
        _csv_row_errors(text, label, sep=sep)
        raise DatasetError(label, f"cannot be read as CSV ({str(exc).splitlines()[0]})") from None
    except ValueError as exc:  # a score that is not a number: read it as text to find the row
        frame = read(object)
        raw = frame["score"].to_numpy()
        for i in np.flatnonzero(np.isnan(pd.to_numeric(frame["score"], errors="coerce").to_numpy(dtype=np.float64))):
            token = str(raw[i]).strip()
            if not _FLOAT.fullmatch(token):
                raise DatasetError(f"{label}:{lines.line_of(int(i))}", f"score {_quote(token)} is not a number") from None
        frame["score"] = pd.to_numeric(frame["score"], errors="coerce")
        if not np.isnan(frame["score"].to_numpy(dtype=np.float64)).any():
            raise DatasetError(label, f"cannot be read as CSV ({str(exc).splitlines()[0]})") from None
    for column in ("query-id", "corpus-id") if form == "scored" else ("query-id",):
        empty = np.flatnonzero((frame[column] == "").to_numpy())
        if empty.size:
            raise DatasetError(f"{label}:{lines.line_of(int(empty[0]))}", f"empty {column}")
    query_ids = frame["query-id"].to_numpy()
    if form == "scored":
        scores = frame["score"].to_numpy(dtype=np.float64)
        return _entries(query_ids, frame["corpus-id"].to_numpy(), scores, scored=True, line=lines.line_of)
    lists = [_list_cell(cell, label, i, lines.line_of) for i, cell in enumerate(frame["corpus-ids"].tolist())]
    return _ranked_lists(query_ids.tolist(), lists, label, line=lines.line_of)


def _list_cell(cell: str, label: str, row: int, line_of: Callable[[int], int]) -> list[str]:
    """A corpus-ids CSV cell: a JSON list or a Python list literal of string or integer ids."""
    cell = cell.strip()
    value: object = None
    if cell.startswith("["):
        try:
            value = json.loads(cell)
        except json.JSONDecodeError:
            try:
                value = ast.literal_eval(cell)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                value = None
    ok = isinstance(value, list) and all(
        (isinstance(d, str) and d != "") or (isinstance(d, int) and not isinstance(d, bool)) for d in value
    )
    if not ok:
        raise DatasetError(f"{label}:{line_of(row)}", f'corpus-ids {_quote(cell, 40)} is not a list of ids such as ["d1", "d2"]')
    return [d if isinstance(d, str) else str(d) for d in value]


class _LazyCsvLines:
    """The first physical line of each CSV data row (a quoted cell may span lines), counted on demand."""

    def __init__(self, text: str, sep: str) -> None:
        self._text = text
        self._sep = sep
        self._lines: list[int] | None = None

    def line_of(self, i: int) -> int:
        if self._lines is None:
            reader = csv.reader(io.StringIO(self._text), delimiter=self._sep, skipinitialspace=True)
            starts, previous = [], 0
            for record in reader:
                if record:
                    starts.append(previous + 1)
                previous = reader.line_num
            self._lines = starts[1:]  # the header is not a row
        return self._lines[i]


def _csv_row_errors(text: str, label: str, *, sep: str) -> None:
    """Raise for the first row whose field count differs from the header's."""
    reader = csv.reader(io.StringIO(text), delimiter=sep, skipinitialspace=True)
    width, previous = None, 0
    for record in reader:
        start, previous = previous + 1, reader.line_num
        if not record:
            continue
        if width is None:
            width = len(record)
        elif len(record) != width:
            raise DatasetError(f"{label}:{start}", f"expected {width} fields like the header, found {len(record)}")
