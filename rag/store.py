"""The index: an article store (SQLite, the source of truth for text and offsets) beside a Chroma
collection of chunk vectors (embedded `PersistentClient`, or a Chroma server when RAG_CHROMA_URL is set).

Crash safety: an article is written as `pending` first, its chunks are then added to Chroma, and only
then is it marked `indexed`, in one SQLite transaction per batch. Readers see only `indexed` articles.
A run that finds `pending` articles (a killed ingest) deletes their chunks and indexes them again.
Writers hold an exclusive file lock on the index directory; readers take none.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from datetime import date as Date
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import BackendError, ConfigError, IndexEmptyError, LockedError, NotFoundError
from rag.types import Article, Chunk, Passage

COLLECTION = "rag_chunks"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, date TEXT, date_source TEXT NOT NULL, url TEXT,
    source TEXT, author TEXT, path TEXT, text TEXT NOT NULL, content_hash TEXT NOT NULL,
    status TEXT NOT NULL, n_chunks INTEGER NOT NULL DEFAULT 0, ingested_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_hash ON articles(content_hash);
CREATE INDEX IF NOT EXISTS articles_date ON articles(date);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, article_id TEXT NOT NULL, idx INTEGER NOT NULL, start INTEGER NOT NULL,
    "end" INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
"""


def date_epoch(iso: str | None) -> int | None:
    """Days since 1970-01-01 for an ISO date, so Chroma can filter on ranges of ints."""
    if not iso:
        return None
    return (Date.fromisoformat(iso) - Date(1970, 1, 1)).days


def _article_from_row(row: sqlite3.Row) -> Article:
    return Article(
        id=row["id"], title=row["title"], text=row["text"], date=row["date"], url=row["url"],
        source=row["source"], author=row["author"], date_source=row["date_source"], path=row["path"],
    )


