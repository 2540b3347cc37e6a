"""BM25 over the indexed chunks (bm25s), for the names and numbers that dense vectors blur.

The BM25 index is derived data: built from the article store on first use after any write, saved
under INDEX_DIR/bm25 tagged with the store's write generation, and loaded (memory-mapped) while the
generation matches. Date filters are applied as a weight mask over chunks, so a filtered query still
ranks only in-range chunks.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from rag.store import Index
from rag.types import Article

_TOKEN = r"(?u)\b\w+\b"


def _tokenize(texts: list[str]) -> object:
    import bm25s

    return bm25s.tokenize(texts, token_pattern=_TOKEN, stopwords="en", show_progress=False)


class Lexical:
    def __init__(self, index: Index) -> None:
        import bm25s

        self.index = index
        gen = index.generation()
        root = index.dir / "bm25"
        meta_path = root / "chunks.json"
        if meta_path.exists():
            meta = json.loads(meta_path.read_text())
            if meta.get("generation") == gen:
                self.ids: list[str] = meta["ids"]
                self.dates: list[str | None] = meta["dates"]
                self.bm25 = bm25s.BM25.load(str(root), mmap=True, show_progress=False) if self.ids else None
                return
        rows = index.chunk_rows()
        articles: dict[str, Article] = {}
        corpus = []
        for r in rows:
            if r["article_id"] not in articles:
                articles[r["article_id"]] = index.article(r["article_id"])
            a = articles[r["article_id"]]
            corpus.append(a.title + "\n" + a.text[r["start"] : r["end"]])  # the headline names the subject
        self.ids = [r["id"] for r in rows]
        self.dates = [r["date"] for r in rows]
        self.bm25 = None
        if corpus:
            self.bm25 = bm25s.BM25()
            self.bm25.index(_tokenize(corpus), show_progress=False)
        self._save(root, gen)

    def _save(self, root: Path, gen: int) -> None:
        """Write the index beside the old one and swap it in, so a reader never sees half of it."""
        try:
            tmp = Path(tempfile.mkdtemp(prefix="bm25-", dir=self.index.dir))
            if self.bm25 is not None:
                self.bm25.save(str(tmp), show_progress=False)
            (tmp / "chunks.json").write_text(json.dumps({"generation": gen, "ids": self.ids, "dates": self.dates}))
            old = root.with_name(f"bm25-old-{os.getpid()}")
            if root.exists():
                root.rename(old)
            tmp.rename(root)
            shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass  # a read-only index still answers; the BM25 index is rebuilt in memory next time

    def search(self, query: str, k: int, since: str | None = None, until: str | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the best k chunks dated within [since, until], best first."""
        if self.bm25 is None or not re.search(r"\w", query):
            return []
        mask = None
        if since or until:
            mask = np.array(
                [d is not None and d != "" and (not since or d >= since) and (not until or d <= until) for d in self.dates],
                dtype=np.float32,
            )
            if not mask.any():
                return []
        tokens = _tokenize([query])
        if not any(len(t) for t in tokens.ids):  # type: ignore[attr-defined]
            return []
        k = min(k, len(self.ids))
        docs, scores = self.bm25.retrieve(tokens, k=k, show_progress=False, weight_mask=mask)
        return [(self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]
