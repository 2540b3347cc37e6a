"""The walking skeleton end to end: real Chroma, real embedder, real local LLM, through the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.chunk import chunk_article, sentences
from rag.cli import app
from rag.config import Settings
from rag.errors import ModelError
from rag.models.llm import PACKAGED_MODELS, model_file
from rag.types import Article

from .conftest import MODEL_DIR, SEEDS

runner = CliRunner()


def test_chunks_are_exact_spans_of_the_article() -> None:
    text = (SEEDS / "000_aeafaadd1786d078.txt").read_text()
    a = Article(id="a", title="t", text=text)
    chunks = chunk_article(a, 400)
    assert len(chunks) > 5
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert len(c.text) <= 400
    # every sentence lands in exactly one chunk, in order, none lost
    covered = "".join(text[c.start : c.end] for c in chunks).replace(" ", "").replace("\n", "")
    assert covered == "".join(text[s:e] for s, e in sentences(text)).replace(" ", "").replace("\n", "")


def test_ask_before_ingest_is_one_clear_line(tmp_path: Path) -> None:
    r = runner.invoke(app, ["ask", "Which city?", "--index", str(tmp_path / "none")])
    assert r.exit_code == 1
    assert "rag ingest" in r.output and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_show_unknown_id_is_one_clear_line(seed_settings: Settings) -> None:
    r = runner.invoke(app, ["show", "no-such-id", "--index", str(seed_settings.index_dir), "--json"])
    assert r.exit_code == 1
    assert "no-such-id" in r.output and len(r.output.strip().splitlines()) == 1


def test_ingest_json_contract(tmp_path: Path) -> None:
    r = runner.invoke(app, ["ingest", str(SEEDS), "--index", str(tmp_path / "ix"), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert set(out) - {"usage"} == {"added", "updated", "unchanged", "duplicates", "rejected", "articles", "chunks"}
    assert out["added"] == 1 and out["articles"] == 1 and out["chunks"] >= 3 and out["rejected"] == []
    again = json.loads(runner.invoke(app, ["ingest", str(SEEDS), "--index", str(tmp_path / "ix"), "--json"]).output)
    assert again["unchanged"] == 1 and again["added"] == 0 and again["chunks"] == out["chunks"]


def test_corrupted_model_file_is_refused(tmp_path: Path) -> None:
    s = Settings(model_dir=tmp_path)
    target = tmp_path / PACKAGED_MODELS[s.local_model].file_name
    target.write_bytes(b"GGUF" + b"\0" * 100)
    with pytest.raises(ModelError, match="corrupted"):
        model_file(s)


def test_missing_model_file_shows_one_line_through_cli(seed_settings: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "models"
    bad.mkdir()
    (bad / PACKAGED_MODELS[seed_settings.local_model].file_name).write_bytes(b"junk")
    r = runner.invoke(
        app, ["ask", "Which city hosted the talks?", "--index", str(seed_settings.index_dir)],
        env={"RAG_MODEL_DIR": str(bad)},
    )
    assert r.exit_code == 1
    assert "corrupted" in r.output and len(r.output.strip().splitlines()) == 1


@pytest.mark.slow
def test_geneva_answer_cites_the_real_passage(seed_settings: Settings) -> None:
    """The skeleton's promise, through the installed console script, as a user would run it."""
    exe = shutil.which("rag") or str(Path(sys.executable).parent / "rag")
    env = {**os.environ, "RAG_INDEX_DIR": str(seed_settings.index_dir), "RAG_MODEL_DIR": str(MODEL_DIR)}
    out = subprocess.run([exe, "ask", "--json", "Which city hosted the US-Ukraine talks?"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    a = json.loads(out.stdout)
    assert not a["refused"]
    assert "Geneva" in a["answer"]
    assert a["citations"]
    shown = json.loads(subprocess.run([exe, "show", "--json", a["citations"][0]["article_id"]],
                                      capture_output=True, text=True, env=env, timeout=60).stdout)
    for c in a["citations"]:
        assert f"[{c['n']}]" in a["answer"]
        assert shown["text"][c["start"] : c["end"]] == c["text"]
    assert any("Geneva" in c["text"] for c in a["citations"])
