"""Load a task from the hub, a local folder in the hub layout, or the bundled demo.

All three go through the same call, ``datasets.load_dataset(source, config, split=...)``, into
a temporary Hugging Face cache, so that a source that fails validation leaves nothing behind.
A hub split that loads and validates is mirrored under ``<cache_dir>/hub/`` in the same layout,
so the next start works offline.

A split is a name, never a path: it is validated before any path is built or any loader runs,
and a folder (local, demo or hub mirror) must declare it in its README configs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath, PureWindowsPath
from types import MappingProxyType
from typing import Any

from nanomlqa_viz.errors import DatasetError
from nanomlqa_viz.sources import (
    DEFAULT_SPLIT,
    DEMO,
    DEMO_PATH,
    hub_mirror_dir,
    hub_mirrors_root,
    hub_reachable,
    message_location,
    shown,
    source_kind,
    validate_hub_id,
    validate_split,
)
from nanomlqa_viz.task import CandidateSubset, Task

log = logging.getLogger(__name__)

CORE_CONFIGS = ("corpus", "queries", "qrels")


def load_task(*, source: str, split: str = DEFAULT_SPLIT, cache_dir: Path) -> Task:
    """Load and validate ``source`` (hub id, folder or ``"demo"``); raise :class:`DatasetError`.

    A hub source whose endpoint cannot be reached (and that has no mirror in ``cache_dir``)
    falls back to the bundled demo at once, with ``Task.notice`` saying so. ``split`` must be a
    split name (:func:`~nanomlqa_viz.sources.validate_split`), checked before anything is read.
    """
    validate_split(split, where=message_location(source))
    kind = source_kind(source)
    if kind == "demo":
        return _read_source(str(DEMO_PATH), split=split, display=DEMO, kind="demo")
    if kind == "local":
        return _read_source(str(Path(source).expanduser()), split=split, display=source, kind="local")
    validate_hub_id(source)
    mirror = hub_mirror_dir(cache_dir, source, split)
    if (mirror / "README.md").is_file():
        return _read_source(str(mirror), split=split, display=source, kind="hub-mirror")
    if hub_reachable():
        try:
            return _read_source(source, split=split, display=source, kind="hub", mirror_to=mirror)
        except _HubUnreachable as exc:  # the port answered, the hub did not (proxy, TLS, outage)
            log.warning("%s", exc)
    demo = _read_source(str(DEMO_PATH), split=DEFAULT_SPLIT, display=DEMO, kind="demo")
    notice = (
        f"The Hugging Face hub cannot be reached, so {source} [{split}] is not loaded: "
        "this is the bundled demo, not the real split."
    )
    return _replace_notice(demo, notice)


class _HubUnreachable(DatasetError):
    """A hub request failed for want of a connection (not because the dataset is wrong)."""


# huggingface_hub / requests / httpx errors that mean "no connection", by name (none is a builtin
# ConnectionError); LocalEntryNotFoundError is what a failed request without a local copy becomes.
_NETWORK_ERRORS = {"LocalEntryNotFoundError", "OfflineModeIsEnabled", "ConnectError", "ConnectTimeout", "ReadTimeout", "SSLError"}


def _network_failure(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (ConnectionError, TimeoutError)) or type(current).__name__ in _NETWORK_ERRORS:
            return True
        current = current.__cause__ or current.__context__
    return False


def _replace_notice(task: Task, notice: str) -> Task:
    from dataclasses import replace

    return replace(task, notice=notice)


# --------------------------------------------------------------------------- reading


def _read_source(src: str, *, split: str, display: str, kind: str, mirror_to: Path | None = None) -> Task:
    import datasets

    validate_split(split, where=display)  # never a path, whoever calls
    if kind != "hub":
        _check_folder_declares(Path(src), split=split, display=display, kind=kind)
    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    locate = _locator(src, display=display, split=split, kind=kind)
    with _quiet_libraries():
        try:
            configs = list(datasets.get_dataset_config_names(src))
        except Exception as exc:
            if kind == "hub" and _network_failure(exc):
                raise _HubUnreachable(display, f"the hub cannot be reached ({_first_line(exc)})") from None
            raise DatasetError(display, f"no dataset found ({_first_line(exc)})") from None
    for name in CORE_CONFIGS:
        if name not in configs:
            raise DatasetError(display, f"missing config '{name}' (configs: {', '.join(configs) or 'none'})")
    with tempfile.TemporaryDirectory(prefix="nanomlqa-hf-") as tmp, _quiet_libraries():
        tables = {
            name: _load_config(src, name, split=split, cache_dir=tmp, where=locate(name), hub=kind == "hub") for name in configs
        }
        task = _build_task(tables, locate=locate, source=display, split=split, kind=kind)
        if mirror_to is not None:
            _write_mirror(tables, mirror_to, split=split, source=display)
    return task


@contextlib.contextmanager
def _quiet_libraries():
    """Silence datasets / huggingface_hub while reading: a file they cannot read is logged by them
    ("Failed to read schema ...", "Repo card metadata block was not found") before the error that
    :class:`DatasetError` reports in one line; the CLI promises that one line only."""
    loggers = [logging.getLogger(name) for name in ("datasets", "huggingface_hub")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _load_config(src: str, config: str, *, split: str, cache_dir: str, where: str, hub: bool = False):
    import datasets

    try:
        try:
            ds = datasets.load_dataset(src, config, split=split, cache_dir=cache_dir)
        except Exception as exc:
            if hub and _network_failure(exc):
                raise _HubUnreachable(where, f"the hub cannot be reached ({_first_line(exc)})") from None
            raise
    except _HubUnreachable:
        raise
    except ValueError as exc:
        msg = _first_line(exc)
        if "Unknown split" in msg or "split" in msg.lower():
            raise DatasetError(where, f"split '{split}' not found ({msg})") from None
        raise DatasetError(where, f"cannot be read ({msg})") from None
    except FileNotFoundError as exc:
        raise DatasetError(where, f"data file missing ({_first_line(exc)})") from None
    except Exception as exc:
        root = _root_cause(exc)
        if "BatchSize must be greater than 0" in str(root):
            raise DatasetError(where, "no rows (empty split)") from None
        raise DatasetError(where, f"cannot be read as a dataset ({type(root).__name__}: {_first_line(root)})") from None
    return ds.data.table


def _root_cause(exc: BaseException) -> BaseException:
    seen = {id(exc)}
    while (nxt := exc.__cause__ or exc.__context__) is not None and id(nxt) not in seen:
        seen.add(id(nxt))
        exc = nxt
    return exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    line = text.splitlines()[0]
    return line if len(line) <= 200 else line[:197] + "..."


def _locator(src: str, *, display: str, split: str, kind: str) -> Callable[[str], str]:
    """Name the file a config's rows come from, for error messages."""
    files: dict[str, str] = {}
    if kind != "hub":
        files = _readme_data_files(Path(src), split=split)
    base = Path(src)

    def locate(config: str) -> str:
        if config in files:
            return str(base / files[config]) if kind != "demo" else f"demo/{files[config]}"
        if kind == "hub":
            return f"{display} config '{config}' split '{split}'"
        return str(base / config) if kind != "demo" else f"demo/{config}"

    return locate


