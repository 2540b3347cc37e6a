"""Question -> Answer: retrieve, select the evidence sentences, generate, then verify every sentence.

"The articles do not answer this" is a result (`refused=True`), not an exception, and it says why:
`refusal = {"stage", "detail"}` where stage is
- `date_window`: the question's dates (or --since/--until) fall where the index holds no article;
- `no_passage`: nothing retrieved is related to the question (dense cosine under RAG_MIN_RELEVANCE);
- `unknown_name`: the model found no answer, and a name the question uses is in none of the evidence;
- `model`: the model found no answer in the evidence (NOT IN ARTICLES);
- `unverified`: the model answered, but no sentence passed verification (the detail gives each reason).
A name of the question that no passage mentions does not refuse before the model runs: it lowers
nothing and decides nothing; generation and verification decide.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date

from rag.answering.datepick import given, pick
from rag.answering.decompose import (
    asks_wh,
    halves,
    main_clause,
    margin,
    names_as_written,
    options,
    question_names,
    subquestions,
    unanswered,
)
from rag.answering.derive import compare, derive, operation, span_unit
from rag.answering.evidence import header, select, shown
from rag.answering.retrieve import DateRange, Retriever, Searcher
from rag.answering.timeframe import resolve
from rag.chunk import sentences
from rag.cite import content_words, parse_markers, remap_markers, strip_markers
from rag.config import Settings
from rag.errors import IndexEmptyError, InputError
from rag.models.embed import Embedder, make_embedder
from rag.models.llm import LLM, ChatModel
from rag.prompts import load_prompt
from rag.store import Index
from rag.textdates import Mention, mentions, published_day, quarters, unannotate
from rag.types import Answer, Citation, Passage, Refusal
from rag.verify import Verified, make_judge, verify
from rag.verify.checks import mentions_name
from rag.verify.facts import numbers
from rag.verify.lexicon import fold

REFUSAL = "The indexed articles do not answer this question."
JUDGE_BUDGET = 3  # model judgements per answer at most (~1.5-4 s each on this machine's CPU)
JUDGE_RESERVE = 1  # and calls beyond it kept for the last look at a dropped sentence (rag.verify.answers_question)
_NOT_IN = re.compile(r"NOT IN (THE )?ARTICLES", re.I)
_ANSWER = re.compile(r"answer\s*:", re.I)
_EVIDENCE_LINE = re.compile(r"^\s*evidence\b[^\n]*(\n|$)", re.I)
_PARTS = re.compile(r"\b(and|both|between|versus|vs\.?|compared?|combined|total|difference|together)\b", re.I)


def by_article(passages: list[Passage]) -> list[Passage]:
    """The passages with those of one article together, articles in the order of their strongest passage."""
    first: dict[str, int] = {}
    for i, p in enumerate(passages):
        first.setdefault(p.article_id, i)
    return sorted(passages, key=lambda p: first[p.article_id])


def format_passages(passages: list[Passage]) -> str:
    """Numbered passages for the prompt, under one '"title" (date):' line per run of passages of one article
    (rag.answering.evidence budgets one header per article). Each passage is one line: bracketed numbers inside article
    text are neutralised and its line breaks folded, so an article can plant neither a citation marker nor a
    header of its own; dates without a year ("on Tuesday", "last month") are followed by the dates they mean,
    read against the article's publication day (rag.textdates.annotate)."""
    blocks: list[str] = []
    last = None
    for n, p in enumerate(passages, 1):
        if p.article_id != last:
            gap = "\n" if blocks else ""  # a blank line between articles
            blocks.append(f"{gap}{header(p)}")
            last = p.article_id
        blocks.append(f"[{n}] {shown(p.text, p.date)}")
    return "\n".join(blocks)


def unknown_names(question: str, passages: list[Passage]) -> list[str]:
    """Names the question uses that no passage (title or text) mentions, in any of their forms (aliases,
    demonyms, acronyms: rag.verify.checks.mentions_name)."""
    seen = " ".join(p.title + " " + p.text for p in passages)
    return [n for n in question_names(question) if not mentions_name(n, seen)]


