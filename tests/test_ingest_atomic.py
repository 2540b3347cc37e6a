"""Writes across the article store (SQLite) and the vectors (Chroma) are atomic for readers: an update keeps
the previous version searchable until the new one is committed, even when the embedder or Chroma fails or
the process is killed; an interrupted remove is finished on the next write; copies of an updated article
are judged again; an article that cannot be indexed is reported and skipped, never blocking later ingests;
`rag doctor` reports drift between the two stores and `--repair` fixes it. Real Chroma, real embedder, real
processes; failures are injected at the edge (an embedder that raises, a collection whose writes fail)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rag.answering.retrieve import Retriever
from rag.cli import app
from rag.config import Settings
from rag.errors import BackendError
from rag.ingest import ingest
from rag.models.embed import OnnxMiniLM
from rag.store import Index

from .conftest import PG_STORE, ROOT, needs_sqlite
from .test_ingest_crash import check, rag, rag_env

runner = CliRunner()
V1 = ("Harbour news\nThe ferry to Lundy Island was cancelled because of a broken propeller shaft. "
      "Passengers were offered refunds at the quay.")
V2 = ("Harbour news\nThe new lighthouse keeper arrived on Tuesday with a crate of oranges. "
      "She will live in the cottage by the pier.")


class FailingEmbedder:
    """The real embedder, failing (as an endpoint would) for every text, or for texts holding `poison`."""

    def __init__(self, real: OnnxMiniLM, poison: str | None = None) -> None:
        self.real, self.name, self.poison = real, real.name, poison

    def embed(self, texts: list[str]) -> list[list[float]]:
        if self.poison is None or any(self.poison in t for t in texts):
            raise BackendError("the embedding endpoint http://127.0.0.1:9/v1 answered HTTP 500 after 3 retries")
        return self.real.embed(texts)


def _search(settings: Settings, embedder: OnnxMiniLM, query: str) -> str:
    with Index.open(settings) as ix:
        return " ".join(p.text for p in Retriever(ix, embedder, settings).search(query, k=5))


def test_a_failing_embedder_keeps_the_previous_version_searchable(tmp_path: Path, settings: Settings,
                                                                   embedder: OnnxMiniLM) -> None:
    p = tmp_path / "harbour.txt"
    p.write_text(V1)
    assert ingest([p], settings, embedder=embedder).added == 1
    p.write_text(V2)
    with pytest.raises(BackendError, match="HTTP 500"):  # an embedder down for everything: one error
        ingest([p], settings, embedder=FailingEmbedder(embedder))  # type: ignore[arg-type]
    with Index.open(settings) as ix:
        assert ix.article("harbour").text == V1  # still the indexed version
    assert "propeller" in _search(settings, embedder, "Why was the Lundy ferry cancelled?")
    if not PG_STORE:  # (tests/index_check.py reads articles.sqlite)
        assert check(settings.index_dir)["problems"] == []
    done = ingest([p], settings, embedder=embedder)
    assert done.updated == 1 and not done.rejected
    assert "lighthouse keeper" in _search(settings, embedder, "Who is the new lighthouse keeper?")
    assert "propeller" not in _search(settings, embedder, "Why was the Lundy ferry cancelled? propeller")


class HalfWritingCollection:
    """The real Chroma collection, whose first upsert writes half of what it is given and fails (a server
    that died mid-request); after that every write fails; reads go to the real collection."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def upsert(self, ids: list[str], embeddings: list[Any], metadatas: list[Any]) -> None:
        if not getattr(HalfWritingCollection, "dead", False):
            half = max(1, len(ids) // 2)
            self.real.upsert(ids=ids[:half], embeddings=embeddings[:half], metadatas=metadatas[:half])
            HalfWritingCollection.dead = True
        raise ConnectionError("Chroma server went away")

    def delete(self, *args: Any, **kwargs: Any) -> None:
        raise ConnectionError("Chroma server went away")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@needs_sqlite()
def test_chroma_failing_mid_write_keeps_the_previous_version_and_the_next_run_cleans_up(
        tmp_path: Path, settings: Settings, embedder: OnnxMiniLM, monkeypatch: pytest.MonkeyPatch) -> None:
    data = Path(__file__).parent / "data" / "wikinews40.jsonl"
    recs = [json.loads(x) for x in data.read_text().splitlines()[:6]]
    src = tmp_path / "six.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in recs))
    first = ingest([src], settings, embedder=embedder)
    assert first.added == 6
    src.write_text("".join(json.dumps({**r, "text": r["text"] + " Officials confirmed the report on Friday."}) + "\n"
                           for r in recs))
    real_open = Index._open_collection
    monkeypatch.setattr(HalfWritingCollection, "dead", False, raising=False)
    monkeypatch.setattr(Index, "_open_collection", lambda self: HalfWritingCollection(real_open(self)))
    with pytest.raises(BackendError, match="Chroma failed"):
        ingest([src], settings, embedder=embedder)
    monkeypatch.setattr(Index, "_open_collection", real_open)
    state = check(settings.index_dir)
    assert state["problems"] == [] and state["indexed"] == 6 and state["unowned"] > 0  # half-written vectors logged
    with Index.open(settings) as ix:
        assert all(ix.article(r["id"]).text == r["text"] for r in recs)  # the previous versions, whole
    again = ingest([src], settings, embedder=embedder)
    assert again.updated == 6
    state = check(settings.index_dir)
    assert state["problems"] == [] and state["unowned"] == 0 and state["chroma"] == state["chunks"]


def _killing_remove(index: Path, article_id: str, delete_first: bool) -> int:
    """`Index.remove` in a real process that dies (os._exit, like kill -9) inside its Chroma delete: after
    deleting (delete_first) or before."""
    code = f"""
import os, sys
from rag.config import Settings
from rag.store import Index
ix = Index.open(Settings(index_dir={str(index)!r}))
ix.lock()
real = ix.collection
class Dying:
    def delete(self, *a, **k):
        if {delete_first!r}:
            real.delete(*a, **k)
        os._exit(9)
    def __getattr__(self, name):
        return getattr(real, name)
ix._collection = Dying()
ix.remove([{article_id!r}])
"""
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=rag_env(index), timeout=120).returncode


