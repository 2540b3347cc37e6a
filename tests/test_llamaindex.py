"""LlamaIndex over our index, with the real llama-index-core objects: Documents from a real reader and by
hand in, a BaseRetriever, a CustomQueryEngine whose source nodes are the verified citations, a
QueryEngineTool; and the README's LlamaIndex script, run as written."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from llama_index.core import Document, SimpleDirectoryReader
from llama_index.core.base.response.schema import Response
from llama_index.core.query_engine import CustomQueryEngine
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, TextNode
from llama_index.core.tools import QueryEngineTool

from rag.config import Settings
from rag.integrations import llamaindex as li
from rag.integrations.llamaindex import NewsQueryEngine, NewsRetriever, ingest_documents, news_tool
from rag.store import Index

from .conftest import MODEL_DIR, ROOT, SEEDS, FakeChat

STORIES = ROOT / "tests" / "data" / "wikinews_stories_2005.jsonl"
README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_script() -> str:
    """The README's LlamaIndex example: the python block after the 'LlamaIndex' heading."""
    section = README.split("## LlamaIndex", 1)[1]
    return re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def stories(tmp_path_factory: pytest.TempPathFactory, embedder: object) -> Settings:
    """33 real Wikinews articles of Feb-Apr 2005, ingested as hand-made LlamaIndex Documents."""
    s = Settings(index_dir=tmp_path_factory.mktemp("li-stories") / "index", model_dir=MODEL_DIR)
    docs = [Document(text=r.pop("text"), metadata=r) for r in map(json.loads, STORIES.read_text().splitlines())]
    report = ingest_documents(docs, s, embedder)  # type: ignore[arg-type]
    assert report.added + report.duplicates == 33 and not report.rejected
    return s


def test_documents_keep_their_ids_dates_and_urls(stories: Settings) -> None:
    with Index.open(stories) as ix:
        a = ix.article("wikinews-7058")
    assert (a.title, a.date, a.date_source) == ("Fourth Lebanon bomb rocks shopping mall", "2005-04-02", "metadata")
    assert a.url and a.url.startswith("http") and a.source == "Wikinews"


def test_a_reader_feeds_the_index_with_file_ids_dedup_and_updates(tmp_path: Path, embedder: object) -> None:
    src = tmp_path / "news"
    (src / "b").mkdir(parents=True)
    seed = next(SEEDS.glob("*.txt")).read_text()
    (src / "seed.txt").write_text(seed)
    (src / "b" / "seed.txt").write_text("Other news\nThe town fair opened on Saturday with a pumpkin prize. " * 3)
    (src / "copy.txt").write_text(seed)  # the same text under another name
    s = Settings(index_dir=tmp_path / "index", model_dir=MODEL_DIR)
    docs = SimpleDirectoryReader(str(src), recursive=True).load_data()
    assert all(li._RANDOM_ID.match(d.id_) for d in docs)  # LlamaIndex's own ids are random: not ours
    r = ingest_documents(docs, s, embedder, today=date(2025, 11, 27))  # type: ignore[arg-type]
    assert (r.added, r.duplicates) == (2, 1)
    ((dup, first),) = r.duplicate_of.items()  # the seed text under two names: the later is the copy
    with Index.open(s) as ix:
        ids = sorted(a.id for a in ix.articles())
        dated = {a.id: (a.date, a.date_source) for a in ix.articles()}
    assert first in ids and dup not in ids and "copy" in (first, dup)
    assert [i for i in [*ids, dup] if i.startswith("seed")] and len({*ids, dup}) == 3
    assert sum(i == "seed" or re.fullmatch(r"seed-[0-9a-f]{8}", i) is not None for i in [*ids, dup]) == 2  # 2 seed.txt
    assert dated[first] == ("2025-11-24", "text")  # "Monday, November 24" read from the text, like a file
    again = ingest_documents(SimpleDirectoryReader(str(src), recursive=True).load_data(), s, embedder)  # type: ignore[arg-type]
    assert (again.added, again.updated, again.unchanged + again.duplicates) == (0, 0, 3)
    (src / "b" / "seed.txt").write_text("Other news\nThe town fair closed on Sunday; the prize went to a farmer. " * 3)
    changed = ingest_documents(SimpleDirectoryReader(str(src), recursive=True).load_data(), s, embedder)  # type: ignore[arg-type]
    assert (changed.added, changed.updated) == (0, 1)


def test_pages_of_one_file_are_one_article_and_empty_documents_are_rejected(tmp_path: Path, embedder: object) -> None:
    s = Settings(index_dir=tmp_path / "index", model_dir=MODEL_DIR)
    f = str(tmp_path / "report.pdf")
    pages = [Document(text=f"Page {i}: the harbour authority reported {i * 100} ships in March.",
                      metadata={"file_path": f, "file_name": "report.pdf", "page_label": str(i)}) for i in (1, 2)]
    r = ingest_documents([*pages, Document(text="  ")], s, embedder, date="2005-03-01")  # type: ignore[arg-type]
    assert r.added == 1 and len(r.rejected) == 1 and "non-empty" in r.rejected[0]["reason"]
    with Index.open(s) as ix:
        a = ix.article("report")
    assert "100 ships" in a.text and "200 ships" in a.text and (a.date, a.date_source) == ("2005-03-01", "flag")


