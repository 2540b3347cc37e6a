"""Bad input: each case is rejected with a reason, the good inputs still land, exit status 1."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.config import Settings
from rag.ingest import ingest
from rag.models.embed import OnnxMiniLM

runner = CliRunner()
GOOD = "Good story\nThe museum reopened on Saturday after a year of renovation. Visitors queued around the block."


def make_bad_inputs(d: Path) -> dict[str, str]:
    """file name -> a word the rejection reason must contain."""
    d.mkdir()
    (d / "good.txt").write_text(GOOD)
    (d / "empty.txt").write_text("")
    (d / "blank.md").write_text("   \n\n  \n")
    (d / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(64))
    (d / "latin1.txt").write_bytes("Caf\xe9 news\nThe caf\xe9 opened.".encode("latin-1"))
    (d / "lines.jsonl").write_text('{"id": "ok-1", "title": "Fine", "text": "A fine record about the harbour."}\n'
                                   '{"id": "broken", "text": \n')
    (d / "nav-only.html").write_text("<html><body><nav><a href='/'>Home</a></nav><script>x()</script></body></html>")
    (d / "bad-front.md").write_text("---\ntitle: [unclosed\n---\nBody text here.")
    (d / "not-a-feed.xml").write_text("<config><setting>1</setting></config>")
    (d / "huge.txt").write_text("word " * 300)  # over the small limit set below
    (d / "notes.docx").write_bytes(b"PK\x03\x04")
    return {"empty.txt": "empty", "blank.md": "empty", "binary.txt": "binary", "latin1.txt": "UTF-8",
            "lines.jsonl:2": "line 2", "nav-only.html": "no article text", "bad-front.md": "YAML",
            "not-a-feed.xml": "feed", "huge.txt": "limit", "notes.docx": "unsupported"}


def test_each_bad_input_is_rejected_with_a_reason_and_the_good_ones_land(tmp_path: Path, embedder: OnnxMiniLM) -> None:
    want = make_bad_inputs(tmp_path / "in")
    settings = Settings(index_dir=tmp_path / "ix", max_input_bytes=1000)
    r = ingest([tmp_path / "in", tmp_path / "missing-folder"], settings, embedder=embedder)
    got = {Path(x["path"]).name: x["reason"] for x in r.rejected}
    assert got.pop("missing-folder") == "no such file or directory"
    assert set(got) == set(want), got
    for name, word in want.items():
        assert word.lower() in got[name].lower(), (name, got[name])
        assert "\n" not in got[name]
    assert r.added == 2 and r.articles == 2  # good.txt and the good line of lines.jsonl


def test_cli_exit_status_and_json_with_rejections(tmp_path: Path, settings: Settings) -> None:
    make_bad_inputs(tmp_path / "in")
    ix = ["--index", str(settings.index_dir)]
    out = runner.invoke(app, ["ingest", str(tmp_path / "in"), "--json", *ix], env={"RAG_MAX_INPUT_BYTES": "1000"})
    assert out.exit_code == 1
    doc = json.loads(out.stdout)
    assert doc["added"] == 2 and len(doc["rejected"]) == 10
    ok = runner.invoke(app, ["ingest", str(tmp_path / "in" / "good.txt"), "--json", *ix])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["unchanged"] == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path, settings: Settings, embedder: OnnxMiniLM) -> None:
    p = tmp_path / "secret.txt"
    p.write_text(GOOD)
    p.chmod(0)
    r = ingest([p], settings, embedder=embedder)
    assert r.rejected == [{"path": str(p), "reason": "cannot read: Permission denied"}]


def test_unreadable_path_a_directory_named_like_a_file_and_a_fifo(tmp_path: Path, settings: Settings,
                                                                  embedder: OnnxMiniLM) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    r = ingest([fifo, tmp_path / "nope.txt"], settings, embedder=embedder)
    assert {x["reason"] for x in r.rejected} == {"not a regular file or folder", "no such file or directory"}


def test_bad_date_flag_is_one_line(tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "a.txt").write_text(GOOD)
    out = runner.invoke(app, ["ingest", str(tmp_path / "a.txt"), "--date", "someday", "--index",
                              str(settings.index_dir)])
    assert out.exit_code == 1 and "YYYY-MM-DD" in out.output and len(out.output.strip().splitlines()) == 1


def test_a_file_that_fails_to_read_is_rejected(tmp_path: Path, settings: Settings, embedder: OnnxMiniLM) -> None:
    """Works as root too: reading /proc/self/mem from offset 0 fails with an I/O error."""
    if not Path("/proc/self/mem").exists():
        pytest.skip("no /proc")
    link = tmp_path / "story.txt"
    link.symlink_to("/proc/self/mem")
    (tmp_path / "good.txt").write_text(GOOD)
    r = ingest([tmp_path], settings, embedder=embedder)
    assert len(r.rejected) == 1 and r.rejected[0]["reason"].startswith("cannot read:"), r.rejected
    assert r.added == 1
