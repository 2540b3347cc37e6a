"""A read-only or full index directory: one clear error line, exit 1, no partial state; a re-run
after the disk is fixed finishes the work. Uses a real small tmpfs (needs root, as in CI here); the
read-only case falls back to file modes when not root."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ROOT, SEEDS, needs_sqlite
from .test_ingest_crash import DATA, N, check, rag, rag_env

# crash and disk states are read from articles.sqlite (tests/index_check.py); the PostgreSQL store keeps
# its transactions on the server
pytestmark = needs_sqlite()


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    d = tmp_path / "fs"
    d.mkdir()
    if os.geteuid() != 0 or not _mount("-t", "tmpfs", "-o", "size=20m", "tmpfs", str(d)):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield d
    finally:
        subprocess.run(["umount", "-l", str(d)], capture_output=True)


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(rag(*args, env=env), cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def assert_one_clear_line(out: subprocess.CompletedProcess[str], words: str) -> None:
    assert out.returncode == 1, out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot write the index at"), out.stderr
    assert words in lines[0] and "Traceback" not in out.stderr


def test_disk_full_is_a_clear_error_and_a_rerun_finishes(small_fs: Path) -> None:
    index = small_fs / "index"
    env = rag_env(index)
    assert run(["ingest", str(SEEDS), "--json"], env).returncode == 0
    assert _mount("-o", "remount,size=600k", str(small_fs))  # now only a little room is left
    out = run(["ingest", str(DATA), "--json"], env)
    assert_one_clear_line(out, "the disk is full")
    assert _mount("-o", "remount,size=20m", str(small_fs))
    state = check(index)
    assert state["problems"] == [] and state["indexed"] >= 1  # consistent: only whole articles visible
    again = run(["ingest", str(DATA), str(SEEDS), "--json"], env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["articles"] == N + 1
    state = check(index)
    assert state["problems"] == [] and state["pending"] == 0 and state["indexed"] == N + 1


def test_read_only_index_dir_is_a_clear_error_and_reads_still_work(small_fs: Path) -> None:
    index = small_fs / "index"
    env = rag_env(index)
    assert run(["ingest", str(SEEDS), "--json"], env).returncode == 0
    assert _mount("-o", "remount,ro", str(small_fs))
    try:
        assert_one_clear_line(run(["ingest", str(DATA), "--json"], env), "read-only")
        assert_one_clear_line(run(["ingest", str(SEEDS), "--json"], rag_env(small_fs / "new")), "read-only")
        st = run(["stats", "--json"], env)
        assert st.returncode == 0 and json.loads(st.stdout)["articles"] == 1  # a read-only index is readable
    finally:
        assert _mount("-o", "remount,rw", str(small_fs))
    state = check(index)
    assert state["problems"] == [] and state["indexed"] == 1 and state["pending"] == 0  # nothing half-written
    assert run(["ingest", str(DATA), "--json"], env).returncode == 0
    assert check(index)["indexed"] == N + 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes whatever the file modes say; see the tmpfs test")
def test_read_only_by_file_mode(tmp_path: Path) -> None:
    index = tmp_path / "index"
    env = rag_env(index)
    assert run(["ingest", str(SEEDS), "--json"], env).returncode == 0
    for p in [index, *index.rglob("*")]:
        p.chmod(p.stat().st_mode & ~0o222)
    try:
        assert_one_clear_line(run(["ingest", str(DATA), "--json"], env), "read-only")
    finally:
        for p in [index, *index.rglob("*")]:
            p.chmod(p.stat().st_mode | 0o200)
