"""Crash safety and concurrency with real `rag ingest` processes: kill -9 at many points, two writers
at once. Each check of the index runs in a fresh process (tests/index_check.py)."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from .conftest import MODEL_DIR, ROOT, needs_sqlite

# crash and disk states are read from articles.sqlite (tests/index_check.py); the PostgreSQL store keeps
# its transactions on the server
pytestmark = needs_sqlite()

DATA = Path(__file__).parent / "data" / "wikinews40.jsonl"
N = 40


def rag_env(index: Path, **extra: str) -> dict[str, str]:
    # RAG_TEST_STORE=server: the vectors go to the test's own collection on the test Chroma server
    keep = ("RAG_CHROMA_URL", "RAG_CHROMA_COLLECTION", "RAG_DATABASE_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_") or k in keep}
    env.update({"RAG_INDEX_DIR": str(index), "RAG_MODEL_DIR": str(MODEL_DIR), "RAG_INGEST_BATCH": "4",
                "RAG_THREADS": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **extra})
    return env


def rag(*args: str, env: dict[str, str]) -> list[str]:
    return [sys.executable, "-m", "rag.cli", *args]


def check(index: Path) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-m", "tests.index_check", str(index)], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def counts(db: Path) -> tuple[int, int]:
    """(indexed, in progress) as a reader sees them right now; (0, 0) before the store exists. In progress:
    vectors a batch has staged in Chroma before its commit (logged in `unowned`; rag.store)."""
    if not db.exists():
        return 0, 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            rows = dict(con.execute("SELECT status, COUNT(*) FROM articles GROUP BY status").fetchall())
            staged = con.execute("SELECT COUNT(*) FROM unowned").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0, 0
    return rows.get("indexed", 0), rows.get("pending", 0) + staged


def test_kill_9_at_many_points_then_a_rerun_finishes(tmp_path: Path) -> None:
    index = tmp_path / "index"
    env = rag_env(index)
    db = index / "articles.sqlite"
    # Kill points: early (imports, model load), the first time a batch is staged (its vectors in Chroma,
    # not yet committed), after some batches, and mid-batch again later.
    points = [
        ("after 0.5 s", lambda t, i, p: t >= 0.5),
        ("store created", lambda t, i, p: db.exists()),
        ("first batch staged", lambda t, i, p: p > 0),
        ("mid-batch after 4 indexed", lambda t, i, p: p > 0 and i >= 4),
        ("after 12 indexed", lambda t, i, p: i >= 12),
        ("mid-batch after 20 indexed", lambda t, i, p: p > 0 and i >= 20),
        ("just after a batch is staged again", lambda t, i, p: p > 0),
        ("after 1.5 s", lambda t, i, p: t >= 1.5),
    ]
    killed, log = 0, []
    for name, when in points:
        proc = subprocess.Popen(rag("ingest", str(DATA), "--json", env=env), cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        start = time.monotonic()
        while proc.poll() is None:
            i, p = counts(db)
            if when(time.monotonic() - start, i, p):
                proc.send_signal(signal.SIGKILL)
                killed += 1
                break
            time.sleep(0.002)  # a batch's staged window is short: its embedding is done before it
        proc.wait(timeout=300)
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
        if db.exists():
            state = check(index)
            assert state["problems"] == [], (name, state["problems"])
            log.append((name, proc.returncode, state["indexed"], state["pending"]))
    assert killed >= 6, log  # most points were really hit while the run was going
    final = subprocess.run(rag("ingest", str(DATA), "--json", env=env), cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=600)
    assert final.returncode == 0, final.stderr
    report = json.loads(final.stdout)
    assert report["articles"] == N and report["rejected"] == []
    assert report["added"] + report["unchanged"] == N  # nothing counted twice
    state = check(index)
    assert state["problems"] == [] and state["pending"] == 0 and state["indexed"] == N
    assert state["chroma"] == state["chunks"] == report["chunks"]
    print("kill points:", log)


def test_two_ingests_at_once_lose_nothing(tmp_path: Path) -> None:
    index = tmp_path / "index"
    lines = DATA.read_text().splitlines()
    # the first run is the longer, so it still holds the writer lock when the second, started after it took the
    # lock, has loaded and asks for it (with 16 articles it could finish first on a busy machine)
    more = (DATA.parent / "wikinews_2005-03.jsonl").read_text().splitlines()[:48]
    (tmp_path / "a.jsonl").write_text("\n".join(lines[:12] + more) + "\n")
    (tmp_path / "b.jsonl").write_text("\n".join(lines[12:24]) + "\n")
    shared = tmp_path / "shared.jsonl"
    shared.write_text("\n".join(lines[24:28]) + "\n")
    env = rag_env(index)
    first = subprocess.Popen(rag("ingest", str(tmp_path / "a.jsonl"), str(shared), "--json", env=env), cwd=ROOT,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # start the second while the first holds the writer lock
    lock = index / "write.lock"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and first.poll() is None:
        if lock.exists():
            fd = os.open(lock, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fd, fcntl.LOCK_UN)
            except BlockingIOError:
                break
            finally:
                os.close(fd)
        time.sleep(0.01)
    assert first.poll() is None, "the first run ended before the second could start"
    second = subprocess.Popen(rag("ingest", str(tmp_path / "b.jsonl"), str(shared), "--json", env=env), cwd=ROOT,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out1, err1 = first.communicate(timeout=600)
    out2, err2 = second.communicate(timeout=600)
    assert first.returncode == 0 and second.returncode == 0, (err1, err2)
    r1, r2 = json.loads(out1), json.loads(out2)
    assert "another rag run is writing" in err2 and "waiting" in err2  # the clear message
    assert r1["added"] == 64 and r2["added"] == 12 and r2["unchanged"] == 4  # shared file: indexed once
    state = check(index)
    assert state["problems"] == [] and state["indexed"] == 76 and state["pending"] == 0
    assert r2["articles"] == 76 and r2["chunks"] == state["chroma"]


def test_lock_timeout_is_a_clear_error(tmp_path: Path) -> None:
    index = tmp_path / "index"
    index.mkdir()
    fd = os.open(index / "write.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        env = rag_env(index, RAG_LOCK_TIMEOUT="1")
        (tmp_path / "a.txt").write_text("Headline\nA short story about the town fair and its prize pumpkins.")
        out = subprocess.run(rag("ingest", str(tmp_path / "a.txt"), env=env), cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    finally:
        os.close(fd)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert lines[-1].startswith("error: another rag run is writing") and "RAG_LOCK_TIMEOUT" in lines[-1]
    assert "Traceback" not in out.stderr
