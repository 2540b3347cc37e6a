"""`rag ask` while a real `rag ingest` process writes to the same index: every answer succeeds, cites
only fully indexed articles, and the ingest loses nothing."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from rag.answering.answer import ask
from rag.config import Settings
from rag.store import Index

from .conftest import ROOT, FakeChat
from .test_ingest_crash import rag, rag_env

DATA = Path(__file__).parent / "data" / "wikinews_2005-03.jsonl"


def test_ask_while_ingesting(seed_settings: Settings, embedder: object) -> None:
    index = seed_settings.index_dir
    proc = subprocess.Popen(rag("ingest", str(DATA), "--json", env={}), cwd=ROOT, env=rag_env(index),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    answers = 0
    seen_counts = []
    try:
        while proc.poll() is None or answers == 0:
            with Index.open(seed_settings) as ix:
                a = ask("Which city hosted the US-Ukraine talks?", seed_settings, index=ix, embedder=embedder,  # type: ignore[arg-type]
                        llm=FakeChat())
                assert not a.refused, a.answer
                for c in a.citations:
                    assert ix.article(c.article_id).text[c.start : c.end] == c.text
                seen_counts.append(ix.counts()[0])
            answers += 1
            time.sleep(0.2)
    finally:
        out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    report = json.loads(out)
    assert report["articles"] == 1 + 88 - report["duplicates"]
    assert seen_counts == sorted(seen_counts)  # readers saw the index grow, batch by batch, never shrink
    assert answers >= 2 and seen_counts[0] < report["articles"]
