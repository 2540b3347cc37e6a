"""Question -> Answer: retrieve, build a budgeted prompt, generate, then verify every sentence.

"The articles do not answer this" is a result (`refused=True`, with the closest passages as
`related`), not an exception: when nothing relevant is retrieved, when the model says so, or when no
sentence of its answer survives verification.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date

from rag.chunk import sentences
from rag.cite import content_words, mentioned, names, verify
from rag.config import Settings
from rag.embed import Embedder, make_embedder
from rag.errors import IndexEmptyError, InputError
from rag.llm import LLM, ChatModel
from rag.prompts import load_prompt
from rag.retrieve import DateRange, Retriever, Searcher
from rag.store import Index
from rag.timeframe import resolve
from rag.types import Answer, Passage

REFUSAL = "The indexed articles do not answer this question."
_NOT_IN = re.compile(r"NOT IN (THE )?ARTICLES", re.I)
CHARS_PER_TOKEN = 4.0  # English news text with the Qwen tokenizer, measured ~4.3


def format_passages(passages: list[Passage]) -> str:
    """Numbered passages for the prompt. Bracketed numbers inside article text are neutralised so an
    article cannot plant a citation marker."""
    blocks = []
    for n, p in enumerate(passages, 1):
        text = re.sub(r"\[(\d+)\]", r"(\1)", p.text)
        title = p.title.replace('"', "'")
        blocks.append(f'Passage [{n}] from "{title}" ({p.date or "undated"}):\n{text}')
    return "\n\n".join(blocks)


def unknown_names(question: str, passages: list[Passage]) -> set[str]:
    """Names the question uses (capitalised words after its first) that no passage mentions.

    "What did Vladimir Putin say about the talks?" over passages that never name Putin cannot be
    answered from them, however close the passages are in meaning."""
    seen = content_words(" ".join(p.title + " " + p.text for p in passages))
    return {n for n in names(question) if not mentioned(n, seen)}


def budget(passages: list[Passage], tokens: int) -> list[Passage]:
    """The best passages whose text fits in the token budget (always at least one)."""
    out: list[Passage] = []
    used = 0.0
    for p in passages:
        cost = len(p.text) / CHARS_PER_TOKEN + 12
        if out and used + cost > tokens:
            break
        out.append(p)
        used += cost
    return out


def resolve_dates(
    question: str, as_of: date | None = None, since: str | None = None, until: str | None = None
) -> DateRange:
    """Explicit since/until win; otherwise the question's own date expression, read against as_of."""
    if since or until:
        return DateRange(since, until)
    span = resolve(question, as_of or date.today())
    if span is None:
        return DateRange()
    lo, hi = span.iso()
    return DateRange(lo, hi)


def date_refusal(dates: DateRange, held: tuple[str | None, str | None], read_against: date | None) -> str:
    """The refusal for a date-filtered question; when no indexed article can fall in the window, it says
    which days the index holds and, for dates read from the question, how to read them against another day.

    >>> date_refusal(DateRange("2026-11-23", "2026-11-23"), ("2025-11-24", "2025-11-24"), date(2026, 11, 27))
    "No indexed article is dated 2026-11-23 to 2026-11-23 (the question's dates read against 2026-11-27); the index holds articles dated 2025-11-24 to 2025-11-24: pass --as-of YYYY-MM-DD to read them against another day."
    """
    window = f"{dates.since or 'any time'} to {dates.until or 'now'}"
    lo, hi = held
    if lo is None or hi is None or not ((dates.until and dates.until < lo) or (dates.since and dates.since > hi)):
        return f"No indexed article dated {window} answers this question."
    if read_against is None:
        return f"No indexed article is dated {window}; the index holds articles dated {lo} to {hi}."
    return (f"No indexed article is dated {window} (the question's dates read against {read_against.isoformat()}); "
            f"the index holds articles dated {lo} to {hi}: pass --as-of YYYY-MM-DD to read them against another day.")