def _readme_data_files(folder: Path, *, split: str) -> dict[str, str]:
    """config → data file path, from the README.md YAML header of a hub-layout folder."""
    out: dict[str, str] = {}
    for config, entry_split, path in _readme_entries(folder):
        if entry_split in (split, None) and config not in out:
            out[config] = path
    return out


def _readme_header(folder: Path) -> dict[str, Any]:
    """The YAML header of ``folder/README.md``; ``{}`` when there is none or it cannot be read."""
    readme = folder / "README.md"
    try:
        if not readme.is_file():
            return {}
        import yaml

        text = readme.read_text(encoding="utf-8")
        if not text.startswith("---"):
            return {}
        header = yaml.safe_load(text.split("---", 2)[1]) or {}
    except Exception:
        return {}
    return header if isinstance(header, dict) else {}


def _readme_entries(folder: Path) -> list[tuple[str, str | None, str]]:
    """``(config, split, path)`` for every data file of the README configs; split ``None`` where the
    entry names none (``datasets`` then calls it ``train``)."""
    out: list[tuple[str, str | None, str]] = []
    for cfg in _readme_header(folder).get("configs") or []:
        if not isinstance(cfg, dict) or not isinstance(cfg.get("config_name"), str):
            continue
        name = cfg["config_name"]
        data_files = cfg.get("data_files")
        for entry in data_files if isinstance(data_files, list) else [data_files]:
            if isinstance(entry, dict):
                paths = entry.get("path")
                entry_split = str(entry["split"]) if entry.get("split") is not None else None
            else:
                paths, entry_split = entry, None
            for path in paths if isinstance(paths, list) else [paths]:
                if isinstance(path, str):
                    out.append((name, entry_split, path))
    return out


