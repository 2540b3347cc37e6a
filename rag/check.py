"""Check any text against the corpus: a reporter's draft, another tool's summary, a claim seen elsewhere.

`check_text(text, settings)` splits the text into sentences (or, with `lines=True`, takes each non-empty
line as one statement), finds the best evidence the index holds for each (hybrid retrieval with the
statement as the query, within --since/--until; or only the chunks of the given articles), and asks the
verifier (rag.verify) for a verdict with its reason: supported, contradicted, unsupported, or
no_evidence when nothing in the index is related. Citation markers already in the text ("[3]") are
ignored: the statement is checked against what the index holds, not against what it claims to cite.

Not handled: a statement that needs two articles at once (each is checked against one passage).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from rag.answering.retrieve import DateRange, Retriever
from rag.chunk import sentences
from rag.cite import strip_markers
from rag.config import Settings
from rag.errors import IndexEmptyError, InputError
from rag.models.embed import Embedder, make_embedder
from rag.models.llm import ChatModel, LazyLLM
from rag.store import Index
from rag.summarise.stories import whole
from rag.types import Citation, Passage
from rag.verify import Verdict, check_claim, make_judge

MAX_STATEMENTS = 2000
EVIDENCE_K = 5  # passages retrieved per statement


@dataclass
class Statement:
    text: str
    verdict: Verdict

    def citations(self) -> list[Citation]:
        v, p = self.verdict, self.verdict.passage
        if p is None or v.verdict == "no_evidence":
            return []
        return [Citation(1, p.article_id, p.title, p.date, p.url, v.start, v.end, v.evidence)]

    def to_dict(self) -> dict[str, object]:
        return {"text": self.text, "supported": self.verdict.supported, "verdict": self.verdict.verdict,
                "reason": self.verdict.reason, "citations": [c.to_dict() for c in self.citations()]}


@dataclass
class CheckReport:
    statements: list[Statement] = field(default_factory=list)
    usage: dict[str, float] = field(default_factory=dict)

    @property
    def supported(self) -> int:
        return sum(s.verdict.supported for s in self.statements)

    def to_dict(self) -> dict[str, object]:
        return {"sentences": [s.to_dict() for s in self.statements], "supported": self.supported,
                "unsupported": len(self.statements) - self.supported}


def split_statements(text: str, lines: bool = False) -> list[str]:
    """The statements of a text: its sentences, or its non-empty lines; citation markers removed.

    >>> split_statements("Talks began in Geneva [1]. They ended.\\n\\nA third one")
    ['Talks began in Geneva.', 'They ended.', 'A third one']
    """
    pieces = [ln for ln in text.splitlines() if ln.strip()] if lines else [text[s:e] for s, e in sentences(text)]
    return [" ".join(strip_markers(p).split()) for p in pieces if strip_markers(p).strip()]


def check_text(
    text: str,
    settings: Settings,
    *,
    lines: bool = False,
    article_ids: list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    index: Index | None = None,
    embedder: Embedder | None = None,
    llm: ChatModel | None = None,
) -> CheckReport:
    """A verdict for every statement of `text` (module doc). Raises InputError for an empty text or
    unknown article ids, IndexEmptyError for an empty index."""
    statements = split_statements(text, lines)
    if not statements:
        raise InputError("nothing to check: the text has no sentences (give TEXT, or --file PATH)")
    if len(statements) > MAX_STATEMENTS:
        raise InputError(f"the text has {len(statements)} statements; check at most {MAX_STATEMENTS} at a time")
    t0 = time.monotonic()
    own = index is None
    index = index or Index.open(settings)
    report = CheckReport()
    try:
        if index.counts()[0] == 0:
            raise IndexEmptyError(f"the index at {index.dir} holds no articles: run `rag ingest PATH` first")
        fixed: list[Passage] | None = None
        if article_ids:
            missing = [a for a in article_ids if not index.has_article(a)]
            if missing:
                raise InputError(f"not in the index: {', '.join(missing)}; list ids with `rag list`")
            fixed = [whole(index.article(a)) for a in article_ids]
        embedder = embedder or make_embedder(settings)
        index.check_embedder(embedder.name, write=False)
        retriever = Retriever(index, embedder, settings)
        judge = None
        if settings.verify_judge != "off":
            model = (settings.llm_model or "") if settings.llm_base_url else settings.local_model  # as LLM names it
            judge = make_judge(llm or LazyLLM(settings, model), settings)
        for s in statements:
            if fixed is not None:
                passages = fixed
            else:
                found = retriever.search(s, EVIDENCE_K, DateRange(since, until))
                passages = [p for p in found if p.score >= settings.min_relevance]
            report.statements.append(Statement(s, check_claim(s, passages, judge=judge)))
    finally:
        if own:
            index.close()
    report.usage = {"seconds": round(time.monotonic() - t0, 3), "statements": len(statements)}
    if judge is not None:
        report.usage.update(judge_calls=judge.calls, judge_cached=judge.cached, judge_seconds=round(judge.seconds, 3))
    return report
