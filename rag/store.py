"""The index: an article store (SQLite, the source of truth for text and offsets) beside a Chroma
collection of chunk vectors (embedded `PersistentClient`, or a Chroma server when RAG_CHROMA_URL is set,
in the collection RAG_CHROMA_COLLECTION). The article store always lives in RAG_INDEX_DIR; the index
remembers which kind of vector store and which collection it was built in, and which embedding model.

Atomic writes across the two stores (`write_articles`, `remove`): the SQLite `chunks` table says which
vectors are live -- readers only use chunks it lists, of `indexed` articles -- and the `unowned` table logs
every vector Chroma may hold that no chunk row owns. A batch (already embedded) is written as:
1. log its new chunk ids as unowned; 2. upsert its vectors into Chroma (an updated article's chunks get
new ids, `ID#N@HASH`, so its previous vectors stay untouched); 3. one SQLite transaction switches: article
rows (indexed), chunk rows, signatures, and the previous version's chunk ids moved to the log; 4. delete
the logged vectors from Chroma, then their log rows. `remove` is step 3 (rows gone, ids logged) then 4.
So a reader sees the previous version until step 3 commits and the new one after, whatever fails or is
killed in between: a failing embedder writes nothing, a failing Chroma or a killed run leaves only logged
vectors, which the next writer deletes when it takes the lock (`recover`); an interrupted remove is
either not committed (nothing happened) or finished then. `drift()` compares the two stores for what
an older version, or a Chroma that lost data, can leave; `repair_vectors` fixes it (`rag doctor --repair`).
Articles `pending` in an index written by an older version are indexed again by the next ingest.
Writers hold the writer lock (a file lock on the index directory, or a PostgreSQL advisory lock); readers
take none. The same transaction that switches a batch's chunk rows updates the lexical index (rag.index.db).

The article store is SQLite in RAG_INDEX_DIR, or the PostgreSQL server of RAG_DATABASE_URL (rag.index): the
SQL here is written for both (`?` placeholders, `ON CONFLICT`), through `rag.index.db.Database`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import date as Date
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import (
    BackendError,
    ConfigError,
    IndexEmptyError,
    NotFoundError,
    RagError,
    StorageError,
)
from rag.index.db import Database, LexRow, SQLiteDB, date_range
from rag.types import Article, Chunk, Passage

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
CREATE TABLE IF NOT EXISTS duplicates (
    id TEXT PRIMARY KEY, duplicate_of TEXT NOT NULL, content_hash TEXT NOT NULL, title TEXT, path TEXT,
    similarity REAL NOT NULL, recorded_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS duplicates_of ON duplicates(duplicate_of);
CREATE TABLE IF NOT EXISTS minhash (article_id TEXT PRIMARY KEY, sig BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS lsh (key INTEGER NOT NULL, article_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS lsh_key ON lsh(key);
CREATE INDEX IF NOT EXISTS lsh_article ON lsh(article_id);
CREATE TABLE IF NOT EXISTS unowned (chunk_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS chunk_dates (chunk_id TEXT NOT NULL, article_id TEXT NOT NULL, lo INTEGER NOT NULL,
    hi INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS chunk_dates_lo ON chunk_dates(lo);
CREATE INDEX IF NOT EXISTS chunk_dates_article ON chunk_dates(article_id);
"""


def _event_rows(articles: dict[str, Article], chunks: Sequence[Chunk],
                ids: Sequence[str] | None = None) -> list[tuple[str, str, int, int]]:
    """(chunk id, article id, first day, last day) of each event date a chunk's text mentions (rag.textdates)."""
    from rag.textdates import event_days

    out = []
    for n, c in enumerate(chunks):
        published = articles[c.article_id].date
        if published:
            for lo, hi in event_days(c.text, published):
                out.append((ids[n] if ids else c.id, c.article_id, date_epoch(lo.isoformat()) or 0,
                            date_epoch(hi.isoformat()) or 0))
    return out


def _lex_rows(articles: dict[str, Article], chunks: Sequence[Chunk], ids: Sequence[str]) -> list[LexRow]:
    return [(i, c.article_id, articles[c.article_id].date, articles[c.article_id].title,
             articles[c.article_id].text[c.start : c.end]) for i, c in zip(ids, chunks, strict=True)]


def date_epoch(iso: str | None) -> int | None:
    """Days since 1970-01-01 for an ISO date, so Chroma can filter on ranges of ints."""
    if not iso:
        return None
    return (Date.fromisoformat(iso) - Date(1970, 1, 1)).days


FULL_BELOW = 1 << 20  # bytes free under which a write's failure is the disk being full (Chroma's segment
# files are written in blocks larger than what is left, so its writes fail before the last byte is used)