@needs_sqlite()
@pytest.mark.parametrize("delete_first", [True, False], ids=["killed after the Chroma delete", "killed before it"])
def test_an_interrupted_remove_is_finished_on_the_next_write(tmp_path: Path, settings: Settings,
                                                              embedder: OnnxMiniLM, delete_first: bool) -> None:
    data = Path(__file__).parent / "data" / "wikinews40.jsonl"
    src = tmp_path / "four.jsonl"
    src.write_text("\n".join(data.read_text().splitlines()[:4]) + "\n")
    ingest([src], settings, embedder=embedder)
    gone = json.loads(data.read_text().splitlines()[0])["id"]
    assert _killing_remove(settings.index_dir, gone, delete_first) == 9
    state = check(settings.index_dir)
    assert state["problems"] == [] and state["indexed"] == 3  # removed as a whole, or not at all
    r = runner.invoke(app, ["show", gone, "--index", str(settings.index_dir)])
    assert r.exit_code == 1 and "no article" in r.stderr
    again = ingest([tmp_path / "nothing-new.txt"], settings, embedder=embedder)  # any write finishes the remove
    assert again.rejected  # (the path does not exist; the point is the writer's start)
    state = check(settings.index_dir)
    assert state["problems"] == [] and state["unowned"] == 0 and state["chroma"] == state["chunks"]
    with Index.open(settings) as ix:
        assert ix.collection.get(where={"article_id": gone})["ids"] == []


def test_copies_of_an_updated_article_are_judged_again(tmp_path: Path, settings: Settings,
                                                      embedder: OnnxMiniLM) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "original.txt").write_text(V1)
    (b / "wire.txt").write_text(V1)  # the same text under another name: a copy
    r = ingest([a, b], settings, embedder=embedder)
    assert (r.added, r.duplicates) == (1, 1)
    (a / "original.txt").write_text(V2)  # the original now tells another story: the copy is no copy of it
    r2 = ingest([a, b], settings, embedder=embedder)
    assert r2.updated == 1
    r3 = ingest([b], settings, embedder=embedder)  # a run that reads the copy again indexes it
    assert r2.added + r3.added == 1
    with Index.open(settings) as ix:
        assert sorted(x.id for x in ix.articles()) == ["original", "wire"]
    assert "propeller" in _search(settings, embedder, "Why was the Lundy ferry cancelled?")


