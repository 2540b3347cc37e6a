"""Question -> Answer: retrieve, build a budgeted prompt, generate, then verify every sentence.

"The articles do not answer this" is a result (`refused=True`, with the closest passages as
`related`), not an exception: when nothing relevant is retrieved, when the model says so, or when no
sentence of its answer survives verification.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from rag.cite import verify
from rag.config import Settings
from rag.embed import Embedder, make_embedder
from rag.errors import IndexEmptyError
from rag.llm import LLM, ChatModel
from rag.prompts import load_prompt
from rag.retrieve import DateRange, Retriever, Searcher
from rag.store import Index
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


def ask(
    question: str,
    settings: Settings,
    *,
    dates: DateRange | None = None,
    index: Index | None = None,
    embedder: Embedder | None = None,
    llm: ChatModel | None = None,
    on_text: Callable[[str], None] | None = None,
    retriever: Searcher | None = None,
) -> Answer:
    """Answer a question from the indexed articles with verified citations (see module doc).

    `retriever` replaces the index's own search (the eval harness records or breaks retrieval with it)."""
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
    finally:
        if own_index:
            index.close()
    relevant = [p for p in found if p.score >= settings.min_relevance]
    usage: dict[str, float] = {"retrieve_seconds": round(t_retrieve, 4)}
    if not relevant:
        return Answer(question, REFUSAL, True, related=found[:3], usage=usage)
    context = budget(relevant, settings.context_tokens)
    prompt = load_prompt("answer", {"passages", "question"})
    system, user = prompt.render(passages=format_passages(context), question=question)
    llm = llm or LLM(settings)
    done = llm.complete(system, user, settings.max_answer_tokens, on_text=on_text)
    usage.update(prompt_tokens=done.prompt_tokens, completion_tokens=done.completion_tokens,
                 llm_seconds=round(done.seconds, 3))
    if _NOT_IN.search(done.text):
        return Answer(question, REFUSAL, True, related=context[:3], usage=usage)
    checked = verify(done.text, context, question)
    if not checked.citations:
        return Answer(question, REFUSAL, True, related=context[:3], dropped=checked.dropped, usage=usage)
    return Answer(question, checked.answer, False, checked.citations, dropped=checked.dropped, usage=usage)
