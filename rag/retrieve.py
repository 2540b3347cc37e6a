"""Question -> ranked Passages: dense (Chroma cosine) and lexical (BM25) candidates fused by
reciprocal rank, filtered by publication date, with near-identical passages removed.

Every returned passage carries its dense cosine to the question in `score` (also for passages that
only BM25 found), so that one relevance threshold can decide "the corpus does not hold this".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from rag.config import Settings
from rag.embed import Embedder
from rag.lexical import Lexical
from rag.store import Index, date_epoch
from rag.types import Passage

RRF_K = 60  # the usual constant of reciprocal rank fusion (Cormack et al. 2009)


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

    def __bool__(self) -> bool:
        return bool(self.since or self.until)


def fuse(rankings: list[list[str]], k: int = RRF_K) -> list[str]:
    """Reciprocal rank fusion: ids ordered by the sum of 1/(k + rank) over the rankings.

    >>> fuse([["a", "b", "c"], ["c", "a"]])
    ['a', 'c', 'b']
    """
    score: dict[str, float] = {}
    for ranking in rankings:
        for r, cid in enumerate(ranking):
            score[cid] = score.get(cid, 0.0) + 1.0 / (k + r + 1)
    return sorted(score, key=lambda c: -score[c])


class Searcher(Protocol):
    """What ask() needs from retrieval: up to k passages for a query, best first."""

    def search(self, query: str, k: int, dates: DateRange | None = None) -> list[Passage]: ...


class Retriever:
    def __init__(self, index: Index, embedder: Embedder, settings: Settings) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self._lexical: Lexical | None = None

    @property
    def lexical(self) -> Lexical:
        if self._lexical is None:
            self._lexical = Lexical(self.index)
        return self._lexical

    def search(self, query: str, k: int, dates: DateRange | None = None, mode: str | None = None) -> list[Passage]:
        """Up to k passages, best first (module doc). mode: hybrid | dense | lexical (default: settings)."""
        mode = mode or self.settings.retrieval
        dates = dates or DateRange()
        n = max(30, 4 * k)
        vec = np.asarray(self.embedder.embed([query])[0], dtype=np.float32)
        rankings: list[list[str]] = []
        cosine: dict[str, float] = {}
        if mode in ("hybrid", "dense"):
            dense = self.index.dense_query(vec.tolist(), n, dates.where())
            cosine.update(dense)
            rankings.append([c for c, _ in dense])
        if mode in ("hybrid", "lexical"):
            rankings.append([c for c, _ in self.lexical.search(query, n, dates.since, dates.until)])
        ranked = fuse(rankings)[: 3 * k]
        missing = [c for c in ranked if c not in cosine]
        if missing:
            stored = dict(zip(missing, self.index.vectors(missing), strict=True))
            unseen = [c for c, v in stored.items() if v is None]
            if unseen:  # see Index.vectors: embed what the store could not give
                stored.update(zip(unseen, self.embedder.embed(self.index.chunk_texts(unseen)), strict=True))
            for cid, v in stored.items():
                cosine[cid] = float(np.dot(vec, np.asarray(v, dtype=np.float32)))
        passages = self.index.passages(ranked, [cosine[c] for c in ranked])
        out: list[Passage] = []
        for p in passages:
            if any(_near_duplicate(p.text, q.text) for q in out):
                continue
            out.append(p)
            if len(out) == k:
                break
        return out


def _near_duplicate(a: str, b: str, threshold: float = 0.8) -> bool:
    """Two passages sharing most of their words (a syndicated copy, a repeated paragraph)."""
    wa, wb = set(a.lower().split()), set(b.lower().split())
    if not wa or not wb:
        return False
    return len(wa & wb) / min(len(wa), len(wb)) >= threshold
