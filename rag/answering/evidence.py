"""Retrieved chunks -> the evidence the model reads: the best sentences of more articles within one token
budget, rather than two whole chunks.

Each sentence of the candidate chunks is scored against the question by the embedder's cosine, by
BM25-like term weights computed over the candidate sentences, or both fused by rank (RAG_EVIDENCE); the
chunk's own retrieval rank is fused in too. Sentences are taken best first until the budget is spent; a
sentence that opens with a pronoun ("He said ...") brings the sentence before it, which names who "he"
is. The kept sentences of one article are merged into runs of consecutive sentences, one numbered
passage each, ordered by their best sentence, strongest first.

`parts` are the pieces of a question that must each have evidence ("the X deal and the Y deal"): the best
sentence mentioning each part is taken first.

Not handled: coreference beyond the previous sentence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from rag.answering.retrieve import fuse
from rag.chunk import sentences
from rag.cite import prefix_words
from rag.models.embed import Embedder
from rag.textdates import annotate
from rag.types import Passage

CHARS_PER_TOKEN = 4.0  # Qwen2.5 tokenizer on 300 Wikinews sentences: 4.8 chars a token (p5 3.45, p95 6.0), so budgets err short
HEADER_TOKENS = 14  # '[n] "title" (date):' per passage
_LEANS_BACK = re.compile(r"^(he|she|it|they|his|her|its|their|this|that|these|those|the (company|firm|group|government|"
                         r"minister|president|court|police|spokesman|spokeswoman|official|officials|agency))\b", re.I)


@dataclass(frozen=True)
class _Sentence:
    chunk: int  # rank of its chunk
    passage: Passage
    start: int  # offsets into passage.text
    end: int

    @property
    def text(self) -> str:
        return self.passage.text[self.start : self.end]

    @property
    def cost(self) -> float:
        return (self.end - self.start) / CHARS_PER_TOKEN


def _lexical_ranking(question: str, cands: list[_Sentence]) -> list[int]:
    terms = prefix_words(question)
    docs = [prefix_words(s.text) for s in cands]
    n = len(docs)
    dfs = {t: sum(t in d for d in docs) for t in terms}
    idf = {t: math.log(1 + (n - df + 0.5) / (df + 0.5)) for t, df in dfs.items()}
    scores = [sum(idf[t] for t in terms if t in d) for d in docs]
    return sorted(range(n), key=lambda i: -scores[i])


def _dense_ranking(question: str, cands: list[_Sentence], embedder: Embedder) -> list[int]:
    vecs = np.asarray(embedder.embed([question] + [s.text for s in cands]), dtype=np.float32)
    sims = vecs[1:] @ vecs[0]
    return [int(i) for i in np.argsort(-sims)]


def shown(text: str, published: str | None) -> str:
    """Evidence text as a prompt shows it: bracketed numbers neutralised (an article plants no citation marker), line
    breaks folded, and dates without a year followed by the dates they mean, read against the article's day
    (rag.textdates.annotate).

    >>> shown("It fell [2] on\\nMonday.", "2008-02-14")
    'It fell (2) on Monday (11 February 2008).'
    """
    return " ".join(annotate(re.sub(r"\[(\d+)\]", r"(\1)", text), published).split())


def header(p: Passage) -> str:
    """The line naming a passage's article in a prompt: '"title" (day):'."""
    title = " ".join(p.title.replace('"', "'").split())
    return f'"{title}" ({p.date or "undated"}):'


def select(
    question: str,
    chunks: Sequence[Passage],
    budget: int,
    embedder: Embedder | None = None,
    mode: str = "hybrid",
    parts: Sequence[str] = (),
) -> list[Passage]:
    """Passages of whole sentences from `chunks` (best first), fitting `budget` tokens (module doc)."""
    cands = [_Sentence(r, p, s, e) for r, p in enumerate(chunks) for s, e in (sentences(p.text) or [(0, len(p.text))])]
    if not cands:
        return []
    rankings = [sorted(range(len(cands)), key=lambda i: cands[i].chunk)]
    if mode in ("hybrid", "lexical") or embedder is None:
        rankings.append(_lexical_ranking(question, cands))
    if mode in ("hybrid", "dense") and embedder is not None:
        rankings.append(_dense_ranking(question, cands, embedder))
    order = [int(i) for i in fuse([[str(i) for i in r] for r in rankings])]
    from rag.verify.checks import mentions_name

    first = []
    for part in parts:  # the best sentence naming each part of a two-part question goes in first (for a
        # part that is a clause, "the UK's EU referendum", the sentence sharing most of its words)
        ranked = order if len(part.split()) <= 3 else _lexical_ranking(part, cands)
        hit = next((i for i in ranked if len(part.split()) > 3
                    or mentions_name(part, cands[i].text + " " + cands[i].passage.title)), None)
        if hit is not None and hit not in first:
            first.append(hit)
    chosen: dict[int, float] = {}  # candidate -> rank of the sentence that brought it
    used = 0.0
    for rank, i in enumerate(first + [i for i in order if i not in first]):
        if i in chosen:
            continue
        want = [i]
        prev = i - 1
        if _LEANS_BACK.match(cands[i].text) and prev >= 0 and cands[prev].passage is cands[i].passage:
            want.insert(0, prev)
        new = [j for j in want if j not in chosen]
        articles = {cands[j].passage.article_id for j in chosen}
        cost = sum(cands[j].cost for j in new) + (0 if cands[i].passage.article_id in articles else HEADER_TOKENS)
        if chosen and used + cost > budget:
            continue
        for j in new:
            chosen[j] = rank
        used += cost
    return _runs(cands, chosen)


def _runs(cands: list[_Sentence], chosen: dict[int, float]) -> list[Passage]:
    """Consecutive chosen sentences of one chunk as one passage, best first."""
    out: list[tuple[float, Passage]] = []
    run: list[int] = []
    for i in sorted(chosen) + [-1]:
        if run and (i != run[-1] + 1 or cands[i].passage is not cands[run[0]].passage):
            p = cands[run[0]].passage
            s, e = cands[run[0]].start, cands[run[-1]].end
            out.append((min(chosen[j] for j in run), replace(
                p, chunk_id=f"{p.article_id}@{p.start + s}", start=p.start + s, end=p.start + e, text=p.text[s:e])))
            run = []
        if i >= 0:
            run.append(i)
    out.sort(key=lambda x: x[0])
    return [p for _, p in out]