def parts(question: str, as_of: date | None = None) -> list[tuple[str, DateRange | None]]:
    """The pieces of a question about two things, each to get evidence of its own: its names ("the Ford and
    the GM cuts"), or, with fewer than two names, its dates ("July 2015 ... November 2009", each searched in its
    own window). Only for a question that joins them or asks for arithmetic."""
    if not (_PARTS.search(question) or operation(question)):
        return []
    if operation(question) and (clauses := _clauses(question)):
        return [(c, _window(c, as_of)) for c in clauses]
    found = question_names(question)
    if len(found) >= 2:
        return [(n, None) for n in found]
    spans: list[Mention] = []
    for m in mentions(question, as_of or date.today()):
        if (m.lo, m.hi) not in [(x.lo, x.hi) for x in spans]:
            spans.append(m)
    if len(spans) >= 2:
        return [(m.phrase, DateRange(m.lo.isoformat(), m.hi.isoformat(), event=True)) for m in spans]
    return []


_SPLIT = re.compile(r"\s+(?:after|before|than|since|compared (?:to|with))\s+", re.I)
_AUX = re.compile(r"\s+(?:did|does|do|was|were|is|are|had|has|have|will|would)\s+", re.I)


def _clauses(question: str) -> list[str]:
    """The two events or quantities of an arithmetic question joined by after/before/than: "How many days
    after X did Y?" -> [X, Y]; "How much higher was A than B?" -> [A, B]; [] when it has no such form.

    >>> _clauses("How many days after the UK's EU referendum did ARM accept SoftBank's offer?")
    ["the UK's EU referendum", "ARM accept SoftBank's offer"]
    >>> _clauses("How many points lower was the rate for July 2015 than the rate in November 2009?")
    ['How many points lower was the rate for July 2015', 'the rate in November 2009']
    """
    bits = _SPLIT.split(question.strip().rstrip("?").strip(), maxsplit=1)
    if len(bits) != 2:
        return []
    first, second = bits
    if len(content_words(first) - content_words("how many much days weeks months years long")) < 2:
        pieces = _AUX.split(second, maxsplit=1)  # "how many days after X did Y": the event X ends at "did"
        if len(pieces) != 2:
            return []
        first, second = pieces
    return [first, second] if all(len(content_words(b)) >= 2 for b in (first, second)) else []


def _window(text: str, as_of: date | None) -> DateRange | None:
    """The event window of the first date a part of a question names ("for July 2015"), or None."""
    found = mentions(text, as_of or date.today())
    return DateRange(found[0].lo.isoformat(), found[0].hi.isoformat(), event=True) if found else None


_WANTS_NUMBER = re.compile(r"^\W*(how (many|much|large|big|long|far|high|old|low|small)\b|by how\b|what (was|is|were|are) "
                           r"the (price|cost|number|amount|vote|value|rate|percentage|share|total|size|figure|tally|"
                           r"score|margin|sum|fine|salary|death toll|toll)\b|what (price|percentage|proportion|share|"
                           r"fraction|amount|sum|figure)\b)", re.I)
_WANTS_DATE = re.compile(r"^\W*(when\b|on what (day|date)\b|what (day|date|year|month)\b|in what (year|month)\b)", re.I)
_WANTS_COUNT = re.compile(r"^\W*how many\b(?!\s+(?:percent|per cent|percentage))", re.I)
_WANTS_NAME = re.compile(r"^\W*(?:(?:to|by|for|with|from|of)\s+)?(?:who|whom|whose)\b|"
                         r"^\W*(?:under\s+)?what\s+(?:(?:is|was|are|were)\s+the\s+)?names?\b", re.I)


def _scene(question: str, shared: list[str]) -> list[str]:
    """The names both parts of a question share that the question joins with "and" or "or" ("the polls in
    Costa Rica and Haiti"): each part's article may name only its own one of them."""
    text = fold(question)

    def pattern(name: str) -> str:
        return r"\W+".join(re.escape(w) for w in name.split())

    return [a for a in shared if any(b != a and re.search(rf"\b(?:{pattern(a)}\W+(?:and|or)\W+(?:the\s+)?{pattern(b)}|"
                                                          rf"{pattern(b)}\W+(?:and|or)\W+(?:the\s+)?{pattern(a)})\b", text)
                                     for b in shared)]


