"""Disagreements between sources: pure, lexical, no model calls.

Two sentences from different articles published within `max_days` of each other disagree when they
say mostly the same thing (their words other than numbers overlap) but give different numbers for the
same thing (the number's neighbouring word, e.g. "14,000 soldiers" vs "20,000 soldiers", or
"March 14" vs "March 15"). Reports further apart in time are updates, not disagreements: the
timeline shows them in order.

Not handled: numbers written as words ("eleven"), disagreements about who said what without a
number, and paraphrases with few shared words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date as Date

from rag.chunk import sentences
from rag.cite import STOPWORDS, content_words
from rag.types import Article, Passage

_TOKEN = re.compile(r"\d[\d,.]*\d|\d|[A-Za-z][A-Za-z'-]*")
_NUM = re.compile(r"\d[\d,.]*\d|\d")
MIN_OVERLAP = 0.4  # Jaccard of the two sentences' non-number content words


@dataclass(frozen=True)
class Conflict:
    a: Passage  # sentence-sized passages with article offsets
    b: Passage
    slot: str  # the word both numbers describe
    a_value: str
    b_value: str


def _slots(text: str) -> dict[str, set[str]]:
    """word -> the numbers this sentence gives for it (the next word after a number, else the one before)."""
    toks = _TOKEN.findall(text)
    out: dict[str, set[str]] = {}
    for i, t in enumerate(toks):
        if not _NUM.fullmatch(t):
            continue
        value = t.rstrip(".")
        word = next((w for w in toks[i + 1 : i + 3] if not _NUM.fullmatch(w) and w.lower() not in STOPWORDS), None)
        if word is None and i > 0 and not _NUM.fullmatch(toks[i - 1]):
            word = toks[i - 1]
        if word:
            out.setdefault(word.lower(), set()).add(value)
    return out


def _words(text: str) -> set[str]:
    return {w for w in content_words(text) if not w[:1].isdigit()}


def find_conflicts(articles: Sequence[Article], max_days: int = 1, limit: int = 5) -> list[Conflict]:
    """At most `limit` disagreements, the clearest first, at most one per pair of articles."""
    sents: list[tuple[Article, int, int, set[str], dict[str, set[str]]]] = []
    for a in articles:
        for s, e in sentences(a.text):
            text = a.text[s:e]
            if _NUM.search(text):
                slots = _slots(text)
                if slots:
                    sents.append((a, s, e, _words(text), slots))
    found: dict[tuple[str, str], tuple[float, Conflict]] = {}
    for i, (a, s1, e1, w1, n1) in enumerate(sents):
        for b, s2, e2, w2, n2 in sents[i + 1 :]:
            if a.id == b.id or not w1 or not w2 or not _close(a.date, b.date, max_days):
                continue
            overlap = len(w1 & w2) / len(w1 | w2)
            if overlap < MIN_OVERLAP:
                continue
            for slot in sorted(n1.keys() & n2.keys()):
                if _norm(n1[slot]) & _norm(n2[slot]):
                    continue  # they agree on at least one value for this word
                pair = (a.id, b.id) if a.id < b.id else (b.id, a.id)
                c = Conflict(_passage(a, s1, e1), _passage(b, s2, e2), slot, min(n1[slot]), min(n2[slot]))
                if pair not in found or overlap > found[pair][0]:
                    found[pair] = (overlap, c)
                break
    return [c for _, c in sorted(found.values(), key=lambda x: -x[0])][:limit]


def _norm(values: set[str]) -> set[str]:
    return {v.replace(",", "") for v in values}


def _close(d1: str | None, d2: str | None, max_days: int) -> bool:
    if not d1 or not d2:
        return False
    return abs((Date.fromisoformat(d1) - Date.fromisoformat(d2)).days) <= max_days


def _passage(a: Article, s: int, e: int) -> Passage:
    return Passage(f"{a.id}@{s}", a.id, a.title, a.date, a.url, s, e, a.text[s:e])