@needs_sqlite()
def test_an_article_that_cannot_be_indexed_is_reported_and_skipped(tmp_path: Path, settings: Settings,
                                                                    embedder: OnnxMiniLM) -> None:
    """A pending article left by an earlier run whose indexing always fails does not block later ingests;
    a failing article in a batch does not keep the others out."""
    good = tmp_path / "good.txt"
    good.write_text(V1)
    ingest([good], settings, embedder=embedder)
    with sqlite3.connect(settings.index_dir / "articles.sqlite") as db:  # as a killed older version left it
        db.execute("INSERT INTO articles(id, title, date, date_source, url, source, author, path, text, content_hash,"
                   " status, n_chunks, ingested_at) VALUES ('stuck', 'Stuck', NULL, 'none', NULL, NULL, NULL,"
                   " '/gone/stuck.txt', 'POISON text that the embedder always refuses.', 'h', 'pending', 0, 0)")
    poison = FailingEmbedder(embedder, poison="POISON")
    src = tmp_path / "batch"
    src.mkdir()
    for n in range(3):
        (src / f"fine-{n}.txt").write_text(f"Story {n}\nThe council met for the {n + 1}th time about the harbour dues.")
    (src / "bad.txt").write_text("Bad story\nPOISON in this one: the embedder refuses it every time.")
    for attempt in range(2):  # and again: the stuck article is reported each time, never blocking
        r = ingest([src], settings, embedder=poison)  # type: ignore[arg-type]
        assert r.added == (3 if attempt == 0 else 0) and r.articles == 4
        reasons = {x["path"]: x["reason"] for x in r.rejected}
        assert set(reasons) == {"/gone/stuck.txt", str(src / "bad.txt")}
        assert all("HTTP 500" in v and "skipped" in v for v in reasons.values())
    assert check(settings.index_dir)["problems"] == []


def test_an_embedder_that_fails_for_everything_stops_the_run_with_one_error(tmp_path: Path, settings: Settings,
                                                                           embedder: OnnxMiniLM) -> None:
    src = tmp_path / "batch"
    src.mkdir()
    for n in range(5):
        (src / f"s{n}.txt").write_text(f"Story {n}\nThe council met for the {n + 1}th time about the harbour dues.")
    with pytest.raises(BackendError, match="HTTP 500"):
        ingest([src], settings.model_copy(update={"ingest_batch": 2}), embedder=FailingEmbedder(embedder))  # type: ignore[arg-type]


def test_doctor_reports_and_repairs_drift_between_the_stores(tmp_path: Path, settings: Settings,
                                                             embedder: OnnxMiniLM) -> None:
    data = Path(__file__).parent / "data" / "wikinews40.jsonl"
    src = tmp_path / "four.jsonl"
    src.write_text("\n".join(data.read_text().splitlines()[:4]) + "\n")
    ingest([src], settings, embedder=embedder)
    victim, other = (json.loads(x)["id"] for x in data.read_text().splitlines()[1:3])
    # what an older, non-atomic remove or update could leave: an article without its vectors, a stale vector
    # of a stored article; and a vector of an article this store does not know (another index's): kept
    with Index.open(settings) as ix:
        lost = ix.collection.get(where={"article_id": victim})["ids"]
        ix.collection.delete(ids=lost)
        vec = embedder.embed(["stray"])[0]
        ix.collection.upsert(ids=[f"{other}#9@deadbeefdead", "other-index#0"], embeddings=[vec, vec],
                             metadatas=[{"article_id": other, "idx": 9, "start": 0, "end": 5, "title": "x"},
                                        {"article_id": "other-index", "idx": 0, "start": 0, "end": 5, "title": "y"}])
    env = {"RAG_INDEX_DIR": str(settings.index_dir), "RAG_MODEL_DIR": str(settings.model_dir)}
    r = runner.invoke(app, ["doctor", "--no-llm", "--json"], env=env)
    assert r.exit_code == 1
    drift = next(c for c in json.loads(r.stdout)["checks"] if c["name"] == "store.drift")
    assert drift["status"] == "fail" and f"{len(lost)} chunk(s) of 1 article(s) have no vector" in drift["found"]
    assert "1 vector(s) belong to no stored chunk" in drift["found"] and "rag doctor --repair" in drift["fix"]
    assert "1 vector(s) of articles this store does not know" in drift["found"]
    fixed = runner.invoke(app, ["doctor", "--no-llm", "--repair"], env=env)
    assert fixed.exit_code == 0, fixed.output
    assert f"re-embedded {len(lost)} chunk(s)" in fixed.stdout and "deleted 1 stray vector(s)" in fixed.stdout
    after = runner.invoke(app, ["doctor", "--no-llm"], env=env)
    assert after.exit_code == 0 and "warn store.drift" in after.stdout and "does not know" in after.stdout
    with Index.open(settings) as ix:
        assert sorted(ix.collection.get(where={"article_id": victim})["ids"]) == sorted(lost)
        assert ix.collection.get(ids=[f"{other}#9@deadbeefdead"])["ids"] == []
        assert ix.collection.get(ids=["other-index#0"])["ids"] == ["other-index#0"]  # not this index's to delete
        ix.collection.delete(ids=["other-index#0"])
        assert not any(ix.drift().values())  # the stores agree again
    if not PG_STORE:  # (tests/index_check.py reads articles.sqlite)
        state = check(settings.index_dir)
        assert state["problems"] == [] and state["chroma"] == state["chunks"]