_SHARD_NAME = re.compile(r"(?P<split>.+?)(?:-\d{5}-of-\d{5})?\.parquet")


def _folder_splits(folder: Path) -> tuple[str, ...]:
    """The split names a hub-layout folder declares: its README configs' data_files, else the names
    of its parquet files (``<config>/<split>-00000-of-00001.parquet``); sorted, valid names only."""
    names = {s if s is not None else "train" for _, s, _ in _readme_entries(folder)}
    if not names:
        try:
            files = [*folder.glob("*.parquet"), *folder.glob("*/*.parquet")]
        except OSError:
            files = []
        names = {m["split"] for f in files if (m := _SHARD_NAME.fullmatch(f.name))}
    return tuple(sorted(n for n in names if _is_split_name(n)))


def _is_split_name(name: str) -> bool:
    try:
        validate_split(name)
    except DatasetError:
        return False
    return True


def declared_splits(source: str, *, cache_dir: Path | None = None) -> tuple[str, ...]:
    """The split names ``source`` offers, read from disk only (cheap; no ``datasets`` call).

    The demo and a local folder: the splits of their README configs (else their parquet file
    names). A hub id: the splits mirrored under ``cache_dir`` (``()`` without one; the hub itself
    is not asked). Sorted; ``()`` when nothing is known.
    """
    kind = source_kind(source)
    if kind == "demo":
        return _folder_splits(DEMO_PATH)
    if kind == "local":
        return _folder_splits(Path(source).expanduser())
    if cache_dir is None:
        return ()
    try:
        root = hub_mirrors_root(cache_dir, source)
        found = [d.name for d in root.iterdir() if (d / "README.md").is_file()] if root.is_dir() else []
    except (DatasetError, OSError):
        return ()
    return tuple(sorted(n for n in found if _is_split_name(n)))


def _check_folder_declares(folder: Path, *, split: str, display: str, kind: str) -> None:
    """Refuse a split the folder does not declare, and README data files outside the folder."""
    readme = str(folder / "README.md") if kind != "demo" else "demo/README.md"
    for config, _, path in _readme_entries(folder):
        if _leaves_folder(path):
            raise DatasetError(readme, f"config '{config}' names data file {shown(path, 80)}, which is not inside the folder")
    declared = _folder_splits(folder)
    if declared and split not in declared:
        where = readme if (folder / "README.md").is_file() else display
        raise DatasetError(
            where, f"split '{split}' not found — it is not one the source declares (declared: {', '.join(declared)})"
        )


def _leaves_folder(path: str) -> bool:
    """An absolute path, a drive, a URL (``hf://``, ``https://``) or a ``..`` step."""
    if "://" in path or path.startswith(("hf:", "~")):
        return True
    for pure in (PurePosixPath(path), PureWindowsPath(path)):
        if pure.is_absolute() or pure.drive or pure.root or ".." in pure.parts:
            return True
    return False


# --------------------------------------------------------------------------- validation


def _require_columns(table, columns: tuple[str, ...], where: str) -> None:
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise DatasetError(where, f"missing column {', '.join(repr(c) for c in missing)} (has {', '.join(table.column_names)})")


def _ids(table, column: str, where: str) -> list[str]:
    import pyarrow as pa

    col = table.column(column)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type) or pa.types.is_integer(col.type)):
        raise DatasetError(where, f"column '{column}' must hold string or integer ids, found {col.type}")
    values = col.to_pylist()
    for row, v in enumerate(values):
        if v is None or (isinstance(v, str) and not v.strip()):
            raise DatasetError(where, f"column '{column}' has an empty id at row {row}")
    return [str(v) for v in values]


