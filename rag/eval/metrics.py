"""Metrics: small pure functions, each scoring one item and returning a `Score` (value, explanation).

`value` is in 0..1, or None when the metric does not apply to the item (retrieval for an unanswerable
question, citation checks for a refused answer); aggregates are means over the items where it applies.

No metric here calls the verifier it grades (rag.verify): citations are scored against the gold set's
own evidence, and the verifier is graded on its own labelled claims (`claim_*`, eval/gold/claims.jsonl):
- citation precision: share of citations that overlap a gold passage, or whose text states a gold fact
  (another report of the same fact is a precise citation too);
- citation recall: share of the gold passages that some citation overlaps (a two-article answer must cite
  both articles).
Not handled: a correct citation of a passage the gold set does not list and that states no gold fact
verbatim (a paraphrase) counts as imprecise.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rag.chunk import sentences
from rag.cite import missing_quotes, normalize, parse_markers, strip_markers
from rag.types import Answer, Article, Citation


@dataclass(frozen=True)
class Score:
    value: float | None
    why: str


@dataclass(frozen=True)
class Hit:
    """A retrieved or gold span of an article."""

    article_id: str
    start: int
    end: int


def _overlaps(a: Hit, b: Hit) -> bool:
    return a.article_id == b.article_id and a.start < b.end and b.start < a.end


# ---- retrieval ---------------------------------------------------------------------------------
def hit_at_k(retrieved: Sequence[Hit], gold: Sequence[Hit], k: int) -> Score:
    """Share of gold passages overlapped by one of the top k retrieved passages (same article)."""
    if not gold:
        return Score(None, "no gold passage")
    top = retrieved[:k]
    found = [g for g in gold if any(_overlaps(r, g) for r in top)]
    missed = [f"{g.article_id}[{g.start}:{g.end}]" for g in gold if g not in found]
    why = f"{len(found)}/{len(gold)} gold passages in top {k}" + (f"; missed {', '.join(missed)}" if missed else "")
    return Score(len(found) / len(gold), why)


def reciprocal_rank(retrieved: Sequence[Hit], gold: Sequence[Hit]) -> Score:
    """1/rank of the first retrieved passage that overlaps a gold passage; 0 if none does."""
    if not gold:
        return Score(None, "no gold passage")
    for rank, r in enumerate(retrieved, 1):
        if any(_overlaps(r, g) for g in gold):
            return Score(1.0 / rank, f"first gold passage at rank {rank}")
    return Score(0.0, f"no gold passage among {len(retrieved)} retrieved")


# ---- answers -----------------------------------------------------------------------------------
def _fold(text: str) -> str:
    t = normalize(text).lower()
    t = "".join(c for c in unicodedata.normalize("NFKD", t) if not unicodedata.combining(c))
    t = re.sub(r"(?<=\d),(?=\d{3})", "", t)  # 1,000 -> 1000
    t = re.sub(r"[\u2010-\u2015]", "-", t)
    return " ".join(re.sub(r"[^\w%$.-]+", " ", t).split())


def contains(answer: str, alias: str) -> bool:
    """Whether the alias occurs in the answer as whole words, ignoring case, accents, quotes and 1,000-commas."""
    a, s = _fold(answer), _fold(alias)
    # "eight" is not in "twenty-eight", but "28" is in "28-point"
    return bool(s) and re.search(rf"(?<!\w)(?<![a-z]-){re.escape(s)}(?!\w)", a) is not None


def fact_recall(answer: Answer, facts: Sequence[Sequence[str]], answerable: bool) -> Score:
    """Share of gold facts of which some spelling occurs in the answer (0 for a refusal)."""
    if not answerable or not facts:
        return Score(None, "no gold facts")
    if answer.refused:
        return Score(0.0, f"refused; expected {_facts(facts)}")
    text = strip_markers(answer.answer)
    missing = [f for f in facts if not any(contains(text, a) for a in f)]
    n = len(facts) - len(missing)
    why = f"{n}/{len(facts)} facts" + (f"; missing {_facts(missing)}" if missing else "")
    return Score(n / len(facts), why)


def _facts(facts: Sequence[Sequence[str]]) -> str:
    return "; ".join(" | ".join(f) for f in facts)


def refusal_accuracy(answer: Answer, answerable: bool) -> Score:
    """1 when an unanswerable question is refused or an answerable one is answered."""
    if answerable:
        return Score(0.0 if answer.refused else 1.0, "refused an answerable question" if answer.refused else "answered")
    return Score(1.0 if answer.refused else 0.0, "refused" if answer.refused else "answered an unanswerable question")


# ---- citations ---------------------------------------------------------------------------------
_LEADING_MARKS = re.compile(r"^(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+")


def _claims(answer: Answer) -> list[tuple[str, list[int]]]:
    text = answer.answer.strip()
    out: list[tuple[str, list[int]]] = []
    for s, e in sentences(text):
        raw = text[s:e]
        # 'He said "yes." [1] Next...': marks after a closing quote start the next piece; they belong before
        lead = _LEADING_MARKS.match(raw)
        if lead and out:
            out[-1][1].extend(parse_markers(lead.group(0)))
            raw = raw[lead.end():]
        claim = strip_markers(raw)
        if claim:
            out.append((claim, parse_markers(raw)))
    return out


def citation_recall(citations: Sequence[Citation], gold: Sequence[Hit], refused: bool) -> Score:
    """Share of gold passages overlapped by one of the answer's citations."""
    if refused or not gold:
        return Score(None, "refused" if refused else "no gold passage")
    cited = [Hit(c.article_id, c.start, c.end) for c in citations]
    found = [g for g in gold if any(_overlaps(c, g) for c in cited)]
    missed = [f"{g.article_id}[{g.start}:{g.end}]" for g in gold if g not in found]
    return Score(len(found) / len(gold), f"{len(found)}/{len(gold)} gold passages cited"
                 + (f"; not cited: {', '.join(missed)}" if missed else ""))


