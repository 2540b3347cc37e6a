"""The article store on a PostgreSQL server (RAG_DATABASE_URL): many readers and writers on many machines.

Everything the embedded store keeps in `articles.sqlite` lives in the database the URL names: articles,
chunk offsets, ingest state, feeds; the lexical index is a `tsvector` column with a GIN index, whose
`ts_rank` (each query word weighted by its inverse document frequency) picks candidates that are scored
again with the BM25 of the embedded store (rag.index.db.bm25); the writer lock is a session advisory lock, so it is released if a writer dies.

The SQL of rag.store is written for both engines; here `?` becomes `%s` and SQLite's column types become
PostgreSQL's (REAL -> DOUBLE PRECISION, BLOB -> BYTEA, INTEGER -> BIGINT). Text is compared byte-wise
(`COLLATE "C"` on ids and days), as SQLite does.

Not handled: TLS settings beyond what libpq reads from the URL and the environment, schemas other than the
connection's default one (give each index its own database), connection pooling.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from rag.errors import BackendError, ConfigError, LockedError, RagError
from rag.index.db import POOL, LexRow, bm25, bm25_idf, date_range, lex_body
from rag.models.backends import redact_url

WRITER_LOCK = 0x7261676E  # "ragn": the advisory lock key of the writer lock
SCHEMA_LOCK = 0x72616773  # "rags": held while creating tables, so two first runs do not race


class Row(tuple[Any, ...]):
    """A result row readable by position and by column name, like sqlite3.Row."""

    names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self.names)


def _row_factory(cursor: Any) -> Callable[[Sequence[Any]], Row]:
    names = {c.name: i for i, c in enumerate(cursor.description or [])}
    cls = type("Row", (Row,), {"names": names})

    def make(values: Sequence[Any]) -> Row:
        return cls(values)  # type: ignore[no-any-return]

    return make


def _ddl(sqlite_ddl: str) -> list[str]:
    out = []
    for stmt in sqlite_ddl.split(";"):
        if stmt.strip():
            stmt = re.sub(r"\bREAL\b", "DOUBLE PRECISION", stmt)
            stmt = re.sub(r"\bBLOB\b", "BYTEA", stmt)
            stmt = re.sub(r"\bINTEGER\b", "BIGINT", stmt)
            stmt = re.sub(r"\b(id|article_id|chunk_id|date|duplicate_of) TEXT\b", r'\1 TEXT COLLATE "C"', stmt)
            out.append(stmt)
    return out


class PostgresDB:
    kind = "postgres"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError:
            raise ConfigError("RAG_DATABASE_URL is set but the PostgreSQL driver is not installed: "
                              "pip install 'rag-news[postgres]' (psycopg), or unset RAG_DATABASE_URL "
                              "for the embedded SQLite store") from None
        self.errors: tuple[type[BaseException], ...] = (psycopg.Error,)
        self.where = redact_url(url)
        self._locked = False
        try:
            self.conn = psycopg.connect(url, autocommit=True, row_factory=_row_factory, connect_timeout=10)
        except psycopg.Error as e:
            raise BackendError(f"cannot connect to the PostgreSQL store at {self.where} (RAG_DATABASE_URL): "
                               f"{_first_line(e)}; check the URL (host, port, database, user) and that the server "
                               "is running, or unset RAG_DATABASE_URL for the embedded SQLite store") from None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """As the interface says; a driver error is a BackendError line here already (a read anywhere in
        rag.store may meet a server gone)."""
        try:
            return self.conn.execute(sql.replace("?", "%s"), params or None)
        except self.errors as e:
            raise self.fail(e) from e

    def _x(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """conn.execute with psycopg's own placeholders (%s); driver errors as for `execute`."""
        try:
            return self.conn.execute(sql, params)
        except self.errors as e:
            raise self.fail(e) from e

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:
            try:
                with self.conn.cursor() as cur:
                    cur.executemany(sql.replace("?", "%s"), rows)
            except self.errors as e:
                raise self.fail(e) from e

    def begin(self) -> None:
        self.execute("BEGIN")

    def script(self, ddl: str) -> None:
        try:
            with self.conn.transaction():
                self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                for stmt in _ddl(ddl):
                    self.conn.execute(stmt)
        except self.errors as e:
            raise self.fail(e) from e

    def tables(self) -> set[str]:
        return {r[0] for r in self._x(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")}

    def fail(self, e: BaseException) -> RagError:
        return BackendError(f"the PostgreSQL store at {self.where} (RAG_DATABASE_URL) failed: {_first_line(e)}; "
                            "check the server is running and reachable, and the database user's rights")

    def lock(self, wait: bool, timeout: float | None, on_wait: Callable[[str], None] | None) -> None:
        busy = f"another rag run is writing to the PostgreSQL store at {self.where}"
        try:
            got = self._x("SELECT pg_try_advisory_lock(%s)", (WRITER_LOCK,)).fetchone()[0]
            if not got:
                if not wait:
                    raise LockedError(f"{busy}; wait for it to finish and run again")
                if on_wait:
                    on_wait(f"{busy}; waiting for it to finish")
                deadline = None if timeout is None else time.monotonic() + timeout
                while not got:
                    if deadline is not None and time.monotonic() > deadline:
                        raise LockedError(f"{busy} and still was after {timeout:.0f} s; run again later "
                                          "(or raise RAG_LOCK_TIMEOUT)")
                    time.sleep(0.2)
                    got = self._x("SELECT pg_try_advisory_lock(%s)", (WRITER_LOCK,)).fetchone()[0]
        except self.errors as e:
            raise self.fail(e) from e
        self._locked = True

    def unlock(self) -> None:
        if self._locked:
            self._locked = False
            if not self.conn.closed:
                self.conn.execute("SELECT pg_advisory_unlock(%s)", (WRITER_LOCK,))

    def close(self) -> None:
        with contextlib.suppress(*self.errors):  # closing the session releases the lock anyway
            self.unlock()
        self.conn.close()

    # ---- lexical: tsvector + GIN -------------------------------------------------------------------
    _LEX = [
        'CREATE TABLE IF NOT EXISTS lex (chunk_id TEXT COLLATE "C" PRIMARY KEY, article_id TEXT COLLATE "C" NOT NULL,'
        ' date TEXT COLLATE "C", n_words BIGINT NOT NULL, tsv TSVECTOR NOT NULL)',
        "CREATE INDEX IF NOT EXISTS lex_article ON lex(article_id)",
        "CREATE INDEX IF NOT EXISTS lex_tsv ON lex USING GIN (tsv)",
        "CREATE INDEX IF NOT EXISTS lex_date ON lex(date)",
    ]

    def lex_ready(self) -> bool:
        return "lex" in self.tables()

    def lex_create(self) -> None:
        for stmt in self._LEX:
            self._x(stmt)

    def lex_add(self, rows: Sequence[LexRow]) -> None:
        bodies = [(cid, aid, day, lex_body(title, text)) for cid, aid, day, title, text in rows]
        self.executemany("INSERT INTO lex(chunk_id, article_id, date, n_words, tsv) "
                         "VALUES (?, ?, ?, ?, to_tsvector('simple', ?))",
                         [(cid, aid, day, body.count(" ") + 1 if body else 0, body) for cid, aid, day, body in bodies])

    def lex_remove(self, article_ids: Sequence[str]) -> None:
        if article_ids:
            self._x("DELETE FROM lex WHERE article_id = ANY(%s)", (list(article_ids),))

    def lex_search(self, terms: Sequence[str], k: int, since: str | None, until: str | None) -> list[tuple[str, float]]:
        if not terms:
            return []
        all_terms = list(terms)  # a word given twice counts twice
        terms = list(dict.fromkeys(terms))
        # each word's weight: BM25's inverse document frequency, from the GIN index's match counts
        queries = [self._x("SELECT plainto_tsquery('simple', %s)::text", (t,)).fetchone()[0] for t in terms]
        terms = [t for t, q in zip(terms, queries, strict=True) if q]
        if not terms:
            return []
        n = self._x("SELECT count(*) FROM lex").fetchone()[0]
        weights = []
        for t in terms:
            df = self._x("SELECT count(*) FROM lex WHERE tsv @@ plainto_tsquery('simple', %s)",
                                   (t,)).fetchone()[0]
            weights.append(bm25_idf(n, df))
        score = " + ".join("%s * ts_rank(tsv, plainto_tsquery('simple', %s), 1)" for _ in terms)
        params: list[Any] = [x for w, t in zip(weights, terms, strict=True) for x in (w, t)]
        cond = " OR ".join("tsv @@ plainto_tsquery('simple', %s)" for _ in terms)
        params += terms
        if since or until:
            dated, args = date_range("date", since, until, "%s")
            cond = f"({cond}) AND {dated}"
            params += args
        # ts_rank picks the candidates; they are scored again as on SQLite (rag.index.db.bm25)
        cands = [r[0] for r in self._x(f"SELECT chunk_id, {score} AS s FROM lex WHERE {cond} "
                                       "ORDER BY s DESC, chunk_id LIMIT %s", [*params, max(4 * k, POOL)]).fetchall()]
        if not cands:
            return []
        avgdl = float(self._x("SELECT COALESCE(AVG(n_words), 1) FROM lex").fetchone()[0]) or 1.0
        rows = self._x('SELECT l.chunk_id, l.n_words, a.title, a.text, c.start, c."end" FROM lex l '
                       "JOIN chunks c ON c.id=l.chunk_id JOIN articles a ON a.id=c.article_id "
                       "WHERE l.chunk_id = ANY(%s)", (cands,)).fetchall()
        idf = dict(zip(terms, weights, strict=True))
        return bm25([t for t in all_terms if t in idf], idf, avgdl, rows, k)


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [e.__class__.__name__])[0][:200]