def _texts(table, column: str, ids: list[str], where: str) -> list[str]:
    import pyarrow as pa

    col = table.column(column)
    if col.null_count == len(col) and len(col):
        raise DatasetError(where, f"column '{column}' holds no text (all {len(col)} values are null/NaN)")
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        raise DatasetError(where, f"column '{column}' must hold strings, found {col.type}")
    values = col.to_pylist()
    bad = [ids[i] for i, v in enumerate(values) if v is None or not v.strip()]
    if bad:
        raise DatasetError(where, f"{len(bad)} empty or missing (NaN) text(s), first id '{bad[0]}'")
    return values


def _no_duplicates(ids: list[str], column: str, where: str) -> None:
    if len(set(ids)) != len(ids):
        dup, count = Counter(ids).most_common(1)[0]
        n = sum(1 for c in Counter(ids).values() if c > 1)
        raise DatasetError(where, f"duplicate {column} '{dup}' ({count} times; {n} duplicated id(s))")


def _id_text_config(table, where: str, *, fold_title: bool) -> tuple[list[str], list[str]]:
    _require_columns(table, ("_id", "text"), where)
    if table.num_rows == 0:
        raise DatasetError(where, "no rows (empty split)")
    ids = _ids(table, "_id", where)
    _no_duplicates(ids, "_id", where)
    texts = _texts(table, "text", ids, where)
    if fold_title and "title" in table.column_names:
        titles = table.column("title").to_pylist()
        texts = [f"{t.strip()}. {x}" if isinstance(t, str) and t.strip() else x for t, x in zip(titles, texts)]
    return ids, texts


def _build_task(tables: Mapping[str, Any], *, locate: Callable[[str], str], source: str, split: str, kind: str) -> Task:
    doc_ids, doc_texts = _id_text_config(tables["corpus"], locate("corpus"), fold_title=True)
    query_ids, query_texts = _id_text_config(tables["queries"], locate("queries"), fold_title=False)
    doc_set, query_set = set(doc_ids), set(query_ids)
    warnings: list[str] = []

    qrels = _qrels(tables["qrels"], locate("qrels"), doc_set=doc_set, query_set=query_set)
    without = [q for q in query_ids if q not in qrels]
    if without:
        warnings.append(
            f"{locate('qrels')}: {len(without)} of {len(query_ids)} queries have no positive "
            f"(first '{without[0]}'); they score 0 on every metric"
        )
    candidates: dict[str, CandidateSubset] = {}
    for name, table in tables.items():
        if name in CORE_CONFIGS:
            continue
        subset, missing = _candidates(name, table, locate(name), doc_set=doc_set, query_set=query_set, qrels=qrels)
        if missing:
            warnings.append(f"{locate(name)}: {missing} queries have no candidate list; they score 0 there")
        candidates[name] = subset
    for w in warnings:
        log.warning(w)
    return Task(
        source=source,
        split=split,
        source_kind=kind,
        doc_ids=tuple(doc_ids),
        doc_texts=tuple(doc_texts),
        query_ids=tuple(query_ids),
        query_texts=tuple(query_texts),
        qrels=MappingProxyType(qrels),
        candidates=MappingProxyType(candidates),
        warnings=tuple(warnings),
    )


def _qrels(table, where: str, *, doc_set: set[str], query_set: set[str]) -> dict[str, frozenset[str]]:
    import pyarrow as pa

    _require_columns(table, ("query-id", "corpus-id"), where)
    if table.num_rows == 0:
        raise DatasetError(where, "no rows (empty split)")
    qids = _ids(table, "query-id", where)
    dids = _ids(table, "corpus-id", where)
    scores: list[float] = [1.0] * len(qids)
    if "score" in table.column_names:
        col = table.column("score")
        if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
            raise DatasetError(where, f"column 'score' must be numeric, found {col.type}")
        scores = [float(s) if s is not None else 0.0 for s in col.to_pylist()]
    unknown_q = next((q for q in qids if q not in query_set), None)
    if unknown_q is not None:
        raise DatasetError(where, f"query-id '{unknown_q}' is not in the queries")
    unknown_d = next((d for d in dids if d not in doc_set), None)
    if unknown_d is not None:
        raise DatasetError(where, f"corpus-id '{unknown_d}' is not in the corpus")
    out: dict[str, set[str]] = {}
    for q, d, s in zip(qids, dids, scores):
        if s > 0:  # binary relevance: any positive grade is relevant
            out.setdefault(q, set()).add(d)
    return {q: frozenset(v) for q, v in out.items()}


