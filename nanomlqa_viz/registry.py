"""The profile registry: the one place every page and the CLI ask which profiles exist.

An entry holds a profile's name (the user's, for runs), its kind, a display label, a colour that
stays the same for that name on every page, and its coverage (how many queries it ranks). The
order is fixed: BM25, the dense models, the hybrid, the user's runs, the dataset's candidate
subsets.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from nanomlqa_viz.profiles import DENSE_PREFIX, REFERENCE_PREFIX
from nanomlqa_viz.ranking import RankedProfile
from nanomlqa_viz.task import short_source_name


class ProfileKind(StrEnum):
    SPARSE = "sparse"  # BM25 over the whole corpus
    DENSE = "dense"  # one dense model over the whole corpus
    FUSED = "fused"  # reciprocal rank fusion of other profiles (not an independent vote)
    RUN = "run"  # a run file the user brought
    REFERENCE = "reference"  # one of the dataset's candidate subsets


KIND_LABELS = MappingProxyType(
    {
        ProfileKind.SPARSE: "computed (BM25)",
        ProfileKind.DENSE: "computed (dense model)",
        ProfileKind.FUSED: "computed (fusion)",
        ProfileKind.RUN: "your run",
        ProfileKind.REFERENCE: "dataset candidate subset",
    }
)
_ORDER = (ProfileKind.SPARSE, ProfileKind.DENSE, ProfileKind.FUSED, ProfileKind.RUN, ProfileKind.REFERENCE)
_FIXED_COLOURS = MappingProxyType({"bm25": "#d97706", "dense": "#2563eb", "hybrid": "#7c3aed"})
PALETTE = ("#0d9488", "#db2777", "#65a30d", "#0891b2", "#b45309", "#4f46e5", "#be123c", "#15803d", "#6b7280", "#a16207")
_BUILTIN_LABELS = MappingProxyType({"bm25": "BM25", "dense": "Dense", "hybrid": "Hybrid (RRF)"})


def profile_label(name: str) -> str:
    """The short display name of a profile (``ref · bm25``, ``Dense · model``, a run's own name)."""
    if name.startswith(REFERENCE_PREFIX):
        return f"ref · {name.removeprefix(REFERENCE_PREFIX)}"
    if name.startswith(DENSE_PREFIX):
        return f"Dense · {short_source_name(name.removeprefix(DENSE_PREFIX))}"  # a local model folder without its path
    return _BUILTIN_LABELS.get(name, name)


def kind_of(name: str) -> ProfileKind:
    """The kind a built-in name implies (anything else is a run)."""
    if name == "bm25":
        return ProfileKind.SPARSE
    if name == "dense" or name.startswith(DENSE_PREFIX):
        return ProfileKind.DENSE
    if name == "hybrid":
        return ProfileKind.FUSED
    if name.startswith(REFERENCE_PREFIX):
        return ProfileKind.REFERENCE
    return ProfileKind.RUN


@dataclass(frozen=True, eq=False)
class ProfileEntry:
    name: str
    kind: ProfileKind
    profile: RankedProfile
    colour: str

    @property
    def label(self) -> str:
        return profile_label(self.name)

    @property
    def independent(self) -> bool:
        """Scores of its own (BM25, a dense model): a vote in the label audit. Fusions and copies of them are not."""
        return self.kind in (ProfileKind.SPARSE, ProfileKind.DENSE)

    @property
    def n_covered(self) -> int:
        return self.profile.n_covered

    @property
    def n_queries(self) -> int:
        return self.profile.n_queries

    @property
    def partial_coverage(self) -> bool:
        """Ranks fewer queries than the task has (marked wherever the profile appears)."""
        return self.n_covered < self.n_queries

    @property
    def coverage_note(self) -> str:
        return f"ranks {self.n_covered:,} of {self.n_queries:,} queries" if self.partial_coverage else ""


def _colours(names: Iterable[str]) -> dict[str, str]:
    """Fixed colours for the built-in profiles; any other name gets a palette colour from a digest of it.

    A digest (not Python's salted ``hash``) keeps a name's colour the same in every process;
    a colour already taken in this registry moves to the next free one.
    """
    out: dict[str, str] = {}
    taken = set(_FIXED_COLOURS.values())
    for name in names:
        if name in _FIXED_COLOURS:
            out[name] = _FIXED_COLOURS[name]
            continue
        start = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:4], "big") % len(PALETTE)
        free = [PALETTE[(start + i) % len(PALETTE)] for i in range(len(PALETTE))]
        colour = next((c for c in free if c not in taken), free[0])
        taken.add(colour)
        out[name] = colour
    return out


@dataclass(frozen=True, eq=False)
class ProfileRegistry:
    """The profiles of one view, in display order."""

    entries: tuple[ProfileEntry, ...]

    @classmethod
    def of(cls, profiles: Mapping[str, RankedProfile], *, kinds: Mapping[str, ProfileKind] | None = None) -> ProfileRegistry:
        kinds = dict(kinds or {})
        kind = {name: kinds.get(name, kind_of(name)) for name in profiles}
        ordered = sorted(profiles, key=lambda n: _ORDER.index(kind[n]))  # stable: insertion order within a kind
        colours = _colours(ordered)
        return cls(entries=tuple(ProfileEntry(name=n, kind=kind[n], profile=profiles[n], colour=colours[n]) for n in ordered))

    def __iter__(self) -> Iterator[ProfileEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, name: object) -> bool:
        return any(e.name == name for e in self.entries)

    def __getitem__(self, name: str) -> ProfileEntry:
        for entry in self.entries:
            if entry.name == name:
                return entry
        raise KeyError(name)

    def names(self, *kinds: ProfileKind) -> list[str]:
        return [e.name for e in self.entries if not kinds or e.kind in kinds]

    def profiles(self, *kinds: ProfileKind) -> dict[str, RankedProfile]:
        return {e.name: e.profile for e in self.entries if not kinds or e.kind in kinds}

    def colours(self) -> dict[str, str]:
        return {e.name: e.colour for e in self.entries}

    def labels(self) -> dict[str, str]:
        return {e.name: e.label for e in self.entries}

    def votes(self) -> dict[str, RankedProfile]:
        """The independent profiles (BM25 and every dense model): the label audit's votes."""
        return {e.name: e.profile for e in self.entries if e.independent}
