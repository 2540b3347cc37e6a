"""LlamaIndex over this index: a retriever, a query engine, document ingestion and an agent tool.

Real llama-index-core classes, with our pipeline behind them (nothing of it re-implemented):
- `NewsRetriever` (a `BaseRetriever`): hybrid, date-aware retrieval (rag.answering.retrieve), as `NodeWithScore`s whose
  node is the cited span (`text == article.text[start:end]`, also `start_char_idx`/`end_char_idx`) and whose
  metadata holds article_id, title, date, url, start and end; the score is the dense cosine to the query.
- `NewsQueryEngine` (a `CustomQueryEngine`): runs `rag.ask`; the `Response`'s `source_nodes` are exactly the
  verified citations (metadata `n` is the `[n]` of the answer text, score None: a citation is verified, not
  ranked); `metadata` holds `refused`, `refusal` ({"stage", "detail"} or None), `dropped` and `usage`. A
  refused answer has no source nodes and its text says why, so an agent reading the tool's output sees it.
- `ingest_documents`: LlamaIndex `Document`s (from any reader) into the index with our ids, dates,
  duplicate detection and updates (`document_article` says how a document becomes an article).
- `news_tool`: the query engine as a `QueryEngineTool` an agent can call.

Nothing here touches llama-index's global `Settings`: our settings object, embedder and model are passed in.
Not handled: LlamaIndex's async paths run the same synchronous code; node postprocessors or a response
synthesizer of the user's own cannot be put between our retrieval and our verification.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from llama_index.core.base.response.schema import Response
from llama_index.core.query_engine import CustomQueryEngine
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import Document, NodeRelationship, NodeWithScore, QueryBundle, RelatedNodeInfo, TextNode
from llama_index.core.tools import QueryEngineTool
from pydantic import Field

from rag.answering.answer import ask, resolve_dates
from rag.answering.retrieve import Retriever
from rag.config import Settings
from rag.ingest import IngestReport, ingest_articles
from rag.ingest.readers import Rejection, record_article
from rag.models.embed import Embedder, make_embedder
from rag.models.llm import LLM, ChatModel
from rag.store import Index
from rag.types import Article, Citation, Passage

# What a document's metadata may call an article's fields (LlamaIndex readers differ). A file's
# creation_date / last_modified_date are not in the list: they date the file, not the news.
METADATA_KEYS: dict[str, tuple[str, ...]] = {
    "id": ("id", "article_id"),
    "title": ("title",),
    "date": ("date", "published", "publication_date", "pub_date", "published_date"),
    "url": ("url", "link", "source_url"),
    "source": ("source", "site", "publisher"),
    "author": ("author", "authors"),
}
# LlamaIndex gives a Document a random uuid4 unless its reader names it (filename_as_id=True)
_RANDOM_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
_LLM_HIDDEN = ["article_id", "url", "start", "end", "n"]  # what a user's LLM prompt need not show


def _node(chunk_id: str, p: Passage | Citation, extra: dict[str, Any] | None = None) -> TextNode:
    meta: dict[str, Any] = {"article_id": p.article_id, "title": p.title, "date": p.date, "url": p.url,
                            "start": p.start, "end": p.end, **(extra or {})}
    return TextNode(id_=chunk_id, text=p.text, metadata=meta, start_char_idx=p.start, end_char_idx=p.end,
                    excluded_llm_metadata_keys=_LLM_HIDDEN, excluded_embed_metadata_keys=list(meta),
                    relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=p.article_id)})


def passage_node(p: Passage) -> NodeWithScore:
    """A retrieved passage as a LlamaIndex node, scored by its dense cosine to the query."""
    return NodeWithScore(node=_node(p.chunk_id, p), score=p.score)


def citation_node(c: Citation) -> NodeWithScore:
    """A verified citation as a LlamaIndex node; metadata `n` is its number in the answer's `[n]` marks."""
    return NodeWithScore(node=_node(f"{c.article_id}:{c.start}-{c.end}", c, {"n": c.n}), score=None)


class NewsRetriever(BaseRetriever):
    """Hybrid, date-aware retrieval over the index at `settings.index_dir` (module doc).

    since/until (ISO days) filter on publication day; without them a date in the query ("last week",
    "on 3 May 2007") is read against `as_of` (default today) and ranks articles by date, as `rag ask` does.
    mode: hybrid | dense | lexical (default RAG_RETRIEVAL). The index is opened per query, so one retriever
    can be used from several threads and sees what was ingested since.
    """

    def __init__(self, settings: Settings, *, top_k: int | None = None, since: str | None = None,
                 until: str | None = None, as_of: date | None = None, mode: str | None = None,
                 embedder: Embedder | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings, self.top_k, self.mode = settings, top_k or settings.top_k, mode
        self.since, self.until, self.as_of = since, until, as_of
        self._embedder = embedder

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.settings)
        return self._embedder

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        query = query_bundle.query_str
        dates = resolve_dates(query, self.as_of, self.since, self.until)
        with Index.open(self.settings) as index:
            index.check_embedder(self.embedder.name, write=False)
            found = Retriever(index, self.embedder, self.settings).search(query, self.top_k, dates, self.mode)
        return [passage_node(p) for p in found]