class _SentenceStream:
    """Feeds generated text in; emits each sentence once it is complete and verified."""

    def __init__(self, context: list[Passage], question: str, emit: Callable[[str], None]) -> None:
        self.context, self.question, self.emit = context, question, emit
        self.buffer = ""
        self.shown = 0

    def feed(self, text: str, final: bool = False) -> None:
        self.buffer += text
        spans = sentences(self.buffer)
        complete = spans if final else spans[:-1]
        if not complete:
            return
        checked = verify(self.buffer[: complete[-1][1]], self.context, self.question)
        parts = sentences(checked.answer)
        for s, e in parts[self.shown :]:
            self.emit(checked.answer[s:e] + " ")
        self.shown = len(parts)


def ask(
    question: str,
    settings: Settings,
    *,
    as_of: date | None = None,
    since: str | None = None,
    until: str | None = None,
    index: Index | None = None,
    embedder: Embedder | None = None,
    llm: ChatModel | None = None,
    on_text: Callable[[str], None] | None = None,
    retriever: Searcher | None = None,
) -> Answer:
    """Answer a question from the indexed articles with verified citations (see module doc).

    Dates: `since`/`until` (ISO) filter on publication day; without them a date expression in the
    question ("yesterday", "on 24 November", "last week") is resolved against `as_of` (default today).
    `on_text` receives the answer sentence by sentence, each only after it passed verification.
    `retriever` replaces the index's own search (the eval harness records or breaks retrieval with it).
    """
    if not question.strip():
        raise InputError("the question is empty: ask something, e.g. rag ask \"Who won the vote?\"")
    dates = resolve_dates(question, as_of, since, until)
    t_start = time.monotonic()
    own_index = index is None
    index = index or Index.open(settings)
    try:
        if index.counts()[0] == 0:
            raise IndexEmptyError(f"the index at {index.dir} holds no articles: run `rag ingest PATH` first")
        embedder = embedder or make_embedder(settings)
        index.check_embedder(embedder.name, write=False)
        t0 = time.monotonic()
        found = (retriever or Retriever(index, embedder, settings)).search(question, settings.top_k, dates)
        t_retrieve = time.monotonic() - t0
        held = index.date_span() if dates else (None, None)
    finally:
        if own_index:
            index.close()
    usage: dict[str, float] = {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "llm_seconds": 0.0,
                               "retrieve_seconds": round(t_retrieve, 4)}
    refusal = REFUSAL if not dates else date_refusal(dates, held, None if since or until else as_of or date.today())
    relevant = [p for p in found if p.score >= settings.min_relevance]
    if relevant and unknown_names(question, relevant):
        relevant = []  # the question is about someone or something no retrieved passage mentions
    if not relevant:
        usage["seconds"] = round(time.monotonic() - t_start, 3)
        return Answer(question, refusal, True, related=found[:3], usage=usage, dates=dates)
    context = budget(relevant, settings.context_tokens)
    prompt = load_prompt("answer", {"passages", "question"})
    system, user = prompt.render(passages=format_passages(context), question=question)
    llm = llm or LLM(settings)
    stream = _SentenceStream(context, question, on_text) if on_text else None
    done = llm.complete(system, user, settings.max_answer_tokens, on_text=stream.feed if stream else None)
    if stream:
        stream.feed("", final=True)
    usage.update(calls=1, prompt_tokens=done.prompt_tokens, completion_tokens=done.completion_tokens,
                 llm_seconds=round(done.seconds, 3), seconds=round(time.monotonic() - t_start, 3))
    if done.prompt_seconds is not None and done.generation_seconds is not None:
        usage.update(prompt_seconds=done.prompt_seconds, generation_seconds=done.generation_seconds)
    if done.cached_tokens is not None:
        usage["cached_prompt_tokens"] = done.cached_tokens
    if _NOT_IN.search(done.text):
        return Answer(question, refusal, True, related=context[:3], usage=usage, dates=dates)
    checked = verify(done.text, context, question)
    if not checked.citations:
        return Answer(question, refusal, True, related=context[:3], dropped=checked.dropped, usage=usage, dates=dates)
    return Answer(question, checked.answer, False, checked.citations, dropped=checked.dropped, usage=usage,
                  dates=dates)