def _dir_state(path: Path) -> str | None:
    """'read-only' or 'full' when the file system holding `path` (or its nearest existing parent) is."""
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        st = os.statvfs(p)
    except OSError:
        return None
    if st.f_flag & os.ST_RDONLY or not os.access(p, os.W_OK):
        return "read-only"
    if st.f_bavail * st.f_frsize < FULL_BELOW:
        return "full"
    return None


def storage_error(index_dir: Path, e: BaseException) -> StorageError:
    """One clear line for an index directory that cannot be written (read-only, disk full, ...)."""
    msg = (getattr(e, "strerror", None) or str(e) or e.__class__.__name__).splitlines()[0][:200]
    low = msg.lower()
    state = _dir_state(index_dir)
    if state == "full" or "full" in low or "no space" in low or "too large" in low or "quota" in low:
        what, fix = "the disk is full", "free disk space or point RAG_INDEX_DIR / --index at a disk with room"
    elif state == "read-only" or "readonly" in low or "read-only" in low or "permission" in low:
        what, fix = "it is read-only", "make it writable or point RAG_INDEX_DIR / --index at a writable directory"
    else:
        what, fix = "the write failed", "check the disk and RAG_INDEX_DIR / --index"
    return StorageError(f"cannot write the index at {index_dir}: {what} ({msg}); {fix}, then run again")


def _article_from_row(row: Any) -> Article:
    return Article(
        id=row["id"], title=row["title"], text=row["text"], date=row["date"], url=row["url"],
        source=row["source"], author=row["author"], date_source=row["date_source"], path=row["path"],
    )