def id_lists_column(table, where: str):
    """``table``'s ``corpus-ids`` column, checked to hold lists of string or integer ids (else one-line error)."""
    import pyarrow as pa

    col = table.column("corpus-ids")
    if not (pa.types.is_list(col.type) or pa.types.is_large_list(col.type)):
        raise DatasetError(where, f"column 'corpus-ids' must hold lists of ids, found {col.type}")
    value = col.type.value_type
    if not (pa.types.is_string(value) or pa.types.is_large_string(value) or pa.types.is_integer(value)):
        raise DatasetError(where, f"column 'corpus-ids' must hold lists of string or integer ids, found {col.type}")
    return col


def _candidates(
    name: str,
    table,
    where: str,
    *,
    doc_set: set[str],
    query_set: set[str],
    qrels: Mapping[str, frozenset[str]],
) -> tuple[CandidateSubset, int]:
    _require_columns(table, ("query-id", "corpus-ids"), where)
    col = id_lists_column(table, where)
    qids = _ids(table, "query-id", where)
    _no_duplicates(qids, "query-id", where)
    unknown_q = next((q for q in qids if q not in query_set), None)
    if unknown_q is not None:
        raise DatasetError(where, f"query-id '{unknown_q}' is not in the queries")
    lists: dict[str, list[str]] = {}
    for q, ids in zip(qids, col.to_pylist()):
        ids = [str(d) for d in ids or [] if d is not None]
        unknown = next((d for d in ids if d not in doc_set), None)
        if unknown is not None:
            raise DatasetError(where, f"corpus id '{unknown}' (query '{q}') is not in the corpus")
        if len(set(ids)) != len(ids):
            dup = Counter(ids).most_common(1)[0][0]
            raise DatasetError(where, f"candidate list of query '{q}' repeats corpus id '{dup}'")
        lists[q] = ids

    def ends_with_sole_positive(q: str, ids: list[str]) -> bool:
        positives = qrels.get(q, frozenset())
        return bool(ids) and ids[-1] in positives and not any(d in positives for d in ids[:-1])

    # The list depth is read off the lists that cannot hold an appended positive.
    lengths = Counter(len(v) for q, v in lists.items() if not ends_with_sole_positive(q, v))
    depth = max(lengths, key=lambda n: (lengths[n], n)) if lengths else max(map(len, lists.values()), default=0)
    injected: dict[str, str] = {}
    final: dict[str, tuple[str, ...]] = {}
    for q, ids in lists.items():
        if len(ids) == depth + 1 and ends_with_sole_positive(q, ids):
            injected[q] = ids[-1]
            ids = ids[:-1]
        final[q] = tuple(ids)
    missing = len(query_set - set(final))
    subset = CandidateSubset(config=name, lists=MappingProxyType(final), injected=MappingProxyType(injected), depth=depth)
    return subset, missing


# --------------------------------------------------------------------------- hub mirror


def _write_mirror(tables: Mapping[str, Any], mirror: Path, *, split: str, source: str) -> None:
    """Write the validated hub tables in the hub layout, atomically (temp folder + rename)."""
    import pyarrow.parquet as pq

    try:
        mirror.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=mirror.parent))
    except OSError as exc:
        log.warning("cannot write the hub mirror under %s (%s); the next start needs the hub again", mirror, exc)
        return
    try:
        lines = ["---", "configs:"]
        for name, table in tables.items():
            rel = f"{name}/{split}-00000-of-00001.parquet"
            (tmp / name).mkdir()
            pq.write_table(table, tmp / rel)
            lines += [f"- config_name: {name}", "  data_files:", f"  - split: {split}", f"    path: {rel}"]
        lines += ["---", f"Mirror of {source} split {split}, written by nanomlqa_viz.", ""]
        (tmp / "README.md").write_text("\n".join(lines), encoding="utf-8")
        os.replace(tmp, mirror)
    except OSError as exc:
        log.warning("cannot write the hub mirror %s (%s)", mirror, exc)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
