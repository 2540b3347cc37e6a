"""Lexical (BM25) search over the indexed chunks, for the names and numbers that dense vectors blur.

The index lives in the article store's own engine (rag.index.db: SQLite FTS5, or PostgreSQL full-text
search) and is updated in the same transaction as the chunks, so there is nothing to rebuild after a write
and nothing to load before a query. Date filters are conditions of the same query, so a filtered search
ranks only in-range chunks.
"""

from __future__ import annotations

from rag.index.db import query_terms
from rag.store import Index


class Lexical:
    def __init__(self, index: Index) -> None:
        self.index = index

    def search(self, query: str, k: int, since: str | None = None, until: str | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the best k chunks dated within [since, until], best first."""
        return self.index.lexical_search(query_terms(query), k, since, until)
