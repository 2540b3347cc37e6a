"""Ingest: paths -> Articles -> (new, changed, unchanged, duplicate) -> chunks -> vectors -> index.

Articles are indexed in batches; each batch is written pending -> chunks -> indexed (see rag.store), so
a killed run leaves no half-indexed article and the next run finishes the work.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rag.chunk import chunk_article, embed_text
from rag.config import Settings
from rag.embed import Embedder, make_embedder
from rag.errors import InputError
from rag.ingest.readers import READERS
from rag.store import Index
from rag.types import Article

BATCH_ARTICLES = 64


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)
    articles: int = 0
    chunks: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
            "duplicates": self.duplicates, "rejected": self.rejected, "articles": self.articles,
            "chunks": self.chunks,
        }


def content_hash(a: Article) -> str:
    h = hashlib.sha256()
    for part in (a.title, a.text, a.date or "", a.url or "", a.source or ""):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def iter_files(paths: Iterable[Path], report: IngestReport) -> Iterator[Path]:
    for p in paths:
        if p.is_dir():
            yield from sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith("."))
        elif p.is_file():
            yield p
        else:
            report.rejected.append({"path": str(p), "reason": "no such file or directory"})


def read_articles(paths: Iterable[Path], report: IngestReport) -> Iterator[Article]:
    """Articles from files and folders; unreadable inputs are added to report.rejected."""
    for f in iter_files(paths, report):
        reader = READERS.get(f.suffix.lower())
        if reader is None:
            report.rejected.append({"path": str(f), "reason": f"unsupported file type {f.suffix!r}"})
            continue
        try:
            yield from reader(f)
        except InputError as e:
            report.rejected.append({"path": str(f), "reason": str(e)})


def _index_batch(index: Index, embedder: Embedder, batch: list[tuple[Article, str]], settings: Settings) -> None:
    index.mark_pending(batch)
    ids = [a.id for a, _ in batch]
    index.delete_chunks(ids)  # stale chunks of an earlier version, or of a killed run
    by_id = {a.id: a for a, _ in batch}
    chunks = [c for a, _ in batch for c in chunk_article(a, settings.chunk_chars)]
    vectors = embedder.embed([embed_text(by_id[c.article_id], c) for c in chunks])
    index.add_chunks(by_id, chunks, vectors)
    index.mark_indexed(ids)


def ingest(
    paths: Iterable[Path | str],
    settings: Settings,
    embedder: Embedder | None = None,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Read, chunk, embed and store articles; returns what happened. Never raises for bad inputs:
    they are listed in `rejected` and the good ones still land."""
    report = IngestReport()
    embedder = embedder or make_embedder(settings)
    with Index.open(settings, create=True) as index:
        index.lock()
        index.check_embedder(embedder.name, write=True)
        recovered = index.pending_articles()
        for i in range(0, len(recovered), BATCH_ARTICLES):
            _index_batch(index, embedder, recovered[i : i + BATCH_ARTICLES], settings)
        batch: list[tuple[Article, str]] = []
        seen: dict[str, str] = {}  # content hash -> id, within this run
        for article in read_articles([Path(p) for p in paths], report):
            h = content_hash(article)
            old = index.content_hash(article.id)
            if old == h:
                report.unchanged += 1
                continue
            first = seen.get(h) or index.id_for_hash(h)
            if first is not None and first != article.id:
                report.duplicates += 1
                continue
            seen[h] = article.id
            if old is None:
                report.added += 1
            else:
                report.updated += 1
            batch.append((article, h))
            if len(batch) >= BATCH_ARTICLES:
                _index_batch(index, embedder, batch, settings)
                if progress:
                    progress(len(batch))
                batch = []
        if batch:
            _index_batch(index, embedder, batch, settings)
            if progress:
                progress(len(batch))
        report.articles, report.chunks = index.counts()
    return report