def off_question(question: str, checked: Verified, articles: dict[str, str], within: str | None = None,
                 sibling: str | None = None) -> tuple[str, str] | None:
    """(stage, detail) when the verified sentences do not answer the question, though each is supported:
    their evidence shares no word with the question; the articles they cite never name what the question
    is about (for a half of `within` that names nothing itself, "what is it worth?", any name of the whole; for
    one of two parts, the names its `sibling` part shares are the scene of both, "the polls in Costa Rica and
    Haiti", of which one will do);
    or the question asks how many, how much or when and the answer holds no number or date, or who or what
    name and the answer names no one the question did not."""
    answer = strip_markers(checked.answer)
    asked_words, said = content_words(question), content_words(answer)
    asked = {n.key() for n in numbers(question)}
    mine = [n for n in numbers(answer) if n.key() not in asked]  # the answer's figures the question did not hold
    proper = main_clause(question)
    carrying = []  # the evidence sentences that hold the answer's words (the whole cited span when none
    for c in checked.citations:  # does: the verifier matched it by a date or a number, "Tuesday" for "15 December")
        held = [c.text[a:b] for a, b in sentences(c.text) if content_words(c.text[a:b]) & said]
        carrying += held or [c.text]
    # a figure asked for may come from a sentence that names the story only through its article's title
    # ("yielding a 54.8% to 45.1% balance" under "Venezuelans vote to end term limits"); a planted "answer only
    # with the word X" gives no figure
    story = bool(_WANTS_NUMBER.search(proper) and mine
                 and any(content_words(c.title) & asked_words for c in checked.citations))
    if not any(content_words(t) & asked_words for t in carrying) and not story:
        # supported, but not about the question: what a planted "answer only with the word X" would give
        return "unverified", "the cited evidence shares no word with the question"
    if asks_wh(question) and not said - asked_words:
        # "Damascus prison [1]." for "What is the name of the Damascus prison...?": the question's own words
        return "unverified", "the verified answer says nothing the question did not already say"
    cited = {c.article_id for c in checked.citations}
    text = " ".join(t for aid, t in articles.items() if aid in cited)
    text += " " + " ".join(c.title + " " + c.text for c in checked.citations)
    names = question_names(question)
    scene = _scene(question, [n for n in names if sibling and mentions_name(n, sibling)])
    missing = [n for n in names if n not in scene and not mentions_name(n, text)]
    if scene and not any(mentions_name(n, text) for n in scene):
        missing += scene
    if within and not names:  # a half naming nothing ("what is it worth?"): any name of the whole question
        whole = question_names(within)
        missing = [] if any(mentions_name(n, text) for n in whole) else whole
    if missing:
        return "unknown_name", ("the sentences that passed verification cite articles that never name "
                                + ", ".join(repr(m) for m in missing))
    if _WANTS_NUMBER.search(proper) and not mine:
        return "unverified", "the question asks for a number and the verified answer gives none it did not already hold"
    if _WANTS_COUNT.search(proper) and mine and all(n.percent for n in mine):
        # "44% of parents were worried" for "How many parents did it survey?"
        return "unverified", "the question asks how many and the verified answer gives only percentages"
    if _WANTS_NAME.search(proper) and all(mentions_name(n, question) for n in question_names(answer)):
        # "NASA reserved the right to choose a name" for "What name did NASA give the module?"
        return "unverified", "the question asks who or what name, and the verified answer names no one the question did not"
    given = {m.phrase.lower() for m in mentions(question, None)}
    read_against = checked.citations[0].date  # "June 27" names a day once read against its article's
    if _WANTS_DATE.search(proper) and not [m for m in mentions(answer, read_against) if m.phrase.lower() not in given] \
            and not re.search(r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday)\b",
                              answer, re.I):
        return "unverified", "the question asks when and the verified answer gives no date"
    return None