class Index:
    """One index directory. Open with `Index.open(settings)`; close with `.close()` or `with`."""

    db: Database

    def __init__(self, settings: Settings, create: bool) -> None:
        self.settings = settings
        self.dir = Path(settings.index_dir)
        self._collection: Any = None
        if settings.database_url:
            self._open_postgres(create)
        else:
            self._open_sqlite(create)
        self._upgrade_lexical()

    def _open_postgres(self, create: bool) -> None:
        from rag.index.postgres import PostgresDB

        self.db = PostgresDB(self.settings.database_url or "")
        try:
            tables = self._ensure_schema(create)
        except RagError:
            self.db.close()
            raise
        except self.db.errors as e:
            self.db.close()
            raise self.db.fail(e) from e
        if "articles" not in tables:
            self.db.close()
            raise IndexEmptyError(f"no index in the PostgreSQL store {self.db.where} (RAG_DATABASE_URL): "
                                  "run `rag ingest PATH` first")

    def _ensure_schema(self, create: bool) -> set[str]:
        """The store's tables, created (or an older index's brought up to date, its event dates backfilled);
        idempotent. One transaction: a run killed while creating it leaves all the tables or none
        (executescript alone commits each statement, and a reader then finds half a schema)."""
        tables = self.db.tables()
        if create or ("articles" in tables and not {"lsh", "unowned", "chunk_dates"} <= tables):
            self.db.script(_SCHEMA)
            if "articles" in tables and "chunk_dates" not in tables:
                self._backfill_event_dates()
            tables = self.db.tables()
        return tables

    def _open_sqlite(self, create: bool) -> None:
        db_path = self.dir / "articles.sqlite"
        if not create and not db_path.exists():
            raise IndexEmptyError(
                f"no index at {self.dir}: run `rag ingest PATH` first (or point RAG_INDEX_DIR / --index at one)"
            )
        try:
            self.read_only = not create and _dir_state(self.dir) == "read-only"
            if self.read_only:
                # a read-only copy (or mount) of an index: nothing can change it, so read it as immutable
                conn = sqlite3.connect(f"{db_path.absolute().as_uri()}?immutable=1", uri=True, isolation_level=None)
            else:
                self.dir.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(db_path, timeout=30, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            conn.row_factory = sqlite3.Row
            self.db = SQLiteDB(conn, self.dir, lambda e: storage_error(self.dir, e))
            if not self.read_only:
                self._ensure_schema(create)
            empty = "articles" not in self.db.tables()
        except (OSError, sqlite3.Error) as e:
            raise storage_error(self.dir, e) from e
        if empty:  # a run killed before it wrote the schema
            self.db.close()
            raise IndexEmptyError(f"no articles in the index at {self.dir} yet: run `rag ingest PATH` first")

    def _upgrade_lexical(self) -> None:
        """An index made before the lexical index lived in the store gets it, once, under the writer lock:
        the tables, then every indexed chunk (text only, no embedding)."""
        try:
            if self.db.lex_ready() or getattr(self, "read_only", False):
                return
            self.lock(timeout=self.settings.lock_timeout, recover=False)
            try:
                if not self.db.lex_ready():
                    with self.transaction() as db:
                        db.lex_create()
                        rows = db.execute('SELECT c.id, c.article_id, a.date, a.title, a.text, c.start, c."end" '
                                          "FROM chunks c JOIN articles a ON a.id=c.article_id "
                                          "WHERE a.status='indexed'").fetchall()
                        db.lex_add([(r[0], r[1], r[2], r[3], r[4][r[5] : r[6]]) for r in rows])
            finally:
                self.unlock()
        except RagError:
            self.db.close()
            raise
        except self.db.errors as e:
            self.db.close()
            raise self.db.fail(e) from e

    @classmethod
    def open(cls, settings: Settings, create: bool = False) -> Index:
        return cls(settings, create)

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    # ---- locking -------------------------------------------------------------------------
    def lock(self, wait: bool = True, timeout: float | None = None,
             on_wait: Callable[[str], None] | None = None, recover: bool = True) -> None:
        """Take the writer lock (embedded: filelock, flock on POSIX, msvcrt on Windows; PostgreSQL: an
        advisory lock). If another run holds it: with wait=False raise LockedError at once; otherwise call
        on_wait(message) once and wait, up to `timeout` seconds (None: for ever)."""
        self.db.lock(wait, timeout, on_wait)
        if recover:
            self.recover()

    def unlock(self) -> None:
        self.db.unlock()

    # ---- chroma --------------------------------------------------------------------------
    @property
    def collection(self) -> Any:
        if self._collection is None:
            self._collection = self._open_collection()
        return self._collection

    def _open_collection(self) -> Any:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
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
                self.settings.chroma_collection, metadata={"hnsw:space": "cosine"}, embedding_function=None
            )
        except Exception as e:  # chromadb raises many unrelated types; name the setting to fix
            if not self.settings.chroma_url and _dir_state(self.dir) is not None:
                raise storage_error(self.dir / "chroma", e) from e
            where = f"the Chroma server at {self.settings.chroma_url} (RAG_CHROMA_URL)" if self.settings.chroma_url \
                else f"the embedded Chroma store at {self.dir / 'chroma'}"
            raise BackendError(f"cannot open {where}: {e.__class__.__name__}: {e}") from e

    @contextlib.contextmanager
    def _chroma(self, what: str) -> Iterator[None]:
        """Turn a Chroma failure after opening (server gone, disk full) into one BackendError line."""
        try:
            yield
        except RagError:
            raise
        except Exception as e:  # chromadb raises many unrelated types
            detail = (str(e).splitlines() or [""])[0][:200]
            if not self.settings.chroma_url and _dir_state(self.dir) is not None:
                raise storage_error(self.dir / "chroma", e) from e
            if self.settings.chroma_url:
                fix = f"check the Chroma server at {self.settings.chroma_url} is running (RAG_CHROMA_URL)"
            else:
                fix = f"check the embedded Chroma store at {self.dir / 'chroma'} (disk space, permissions)"
            raise BackendError(f"Chroma failed to {what} ({e.__class__.__name__}: {detail}): {fix}") from e

    # ---- meta ----------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row["value"] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                        (key, value))

    def vector_store(self) -> str:
        """Where this run looks for vectors: `embedded:COLLECTION` or `server:COLLECTION`."""
        kind = "server" if self.settings.chroma_url else "embedded"
        return f"{kind}:{self.settings.chroma_collection}"

    def check_embedder(self, name: str, write: bool) -> None:
        """Refuse to mix embedding models in one index (the vectors would not be comparable), and to read
        vectors from another vector store than the one the index was built in (see `check_store`)."""
        built = self.get_meta("embed_model")
        if built is None:
            if write:
                self.set_meta("embed_model", name)
        elif built != name:
            raise ConfigError(
                f"this index was built with the embedding model {built!r}, but the settings give {name!r}: "
                "set RAG_EMBED_BASE_URL / RAG_EMBED_MODEL as when it was built (unset both for the local model), "
                "or ingest into a new RAG_INDEX_DIR"
            )
        self.check_store(write)

    def check_store(self, write: bool) -> None:
        """Refuse an index whose vectors were written to another kind of store or collection."""
        built = self.get_meta("vector_store")
        here = self.vector_store()
        if built is None:
            if write:
                self.set_meta("vector_store", here)
            return
        if built != here:
            kind, _, coll = built.partition(":")
            here_kind, _, here_coll = here.partition(":")
            how = "set RAG_CHROMA_URL to that server" if kind == "server" else "unset RAG_CHROMA_URL"
            raise ConfigError(
                f"this index keeps its vectors in the {kind} Chroma collection {coll!r}, but the settings point "
                f"at the {here_kind} collection {here_coll!r}: {how} and set RAG_CHROMA_COLLECTION={coll}, "
                "or ingest into a new RAG_INDEX_DIR"
            )

    # ---- writes --------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[Database]:
        """One write transaction; a failed write (disk full, read-only, server gone) becomes one line
        (StorageError for the embedded store, BackendError for a server)."""
        errors = self.db.errors
        try:
            self.db.begin()
        except errors as e:
            raise self.db.fail(e) from e
        try:
            yield self.db
        except BaseException as e:
            with contextlib.suppress(*errors, RagError):
                self.db.execute("ROLLBACK")
            if isinstance(e, errors):
                raise self.db.fail(e) from e
            raise
        else:
            try:
                self.db.execute("COMMIT")
            except errors as e:
                with contextlib.suppress(*errors, RagError):
                    self.db.execute("ROLLBACK")
                raise self.db.fail(e) from e

    def write_articles(self, articles: Sequence[tuple[Article, str]], chunks: Sequence[Chunk],
                       vectors: Sequence[Sequence[float]],
                       signatures: dict[str, tuple[bytes, list[int]]] | None = None) -> None:
        """Add or replace (article, content_hash) pairs with their embedded chunks and near-duplicate
        signatures, atomically for readers (module doc). Copies recorded of a replaced article are
        forgotten, so the next run that reads them judges them against its new text."""
        hashes = {a.id: h for a, h in articles}
        old = self._chunk_ids([a.id for a, _ in articles])
        ids = [c.id if not old.get(c.article_id) else f"{c.id}@{hashes[c.article_id][:12]}" for c in chunks]
        with self.transaction() as db:  # 1. log before writing: a failure from here on leaves no stray vector
            db.executemany("INSERT INTO unowned(chunk_id) VALUES (?) ON CONFLICT DO NOTHING", [(i,) for i in ids])
        by_id = {a.id: a for a, _ in articles}
        metas = self._metas(by_id, chunks)
        try:  # 2. the new vectors beside the previous ones
            for k in range(0, len(chunks), 1000):
                with self._chroma("add chunk vectors"):
                    self.collection.upsert(ids=ids[k : k + 1000], embeddings=[list(v) for v in vectors[k : k + 1000]],
                                           metadatas=metas[k : k + 1000])
        except RagError:
            with contextlib.suppress(Exception):
                self.collect_garbage()
            raise
        n_chunks: dict[str, int] = {}
        for c in chunks:
            n_chunks[c.article_id] = n_chunks.get(c.article_id, 0) + 1
        now = time.time()
        with self.transaction() as db:  # 3. the switch
            self._bump(db)
            db.lex_remove([a.id for a, _ in articles])  # before the rows it reads the old text from change
            for a, h in articles:
                db.execute(
                    "INSERT INTO articles(id, title, date, date_source, url, source, author, path,"
                    " text, content_hash, status, n_chunks, ingested_at) VALUES (?,?,?,?,?,?,?,?,?,?,'indexed',?,?)"
                    " ON CONFLICT(id) DO UPDATE SET title=excluded.title, date=excluded.date,"
                    " date_source=excluded.date_source, url=excluded.url, source=excluded.source,"
                    " author=excluded.author, path=excluded.path, text=excluded.text,"
                    " content_hash=excluded.content_hash, status=excluded.status, n_chunks=excluded.n_chunks,"
                    " ingested_at=excluded.ingested_at",
                    (a.id, a.title, a.date, a.date_source, a.url, a.source, a.author, a.path, a.text, h,
                     n_chunks.get(a.id, 0), now),
                )
                db.execute("DELETE FROM duplicates WHERE id=? OR duplicate_of=?", (a.id, a.id))
                db.executemany("INSERT INTO unowned(chunk_id) VALUES (?) ON CONFLICT DO NOTHING",
                               [(i,) for i in old.get(a.id, [])])
                db.execute("DELETE FROM chunks WHERE article_id=?", (a.id,))
                db.execute("DELETE FROM chunk_dates WHERE article_id=?", (a.id,))
            db.executemany('INSERT INTO chunks(id, article_id, idx, start, "end") VALUES (?,?,?,?,?)',
                           [(i, c.article_id, c.index, c.start, c.end) for i, c in zip(ids, chunks, strict=True)])
            db.lex_add(_lex_rows(by_id, chunks, ids))
            db.executemany("INSERT INTO chunk_dates(chunk_id, article_id, lo, hi) VALUES (?,?,?,?)",
                           _event_rows(by_id, chunks, ids))
            db.executemany("DELETE FROM unowned WHERE chunk_id=?", [(i,) for i in ids])
            for aid, (blob, keys) in (signatures or {}).items():
                db.execute("INSERT INTO minhash(article_id, sig) VALUES (?,?)"
                           " ON CONFLICT(article_id) DO UPDATE SET sig=excluded.sig", (aid, blob))
                db.execute("DELETE FROM lsh WHERE article_id=?", (aid,))
                db.executemany("INSERT INTO lsh(key, article_id) VALUES (?,?)", [(k, aid) for k in keys])
        with contextlib.suppress(RagError):  # 4. committed; what is left stays logged for the next writer
            self.collect_garbage()

    def _chunk_ids(self, article_ids: Sequence[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for aid in article_ids:
            rows = self.db.execute("SELECT id FROM chunks WHERE article_id=?", (aid,)).fetchall()
            if rows:
                out[aid] = [r[0] for r in rows]
        return out

    @staticmethod
    def _metas(articles: dict[str, Article], chunks: Sequence[Chunk]) -> list[dict[str, Any]]:
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
        return metas

    def collect_garbage(self) -> int:
        """Delete from Chroma the logged vectors that no chunk row owns (module doc); returns how many."""
        with self.transaction() as db:
            db.execute("DELETE FROM unowned WHERE chunk_id IN (SELECT id FROM chunks)")  # owned after all
        ids = [r[0] for r in self.db.execute("SELECT chunk_id FROM unowned")]
        for k in range(0, len(ids), 500):
            part = ids[k : k + 500]
            with self._chroma("delete chunk vectors"):
                self.collection.delete(ids=part)
            with self.transaction() as tx:
                tx.executemany("DELETE FROM unowned WHERE chunk_id=?", [(i,) for i in part])
        return len(ids)

    def recover(self) -> int:
        """Finish what an interrupted write left (run by `lock`): delete the vectors it logged as unowned.
        Opens Chroma only when there is something to delete."""
        try:
            if self.db.execute("SELECT 1 FROM unowned LIMIT 1").fetchone() is None:
                return 0
        except self.db.errors:  # an index made by an older version, read-only: nothing was logged
            return 0
        return self.collect_garbage()

    def record_duplicate(self, article: Article, content_hash: str, duplicate_of: str, similarity: float) -> None:
        """Remember that `article` is a copy of `duplicate_of` (it is not indexed)."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO duplicates(id, duplicate_of, content_hash, title, path, similarity,"
                " recorded_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET duplicate_of=excluded.duplicate_of,"
                " content_hash=excluded.content_hash, title=excluded.title, path=excluded.path,"
                " similarity=excluded.similarity, recorded_at=excluded.recorded_at",
                (article.id, duplicate_of, content_hash, article.title, article.path, similarity, time.time()),
            )

    def set_path(self, article_id: str, path: str) -> None:
        """Record where an article's file is now (it moved; its content did not change)."""
        with self.transaction() as db:
            db.execute("UPDATE articles SET path=? WHERE id=?", (path, article_id))
            db.execute("UPDATE duplicates SET path=? WHERE id=?", (path, article_id))

    def duplicate_hash(self, article_id: str) -> str | None:
        row = self.db.execute("SELECT content_hash FROM duplicates WHERE id=?", (article_id,)).fetchone()
        return row["content_hash"] if row else None

    def near_candidates(self, keys: Sequence[int]) -> dict[str, bytes]:
        """Signatures of stored articles (any status) sharing at least one band key."""
        out: dict[str, bytes] = {}
        for i in range(0, len(keys), 500):
            part = list(keys[i : i + 500])
            rows = self.db.execute(
                f"SELECT DISTINCT m.article_id, m.sig FROM lsh l JOIN minhash m ON m.article_id=l.article_id"
                f" WHERE l.key IN ({','.join('?' * len(part))})", part,
            ).fetchall()
            out.update({r[0]: r[1] for r in rows})
        return out

    def text_of(self, article_id: str) -> str | None:
        """The stored text of an article of any status (for near-duplicate checks)."""
        row = self.db.execute("SELECT text FROM articles WHERE id=?", (article_id,)).fetchone()
        return row[0] if row else None

    def path_of(self, article_id: str) -> str | None:
        row = self.db.execute(
            "SELECT path FROM articles WHERE id=? UNION ALL SELECT path FROM duplicates WHERE id=?",
            (article_id, article_id),
        ).fetchone()
        return row[0] if row else None

    def delete_chunks(self, article_ids: Sequence[str]) -> None:
        """Remove every vector and chunk row of these articles (for articles left `pending` by an older
        version, whose vectors may be in Chroma without rows); they must not be readable (not indexed)."""
        if not article_ids:
            return
        ids = list(article_ids)
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            with self._chroma("delete chunks"):
                self.collection.delete(where={"article_id": {"$in": part}})
        with self.transaction() as db:
            db.lex_remove(ids)
            db.executemany("DELETE FROM chunks WHERE article_id=?", [(i,) for i in ids])
            db.executemany("DELETE FROM chunk_dates WHERE article_id=?", [(i,) for i in ids])

    def _backfill_event_dates(self) -> None:
        """An index made before chunks carried event dates gets them (text rules only, no embedding)."""
        rows = self.db.execute('SELECT c.id, c.article_id, c.idx, c.start, c."end", a.date, a.text FROM chunks c '
                               "JOIN articles a ON a.id=c.article_id").fetchall()
        chunks = [Chunk(r[1], r[2], r[3], r[4], r[6][r[3]:r[4]]) for r in rows]
        dated = {r[1]: Article(r[1], "", "", r[5]) for r in rows}
        with self.transaction() as db:
            db.executemany("INSERT INTO chunk_dates(chunk_id, article_id, lo, hi) VALUES (?,?,?,?)",
                           _event_rows(dated, chunks, [r[0] for r in rows]))

    def event_chunks(self, since: str, until: str, limit: int = 200) -> list[str]:
        """Ids of indexed chunks whose text places an event within since..until (ISO days, inclusive)."""
        rows = self.db.execute(
            "SELECT DISTINCT d.chunk_id FROM chunk_dates d JOIN articles a ON a.id=d.article_id "
            "WHERE a.status='indexed' AND d.lo <= ? AND d.hi >= ? LIMIT ?",
            (date_epoch(until), date_epoch(since), limit),
        )
        return [r[0] for r in rows]

    def generation(self) -> int:
        """A counter bumped by every write that changes what can be retrieved (derived indexes key on it)."""
        return int(self.get_meta("generation") or 0)

    def _bump(self, db: Database) -> None:
        db.execute(
            "INSERT INTO meta(key, value) VALUES ('generation', '1')"
            " ON CONFLICT(key) DO UPDATE SET value = CAST(meta.value AS INTEGER) + 1"
        )

    def remove(self, article_ids: Sequence[str]) -> list[str]:
        """Remove articles and their chunks, atomically for readers (module doc); returns the ids that
        were not in the index."""
        missing = [i for i in article_ids if not self.has_article(i, any_status=True)
                   and self.duplicate_hash(i) is None]
        present = [i for i in article_ids if i not in missing]
        with self.transaction() as db:
            self._bump(db)
            db.lex_remove(present)
            for i in present:
                db.execute("INSERT INTO unowned(chunk_id) SELECT id FROM chunks WHERE article_id=?"
                           " ON CONFLICT DO NOTHING", (i,))
                db.execute("DELETE FROM chunks WHERE article_id=?", (i,))
                db.execute("DELETE FROM chunk_dates WHERE article_id=?", (i,))
                db.execute("DELETE FROM articles WHERE id=?", (i,))
                db.execute("DELETE FROM minhash WHERE article_id=?", (i,))
                db.execute("DELETE FROM lsh WHERE article_id=?", (i,))
                # copies of a removed article are no longer duplicates: a re-ingest indexes them
                db.execute("DELETE FROM duplicates WHERE duplicate_of=? OR id=?", (i, i))
        with contextlib.suppress(RagError):  # committed; what is left stays logged for the next writer
            self.collect_garbage()
        return missing

    def drift(self) -> dict[str, list[str]]:
        """Where the two stores disagree: "missing", chunk ids of indexed articles without a vector;
        "stale", vectors of articles this store holds that no chunk row owns (logged or not: an interrupted
        write, or an older version's); "foreign", vectors of articles this store does not know (another
        index sharing the collection, or a newer copy of this store: never deleted here); "pending",
        articles left pending by an older version."""
        owned = dict(self.db.execute(
            "SELECT c.id, c.article_id FROM chunks c JOIN articles a ON a.id=c.article_id WHERE a.status='indexed'"))
        known = {r[0] for r in self.db.execute("SELECT id FROM articles")}
        rows = {r[0] for r in self.db.execute("SELECT id FROM chunks")}
        present: dict[str, str] = {}
        offset = 0
        while True:
            with self._chroma("list vectors"):
                got = self.collection.get(include=["metadatas"], limit=5000, offset=offset)
            for cid, meta in zip(got["ids"], got["metadatas"], strict=True):
                present[cid] = str((meta or {}).get("article_id", ""))
            if len(got["ids"]) < 5000:
                break
            offset += 5000
        stray = {cid: aid for cid, aid in present.items() if cid not in rows}
        return {
            "missing": sorted(cid for cid in owned if cid not in present),
            "stale": sorted(cid for cid, aid in stray.items() if aid in known),
            "foreign": sorted(cid for cid, aid in stray.items() if aid not in known),
            "pending": [r[0] for r in self.db.execute("SELECT id FROM articles WHERE status='pending' ORDER BY id")],
        }

    def repair_vectors(self, embed: Callable[[list[str]], list[list[float]]]) -> tuple[int, int]:
        """Make Chroma hold exactly the vectors of the stored chunks (see `drift`): embed the missing ones
        again from the stored text, delete the stale ones. Foreign vectors are left alone. Hold the lock.
        Returns (chunks embedded, vectors deleted)."""
        from rag.chunk import embed_text

        deleted = self.collect_garbage()  # the logged ones first, then what is stale without a log
        d = self.drift()
        stale = d["stale"]
        for k in range(0, len(stale), 500):
            with self._chroma("delete stale vectors"):
                self.collection.delete(ids=stale[k : k + 500])
        rows = [self.db.execute('SELECT id, article_id, idx, start, "end" FROM chunks WHERE id=?', (cid,)).fetchone()
                for cid in d["missing"]]
        for k in range(0, len(rows), 256):
            part = rows[k : k + 256]
            arts = {r["article_id"]: self.article(r["article_id"]) for r in part}
            chunks = [Chunk(r["article_id"], r["idx"], r["start"], r["end"],
                            arts[r["article_id"]].text[r["start"] : r["end"]]) for r in part]
            vectors = embed([embed_text(arts[c.article_id], c) for c in chunks])
            with self._chroma("add chunk vectors"):
                self.collection.upsert(ids=[r["id"] for r in part], embeddings=[list(v) for v in vectors],
                                       metadatas=self._metas(arts, chunks))
        return len(rows), deleted + len(stale)

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
        """The id of a stored article with this hash (indexed, or left pending by an older version)."""
        row = self.db.execute("SELECT id FROM articles WHERE content_hash=? LIMIT 1", (content_hash,)).fetchone()
        return row["id"] if row else None

    def article(self, article_id: str) -> Article:
        row = self.db.execute("SELECT * FROM articles WHERE id=? AND status='indexed'", (article_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no article with id {article_id!r} in {self.dir}; list ids with `rag list`")
        return _article_from_row(row)

    def articles(self, since: str | None = None, until: str | None = None) -> list[Article]:
        """Indexed articles, by date then id; with since/until, only those dated in that range."""
        dated, args = date_range("date", since, until)
        q = "SELECT * FROM articles WHERE status='indexed'" + (f" AND {dated}" if dated else "")
        rows = self.db.execute(q + " ORDER BY date, id", args).fetchall()
        return [_article_from_row(r) for r in rows]

    def listing(self, since: str | None = None, until: str | None = None, source: str | None = None,
                limit: int | None = None) -> tuple[int, list[dict[str, str | None]]]:
        """What `rag list` prints: (how many indexed articles match, the first `limit` of them as
        {id, title, date, source}), newest first, undated last. `source` matches regardless of case."""
        cond, args = "status='indexed'", []
        for clause, value in (("date >= ?", since), ("date <= ?", until), ("lower(source) = lower(?)", source)):
            if value is not None:
                cond += f" AND {clause}"
                args.append(value)
        total = self.db.execute(f"SELECT COUNT(*) FROM articles WHERE {cond}", args).fetchone()[0]
        rows = self.db.execute(f"SELECT id, title, date, source FROM articles WHERE {cond}"
                               " ORDER BY date IS NULL, date DESC, id" + ("" if limit is None else " LIMIT ?"),
                               args if limit is None else [*args, limit])
        return int(total), [{"id": r[0], "title": r[1], "date": r[2], "source": r[3]} for r in rows]

    def counts(self) -> tuple[int, int]:
        """(indexed articles, chunks of indexed articles)."""
        a = self.db.execute("SELECT COUNT(*), COALESCE(SUM(n_chunks), 0) FROM articles WHERE status='indexed'").fetchone()
        return int(a[0]), int(a[1])

    def stats(self) -> dict[str, object]:
        """What `rag stats --json` prints: counts, articles per day, date range, sources."""
        articles, chunks = self.counts()
        ok = "FROM articles WHERE status='indexed'"
        per_day = {r[0]: r[1] for r in self.db.execute(
            f"SELECT date, COUNT(*) {ok} AND date IS NOT NULL GROUP BY date ORDER BY date")}
        sources = {r[0] or "(unknown)": r[1] for r in self.db.execute(
            f"SELECT source, COUNT(*) {ok} GROUP BY source ORDER BY COUNT(*) DESC, source")}
        date_sources = {r[0]: r[1] for r in self.db.execute(
            f"SELECT date_source, COUNT(*) {ok} GROUP BY date_source ORDER BY date_source")}
        undated = self.db.execute(
            "SELECT COUNT(*) FROM articles WHERE status='indexed' AND date IS NULL").fetchone()[0]
        pending = self.db.execute("SELECT COUNT(*) FROM articles WHERE status='pending'").fetchone()[0]
        dups = self.db.execute("SELECT COUNT(*) FROM duplicates").fetchone()[0]
        days = list(per_day)
        return {
            "articles": articles, "chunks": chunks, "duplicates": int(dups), "pending": int(pending),
            "undated": int(undated), "date_range": {"first": days[0], "last": days[-1]} if days else None,
            "articles_per_day": per_day, "sources": sources, "date_sources": date_sources,
            "embed_model": self.get_meta("embed_model"),
        }

    def lexical_search(self, terms: Sequence[str], k: int, since: str | None = None,
                       until: str | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the best k indexed chunks matching any of the (lower-cased) terms,
        dated within [since, until] when either is given; best first (rag.index.lexical)."""
        if not self.db.lex_ready():  # a read-only copy made by an older version
            raise StorageError(f"the index at {self.dir} predates the lexical index in its store and is "
                               "read-only: open it once where it is writable (any rag command upgrades it)")
        try:
            return self.db.lex_search(terms, k, since, until)
        except self.db.errors as e:
            raise self.db.fail(e) from e

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
        """Stored vectors of these chunks, in order; None for an id Chroma cannot give now.

        An embedded Chroma read by one process while another writes may not see the newest chunks yet
        (chromadb raises "Error finding id"); the caller then embeds those chunks' text itself."""
        try:
            res = self.collection.get(ids=list(chunk_ids), include=["embeddings"])
        except Exception:  # chromadb's InternalError for a stale view; see docstring
            return [None] * len(chunk_ids)
        by_id = {cid: list(v) for cid, v in zip(res["ids"], res["embeddings"], strict=True)}
        return [by_id.get(c) for c in chunk_ids]

    def lead_chunk_ids(self, article_ids: Sequence[str]) -> dict[str, str]:
        """The id of each article's first chunk (an updated article's ids carry its version)."""
        out: dict[str, str] = {}
        for aid in article_ids:
            row = self.db.execute("SELECT id FROM chunks WHERE article_id=? AND idx=0", (aid,)).fetchone()
            if row is not None:
                out[aid] = row[0]
        return out

    def chunk_texts(self, chunk_ids: Sequence[str]) -> list[str]:
        """The text each chunk was embedded as (rag.chunk.embed_text), in order."""
        from rag.chunk import embed_text

        out = []
        for cid in chunk_ids:
            row = self.db.execute('SELECT article_id, idx, start, "end" FROM chunks WHERE id=?', (cid,)).fetchone()
            try:
                a = self.article(row["article_id"]) if row else None
            except NotFoundError:
                a = None
            if a is None:  # removed meanwhile: passages() will skip it
                out.append("")
                continue
            c = Chunk(a.id, row["idx"], row["start"], row["end"], a.text[row["start"] : row["end"]])
            out.append(embed_text(a, c))
        return out

    def dense_query(self, vector: Sequence[float], k: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the k nearest chunks, best first. (Chroma returns fewer than k
        when it holds fewer; it is counted only when it returns none, which is slow at a million chunks.)"""
        with self._chroma("query"):
            res = self.collection.query(
                query_embeddings=[list(vector)], n_results=max(1, k), where=where or None, include=["distances"]
            )
        ids = res["ids"][0] if res["ids"] else []
        if not ids:
            with self._chroma("count vectors"):
                n = self.collection.count()
            if n == 0 and self.counts()[1] > 0:
                loc = self.settings.chroma_url or self.dir / "chroma"
                raise BackendError(
                    f"the Chroma collection {self.settings.chroma_collection!r} at {loc} is empty but the article "
                    f"store at {self.dir} lists chunks: point RAG_CHROMA_URL / RAG_CHROMA_COLLECTION at the "
                    "collection it was built in, or ingest into a new RAG_INDEX_DIR"
                )
        return [(cid, 1.0 - float(d)) for cid, d in zip(ids, res["distances"][0] if ids else [], strict=True)]

    def date_span(self) -> tuple[str | None, str | None]:
        """(earliest, latest) publication day of the indexed articles; (None, None) when none is dated."""
        row = self.db.execute("SELECT MIN(date), MAX(date) FROM articles WHERE status='indexed' AND date IS NOT NULL")
        lo, hi = row.fetchone()
        return lo, hi