def test_the_retriever_is_a_real_retriever_with_offsets_into_the_stored_text(stories: Settings, embedder: object) -> None:
    r = NewsRetriever(stories, top_k=4, embedder=embedder)  # type: ignore[arg-type]
    assert isinstance(r, BaseRetriever)
    hits = r.retrieve("Where did the bomb explode in a shopping mall?")
    assert len(hits) == 4 and all(isinstance(h, NodeWithScore) and isinstance(h.node, TextNode) for h in hits)
    with Index.open(stories) as ix:
        for h in hits:
            m = h.node.metadata
            assert set(m) == {"article_id", "title", "date", "url", "start", "end"}
            a = ix.article(m["article_id"])
            assert a.text[m["start"] : m["end"]] == h.node.get_content()
            assert (h.node.start_char_idx, h.node.end_char_idx, m["title"], m["date"]) == (m["start"], m["end"], a.title, a.date)
            assert h.score is not None and 0 < h.score <= 1
    assert hits[0].node.metadata["article_id"] in ("wikinews-7058", "wikinews-6173")


def test_the_retriever_is_date_aware(stories: Settings, embedder: object) -> None:
    q = "Which explosion happened near Beirut?"
    plain = NewsRetriever(stories, top_k=5, embedder=embedder).retrieve(q)  # type: ignore[arg-type]
    assert {h.node.metadata["date"] for h in plain} - {"2005-04-02"}  # other days compete without a filter
    window = NewsRetriever(stories, top_k=5, since="2005-04-01", until="2005-04-03", embedder=embedder).retrieve(q)  # type: ignore[arg-type]
    assert window and {h.node.metadata["date"] for h in window} == {"2005-04-02"}
    event = NewsRetriever(stories, top_k=5, embedder=embedder).retrieve(q.replace("?", " on 23 March 2005?"))  # type: ignore[arg-type]
    assert event[0].node.metadata["article_id"] == "wikinews-6173"  # the report of that day ranks first
    relative = NewsRetriever(stories, top_k=5, as_of=date(2005, 3, 24), embedder=embedder)  # type: ignore[arg-type]
    assert relative.retrieve(q.replace("?", " yesterday?"))[0].node.metadata["date"] == "2005-03-23"


def test_the_query_engine_gives_the_verified_citations_as_source_nodes(stories: Settings, embedder: object) -> None:
    fake = FakeChat()
    engine = NewsQueryEngine(settings=stories, embedder=embedder, llm=fake)
    assert isinstance(engine, CustomQueryEngine)
    resp = engine.query("Which residents of New Jdeideh were injured by the explosion?")
    assert isinstance(resp, Response) and not resp.metadata["refused"] and resp.metadata["refusal"] is None
    marks = {int(n) for n in re.findall(r"\[(\d+)\]", str(resp))}
    assert marks and marks == {s.node.metadata["n"] for s in resp.source_nodes}
    with Index.open(stories) as ix:
        for s in resp.source_nodes:
            m = s.node.metadata
            assert ix.article(m["article_id"]).text[m["start"] : m["end"]] == s.node.get_content()
    assert "wikinews-5991" in {s.node.metadata["article_id"] for s in resp.source_nodes}
    assert "Eleven" in " ".join(s.node.get_content() for s in resp.source_nodes)


def test_an_unverified_answer_has_no_source_nodes_and_says_why(stories: Settings, embedder: object) -> None:
    liar = FakeChat(reply=lambda system, user: "Geneva hosted the talks on 3 May 1999 [1].")
    resp = NewsQueryEngine(settings=stories, embedder=embedder, llm=liar).query("Where did the bomb explode in Broummana?")
    assert resp.metadata["refused"] and resp.source_nodes == []
    assert resp.metadata["refusal"]["stage"] == "unverified" and "Why:" in str(resp)
    off = NewsQueryEngine(settings=stories, embedder=embedder, llm=FakeChat()).query("Who won the 1998 football World Cup final?")
    assert off.metadata["refusal"]["stage"] == "no_passage" and off.source_nodes == []


def test_the_index_is_a_tool_an_agent_can_call(stories: Settings, embedder: object) -> None:
    tool = news_tool(NewsQueryEngine(settings=stories, embedder=embedder, llm=FakeChat()))
    assert isinstance(tool, QueryEngineTool) and tool.metadata.name == "news_index"
    assert "citations" in tool.metadata.description
    out = tool.call("Which residents of New Jdeideh were injured by the explosion?")
    assert "[1]" in out.content and out.raw_output.source_nodes
    assert tool.metadata.to_openai_tool()["function"]["name"] == "news_index"  # what an agent's LLM is shown


def test_the_readme_script_runs_with_a_fake_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The README's script as written, in process, with FakeChat for the model it would load."""
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setattr(li, "LLM", lambda settings: FakeChat())
    monkeypatch.chdir(ROOT)
    exec(compile(readme_script(), "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "'added': 1" in out and "000_aeafaadd1786d078" in out and "Geneva" in out
    assert re.search(r"^\[1\] 000_aeafaadd1786d078 \[\d+:\d+\] '.*Geneva", out, flags=re.M)


@pytest.mark.slow
def test_the_readme_script_runs_with_the_local_model(tmp_path: Path) -> None:
    """The README's script in a fresh interpreter, with the real embedded model: verified citations."""
    env = {**os.environ, "RAG_INDEX_DIR": str(tmp_path / "index"), "RAG_MODEL_DIR": str(MODEL_DIR)}
    out = subprocess.run([sys.executable, "-c", readme_script()], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Geneva" in out.stdout and re.search(r"^\[1\] 000_aeafaadd1786d078 \[\d+:\d+\] '", out.stdout, flags=re.M)
