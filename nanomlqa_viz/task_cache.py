"""A loaded task kept on disk, so a new process reads it back instead of going through ``datasets`` again.

Only sources whose files are on this machine are kept: the demo, a local folder, a hub split
already mirrored under the cache folder. The key is the loader's version, the source, the split
and the source's :func:`~nanomlqa_viz.pipeline.source_signature` (every file's name, size and
modification time), so an edited folder is loaded afresh. Texts are stored as one UTF-8 blob with
offsets (a 1 MB passage costs 1 MB, not a fixed-width array of the longest text).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from types import MappingProxyType

import numpy as np

from nanomlqa_viz.cache import ArrayCache, fingerprint
from nanomlqa_viz.task import CandidateSubset, Task

TASK_CACHE_VERSION = "1"


def _strings_to_arrays(values: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    encoded = [v.encode("utf-8", "surrogatepass") for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8).copy(), offsets


def _arrays_to_strings(blob: np.ndarray, offsets: np.ndarray) -> tuple[str, ...]:
    data = blob.tobytes()
    return tuple(data[a:b].decode("utf-8", "surrogatepass") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist()))


def _task_arrays(task: Task) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    for name, values in (("doc_ids", task.doc_ids), ("doc_texts", task.doc_texts), ("query_ids", task.query_ids)):
        arrays[f"{name}_blob"], arrays[f"{name}_offsets"] = _strings_to_arrays(values)
    arrays["query_texts_blob"], arrays["query_texts_offsets"] = _strings_to_arrays(task.query_texts)
    pairs = [(task.query_index[q], task.doc_index[d]) for q, docs in task.qrels.items() for d in sorted(docs)]
    arrays["qrels"] = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    arrays["qrels_queries"] = np.asarray([task.query_index[q] for q in task.qrels], dtype=np.int64)  # a query with an empty set
    meta = {"source": task.source, "split": task.split, "source_kind": task.source_kind, "warnings": list(task.warnings)}
    configs = {}
    for config, subset in task.candidates.items():
        queries = [q for q in task.query_ids if q in subset.lists]
        flat = [task.doc_index[d] for q in queries for d in subset.lists[q]]
        offsets = np.zeros(len(queries) + 1, dtype=np.int64)
        np.cumsum([len(subset.lists[q]) for q in queries], out=offsets[1:])
        i = len(configs)
        arrays[f"cand{i}_queries"] = np.asarray([task.query_index[q] for q in queries], dtype=np.int64)
        arrays[f"cand{i}_docs"] = np.asarray(flat, dtype=np.int64)
        arrays[f"cand{i}_offsets"] = offsets
        arrays[f"cand{i}_injected"] = np.asarray(
            [(task.query_index[q], task.doc_index[d]) for q, d in subset.injected.items()], dtype=np.int64
        ).reshape(-1, 2)
        configs[config] = {"index": i, "depth": subset.depth}
    meta["candidates"] = configs
    arrays["meta_json"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8).copy()
    return arrays


def _task_from_arrays(arrays: dict[str, np.ndarray]) -> Task:
    meta = json.loads(arrays["meta_json"].tobytes().decode("utf-8"))
    doc_ids, doc_texts, query_ids, query_texts = (
        _arrays_to_strings(arrays[f"{n}_blob"], arrays[f"{n}_offsets"])
        for n in ("doc_ids", "doc_texts", "query_ids", "query_texts")
    )
    qrels: dict[str, set[str]] = {query_ids[int(q)]: set() for q in arrays["qrels_queries"]}
    for q, d in arrays["qrels"].tolist():
        qrels.setdefault(query_ids[q], set()).add(doc_ids[d])
    candidates = {}
    for config, info in meta["candidates"].items():
        i = info["index"]
        offsets = arrays[f"cand{i}_offsets"].tolist()
        docs = arrays[f"cand{i}_docs"].tolist()
        lists = {
            query_ids[q]: tuple(doc_ids[d] for d in docs[a:b])
            for q, a, b in zip(arrays[f"cand{i}_queries"].tolist(), offsets[:-1], offsets[1:])
        }
        injected = {query_ids[q]: doc_ids[d] for q, d in arrays[f"cand{i}_injected"].tolist()}
        candidates[config] = CandidateSubset(
            config=config, lists=MappingProxyType(lists), injected=MappingProxyType(injected), depth=int(info["depth"])
        )
    return Task(
        source=meta["source"],
        split=meta["split"],
        source_kind=meta["source_kind"],
        doc_ids=doc_ids,
        doc_texts=doc_texts,
        query_ids=query_ids,
        query_texts=query_texts,
        qrels=MappingProxyType({q: frozenset(d) for q, d in qrels.items()}),
        candidates=MappingProxyType(candidates),
        warnings=tuple(meta["warnings"]),
    )


def _local_folder(source: str, split: str, cache_dir: Path) -> Path | None:
    """The folder the task's files are read from, when it is on this machine (else ``None``: not kept)."""
    from nanomlqa_viz.sources import DEMO, DEMO_PATH, hub_mirror_dir, source_kind, validate_hub_id

    kind = source_kind(source)
    if kind == "demo" or source == DEMO:
        return DEMO_PATH
    if kind == "local":
        return Path(source).expanduser()
    validate_hub_id(source)
    mirror = hub_mirror_dir(cache_dir, source, split)
    return mirror if (mirror / "README.md").is_file() else None


def load_task_cached(*, source: str, split: str, cache_dir: Path, cache: ArrayCache) -> Task:
    """:func:`~nanomlqa_viz.loader.load_task`, read back from ``cache`` when the source's files are unchanged."""
    from nanomlqa_viz.loader import load_task
    from nanomlqa_viz.pipeline import source_signature
    from nanomlqa_viz.sources import message_location, validate_split

    validate_split(split, where=message_location(source))  # before any path is built
    folder = _local_folder(source, split, cache_dir)
    if folder is None:  # the hub, not mirrored yet: load (and mirror); the next start reads the mirror
        return load_task(source=source, split=split, cache_dir=cache_dir)
    key = {"version": TASK_CACHE_VERSION, "source": source, "split": split, "signature": source_signature(str(folder))}
    name = f"tasks/{fingerprint([str(v) for v in key.values()])}"
    cached = cache.load(name, key=key)
    if cached is not None:
        try:
            return _task_from_arrays(cached)
        except (KeyError, ValueError, IndexError, UnicodeDecodeError):
            pass  # a damaged file: load again and overwrite it
    task = load_task(source=source, split=split, cache_dir=cache_dir)
    if task.notice is None:
        cache.save(name, key=key, arrays=_task_arrays(task))
    return task