def _staged(db: Path) -> tuple[int, int]:
    """(indexed articles, rows of a write in progress: vectors logged as not yet owned, or articles marked
    pending as an older version did) as a reader sees them now."""
    if not db.exists():
        return 0, 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            rows = dict(con.execute("SELECT status, COUNT(*) FROM articles GROUP BY status").fetchall())
            has_log = con.execute("SELECT 1 FROM sqlite_master WHERE name='unowned'").fetchone() is not None
            staged = con.execute("SELECT COUNT(*) FROM unowned").fetchone()[0] if has_log else 0
        finally:
            con.close()
    except sqlite3.Error:
        return 0, 0
    return rows.get("indexed", 0), staged + rows.get("pending", 0)


@needs_sqlite()
def test_kill_9_during_updates_leaves_every_article_searchable(tmp_path: Path) -> None:
    data = Path(__file__).parent / "data" / "wikinews40.jsonl"
    recs = [json.loads(x) for x in data.read_text().splitlines()]
    src = tmp_path / "news.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in recs))
    index = tmp_path / "index"
    env = rag_env(index)
    assert subprocess.run(rag("ingest", str(src), env=env), cwd=ROOT, env=env, capture_output=True,
                          timeout=600).returncode == 0
    src.write_text("".join(json.dumps({**r, "text": r["text"] + " UPDATED: officials confirmed the report."}) + "\n"
                           for r in recs))
    db = index / "articles.sqlite"
    killed = 0
    # kill points: the moment vectors are staged (between the Chroma write and the commit that switches
    # versions), the same after two batches, and a fixed time (mostly mid-embedding)
    for when in ("staged", "staged after 2 batches", "after 1.5 s", "staged"):
        proc = subprocess.Popen(rag("ingest", str(src), env=env), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        start, seen, last = time.monotonic(), 0, False
        while proc.poll() is None and time.monotonic() - start < 300:
            staged = _staged(db)[1] > 0
            seen += staged and not last
            last = staged
            if (when == "after 1.5 s" and time.monotonic() - start > 1.5) or (staged and when == "staged") \
                    or (staged and seen > 2):
                proc.send_signal(signal.SIGKILL)
                killed += 1
                break
        proc.wait(timeout=300)
        state = check(index)
        assert state["problems"] == [] and state["indexed"] == len(recs), (when, state)  # never a hole
    assert killed >= 3
    final = subprocess.run(rag("ingest", str(src), "--json", env=env), cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=600)
    assert final.returncode == 0, final.stderr
    state = check(index)
    assert state["problems"] == [] and state["unowned"] == 0 and state["chroma"] == state["chunks"]
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM articles WHERE text LIKE '%UPDATED:%'").fetchone()[0] == len(recs)
    assert os.path.exists(db)
