"""The article store's engines (rag.index): the lexical index lives in the store and follows every write in
the same transaction (no rebuild, nothing derived on disk); an index made before it gets it on open; the
PostgreSQL store's writer lock and its one-line errors. The whole suite also runs with every index on
PostgreSQL (RAG_TEST_STORE=postgres, or team: with a Chroma server too); the tests here that need a server start their own."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import Settings
from rag.errors import BackendError, ConfigError, LockedError
from rag.index.lexical import Lexical
from rag.ingest import ingest, ingest_articles
from rag.store import Index
from rag.types import Article

from .conftest import MODEL_DIR, PG_STORE, ROOT, SEEDS, needs_sqlite, new_database
from .servers import postgres_bin

needs_postgres = pytest.mark.skipif(postgres_bin("initdb") is None, reason="PostgreSQL's initdb not installed")


def _art(i: str, title: str, text: str, date: str = "2025-01-0") -> Article:
    return Article(id=i, title=title, text=text, date=date if len(date) == 10 else f"{date}1", source="test")


def _lexical_ids(s: Settings, query: str, since: str | None = None, until: str | None = None) -> list[str]:
    with Index.open(s) as ix:
        hits = Lexical(ix).search(query, 10, since, until)
        return [ix.passages([c])[0].article_id for c, _ in hits]


def test_lexical_index_follows_adds_updates_and_removes_without_a_rebuild(settings: Settings, embedder: object) -> None:
    ingest_articles([_art("a1", "Harbour strike ends", "Dockers in Rotterdam voted to end the strike on Monday."),
                     _art("a2", "Budget passes", "The parliament in Oslo passed the budget by 90 votes.", "2025-02-01")],
                    settings, embedder=embedder)  # type: ignore[arg-type]
    assert _lexical_ids(settings, "Rotterdam dockers") == ["a1"]
    assert _lexical_ids(settings, "Oslo budget", since="2025-02-01") == ["a2"]
    assert _lexical_ids(settings, "Oslo budget", until="2025-01-31") == []  # the date filter is in the query
    # an update: the old words stop matching, the new ones match, at once
    ingest_articles([_art("a1", "Harbour strike ends", "Dockers in Antwerp voted to end the walkout.")], settings,
                    embedder=embedder)  # type: ignore[arg-type]
    assert _lexical_ids(settings, "Rotterdam") == []
    assert _lexical_ids(settings, "Antwerp walkout") == ["a1"]
    with Index.open(settings) as ix:
        ix.lock()
        assert ix.remove(["a2"]) == []
    assert _lexical_ids(settings, "Oslo budget") == []
    assert not (settings.index_dir / "bm25").exists()  # nothing derived beside the store


def test_query_words_are_the_indexed_words_and_stopwords_match_nothing(settings: Settings, embedder: object) -> None:
    ingest_articles([_art("b1", "Über-fast trains", "The ÜBER_FAST train reached 320 km/h near Lyon.")], settings,
                    embedder=embedder)  # type: ignore[arg-type]
    assert _lexical_ids(settings, "über fast") == ["b1"]
    assert _lexical_ids(settings, "320") == ["b1"]
    assert _lexical_ids(settings, "the of and") == []
    assert _lexical_ids(settings, '"Lyon" OR NEAR(") *') == ["b1"]  # query syntax is never passed through


@needs_sqlite()
def test_an_index_made_before_the_store_held_the_lexical_index_gets_it_on_open(seed_settings: Settings) -> None:
    db = seed_settings.index_dir / "articles.sqlite"
    with sqlite3.connect(db) as con:  # as the previous version left it: no lexical tables
        con.executescript("DROP TABLE lex_fts; DROP TABLE lex;")
    assert _lexical_ids(seed_settings, "Geneva")  # backfilled when opened
    with sqlite3.connect(db) as con:
        n_lex = con.execute("SELECT COUNT(*) FROM lex").fetchone()[0]
        n_chunks = con.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    assert n_lex == n_chunks > 0


def test_a_read_only_copy_from_before_says_how_to_upgrade(seed_settings: Settings, tmp_path: Path) -> None:
    if PG_STORE:
        pytest.skip("a read-only copy is a copy of the embedded store's directory")
    db = seed_settings.index_dir / "articles.sqlite"
    with sqlite3.connect(db) as con:
        con.executescript("DROP TABLE lex_fts; DROP TABLE lex;")
    import os

    os.chmod(seed_settings.index_dir, 0o555)
    try:
        if os.access(seed_settings.index_dir, os.W_OK):
            pytest.skip("root can write a read-only directory here")
        from rag.errors import StorageError

        with pytest.raises(StorageError, match="open it once where it is writable"):
            _lexical_ids(seed_settings, "Geneva")
    finally:
        os.chmod(seed_settings.index_dir, 0o755)


def test_an_unreachable_database_url_is_one_line_through_the_cli(tmp_path: Path) -> None:
    pytest.importorskip("psycopg")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "RAG_INDEX_DIR": str(tmp_path / "index"),
           "RAG_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "RAG_MODEL_DIR": str(MODEL_DIR),
           "HF_HUB_OFFLINE": "1", "RAG_KEEP_ALIVE": "0"}
    out = subprocess.run([sys.executable, "-m", "rag.cli", "ingest", str(SEEDS)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert "cannot connect to the PostgreSQL store at postgresql://***@127.0.0.1:1/none (RAG_DATABASE_URL)" in lines[0]


def test_no_driver_installed_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now raises ImportError
    s = Settings(index_dir=tmp_path / "index", database_url="postgresql://u@127.0.0.1:5/db")
    with pytest.raises(ConfigError, match=r"pip install 'rag-news\[postgres\]'"):
        Index.open(s, create=True)


@needs_postgres
def test_postgres_writer_lock_is_one_per_database_and_freed_by_close(postgres_server: str, tmp_path: Path,
                                                                     embedder: object) -> None:
    url = new_database(postgres_server)
    a = Settings(index_dir=tmp_path / "a", database_url=url, model_dir=MODEL_DIR)
    b = Settings(index_dir=tmp_path / "b", database_url=url, model_dir=MODEL_DIR)  # another machine, same store
    ingest([SEEDS], a, embedder=embedder)  # type: ignore[arg-type]
    one, two = Index.open(a), Index.open(b)
    try:
        one.lock()
        with pytest.raises(LockedError, match="another rag run is writing to the PostgreSQL store"):
            two.lock(wait=False)
        with pytest.raises(LockedError, match="still was after 0 s"):
            two.lock(timeout=0.3)
        one.close()
        two.lock(wait=False)  # a closed session's lock is gone
        assert two.counts() == Index.open(a).counts()  # both read the one store
    finally:
        two.close()


@needs_postgres
def test_postgres_store_answers_a_lost_server_with_one_line(postgres_server: str, tmp_path: Path,
                                                            embedder: object) -> None:
    import psycopg

    url = new_database(postgres_server)
    s = Settings(index_dir=tmp_path / "index", database_url=url, model_dir=MODEL_DIR)
    ingest([SEEDS], s, embedder=embedder)  # type: ignore[arg-type]
    with Index.open(s) as ix:
        with psycopg.connect(postgres_server, autocommit=True) as admin:  # the server drops our session
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname=%s",
                          (url.rsplit("/", 1)[1],))
        with pytest.raises(BackendError, match=r"the PostgreSQL store at .* failed: .*check the server"):
            Lexical(ix).search("Geneva talks", 5)
