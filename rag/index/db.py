"""The article store's engine behind one small interface (`Database`), chosen by settings: the embedded
SQLite file `RAG_INDEX_DIR/articles.sqlite` (default) or a PostgreSQL server (`RAG_DATABASE_URL`,
rag.index.postgres). `rag.store.Index` writes portable SQL (`?` placeholders, `ON CONFLICT`) through it;
what differs between the engines lives here: opening, DDL, the writer lock, and the lexical index.

The lexical index is a real engine's, updated in the same transaction as the chunks it indexes, so no
write is ever followed by a rebuild: SQLite's FTS5 (a contentless table, the text stays in `articles` only)
or PostgreSQL's full-text search. Each chunk is indexed as its article's title and its own text (the
headline names the subject), as Unicode words, lower-cased, unstemmed, stopwords dropped (`lex_body`).

Ranking on SQLite is the BM25 that bm25s computed before (Lucene's: idf = ln(1 + (N - df + 0.5)/(df + 0.5)),
k1 = 1.5, b = 0.75): FTS5's own bm25() picks the candidates (the best `max(4k, 200)`), which are scored
again exactly, with document frequencies from FTS5's vocabulary table and N and the average length kept
in `lex_stats` by the same transactions. FTS5's bm25() alone differs where it matters on small indexes:
its idf is ~0 for a word in more than half the chunks, and k1 is 1.2; measured on the gold sets, the
exact scores keep hit@5 and MRR where bm25s had them (README "Backends").

Not handled here: schema versions beyond "create what is missing" (an index made by an older version gets
its new tables, and its lexical index is backfilled once, when first opened for writing or reading).
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from rag.errors import LockedError, RagError

# (chunk id, article id, publication day or None, title, chunk text): one row of the lexical index
LexRow = tuple[str, str, str | None, str, str]


class Database(Protocol):
    """One connection to the article store (autocommit; `begin`/`commit` around writes)."""

    kind: str  # "sqlite" or "postgres"
    errors: tuple[type[BaseException], ...]  # what the driver raises

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement (`?` placeholders); the cursor (fetchone, fetchall, iteration; rows by name or
        position)."""

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    def begin(self) -> None:
        """Start a write transaction (SQLite: BEGIN IMMEDIATE, so writers queue rather than deadlock)."""

    def script(self, ddl: str) -> None:
        """Run `CREATE ... IF NOT EXISTS` statements (SQLite's types) in one transaction."""

    def tables(self) -> set[str]: ...

    def fail(self, e: BaseException) -> RagError:
        """One line for a driver error: what failed and what to check."""

    def lock(self, wait: bool, timeout: float | None, on_wait: Callable[[str], None] | None) -> None:
        """Take the writer lock (LockedError when busy and not waiting, or after `timeout` seconds)."""

    def unlock(self) -> None: ...

    def close(self) -> None: ...

    # ---- the lexical index: call inside the write transaction that changes the chunks ------------------
    def lex_ready(self) -> bool:
        """Whether the lexical index exists (an older index gets it from `lex_create` + a backfill)."""

    def lex_create(self) -> None: ...

    def lex_add(self, rows: Sequence[LexRow]) -> None: ...

    def lex_remove(self, article_ids: Sequence[str]) -> None:
        """Drop these articles' chunks from the lexical index. Call before their rows change."""

    def lex_search(self, terms: Sequence[str], k: int, since: str | None, until: str | None) -> list[tuple[str, float]]:
        """(chunk id, score) of the best k chunks matching any of `terms`, dated within [since, until] when
        either is given (undated chunks then never match), best first."""


def lex_body(title: str, text: str) -> str:
    """What the lexical index holds for a chunk: the words of its article's title and its own text, without
    stopwords (so document lengths count the words that can match, as bm25s counted them).

    >>> lex_body("Talks in Geneva", "The US and Ukraine met.")
    'talks geneva us ukraine met'
    """
    return " ".join(w for w in re.findall(r"[^\W_]+", (title + "\n" + text).lower()) if w not in stopwords())


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """English stopwords dropped from lexical queries (rag/index/stopwords.txt, the list bm25s used)."""
    text = resources.files("rag.index").joinpath("stopwords.txt").read_text(encoding="utf-8")
    return frozenset(w for line in text.splitlines() if (w := line.split("#")[0].strip()))