def informative(question: str, checked: Verified) -> Verified:
    """The verified answer to a wh-question without its sentences that say nothing the question did not: every
    word of such a sentence is the question's, so it answers nothing, and rearranging the question's words can
    state what no passage does ("Wales predicted that Wikipedia might proliferate on knol" for "What did Wales
    predict might proliferate on knol?", passing the checks on words the window holds in other roles). The
    citations left are renumbered in order.

    >>> c = [Citation(1, "a", "T", None, None, 0, 5, "x"), Citation(2, "b", "T", None, None, 0, 5, "y")]
    >>> got = informative("What did Wales predict might proliferate on knol?",
    ...                   Verified("Wales predicted that knol might proliferate [1]. Wales named Viagra [2].", c))
    >>> got.answer, [(x.n, x.article_id) for x in got.citations], got.reasons
    ('Wales named Viagra [1].', [(1, 'b')], ['it says nothing the question did not'])
    >>> informative("How many were expelled?", Verified('54 were expelled for chanting "Death to the dictator." [1]', c)).answer
    '54 were expelled for chanting "Death to the dictator." [1]'
    """
    if not asks_wh(question) or not checked.answer:
        return checked
    asked = content_words(question)
    spans = sentences(checked.answer)
    said = [(checked.answer[s:e], strip_markers(checked.answer[s:e])) for s, e in spans]
    empty = [i for i, (_, words) in enumerate(said)  # a marker standing alone after a quote is not a sentence
             if re.search(r"\w", words) and not content_words(words) - asked]
    if not empty:
        return checked
    kept = [raw for i, (raw, _) in enumerate(said) if i not in empty]
    new = {old: n for n, old in enumerate(sorted({n for k in kept for n in parse_markers(k)}), 1)}
    verdicts = checked.verdicts if len(checked.verdicts) != len(spans) else \
        [v for i, v in enumerate(checked.verdicts) if i not in empty]
    removed = [said[i][1] for i in empty]
    return Verified(remap_markers(" ".join(kept), new.get),
                    [replace(c, n=new[c.n]) for c in checked.citations if c.n in new], checked.dropped + removed,
                    checked.reasons + ["it says nothing the question did not"] * len(removed), verdicts)


def names_cited(question: str, answer: str, citations: list[Citation]) -> bool:
    """Every name of the question that the answer uses is in the title or the text of a window it cites: a
    margin stated of whom the answer names ("Mason beat Curran by 13,507 votes" is not "[Labour] won a
    majority of 13,507 in the last election", whose window names neither).

    >>> c = Citation(1, "a", "SNP wins Glasgow East", None, None, 0, 9, "Labour won a majority of 13,507.")
    >>> q = "By how many votes did John Mason beat Margaret Curran?"
    >>> names_cited(q, "John Mason beat Margaret Curran by 13,507 votes [1].", [c]), names_cited(q, "It was 13,507 [1].", [c])
    (False, True)
    """
    named = [n for n in question_names(question) if mentions_name(n, answer)]
    return all(any(mentions_name(n, f"{c.title} {c.text}") for c in citations) for n in named)


def both_dated(question: str, citations: list[Citation], as_of: date | None = None) -> bool:
    """A margin stated for a question that dates its two ends apart ("from the first quarter of 2009 to the second";
    "warned in January 2009 ...; reported in May 2009 ...") is the articles' own margin only when the windows cited
    speak of each end: every date span of the question (the narrowest, when one holds another) meets a date the
    cited text mentions or the day its article was published. "GDP grew by 0.3% in the second quarter" does not
    state the change from the first quarter to the second; a January warning does not state May's result.

    >>> c = Citation(1, "a", "GDP", "2009-08-14", None, 0, 9, "Germany's GDP grew by 0.3% in the second quarter of 2009.")
    >>> q = "By how many points did Germany's GDP change improve from the first quarter of 2009 to the second quarter of 2009?"
    >>> both_dated(q, [c]), both_dated("By how much did Germany's GDP grow in the second quarter of 2009?", [c])
    (False, True)
    """
    def narrowest(found: list[Mention]) -> list[tuple[date, date]]:  # "the second quarter of 2009", not "2009"
        spans = {(m.lo, m.hi) for m in found}
        return [s for s in spans if not any(o != s and s[0] <= o[0] and o[1] <= s[1] for o in spans)]

    ends = narrowest(mentions(question, as_of or date.today()) + quarters(question))
    if len(ends) < 2:
        return True
    said = [span for c in citations for span in narrowest(
        mentions(c.text, c.date) + quarters(c.text) + [Mention(0, 0, d, d, "") for d in [published_day(c.date)] if d])]
    return all(any(lo <= hi2 and lo2 <= hi for lo2, hi2 in said) for lo, hi in ends)


_PASSAGE_REF = re.compile(r"\(\s*(?:passages?|sources?)\s+(\d+(?:\s*(?:,|and|&)\s*\d+)*)\s*\)", re.I)