class NewsQueryEngine(CustomQueryEngine):
    """`rag.ask` as a LlamaIndex query engine: verified citations as source nodes (module doc).

    llm: any `rag.models.llm.ChatModel` (default: the model the settings name, made on the first query and kept).
    """

    settings: Settings
    as_of: date | None = None
    since: str | None = None
    until: str | None = None
    embedder: Any = Field(default=None, description="a rag.models.embed.Embedder; default: the settings' embedder")
    llm: Any = Field(default=None, description="a rag.models.llm.ChatModel; default: the settings' model")

    def custom_query(self, query_str: str) -> Response:
        if self.embedder is None:
            self.embedder = make_embedder(self.settings)
        if self.llm is None:
            self.llm = LLM(self.settings)
        model: ChatModel = self.llm
        a = ask(query_str, self.settings, as_of=self.as_of, since=self.since, until=self.until,
                embedder=self.embedder, llm=model)
        text = a.answer
        if a.refusal is not None and a.refusal.detail not in text:
            text = f"{text} Why: {a.refusal.detail}"
        return Response(text, source_nodes=[citation_node(c) for c in a.citations], metadata={
            "refused": a.refused, "refusal": a.refusal.to_dict() if a.refusal else None,
            "dropped": list(a.dropped), "usage": dict(a.usage)})


def news_tool(engine: NewsQueryEngine, name: str = "news_index", description: str | None = None) -> QueryEngineTool:
    """The query engine as a tool an agent can call with a question (plain text in, a cited answer out)."""
    return QueryEngineTool.from_defaults(engine, name=name, description=description or (
        "Answers a question from the indexed news articles with verified citations [n], or says that the "
        "articles do not answer it and why. Input: one self-contained question in plain English; dates "
        "('last week', 'on 3 May 2007') are understood."))


def _pick(meta: dict[str, Any], field: str) -> object:
    for key in METADATA_KEYS[field]:
        v = meta.get(key)
        if v not in (None, "", []):
            return ", ".join(map(str, v)) if isinstance(v, list) else v
    return None


def document_article(doc: Document, where: str = "document") -> Article | Rejection:
    """One Document -> an Article (or a Rejection naming `where` and the problem).

    Fields come from the metadata (`METADATA_KEYS`). The id is the metadata's id; else the document's
    own id when a reader set it (not LlamaIndex's random uuid4; a file path gives its file name without
    suffix); else the name of its `file_path`/`file_name`; else a hash of its text. Without a date the
    pipeline infers one from the text, as for files.
    """
    meta = dict(doc.metadata or {})
    rec = {f: _pick(meta, f) for f in METADATA_KEYS}
    rec["text"] = doc.text
    file = meta.get("file_path") or meta.get("file_name")
    if rec["id"] is None:
        own = doc.id_ if doc.id_ and not _RANDOM_ID.match(doc.id_) else None
        if own and file and own.startswith(str(file)):
            own = None  # filename_as_id: the file's name is the id, as below
        rec["id"] = own or (Path(str(file)).stem if file else None)
    return record_article(rec, str(file or where), where, "doc")


def ingest_documents(documents: Iterable[Document], settings: Settings, embedder: Embedder | None = None, *,
                     date: str | None = None, source: str | None = None, today: date | None = None) -> IngestReport:
    """Ingest LlamaIndex Documents (e.g. `SimpleDirectoryReader(...).load_data()`) like files: unchanged ones
    are skipped, changed ones replace their old version, copies are recorded as duplicates, undated ones get a
    date from their text. Documents of one file (a reader's pages or sections, sharing `file_path` and no id
    of their own) are one article, their texts joined. A document that cannot be an article (no text) is
    listed in `rejected`. date/source override every document's, as `rag ingest --date/--source`."""
    items: list[tuple[Path | None, Article]] = []
    rejected: list[dict[str, str]] = []
    by_file: dict[str, int] = {}  # file path -> its article's place in items
    for n, doc in enumerate(documents, 1):
        a = document_article(doc, f"document {n}")
        if isinstance(a, Rejection):
            rejected.append({"path": a.path, "reason": a.reason})
            continue
        file = (doc.metadata or {}).get("file_path")
        if file and a.id == Path(str(file)).stem:
            if str(file) in by_file:
                i = by_file[str(file)]
                first = items[i][1]
                items[i] = (items[i][0], replace(first, text=f"{first.text}\n\n{a.text}"))
                continue
            by_file[str(file)] = len(items)
            items.append((Path(str(file)), a))
        else:
            items.append((None, a))
    return ingest_articles(items, settings, embedder, date=date, source=source, today=today, rejected=rejected)