def query_terms(query: str) -> list[str]:
    """The query's words as the lexical index holds them: lower-cased, stopwords dropped; a word given twice
    counts twice (as in bm25s).

    >>> query_terms("Who is the Speaker of New Zealand's parliament, and who voted?")
    ['who', 'speaker', 'new', 'zealand', 's', 'parliament', 'who', 'voted']
    """
    return [w for w in re.findall(r"[^\W_]+", query.lower()) if w not in stopwords()]


K1, B = 1.5, 0.75  # bm25s's defaults (method "lucene"), what the gold sets were measured with


def bm25_idf(docs: int, df: int) -> float:
    return math.log(1 + (docs - df + 0.5) / (df + 0.5))


def bm25(terms: Sequence[str], idf: dict[str, float], avgdl: float, rows: Iterable[Sequence[Any]],
         k: int) -> list[tuple[str, float]]:
    """Lucene's BM25 of candidate chunks, rows of (chunk id, length in words without stopwords, title, text,
    start, end); the best k with a positive score, best first (ties by id)."""
    scored = []
    for r in rows:
        # the chunk's words (stopwords too: no query term is one; the length is n_words, without them)
        tf = Counter(re.findall(r"[^\W_]+", (r[2] + "\n" + r[3][r[4] : r[5]]).lower()))
        norm = K1 * (1 - B + B * r[1] / avgdl)
        scored.append((str(r[0]), sum(idf[t] * tf[t] / (tf[t] + norm) for t in terms if tf[t])))
    scored.sort(key=lambda x: (-x[1], x[0]))
    return [x for x in scored[:k] if x[1] > 0]


def date_range(column: str, since: str | None, until: str | None, mark: str = "?") -> tuple[str, list[str]]:
    """The SQL condition and arguments for `column` between since and until (ISO days, either may be None),
    with `mark` as the driver's placeholder; ("", []) without either.

    >>> date_range("l.date", "2006-01-01", None)
    ("l.date IS NOT NULL AND l.date <> '' AND l.date >= ?", ['2006-01-01'])
    """
    if not (since or until):
        return "", []
    cond, args = f"{column} IS NOT NULL AND {column} <> ''", []
    if since:
        cond += f" AND {column} >= {mark}"
        args.append(since)
    if until:
        cond += f" AND {column} <= {mark}"
        args.append(until)
    return cond, args


POOL = 200  # FTS5's best this many (or 4k) are scored again exactly: enough to give bm25s's top 30 on the gold sets