class Index:
    """One index directory. Open with `Index.open(settings)`; close with `.close()` or `with`."""

    def __init__(self, settings: Settings, create: bool) -> None:
        self.settings = settings
        self.dir = Path(settings.index_dir)
        db_path = self.dir / "articles.sqlite"
        if not create and not db_path.exists():
            raise IndexEmptyError(
                f"no index at {self.dir}: run `rag ingest PATH` first (or point RAG_INDEX_DIR / --index at one)"
            )
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(db_path, timeout=30, isolation_level=None)
        except (OSError, sqlite3.Error) as e:
            raise ConfigError(f"cannot open the index at {self.dir}: {e}; check RAG_INDEX_DIR / --index") from e
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        if create:
            self.db.executescript(_SCHEMA)
        self._collection: Any = None
        self._lock_fd: int | None = None

    @classmethod
    def open(cls, settings: Settings, create: bool = False) -> Index:
        return cls(settings, create)

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.unlock()
        self.db.close()

    # ---- locking -------------------------------------------------------------------------
    def lock(self, wait: bool = True) -> None:
        """Take the writer lock; with wait=False raise LockedError if another run holds it."""
        fd = os.open(self.dir / "write.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                os.close(fd)
                raise LockedError(
                    f"another rag run is writing to {self.dir}; wait for it to finish and run again"
                ) from None
            fcntl.flock(fd, fcntl.LOCK_EX)
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    # ---- chroma --------------------------------------------------------------------------
    @property
    def collection(self) -> Any:
        if self._collection is None:
            self._collection = self._open_collection()
        return self._collection

    def _open_collection(self) -> Any:
        import chromadb

        chroma_settings = chromadb.Settings(anonymized_telemetry=False)
        try:
            if self.settings.chroma_url:
                from urllib.parse import urlparse

                u = urlparse(self.settings.chroma_url)
                client = chromadb.HttpClient(
                    host=u.hostname or "127.0.0.1", port=u.port or 8000, ssl=u.scheme == "https",
                    settings=chroma_settings,
                )
                client.heartbeat()
            else:
                client = chromadb.PersistentClient(path=str(self.dir / "chroma"), settings=chroma_settings)
            return client.get_or_create_collection(
                COLLECTION, metadata={"hnsw:space": "cosine"}, embedding_function=None
            )
        except Exception as e:  # chromadb raises many unrelated types; name the setting to fix
            where = f"the Chroma server at {self.settings.chroma_url} (RAG_CHROMA_URL)" if self.settings.chroma_url \
                else f"the embedded Chroma store at {self.dir / 'chroma'}"
            raise BackendError(f"cannot open {where}: {e.__class__.__name__}: {e}") from e

    # ---- meta ----------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row["value"] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def check_embedder(self, name: str, write: bool) -> None:
        """Refuse to mix embedding models in one index (the vectors would not be comparable)."""
        built = self.get_meta("embed_model")
        if built is None:
            if write:
                self.set_meta("embed_model", name)
            return
        if built != name:
            raise ConfigError(
                f"this index was built with the embedding model {built!r}, not {name!r}: "
                "use the same RAG_EMBED_* settings, or a new RAG_INDEX_DIR and ingest again"
            )

    # ---- writes --------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    def mark_pending(self, articles: Sequence[tuple[Article, str]]) -> None:
        """Store (article, content_hash) pairs as pending, replacing any earlier version's row."""
        now = time.time()
        with self.transaction() as db:
            for a, h in articles:
                db.execute(
                    "INSERT OR REPLACE INTO articles(id, title, date, date_source, url, source, author, path,"
                    " text, content_hash, status, n_chunks, ingested_at) VALUES (?,?,?,?,?,?,?,?,?,?,'pending',0,?)",
                    (a.id, a.title, a.date, a.date_source, a.url, a.source, a.author, a.path, a.text, h, now),
                )

    def delete_chunks(self, article_ids: Sequence[str]) -> None:
        """Remove every chunk of these articles from Chroma and from the chunk table."""
        if not article_ids:
            return
        ids = list(article_ids)
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            self.collection.delete(where={"article_id": {"$in": part}})
        with self.transaction() as db:
            db.executemany("DELETE FROM chunks WHERE article_id=?", [(i,) for i in ids])

    def add_chunks(self, articles: dict[str, Article], chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        """Add chunk vectors to Chroma and chunk rows to SQLite (articles stay pending)."""
        metas = []
        for c in chunks:
            a = articles[c.article_id]
            m: dict[str, Any] = {"article_id": c.article_id, "idx": c.index, "start": c.start, "end": c.end,
                                 "title": a.title}
            if a.date:
                m["date"] = a.date
                m["date_epoch"] = date_epoch(a.date)
            if a.url:
                m["url"] = a.url
            if a.source:
                m["source"] = a.source
            metas.append(m)
        for i in range(0, len(chunks), 1000):
            self.collection.upsert(
                ids=[c.id for c in chunks[i : i + 1000]],
                embeddings=[list(v) for v in vectors[i : i + 1000]],
                metadatas=metas[i : i + 1000],
            )
        with self.transaction() as db:
            db.executemany(
                'INSERT OR REPLACE INTO chunks(id, article_id, idx, start, "end") VALUES (?,?,?,?,?)',
                [(c.id, c.article_id, c.index, c.start, c.end) for c in chunks],
            )

    def generation(self) -> int:
        """A counter bumped by every write that changes what can be retrieved (derived indexes key on it)."""
        return int(self.get_meta("generation") or 0)

    def _bump(self, db: sqlite3.Connection) -> None:
        db.execute(
            "INSERT INTO meta(key, value) VALUES ('generation', '1')"
            " ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    def mark_indexed(self, article_ids: Sequence[str]) -> None:
        with self.transaction() as db:
            self._bump(db)
            db.executemany(
                "UPDATE articles SET status='indexed',"
                " n_chunks=(SELECT COUNT(*) FROM chunks WHERE article_id=articles.id) WHERE id=?",
                [(i,) for i in article_ids],
            )

    def remove(self, article_ids: Sequence[str]) -> list[str]:
        """Remove articles and their chunks; returns the ids that were not in the index."""
        missing = [i for i in article_ids if not self.has_article(i, any_status=True)]
        present = [i for i in article_ids if i not in missing]
        self.delete_chunks(present)
        with self.transaction() as db:
            self._bump(db)
            db.executemany("DELETE FROM articles WHERE id=?", [(i,) for i in present])
        return missing

    # ---- reads ---------------------------------------------------------------------------
    def pending_articles(self) -> list[tuple[Article, str]]:
        rows = self.db.execute("SELECT * FROM articles WHERE status='pending'").fetchall()
        return [(_article_from_row(r), r["content_hash"]) for r in rows]

    def has_article(self, article_id: str, any_status: bool = False) -> bool:
        q = "SELECT 1 FROM articles WHERE id=?" + ("" if any_status else " AND status='indexed'")
        return self.db.execute(q, (article_id,)).fetchone() is not None

    def content_hash(self, article_id: str) -> str | None:
        row = self.db.execute(
            "SELECT content_hash FROM articles WHERE id=? AND status='indexed'", (article_id,)
        ).fetchone()
        return row["content_hash"] if row else None

    def id_for_hash(self, content_hash: str) -> str | None:
        row = self.db.execute(
            "SELECT id FROM articles WHERE content_hash=? AND status='indexed' LIMIT 1", (content_hash,)
        ).fetchone()
        return row["id"] if row else None

    def article(self, article_id: str) -> Article:
        row = self.db.execute("SELECT * FROM articles WHERE id=? AND status='indexed'", (article_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no article with id {article_id!r} in {self.dir}; list ids with `rag stats --json`")
        return _article_from_row(row)

    def articles(self, since: str | None = None, until: str | None = None) -> list[Article]:
        """Indexed articles, by date then id; with since/until, only those dated in that range."""
        q, args = "SELECT * FROM articles WHERE status='indexed'", []
        if since:
            q += " AND date >= ?"
            args.append(since)
        if until:
            q += " AND date <= ?"
            args.append(until)
        rows = self.db.execute(q + " ORDER BY date, id", args).fetchall()
        return [_article_from_row(r) for r in rows]

    def counts(self) -> tuple[int, int]:
        """(indexed articles, chunks of indexed articles)."""
        a = self.db.execute("SELECT COUNT(*), COALESCE(SUM(n_chunks), 0) FROM articles WHERE status='indexed'").fetchone()
        return int(a[0]), int(a[1])

    def chunk_rows(self) -> list[sqlite3.Row]:
        """Every chunk of an indexed article with its text span and date (for lexical search)."""
        return self.db.execute(
            'SELECT c.id, c.article_id, c.start, c."end", a.date FROM chunks c JOIN articles a'
            " ON a.id=c.article_id WHERE a.status='indexed' ORDER BY c.id"
        ).fetchall()

    def passages(self, chunk_ids: Sequence[str], scores: Sequence[float] | None = None) -> list[Passage]:
        """Passages for chunk ids, in the given order; ids of unindexed articles are skipped."""
        out: list[Passage] = []
        cache: dict[str, Article] = {}
        for n, cid in enumerate(chunk_ids):
            row = self.db.execute('SELECT article_id, start, "end" FROM chunks WHERE id=?', (cid,)).fetchone()
            if row is None:
                continue
            aid = row["article_id"]
            if aid not in cache:
                try:
                    cache[aid] = self.article(aid)
                except NotFoundError:
                    continue
            a = cache[aid]
            out.append(Passage(
                chunk_id=cid, article_id=aid, title=a.title, date=a.date, url=a.url, start=row["start"],
                end=row["end"], text=a.text[row["start"] : row["end"]], score=scores[n] if scores else 0.0,
            ))
        return out

    def vectors(self, chunk_ids: Sequence[str]) -> list[list[float] | None]:
        """Stored vectors of these chunks, in order (None for an id Chroma does not hold)."""
        res = self.collection.get(ids=list(chunk_ids), include=["embeddings"])
        by_id = {cid: list(v) for cid, v in zip(res["ids"], res["embeddings"], strict=True)}
        return [by_id.get(c) for c in chunk_ids]

    def dense_query(self, vector: Sequence[float], k: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the k nearest chunks, best first."""
        n = self.collection.count()
        if n == 0:
            return []
        res = self.collection.query(
            query_embeddings=[list(vector)], n_results=min(k, n), where=where or None, include=["distances"]
        )
        return [(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0], strict=True)]