_BARE_REF = re.compile(r"\s\((\d{1,2}(?:\s*,\s*\d{1,2})*)\)(?=[.!?](?:\s|$)|\s*$)")


def passage_markers(text: str) -> str:
    """The model's other ways of citing, '(Passage 1, 2)' or '(passages 3 and 4)', as markers '[1, 2]'; so is
    a bare '(2)' ending a sentence.

    >>> passage_markers("100,000 jobs (Passage 1, 2 and 3).")
    '100,000 jobs [1, 2, 3].'
    >>> passage_markers("It won by 32 votes (2)."), passage_markers("Won 2-1 (1) [2].")
    ('It won by 32 votes [2].', 'Won 2-1 (1) [2].')
    """
    text = _PASSAGE_REF.sub(lambda m: "[" + ", ".join(re.findall(r"\d+", m.group(1))) + "]", text)
    return _BARE_REF.sub(lambda m: " [" + ", ".join(re.findall(r"\d+", m.group(1))) + "]", text)


def answer_part(text: str, final: bool = True) -> str:
    """The answer of a reply written as 'Evidence: [n]' then 'Answer: ...' (prompts/answer.md); a reply
    without those labels is all answer. While streaming (final=False) nothing is answer before 'Answer:'
    unless the reply did not start with 'Evidence'."""
    text = passage_markers(text)
    m = _ANSWER.search(text)
    if m:
        return text[m.end():].lstrip()
    if re.match(r"\s*evid", text, re.I) or (not final and len(text.strip()) < 8):
        return _EVIDENCE_LINE.sub("", text, count=1) if final else ""
    return text


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
    return DateRange(lo, hi, event=True, relative=not re.search(r"\d{4}", span.phrase))


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


def before_refusal(text: str) -> str:
    """The reply up to a NOT IN ARTICLES it ends with: sentences written before it are an answer, verified
    like any other, so that what was streamed and the result agree.

    >>> before_refusal("Geneva [1]. NOT IN ARTICLES"), before_refusal("NOT IN ARTICLES")
    ('Geneva [1].', '')
    """
    m = _NOT_IN.search(text)
    return text[: m.start()].strip() if m else text


