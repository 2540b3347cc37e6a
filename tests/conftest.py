"""Shared fixtures. Real components where cheap: a real Chroma in a temp dir, the real ONNX embedder
(loaded once per session), the real local LLM (loaded once per session, only by tests that ask for it).
`FakeChat` is for tests about something else than generation; its output depends on its input."""

from __future__ import annotations

import functools
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# A `rag serve` the developer left running must not answer for the tests (tests/test_serve.py starts its own).
os.environ["RAG_USE_SERVED_MODEL"] = "0"

from rag.config import Settings  # noqa: E402
from rag.models.embed import OnnxMiniLM  # noqa: E402
from rag.models.llm import Completion  # noqa: E402

from .servers import start_chroma, start_postgres, stop_chroma, stop_postgres  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"
WIKINEWS = SHARED / "corpora" / "wikinews" / "articles.jsonl"
# embedded (SQLite + embedded Chroma), server (SQLite + a Chroma server), postgres (PostgreSQL + embedded
# Chroma) or team (PostgreSQL + a Chroma server, the shared deployment): see _store_under_test
TEST_STORE = os.environ.get("RAG_TEST_STORE", "embedded")
assert TEST_STORE in ("embedded", "server", "postgres", "team"), "RAG_TEST_STORE must be embedded, server, postgres or team"
CHROMA_SERVER = TEST_STORE in ("server", "team")
PG_STORE = TEST_STORE in ("postgres", "team")
MODEL_DIR = Path(os.environ.get("RAG_MODEL_DIR") or Path.home() / ".cache" / "rag-news" / "models")


def needs_corpus() -> pytest.MarkDecorator:
    return pytest.mark.skipif(not WIKINEWS.exists(), reason=f"Wikinews corpus not found at {WIKINEWS}")


@pytest.fixture(scope="session")
def embedder() -> OnnxMiniLM:
    return OnnxMiniLM(threads=os.cpu_count() or 1)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(index_dir=tmp_path / "index", model_dir=MODEL_DIR)


def needs_sqlite() -> pytest.MarkDecorator:
    """For tests that open the embedded store's file themselves (crash states, WAL, a read-only copy)."""
    return pytest.mark.skipif(PG_STORE, reason="reads articles.sqlite; the suite runs on PostgreSQL")


def own_store() -> dict[str, str]:
    """Settings fields giving an index of a test its own article store. Under RAG_TEST_STORE=postgres the
    environment's RAG_DATABASE_URL is the test's one database, so a second index in the same test needs
    another (elsewhere the index directory is the store)."""
    if not PG_STORE:
        return {}
    url = os.environ["RAG_DATABASE_URL"]
    return {"database_url": new_database(url.rsplit("/", 1)[0] + "/postgres")}


@functools.cache
def _psycopg() -> Any:
    """The driver, imported once (a test may hide it from `import` to test the message without it)."""
    import psycopg

    return psycopg