class SQLiteDB:
    """The embedded store: an SQLite file in WAL mode; the writer lock is a file lock beside it."""

    kind = "sqlite"
    errors: tuple[type[BaseException], ...] = (sqlite3.Error,)

    def __init__(self, conn: sqlite3.Connection, directory: Path,
                 fail: Callable[[BaseException], RagError]) -> None:
        self.conn = conn
        self.dir = directory
        self._fail = fail
        self._lock: Any = None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def script(self, ddl: str) -> None:
        # one transaction: a run killed while creating it leaves all the tables or none
        self.conn.executescript(f"BEGIN IMMEDIATE;{ddl}COMMIT;")

    def tables(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}

    def fail(self, e: BaseException) -> RagError:
        return self._fail(e)

    def lock(self, wait: bool, timeout: float | None, on_wait: Callable[[str], None] | None) -> None:
        from filelock import FileLock, Timeout

        # thread_local=False: the lock belongs to this Index, whichever thread releases it
        lock = FileLock(self.dir / "write.lock", mode=0o644, thread_local=False)
        busy = f"another rag run is writing to {self.dir}"
        try:
            try:
                lock.acquire(timeout=0)
            except Timeout:
                if not wait:
                    raise LockedError(f"{busy}; wait for it to finish and run again") from None
                if on_wait:
                    on_wait(f"{busy}; waiting for it to finish")
                try:
                    lock.acquire(timeout=-1 if timeout is None else timeout, poll_interval=0.2)
                except Timeout:
                    raise LockedError(f"{busy} and still was after {timeout:.0f} s; run again later "
                                      "(or raise RAG_LOCK_TIMEOUT)") from None
        except OSError as e:
            raise self._fail(e) from e
        self._lock = lock

    def unlock(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def close(self) -> None:
        self.unlock()
        self.conn.close()

    # ---- lexical: FTS5 ------------------------------------------------------------------------------
    # `lex` maps FTS5 rowids to chunks (and carries the day for date filters, and each chunk's length in
    # words); `lex_fts` is contentless, so a delete names the indexed text again, read from the rows before
    # they change (lex_remove); `lex_stats` holds N and the total length; `lex_vocab` gives each word's df.
    _LEX = """
    CREATE TABLE IF NOT EXISTS lex (rowid INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL UNIQUE,
        article_id TEXT NOT NULL, date TEXT, n_words INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS lex_article ON lex(article_id);
    CREATE TABLE IF NOT EXISTS lex_stats (one INTEGER PRIMARY KEY CHECK (one = 1), docs INTEGER NOT NULL,
        words INTEGER NOT NULL);
    INSERT OR IGNORE INTO lex_stats(one, docs, words) VALUES (1, 0, 0);
    CREATE VIRTUAL TABLE IF NOT EXISTS lex_fts USING fts5(body, content='', tokenize='unicode61 remove_diacritics 0');
    CREATE VIRTUAL TABLE IF NOT EXISTS lex_vocab USING fts5vocab(lex_fts, 'row');
    """


    def lex_ready(self) -> bool:
        return "lex_fts" in self.tables()

    def lex_create(self) -> None:
        for stmt in self._LEX.split(";"):
            if stmt.strip():
                self.conn.execute(stmt)

    def lex_add(self, rows: Sequence[LexRow]) -> None:
        words = 0
        for cid, aid, day, title, text in rows:
            body = lex_body(title, text)
            n = body.count(" ") + 1 if body else 0
            words += n
            rowid = self.conn.execute("INSERT INTO lex(chunk_id, article_id, date, n_words) VALUES (?,?,?,?)",
                                      (cid, aid, day, n)).lastrowid
            self.conn.execute("INSERT INTO lex_fts(rowid, body) VALUES (?,?)", (rowid, body))
        self.conn.execute("UPDATE lex_stats SET docs = docs + ?, words = words + ?", (len(rows), words))

    def lex_remove(self, article_ids: Sequence[str]) -> None:
        for aid in article_ids:
            rows = self.conn.execute(
                'SELECT l.rowid, a.title, a.text, c.start, c."end" FROM lex l JOIN chunks c ON c.id=l.chunk_id '
                "JOIN articles a ON a.id=c.article_id WHERE l.article_id=?", (aid,)).fetchall()
            self.conn.executemany("INSERT INTO lex_fts(lex_fts, rowid, body) VALUES ('delete', ?, ?)",
                                  [(r[0], lex_body(r[1], r[2][r[3] : r[4]])) for r in rows])
            self.conn.execute("UPDATE lex_stats SET docs = docs - (SELECT COUNT(*) FROM lex WHERE article_id=?), "
                              "words = words - (SELECT COALESCE(SUM(n_words), 0) FROM lex WHERE article_id=?)",
                              (aid, aid))
            self.conn.execute("DELETE FROM lex WHERE article_id=?", (aid,))

    def lex_search(self, terms: Sequence[str], k: int, since: str | None, until: str | None) -> list[tuple[str, float]]:
        if not terms:
            return []
        match = " OR ".join(f'"{t}"' for t in dict.fromkeys(terms))
        pool = max(4 * k, POOL)
        if since or until:
            cond, args = date_range("l.date", since, until)
            cands = self.conn.execute(
                f"SELECT l.rowid FROM lex_fts JOIN lex l ON l.rowid=lex_fts.rowid "
                f"WHERE lex_fts MATCH ? AND {cond} ORDER BY bm25(lex_fts) LIMIT ?", (match, *args, pool)).fetchall()
        else:
            cands = self.conn.execute("SELECT rowid FROM lex_fts WHERE lex_fts MATCH ? ORDER BY rank LIMIT ?",
                                      (match, pool)).fetchall()
        if not cands:
            return []
        docs, words = self.conn.execute("SELECT docs, words FROM lex_stats").fetchone()
        avgdl = words / docs if docs else 1.0
        idf = {}
        for t in dict.fromkeys(terms):
            row = self.conn.execute("SELECT doc FROM lex_vocab WHERE term=?", (t,)).fetchone()
            idf[t] = bm25_idf(docs, row[0] if row else 0)
        rowids = [r[0] for r in cands]
        rows: list[Any] = []
        for i in range(0, len(rowids), 500):
            part = rowids[i : i + 500]
            rows += self.conn.execute(
                'SELECT l.chunk_id, l.n_words, a.title, a.text, c.start, c."end" FROM lex l '
                "JOIN chunks c ON c.id=l.chunk_id JOIN articles a ON a.id=c.article_id "
                f"WHERE l.rowid IN ({','.join('?' * len(part))})", part).fetchall()
        return bm25(terms, idf, avgdl, rows, k)