def citation_precision(citations: Sequence[Citation], gold: Sequence[Hit], facts: Sequence[Sequence[str]],
                       refused: bool) -> Score:
    """Share of citations that overlap a gold passage or state a gold fact (module doc)."""
    if refused:
        return Score(None, "refused")
    if not citations:
        return Score(0.0, "an answer without citations")
    bad = [c for c in citations if not any(_overlaps(Hit(c.article_id, c.start, c.end), g) for g in gold)
           and not any(contains(c.text, a) for f in facts for a in f)]
    why = f"{len(citations) - len(bad)}/{len(citations)} citations on gold evidence" + (
        "; off: " + ", ".join(f"[{c.n}] {c.article_id}[{c.start}:{c.end}]" for c in bad) if bad else "")
    return Score((len(citations) - len(bad)) / len(citations), why)


def answer_accuracy(answer: Answer, facts: Sequence[Sequence[str]], answerable: bool) -> Score:
    """1 when an answerable question is answered with every gold fact; None for unanswerable ones."""
    if not answerable:
        return Score(None, "unanswerable")
    r = fact_recall(answer, facts, answerable)
    return Score(1.0 if r.value == 1.0 else 0.0, r.why)


def claim_passed(supported: bool, label: str) -> Score:
    """One labelled claim: 1 when the verifier's verdict is the label (supported kept, unsupported caught)."""
    want = label == "supported"
    return Score(1.0 if supported == want else 0.0,
                 f"{'kept' if supported else 'rejected'} a claim labelled {label}")


def quote_check(answer: Answer) -> Score:
    """Share of quoted phrases in the answer that occur verbatim in one of their sentence's cited passages."""
    if answer.refused:
        return Score(None, "refused")
    by_n = {c.n: c for c in answer.citations}
    total, bad = 0, []
    for claim, ns in _claims(answer):
        cited = " \n ".join(by_n[n].text for n in ns if n in by_n)
        quotes = re.findall(r"[\"“”]([^\"“”]{3,}?)[\"“”]", normalize(claim))
        total += len(quotes)
        bad.extend(missing_quotes(claim, cited))
    if not total:
        return Score(None, "no quotes")
    return Score((total - len(bad)) / total, f"{total - len(bad)}/{total} quotes verbatim" + (
        f"; not found: {' / '.join(repr(q) for q in bad)}" if bad else ""))


def citation_offsets(citations: Sequence[Mapping[str, object]], articles: Mapping[str, Article]) -> Score:
    """Share of citations (as JSON dicts) whose text is exactly article.text[start:end] of a known article."""
    if not citations:
        return Score(None, "no citations")
    bad = []
    for c in citations:
        a = articles.get(str(c.get("article_id")))
        s, e = c.get("start"), c.get("end")
        if a is None:
            bad.append(f"unknown article {c.get('article_id')!r}")
        elif not (isinstance(s, int) and isinstance(e, int) and 0 <= s < e <= len(a.text)) or a.text[s:e] != c.get(
            "text"
        ):
            bad.append(f"{a.id}[{s}:{e}] text does not match the article")
    n = len(citations)
    return Score((n - len(bad)) / n, f"{n - len(bad)}/{n} citations valid" + (f"; {'; '.join(bad[:3])}" if bad else ""))


# ---- digests -----------------------------------------------------------------------------------
def digest_coverage(day: Mapping[str, Any] | None, must_cover: Sequence[str]) -> Score:
    """Share of the articles a day's digest must cover that appear in some story's article_ids."""
    if day is None:
        return Score(0.0, "the digest has no entry for this day")
    stories = day.get("stories") or []
    covered = {str(a) for s in stories if isinstance(s, Mapping) for a in (s.get("article_ids") or [])}
    missing = [a for a in must_cover if a not in covered]
    why = f"{len(must_cover) - len(missing)}/{len(must_cover)} articles covered by {len(stories)} stories" + (
        f"; missing {', '.join(missing)}" if missing else "")
    return Score((len(must_cover) - len(missing)) / len(must_cover), why)


def digest_grouping(day: Mapping[str, Any] | None, together: Sequence[Sequence[str]]) -> Score:
    """Share of same-event article groups that one story holds entirely (two copies -> one story)."""
    if not together:
        return Score(None, "no groups to check")
    if day is None:
        return Score(0.0, "the digest has no entry for this day")
    stories = [{str(a) for a in (s.get("article_ids") or [])} for s in (day.get("stories") or [])
               if isinstance(s, Mapping)]
    split = [g for g in together if not any(set(g) <= ids for ids in stories)]
    why = f"{len(together) - len(split)}/{len(together)} groups in one story" + (
        f"; split: {', '.join('+'.join(g) for g in split)}" if split else "")
    return Score((len(together) - len(split)) / len(together), why)


def digest_citation_validity(day: Mapping[str, Any] | None, articles: Mapping[str, Article]) -> Score:
    """Share of the day's story citations that are exact spans of stored articles."""
    if day is None:
        return Score(None, "no entry for this day")
    cites = [c for s in (day.get("stories") or []) if isinstance(s, Mapping) for c in (s.get("citations") or [])]
    if not cites:
        return Score(0.0, "no citations in the day's stories")
    return citation_offsets(cites, articles)