def new_database(admin_url: str, template: str | None = None) -> str:
    """A fresh database on the test PostgreSQL server (a copy of `template` when given); its URL."""
    psycopg = _psycopg()
    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(admin_url, autocommit=True) as c:
        if template:  # a template must have no open sessions: end any a test left behind
            c.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname=%s", (template,))
            c.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            c.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def drop_database(admin_url: str, url: str) -> None:
    with _psycopg().connect(admin_url, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def base_settings(d: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings for an index built once per session and copied by tests (`private_copy`). Under
    RAG_TEST_STORE=server its vectors live in their own collection on the test server; under postgres its
    article store is its own database on the test PostgreSQL server."""
    kw: dict[str, str] = {}
    if PG_STORE:
        kw["database_url"] = new_database(request.getfixturevalue("postgres_server"))
    if CHROMA_SERVER:
        kw.update(chroma_url=request.getfixturevalue("chroma_server"), chroma_collection=f"base-{uuid.uuid4().hex[:16]}")
    return Settings(index_dir=d, model_dir=MODEL_DIR, **kw)


def private_copy(base: Settings, d: Path) -> Settings:
    """A copy of the index of `base` at `d` that a test may write to. With a Chroma server, the vectors
    are copied into the collection the environment names (set per test by `_store_under_test`)."""
    if base.index_dir.exists():
        shutil.copytree(base.index_dir, d)
    else:  # PostgreSQL + a Chroma server keep nothing in the index directory
        d.mkdir(parents=True)
    s = Settings(index_dir=d, model_dir=MODEL_DIR)
    if PG_STORE:  # the test's database (set by `_store_under_test`) becomes a copy of the base's
        admin = s.database_url.rsplit("/", 1)[0] + "/postgres"
        drop_database(admin, s.database_url)
        name = s.database_url.rsplit("/", 1)[1]
        with _psycopg().connect(admin, autocommit=True) as c:
            base_db = base.database_url.rsplit("/", 1)[1]
            c.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname=%s", (base_db,))
            c.execute(f'CREATE DATABASE "{name}" TEMPLATE "{base_db}"')
    if CHROMA_SERVER:
        import chromadb

        from rag.store import Index

        url = urlparse(s.chroma_url)
        client = chromadb.HttpClient(host=url.hostname, port=url.port)
        src = client.get_collection(base.chroma_collection)
        dst = client.create_collection(s.chroma_collection, metadata=src.metadata)
        got = src.get(include=["embeddings", "metadatas", "documents"])
        for i in range(0, len(got["ids"]), 1000):
            dst.add(ids=got["ids"][i : i + 1000], embeddings=got["embeddings"][i : i + 1000],
                    metadatas=got["metadatas"][i : i + 1000], documents=got["documents"][i : i + 1000])
        with Index.open(s) as ix:
            ix.set_meta("vector_store", f"server:{s.chroma_collection}")
    return s


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory, embedder: OnnxMiniLM, request: pytest.FixtureRequest) -> Settings:
    """An index holding the seed articles, built once; tests write to a `private_copy` (`seed_settings`)."""
    from rag.ingest import ingest

    s = base_settings(tmp_path_factory.mktemp("seed-index") / "index", request)
    ingest([SEEDS], s, embedder=embedder)
    return s


@pytest.fixture
def seed_settings(seed_index: Settings, tmp_path: Path) -> Settings:
    return private_copy(seed_index, tmp_path / "index")


@pytest.fixture(autouse=True)
def _no_background_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """`rag ask` from the CLI starts a warm background server by default (RAG_KEEP_ALIVE); tests that do not
    test that answer in their own process."""
    monkeypatch.setenv("RAG_KEEP_ALIVE", "0")


def private_model_dir(tmp_path: Path) -> Path:
    """A model directory of its own (the assembled model linked, not copied), so a test's `rag serve` and
    its announcement never meet a server the user or CI runs for the shared one."""
    from rag.models.llm import PACKAGED_MODELS, model_file

    src = model_file(Settings(model_dir=MODEL_DIR))
    d = tmp_path / "models"
    d.mkdir()
    (d / src.name).symlink_to(src)
    stamp = src.with_suffix(".verified")
    (d / stamp.name).write_text(stamp.read_text())
    assert PACKAGED_MODELS["qwen2.5-coder-1.5b"].file_name == src.name
    return d


@pytest.fixture(autouse=True)
def _store_under_test(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """RAG_TEST_STORE=server runs the suite against a real Chroma server: every index a test opens through
    the environment (Settings(), the CLI, the console script) keeps its vectors there, in its own collection.
    RAG_TEST_STORE=postgres keeps every such index's article store on a real PostgreSQL server, in a database
    of the test's own (RAG_DATABASE_URL), dropped after it."""
    if CHROMA_SERVER:
        monkeypatch.setenv("RAG_CHROMA_URL", request.getfixturevalue("chroma_server"))
        monkeypatch.setenv("RAG_CHROMA_COLLECTION", f"t-{uuid.uuid4().hex[:16]}")
    if PG_STORE:
        admin = request.getfixturevalue("postgres_server")
        url = new_database(admin)
        monkeypatch.setenv("RAG_DATABASE_URL", url)
        yield
        drop_database(admin, url)
        return
    yield


@pytest.fixture(scope="session")
def local_llm() -> Iterator[object]:
    """The real embedded local model behind its OpenAI-compatible server (loaded once)."""
    from rag.models.llm import LLM

    yield LLM(Settings(model_dir=MODEL_DIR))


class FakeChat:
    """Answers with the sentence of the passage block that shares most words with the
    question, cited as that passage; says NOT IN ARTICLES when no passage shares a content word."""

    def __init__(self, reply: Callable[[str, str], str] | None = None, judge_share: float = 1.0) -> None:
        self.reply = reply
        self.judge_share = judge_share  # share of the claim's content words its judgement needs in the evidence
        self.prompts: list[tuple[str, str]] = []

    def complete(self, system: str, user: str, max_tokens: int, on_text: Callable[[str], None] | None = None) -> Completion:
        if system.startswith("You check claims"):  # the verifier's judgement (prompts/judge.md)
            evidence, claim = user.rsplit("Claim:", 1)
            return Completion(self._judge(evidence, claim.replace("Supported?", ""), self.judge_share),
                              len(user) // 4, 1, 0.0)
        if system.startswith("You check answers"):  # of an answer to a question (prompts/judge_answer.md)
            evidence, rest = user.rsplit("\nQuestion:", 1)
            answer = rest.split("\nAnswer:", 1)[1].replace("Does the evidence give this answer?", "")
            return Completion(self._judge(evidence, answer, self.judge_share), len(user) // 4, 1, 0.0)
        self.prompts.append((system, user))
        text = self.reply(system, user) if self.reply else self._extract(user)
        if on_text:
            on_text(text)
        return Completion(text, len(user) // 4, len(text) // 4, 0.0)

    def usage(self) -> dict[str, float]:
        return {"calls": len(self.prompts)}

    @staticmethod
    def _judge(evidence: str, claim: str, share: float = 1.0) -> str:
        """YES when `share` of the claim's content words (all, by default) are in the evidence: a judgement that
        reads its input."""
        from rag.cite import content_words

        words = content_words(claim)
        return "YES" if len(words & content_words(evidence)) >= share * len(words) else "NO"

    @staticmethod
    def _extract(user: str) -> str:
        from rag.cite import content_words

        q = user.rsplit("Question:", 1)[-1]
        qw = content_words(q)
        best, best_n, best_score = "", 0, 0
        for m in re.finditer(r"^\[(\d+)\] (.*)$", user, flags=re.M):  # one line per passage (format_passages)
            for sent in re.split(r"(?<=[.!?])\s+", m.group(2)):
                score = len(content_words(sent) & qw)
                if score > best_score:
                    best, best_n, best_score = sent.strip(), int(m.group(1)), score
        return f"{best} [{best_n}]" if best_score else "NOT IN ARTICLES"


@pytest.fixture(scope="session")
def story_index(tmp_path_factory: pytest.TempPathFactory, embedder: OnnxMiniLM, request: pytest.FixtureRequest) -> Settings:
    """Real Wikinews stories of Feb-Apr 2005 plus planted copies (tests/newsdata.py), indexed once;
    use `ssettings` for a private copy."""
    from .newsdata import build_story_index

    d = tmp_path_factory.mktemp("stories")
    return build_story_index(d, embedder, base_settings(d / "index", request))


@pytest.fixture
def ssettings(story_index: Settings, tmp_path: Path) -> Settings:
    return private_copy(story_index, tmp_path / "story-index")


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server shared by the session; its URL. Tests sharing it must use their own
    collection (RAG_CHROMA_COLLECTION)."""
    proc, url = start_chroma(tmp_path_factory.mktemp("chroma-server"))
    try:
        yield url
    finally:
        stop_chroma(proc)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL server (Debian's binaries, a throwaway cluster on 127.0.0.1) shared by the session;
    the URL of its `postgres` database. Tests make their own databases on it (`new_database`)."""
    proc, url, root = start_postgres()
    try:
        yield url
    finally:
        stop_postgres(proc, root)
