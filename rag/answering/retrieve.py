"""Question -> ranked Passages: dense (Chroma cosine) and lexical (BM25) candidates fused by
reciprocal rank, filtered or ranked by date, with near-identical passages removed.

Two kinds of dates: `since`/`until` given by the user are hard filters on publication day. A date read
from the question ("on 3 May 2007") is the date of an event, reported that day or days later, or dated
back by a later article ("last month"): it ranks instead of filtering. Candidates come from articles
published in the window or up to `event_lag_days` after it, from chunks whose text places an event in
the window (rag.textdates, stored at ingest), and, at half weight, from the whole index.

The dense and the lexical searches run at the same time (the vector store's query in a worker thread,
the article store's in the caller's): each waits in native code, so hybrid costs about the slower of the
two rather than their sum.

Every returned passage carries its dense cosine to the question in `score` (also for passages that
only BM25 found), so that one relevance threshold can decide "the corpus does not hold this"; passages under
that threshold (RAG_MIN_RELEVANCE) come after those over it, so that a window's unrelated articles do not
crowd out a related one from outside it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

import numpy as np

from rag.config import Settings
from rag.index.lexical import Lexical
from rag.models.embed import Embedder
from rag.store import Index, date_epoch
from rag.types import Passage

RRF_K = 60  # the usual constant of reciprocal rank fusion (Cormack et al. 2009)
_DENSE = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rag-dense")  # see module doc


@dataclass(frozen=True)
class DateRange:
    since: str | None = None  # ISO dates, inclusive
    until: str | None = None
    event: bool = False  # read from the question: the date of an event, which ranks rather than filters
    relative: bool = False  # read from the question relative to --as-of ("on Monday", "last week")

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


def fuse(rankings: list[list[str]], k: int = RRF_K, weights: list[float] | None = None) -> list[str]:
    """Reciprocal rank fusion: ids ordered by the sum of weight/(k + rank) over the rankings.

    >>> fuse([["a", "b", "c"], ["c", "a"]])
    ['a', 'c', 'b']
    """
    score: dict[str, float] = {}
    for i, ranking in enumerate(rankings):
        w = weights[i] if weights else 1.0
        for r, cid in enumerate(ranking):
            score[cid] = score.get(cid, 0.0) + w / (k + r + 1)
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
        weights: list[float] = []
        cosine: dict[str, float] = {}
        windows = [(dates, 1.0)]
        if dates.event:  # see module doc: the report may come days later, or date the event back
            lag = (date.fromisoformat(dates.until) + timedelta(self.settings.event_lag_days)).isoformat() \
                if dates.until else None
            windows = [(DateRange(dates.since, lag), 1.0), (DateRange(), 0.5)]
        pending = [_DENSE.submit(self.index.dense_query, vec.tolist(), n, window.where()) if mode != "lexical"
                   else None for window, _ in windows]
        found = [self.lexical.search(query, n, window.since, window.until) if mode != "dense" else None
                 for window, _ in windows]
        for (_, w), job, lex in zip(windows, pending, found, strict=True):
            if job is not None:
                dense = job.result()
                cosine.update(dense)
                rankings.append([c for c, _ in dense])
                weights.append(w)
            if lex is not None:
                rankings.append([c for c, _ in lex])
                weights.append(w)
        if dates.event and dates.since and dates.until:
            told = self.index.event_chunks(dates.since, dates.until)
            if told:
                self._cosines(vec, told, cosine)
                rankings.append(sorted(told, key=lambda c: -cosine[c])[:n])
                weights.append(1.0)
        ranked = fuse(rankings, weights=weights)[: 6 * k]
        self._cosines(vec, ranked, cosine)
        # passages under the relevance threshold come after those over it, whatever their rank: a window's
        # unrelated articles must not crowd out a related one from outside it (a later report of the event)
        ranked = sorted(ranked, key=lambda c: cosine[c] < self.settings.min_relevance)[: 3 * k]
        passages = self.index.passages(ranked, [cosine[c] for c in ranked])
        out: list[Passage] = []
        for p in passages:
            if any(_near_duplicate(p.text, q.text) for q in out):
                continue
            out.append(p)
            if len(out) == k:
                break
        return out


    def _cosines(self, vec: np.ndarray, ids: list[str], cosine: dict[str, float]) -> None:
        """Fill in the dense cosine of chunks that dense search did not return (stored vectors)."""
        missing = [c for c in ids if c not in cosine]
        if not missing:
            return
        stored = dict(zip(missing, self.index.vectors(missing), strict=True))
        unseen = [c for c, v in stored.items() if v is None]
        if unseen:  # see Index.vectors: embed what the store could not give
            stored.update(zip(unseen, self.embedder.embed(self.index.chunk_texts(unseen)), strict=True))
        for cid, v in stored.items():
            cosine[cid] = float(np.dot(vec, np.asarray(v, dtype=np.float32)))


def _near_duplicate(a: str, b: str, threshold: float = 0.8) -> bool:
    """Two passages sharing most of their words (a syndicated copy, a repeated paragraph)."""
    wa, wb = set(a.lower().split()), set(b.lower().split())
    if not wa or not wb:
        return False
    return len(wa & wb) / min(len(wa), len(wb)) >= threshold