class _SentenceStream:
    """Feeds generated text in; emits each answer sentence once it is complete and verified."""

    def __init__(self, check: Callable[[str], Verified], emit: Callable[[str], None]) -> None:
        self.check, self.emit = check, emit
        self.buffer = ""
        self.shown = 0

    def feed(self, text: str, final: bool = False) -> None:
        from rag.chunk import sentences

        self.buffer += text
        body = before_refusal(answer_part(self.buffer, final))
        spans = sentences(body)
        complete = spans if final or _NOT_IN.search(self.buffer) else spans[:-1]
        if not complete:
            return
        checked = self.check(body[: complete[-1][1]])
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
    whole: bool = False,
    within: str | None = None,
    sibling: str | None = None,
    derive_inputs: bool = True,
    needs: str | None = None,
) -> Answer:
    """Answer a question from the indexed articles with verified citations (see module doc).

    Dates: `since`/`until` (ISO) filter on publication day; without them a date expression in the
    question ("yesterday", "on 24 November", "last week") is resolved against `as_of` (default today)
    and ranks articles by date fit (rag.answering.retrieve). `on_text` receives the answer sentence by sentence,
    each only after it passed verification. `retriever` replaces the index's own search (the eval
    harness records or breaks retrieval with it). Arithmetic over two things is asked as its two
    sub-questions (rag.answering.decompose) unless `whole`; so is the half of "A, and B?" the answer left unanswered.
    `within`: the whole question this one is a half of, shown to the model beside it. `sibling`: the other part
    of a question asked in two (see off_question). `derive_inputs`:
    a two-part arithmetic question asks the model for the inputs and code computes the result (False: the
    result is asked for as a stated figure). `needs` ("day" or "any"): this question asks for the date one input
    of a time span needs; an answer that gives none is replaced by the evidence sentence the model believes dates the
    event, when that verifies (rag.answering.datepick).
    """
    if not question.strip():
        raise InputError("the question is empty: ask something, e.g. rag ask \"Who won the vote?\"")
    pair = None if whole else options(question)
    if not whole and (pair or operation(question)):
        llm = llm or LLM(settings)  # it writes the sub-questions
    tried: Answer | None = None
    if not whole and margin(question):  # "By how many votes did the bid succeed?": articles often state the
        # margin itself; asked as it is first (no arithmetic by the model: its number must be in the evidence)
        tried = ask(question, settings, as_of=as_of, since=since, until=until, index=index, embedder=embedder,
                    llm=llm, retriever=retriever, whole=True, derive_inputs=False)
        computed = None if tried.refused else derive(question, Verified(tried.answer, tried.citations))
        # two figures, no margin: the margin is code's, as for the inputs asked apart; a margin the answer states
        # must be the articles' own (both_dated)
        if (not tried.refused and names_cited(question, tried.answer, tried.citations)
                and (computed or both_dated(question, tried.citations, as_of))):
            if computed:
                tried.answer = f"{tried.answer} {computed}"
            if on_text:
                on_text(tried.answer)
            return tried
    if not whole and (subs := subquestions(question, llm)):
        own = index is None
        index = index or Index.open(settings)
        try:
            embedder = embedder or make_embedder(settings)
            llm = llm or LLM(settings)
            # a part naming none of the question's names ("How many deaths were reported in total?") is asked
            # with the whole question beside it: searched with its names, and its answer must cite an article
            # naming one of them (off_question)
            names = question_names(question)
            answers = [ask(sub, settings, as_of=as_of, since=since, until=until, index=index, embedder=embedder,
                           llm=llm, retriever=retriever, whole=True,
                           within=question if names and not any(mentions_name(n, sub) for n in names) else None,
                           sibling=subs[1 - i] if len(subs) == 2 else None,
                           needs=None if pair else input_needs(question, sub))
                       for i, sub in enumerate(subs)]
        finally:
            if own:
                index.close()
        joined = join(question, subs, answers, pair)
        if tried is not None and tried.refusal and joined.refusal:  # why the question as it is was refused too
            joined.refusal = Refusal(joined.refusal.stage, f"asked as it is: {tried.refusal.detail}; "
                                     f"{joined.refusal.detail}")
        if on_text and not joined.refused:  # the inputs of arithmetic are shown once both are verified
            on_text(joined.answer)
        return joined
    dates = resolve_dates(question, as_of, since, until)
    t_start = time.monotonic()
    own_index = index is None
    index = index or Index.open(settings)
    pieces = parts(question, as_of)
    try:
        if index.counts()[0] == 0:
            raise IndexEmptyError(f"the index at {index.dir} holds no articles: run `rag ingest PATH` first")
        embedder = embedder or make_embedder(settings)
        index.check_embedder(embedder.name, write=False)
        t0 = time.monotonic()
        search = retriever or Retriever(index, embedder, settings)
        n = max(settings.top_k, settings.evidence_chunks)
        extra: list[Passage] = []
        for piece, window in pieces:  # each part of a two-part question gets its own search (before the main
            query = question  # one, whose results the eval records)
            for other, _ in pieces:
                if other != piece:
                    query = re.sub(re.escape(other), " ", query, flags=re.I)
            extra += search.search(query, max(3, n // 2), window or dates)
        # a half that names nothing ("What is it worth a year?") is searched with the names of the whole
        query = question if not within or question_names(question) else f"{question} {' '.join(names_as_written(within))}"
        found = search.search(query, n, dates)
        t_retrieve = time.monotonic() - t0
        held = index.date_span() if dates else (None, None)
        texts = {aid: f"{a.title} {a.text}" for aid in {p.article_id for p in [*found, *extra]}
                 if index.has_article(aid) and (a := index.article(aid))}  # whole articles: what they name
    finally:
        if own_index:
            index.close()
    usage: dict[str, float] = {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "llm_seconds": 0.0,
                               "retrieve_seconds": round(t_retrieve, 4)}

    def refuse(stage: str, detail: str, related: list[Passage], checked: Verified | None = None) -> Answer:
        usage["seconds"] = round(time.monotonic() - t_start, 3)
        text = REFUSAL if stage not in ("date_window",) else detail
        return Answer(question, text, True, related=related[:3], usage=usage, dates=dates,
                      dropped=checked.dropped if checked else [], refusal=Refusal(stage, detail))

    read_against = None if since or until else as_of or date.today()
    outside = date_refusal(dates, held, read_against) if dates else ""
    # a window outside the index refuses for --since/--until and for dates read relative to --as-of ("on
    # Monday" asked a year later); a dated event ("founded in 2000") may be told by a later article
    if dates and outside.startswith("No indexed article is dated") and (not dates.event or dates.relative):
        return refuse("date_window", outside, found)
    seen: set[str] = set()
    pool = [p for p in [*found, *extra] if p.score >= settings.min_relevance
            and not (p.chunk_id in seen or seen.add(p.chunk_id))]  # type: ignore[func-returns-value]
    if not pool:
        if dates and not dates.event:
            return refuse("date_window", outside or f"No article published {dates.since or 'any time'} to "
                          f"{dates.until or 'now'} is related to the question.", found)
        best = max((p.score for p in found), default=0.0)
        return refuse("no_passage", f"no passage is related to the question (best cosine {best:.2f}, "
                      f"threshold RAG_MIN_RELEVANCE={settings.min_relevance})", found)
    context = by_article(select(question, pool, settings.context_tokens, embedder, settings.evidence,
                                [p for p, _ in pieces]))
    derived = operation(question) if pieces and derive_inputs else None  # a two-part question asking for arithmetic
    prompt = load_prompt("answer_derived" if derived else "answer", {"passages", "question"})
    asked = f"{question}\n(It is one part of the question: {within})" if within else question
    system, user = prompt.render(passages=format_passages(context), question=asked)
    llm = llm or LLM(settings)
    judge = make_judge(llm, settings, budget=JUDGE_BUDGET, reserve=JUDGE_RESERVE)

    def check(text: str) -> Verified:  # without a span of days the model may copy from the prompt ("last week (...)")
        return informative(question, verify(unannotate(text), context, question, extra=pool, judge=judge,
                                            articles=texts))

    stream = _SentenceStream(check, on_text) if on_text else None
    done = llm.complete(system, user, settings.max_answer_tokens, on_text=stream.feed if stream else None)
    if stream:
        stream.feed("", final=True)
    usage.update(calls=1, prompt_tokens=done.prompt_tokens, completion_tokens=done.completion_tokens,
                 llm_seconds=round(done.seconds, 3))
    if done.prompt_seconds is not None and done.generation_seconds is not None:
        usage.update(prompt_seconds=done.prompt_seconds, generation_seconds=done.generation_seconds)
    if done.cached_tokens is not None:
        usage["cached_prompt_tokens"] = done.cached_tokens
    body = before_refusal(answer_part(done.text))  # what a stream showed is what is kept
    checked = check(body) if body.strip() else Verified("", [])
    if needs and not stream and not given(checked, needs):
        picked, cost = pick(question, context, llm, needs)
        usage.update(calls=usage["calls"] + cost["calls"], llm_seconds=round(usage["llm_seconds"] + cost["seconds"], 3))
        if picked and (got := check(picked)).citations:
            body, checked = picked, got
    if judge is not None:
        usage.update(judge_calls=judge.calls, judge_seconds=round(judge.seconds, 3))
        usage["calls"] += judge.calls
    if not checked.citations:
        if not body.strip():
            missing = unknown_names(question, context)
            if missing:
                return refuse("unknown_name", f"the model found no answer; the evidence never names "
                              f"{', '.join(repr(m) for m in missing)}", context)
            return refuse("model", "the model found no answer in the evidence", context)
        why = "; ".join(f"{d[:80]!r}: {r}" for d, r in zip(checked.dropped, checked.reasons, strict=True))
        return refuse("unverified", f"no sentence of the model's answer passed verification ({why})", context, checked)
    # "A, and B?" answered for A only: B is asked on its own, the whole question beside it (rag.answering.decompose)
    half = None if whole or derived else unanswered(question, checked.answer)
    off = off_question(question, checked, texts, within, sibling)
    if off is not None and off[0] == "unknown_name" and half and (pair := halves(question)):
        # B's names need not be in A's articles: A's half is checked here, B's when it is asked on its own
        off = off_question(pair[1] if pair[0] == half else pair[0], checked, texts, within, sibling)
    if off is not None:
        return refuse(*off, context, checked)
    text = checked.answer
    if derived and (computed := derive(question, checked)):
        text = f"{text} {computed}"  # the arithmetic is code's, over the verified inputs it cites
        if on_text:
            on_text(computed)
    usage["seconds"] = round(time.monotonic() - t_start, 3)
    first = Answer(question, text, False, checked.citations, dropped=checked.dropped, usage=usage, dates=dates)
    if half is None:
        return first
    more = ask(half, settings, as_of=as_of, since=since, until=until, index=None if own_index else index,
               embedder=embedder, llm=llm, retriever=retriever, whole=True, within=question)
    note = ""
    said = {strip_markers(checked.answer[s:e]).strip() for s, e in sentences(checked.answer)}
    repeated = not more.refused and all(strip_markers(more.answer[s:e]).strip() in said
                                        for s, e in sentences(more.answer))  # B answered with A's own sentences
    if more.refused or repeated:  # A alone; a partial answer says what it leaves unanswered
        joined = first
        for k, v in more.usage.items():
            usage[k] = round(usage.get(k, 0.0) + v, 4)
        if more.refused:
            rest = main_clause(half)
            note = f"The indexed articles do not answer: {rest[:1].lower() + rest[1:] if asks_wh(rest) else rest}"
            first.answer = f"{first.answer} {note}"
            first.dropped += more.dropped
    else:
        joined = join(question, [question, half], [first, more])
    if on_text and joined is not first:
        on_text(" " + renumber(more.answer, len(checked.citations)))
    elif on_text and note:
        on_text(" " + note)
    joined.usage["seconds"] = round(time.monotonic() - t_start, 3)
    return joined


def input_needs(question: str, sub: str) -> str | None:
    """The date the part `sub` of a time-span question must give for code to compute (rag.answering.datepick): "day"
    for a span in days or weeks, "any" in months or years; None when the question or the part asks for no date.

    >>> input_needs("How many days after the vote did he resign?", "When did he resign?")
    'day'
    >>> input_needs("How many years after the merger did he leave?", "When did he leave?")
    'any'
    >>> input_needs("How many more seats did A win than B?", "How many seats did A win?") is None
    True
    """
    if operation(question) == "days" and _WANTS_DATE.match(sub):
        return "any" if span_unit(question) in ("months", "years") else "day"
    return None


def renumber(text: str, shift: int) -> str:
    """Citation markers moved up by `shift`: the second sub-answer's [1] after the first's two citations.

    >>> renumber("Gates [1]. Webb [2][3].", 2)
    'Gates [3]. Webb [4][5].'
    """
    return remap_markers(text, lambda n: n + shift)


def join(question: str, subs: list[str], answers: list[Answer], pair: tuple[str, str] | None = None) -> Answer:
    """One answer from the sub-answers of an arithmetic question or of a comparison between `pair`
    (rag.answering.decompose): the verified sentences of each, citations renumbered in order, then code's computation
    or comparison over them (rag.answering.derive). Without both inputs it is refused, saying why for each missing one."""
    usage: dict[str, float] = {}
    for a in answers:
        for k, v in a.usage.items():
            usage[k] = round(usage.get(k, 0.0) + v, 4)
    texts: list[str] = []
    cites: list[Citation] = []
    parts: list[Verified] = []  # each sub-answer, renumbered
    missing: list[dict[str, str]] = []
    for sub, a in zip(subs, answers, strict=True):
        if a.refused:
            missing.append({"question": sub, "stage": a.refusal.stage if a.refusal else "model",
                            "detail": a.refusal.detail if a.refusal else a.answer})
            continue
        shift = len(cites)
        texts.append(renumber(a.answer, shift))
        mine = [replace(c, n=c.n + shift) for c in a.citations]
        parts.append(Verified(texts[-1], mine))
        cites += mine
    related = [p for a in answers for p in a.related][:3]
    dropped = [d for a in answers for d in a.dropped]
    if missing:
        first = missing[0]
        why = "; ".join(f"{m['question']} {m['detail']}" for m in missing)
        return Answer(question, REFUSAL, True, related=related, usage=usage, dates=answers[0].dates,
                      dropped=dropped, refusal=Refusal(first["stage"], f"asked in parts, not answered: {why}"))
    text = " ".join(texts)
    if computed := (compare(question, pair, parts) if pair else derive(question, Verified(text, cites))):
        text = f"{text} {computed}"
    return Answer(question, text, False, cites, related=[], usage=usage, dates=answers[0].dates, dropped=dropped)
