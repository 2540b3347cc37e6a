"""Question -> ranked Passages from the index.

Dense retrieval over Chroma (cosine), with optional date filters on the stored publication day.
Passages of the same article that overlap, and near-identical passages, are not returned twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from rag.config import Settings
from rag.embed import Embedder
from rag.store import Index, date_epoch
from rag.types import Passage


@dataclass(frozen=True)
class DateRange:
    since: str | None = None  # ISO dates, inclusive
    until: str | None = None

    def where(self) -> dict[str, Any] | None:
        conds: list[dict[str, Any]] = []
        if self.since:
            conds.append({"date_epoch": {"$gte": date_epoch(self.since)}})
        if self.until:
            conds.append({"date_epoch": {"$lte": date_epoch(self.until)}})
        if not conds:
            return None
        return conds[0] if len(conds) == 1 else {"$and": conds}


class Searcher(Protocol):
    """What ask() needs from retrieval: up to k passages for a query, best first."""

    def search(self, query: str, k: int, dates: DateRange | None = None) -> list[Passage]: ...


class Retriever:
    def __init__(self, index: Index, embedder: Embedder, settings: Settings) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings

    def search(self, query: str, k: int, dates: DateRange | None = None) -> list[Passage]:
        """Up to k passages, best first; `score` is the dense cosine similarity."""
        vec = self.embedder.embed([query])[0]
        hits = self.index.dense_query(vec, k * 3, (dates or DateRange()).where())
        passages = self.index.passages([h[0] for h in hits], [h[1] for h in hits])
        out: list[Passage] = []
        for p in passages:
            if any(_near_duplicate(p.text, q.text) for q in out):
                continue
            out.append(p)
            if len(out) == k:
                break
        return out


def _near_duplicate(a: str, b: str, threshold: float = 0.8) -> bool:
    wa, wb = set(a.lower().split()), set(b.lower().split())
    if not wa or not wb:
        return False
    return len(wa & wb) / min(len(wa), len(wb)) >= threshold
